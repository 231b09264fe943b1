import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';

/** Everything Sen reads from the environment, in one place (only main.ts calls this). */
export interface SenConfig {
  port: number;
  host: string;
  publicUrl: string;
  dataDir: string;
  databaseUrl?: string;
  dbPoolSize: number;
  mode: 'demo' | 'production';
  seed: boolean;
  logLevel: string;
  sharedDir: string;
  /** Sign-in, gate and audit on the API (SEN_AUTH=off opens it: demo mode only, never in production). */
  auth: boolean;
  /** SEN_SECRET_KEY: 32 random bytes (base64) sealing signing keys and MFA secrets; required in production. */
  secretKey?: string;
  /** SEN_DEMO_CLIENT_SECRET: secret of the demo system client `sen-demo` (demo mode only). */
  demoClientSecret: string;
  /** SEN_DEMO_STAFF_PASSWORD: password of the seeded demo staff accounts (demo mode only). */
  demoStaffPassword: string;
  /** SEN_DEMO_TOTP_SECRET: key the demo accounts' TOTP secrets are derived from (demo mode only). */
  demoTotpSecret: string;
  /** SEN_AUDIT_SEAL_MS: how often the audit trail is sealed into its hash chain (default 5000 ms). */
  auditSealMs: number;
  /** SEN_AUDIT_INFLIGHT: most audit inserts committing at once (default 1: one group commit at a time). */
  auditInFlight: number;
  /** SEN_AUDIT_READ_COMMIT: 'durable' (default) or 'async' — reads' audit records committed, not waited onto disk. */
  auditReadCommit: 'async' | 'durable';
  /** SEN_CORS_ORIGINS: comma-separated browser origins allowed to call the API cross-origin. */
  corsOrigins: string[];
  /** SEN_RATE_LIMIT_USER_PER_MINUTE / SEN_RATE_LIMIT_CLIENT_PER_MINUTE / SEN_RATE_LIMIT_BURST_SECONDS. */
  rateLimit: { userPerMinute?: number; clientPerMinute?: number; burstSeconds?: number };
  /**
   * SEN_NATIONAL_ID_ISSUER, _CLIENT_ID, _CLIENT_SECRET, _CLAIM: patient sign-in through an external OpenID Connect
   * identity provider keyed on the 12-digit personal ID number (VNeID-like); absent without an issuer.
   */
  nationalId?: { issuer: string; clientId: string; clientSecret: string; claim: string };
  /**
   * SEN_BHYT_GATEWAY_URL, SEN_BHYT_GATEWAY_TIMEOUT_MS (default 5000), SEN_BHYT_RECHECK_MS (default 60000): the BHYT
   * card gateway and how often unverified cards are rechecked. Demo mode without a URL starts the local simulator.
   */
  bhyt: { gatewayUrl?: string; timeoutMs?: number; recheckIntervalMs?: number };
  /**
   * The national e-health-book feed: SEN_EHB_GATEWAY_URL (demo mode without it: the local simulator), _GATEWAY_TOKEN,
   * _GATEWAY_TIMEOUT_MS (10000), _POLL_MS (5000), _RETRY_BASE_MS (30000), _RETRY_MAX_MS (3600000), _MAX_ATTEMPTS (12),
   * _SIGNING_KEY_FILE and _SIGNING_CERT_FILE (PEM; without them a key is generated and kept in the database),
   * _SINCE (ISO date: episodes that ended before it are not sent; default: when the feed first ran).
   */
  ehb: {
    gatewayUrl?: string;
    gatewayToken?: string;
    timeoutMs?: number;
    pollMs: number;
    retry: { baseMs?: number; maxMs?: number; maxAttempts?: number };
    signingKeyFile?: string;
    signingCertFile?: string;
    since?: string;
  };
  /**
   * SEN_MLLP_PORT (unset: no listener), SEN_MLLP_HOST (default 127.0.0.1), SEN_MLLP_FACILITY (Organization.id of the
   * analyzers' facility; demo mode defaults to the demo hospital, production requires it): the HL7 v2 / MLLP listener
   * for lab analyzers.
   */
  mllp?: { port: number; host: string; facilityId?: string };
  /**
   * Cashier: SEN_PAY_BEFORE_EXECUTION (default true: fee-paying orders wait for payment), SEN_PAYMENT_GATEWAY_URL
   * (demo without it: the local simulator), SEN_PAYMENT_SECRET (HMAC key shared with the gateway; demo default
   * `sen-demo-payment-secret`, refused in production), SEN_PAYMENT_BANK_BIN / SEN_PAYMENT_ACCOUNT (the VietQR
   * receiving account), SEN_BHYT_FACILITY_LEVEL (central | provincial | district | commune, default provincial),
   * SEN_BHYT_BASE_SALARY (lương cơ sở, default 2340000, for the 15 % small-amount rule).
   */
  billing: {
    payFirst: boolean;
    gatewayUrl?: string;
    secret: string;
    bankBin?: string;
    bankAccount?: string;
    facilityLevel?: 'central' | 'provincial' | 'district' | 'commune';
    baseSalary?: number;
  };
}

const DEMO_PAYMENT_SECRET = 'sen-demo-payment-secret';

function mllpConfig(env: NodeJS.ProcessEnv, mode: 'demo' | 'production'): SenConfig['mllp'] {
  const raw = env.SEN_MLLP_PORT;
  if (raw === undefined || raw === '') {
    return undefined;
  }
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`SEN_MLLP_PORT must be a port number, got '${raw}'`);
  }
  const facilityId = env.SEN_MLLP_FACILITY || undefined;
  if (mode === 'production' && !facilityId) {
    throw new Error(
      "SEN_MLLP_PORT needs SEN_MLLP_FACILITY (the Organization id of the analyzers' facility) in production",
    );
  }
  return { port, host: env.SEN_MLLP_HOST || '127.0.0.1', facilityId };
}

function billingConfig(env: NodeJS.ProcessEnv, mode: 'demo' | 'production'): SenConfig['billing'] {
  const secret = env.SEN_PAYMENT_SECRET || undefined;
  const gatewayUrl = env.SEN_PAYMENT_GATEWAY_URL || undefined;
  if (mode === 'production' && secret === DEMO_PAYMENT_SECRET) {
    throw new Error('SEN_PAYMENT_SECRET is the demo secret: set a secret of your own in production mode');
  }
  if (mode === 'production' && gatewayUrl && !secret) {
    throw new Error('SEN_PAYMENT_GATEWAY_URL needs SEN_PAYMENT_SECRET (the key shared with the gateway)');
  }
  const level = env.SEN_BHYT_FACILITY_LEVEL || undefined;
  if (level && !['central', 'provincial', 'district', 'commune'].includes(level)) {
    throw new Error(`SEN_BHYT_FACILITY_LEVEL must be central, provincial, district or commune, got '${level}'`);
  }
  return {
    payFirst: env.SEN_PAY_BEFORE_EXECUTION !== 'false',
    gatewayUrl,
    // production without a gateway: a random key, so no confirmation can be forged
    secret: secret ?? (mode === 'demo' ? DEMO_PAYMENT_SECRET : randomBytes(32).toString('base64')),
    bankBin: env.SEN_PAYMENT_BANK_BIN || undefined,
    bankAccount: env.SEN_PAYMENT_ACCOUNT || undefined,
    facilityLevel: level as SenConfig['billing']['facilityLevel'],
    baseSalary: positive(env, 'SEN_BHYT_BASE_SALARY'),
  };
}

function positive(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') {
    return undefined;
  }
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) {
    throw new Error(`${name} must be a positive number, got '${v}'`);
  }
  return n;
}

function ehbSince(v: string | undefined): string | undefined {
  if (!v) {
    return undefined;
  }
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00+07:00` : v);
  if (Number.isNaN(t)) {
    throw new Error(`SEN_EHB_SINCE must be a date (YYYY-MM-DD) or an instant, got '${v}'`);
  }
  return new Date(t).toISOString();
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): SenConfig {
  const port = Number(env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be a port number, got '${env.PORT}'`);
  }
  const host = env.HOST ?? '0.0.0.0';
  const mode = env.SEN_MODE === 'production' ? 'production' : 'demo';
  const auth = env.SEN_AUTH !== 'off';
  if (!auth && mode === 'production') {
    throw new Error('SEN_AUTH=off is refused in production mode: the API would be open to anyone');
  }
  let nationalId: SenConfig['nationalId'];
  if (env.SEN_NATIONAL_ID_ISSUER) {
    const clientId = env.SEN_NATIONAL_ID_CLIENT_ID ?? '';
    const clientSecret = env.SEN_NATIONAL_ID_CLIENT_SECRET ?? '';
    if (!clientId || !clientSecret) {
      throw new Error('SEN_NATIONAL_ID_ISSUER needs SEN_NATIONAL_ID_CLIENT_ID and SEN_NATIONAL_ID_CLIENT_SECRET');
    }
    nationalId = {
      issuer: env.SEN_NATIONAL_ID_ISSUER,
      clientId,
      clientSecret,
      claim: env.SEN_NATIONAL_ID_CLAIM || 'sub',
    };
  }
  if (mode === 'production' && (env.SEN_DEMO_STAFF_PASSWORD || env.SEN_DEMO_TOTP_SECRET)) {
    throw new Error(
      'SEN_DEMO_STAFF_PASSWORD and SEN_DEMO_TOTP_SECRET are demo settings: unset them in production mode',
    );
  }
  return {
    port,
    host,
    publicUrl: (env.SEN_PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/$/, ''),
    dataDir: resolve(env.SEN_DATA_DIR ?? './data'),
    databaseUrl: env.DATABASE_URL || undefined,
    dbPoolSize: Number(env.SEN_DB_POOL ?? 20),
    mode,
    seed: env.SEN_SEED ? env.SEN_SEED !== 'false' : mode === 'demo',
    logLevel: env.LOG_LEVEL ?? 'info',
    sharedDir: resolve(env.SEN_SHARED_DIR ?? '../shared'),
    auth,
    secretKey: env.SEN_SECRET_KEY || undefined,
    demoClientSecret: env.SEN_DEMO_CLIENT_SECRET ?? 'sen-demo-secret',
    demoStaffPassword: env.SEN_DEMO_STAFF_PASSWORD || 'Sen-demo-2026!',
    demoTotpSecret: env.SEN_DEMO_TOTP_SECRET || 'sen-demo-totp',
    auditSealMs: Number(env.SEN_AUDIT_SEAL_MS ?? 5000),
    auditInFlight: Number(env.SEN_AUDIT_INFLIGHT ?? 1),
    auditReadCommit: env.SEN_AUDIT_READ_COMMIT === 'async' ? 'async' : 'durable',
    corsOrigins: (env.SEN_CORS_ORIGINS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    rateLimit: {
      userPerMinute: positive(env, 'SEN_RATE_LIMIT_USER_PER_MINUTE'),
      clientPerMinute: positive(env, 'SEN_RATE_LIMIT_CLIENT_PER_MINUTE'),
      burstSeconds: positive(env, 'SEN_RATE_LIMIT_BURST_SECONDS'),
    },
    nationalId,
    bhyt: {
      gatewayUrl: env.SEN_BHYT_GATEWAY_URL || undefined,
      timeoutMs: positive(env, 'SEN_BHYT_GATEWAY_TIMEOUT_MS'),
      recheckIntervalMs: positive(env, 'SEN_BHYT_RECHECK_MS'),
    },
    ehb: {
      gatewayUrl: env.SEN_EHB_GATEWAY_URL || undefined,
      gatewayToken: env.SEN_EHB_GATEWAY_TOKEN || undefined,
      timeoutMs: positive(env, 'SEN_EHB_GATEWAY_TIMEOUT_MS'),
      pollMs: positive(env, 'SEN_EHB_POLL_MS') ?? 5000,
      retry: {
        baseMs: positive(env, 'SEN_EHB_RETRY_BASE_MS'),
        maxMs: positive(env, 'SEN_EHB_RETRY_MAX_MS'),
        maxAttempts: positive(env, 'SEN_EHB_MAX_ATTEMPTS'),
      },
      signingKeyFile: env.SEN_EHB_SIGNING_KEY_FILE ? resolve(env.SEN_EHB_SIGNING_KEY_FILE) : undefined,
      signingCertFile: env.SEN_EHB_SIGNING_CERT_FILE ? resolve(env.SEN_EHB_SIGNING_CERT_FILE) : undefined,
      since: ehbSince(env.SEN_EHB_SINCE),
    },
    billing: billingConfig(env, mode),
    mllp: mllpConfig(env, mode),
  };
}

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
  };
}

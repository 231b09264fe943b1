import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Db } from '@sen/db';
import { outcomes } from '@sen/fhir';
import { AuditLog } from '@sen/store';
import type { FhirSecurity } from '../fhir/rest.ts';
import type { FhirRouter } from '../fhir/router.ts';
import { AuditBatcher } from './audit-batcher.ts';
import { accountCookie, registerAccountPage } from './auth/account-page.ts';
import { SecretBox, StaffAccounts } from './auth/index.ts';
import type { Principal } from './gate/gate.ts';
import { BreakGlassGrants } from './gate/break-glass.ts';
import { parseScopes, type ResourceScope } from './gate/scopes.ts';
import { systemPrincipals } from './gate/system-principal.ts';
import { type RateLimitConfig, RateLimiter } from './rate-limit.ts';
import { createPatientPicker } from './launch-patients.ts';
import {
  type AuthServer,
  type AuthServerTtl,
  createAuthServer,
  deriveKey,
  registerAuthServer,
  resolveSecretKey,
} from './oauth/index.ts';
import type { NationalIdConfig } from './oauth/national-id.ts';
import { createPatientSignIn, type PatientSignIn } from './patient-sign-in.ts';
import { staffSecondFactor } from './staff-sign-in.ts';

export interface SecurityConfig {
  mode: 'demo' | 'production';
  publicUrl: string;
  fhirBase: string;
  /** SEN_SECRET_KEY (32 bytes, base64); demo mode generates one into dataDir when absent. */
  secretKey?: string;
  dataDir?: string;
  /** SEN_DEMO_CLIENT_SECRET (demo mode only). */
  demoClientSecret?: string;
  /** How often the audit trail is sealed, ms (default 5 s; 0: only on close). */
  sealIntervalMs?: number;
  /** Most audit inserts committing at once (default 1). */
  auditInFlight?: number;
  /** Whether reads' audit records wait for the disk (default 'durable'; see AuditBatcherOptions.readCommit). */
  auditReadCommit?: 'async' | 'durable';
  /** Requests per minute per user and per system client on the FHIR API (SEN_RATE_LIMIT_*). */
  rateLimit?: RateLimitConfig;
  /** Patient sign-in through the external national-ID identity provider (SEN_NATIONAL_ID_*). */
  nationalId?: NationalIdConfig;
  /** How often guardian links look for RelatedPerson changes, ms (default 2000; 0: only on patients.guardians.poll()). */
  guardianPollMs?: number;
  /** Token lifetimes (tests shorten them). */
  ttl?: AuthServerTtl;
  /** Leeway on access token expiry, seconds (default 5). */
  clockToleranceSeconds?: number;
}

export interface Security {
  fhir: FhirSecurity;
  authServer: AuthServer;
  accounts: StaffAccounts;
  /** Patient accounts, guardian links and the national-ID sign-in. */
  patients: PatientSignIn;
  audit: AuditLog;
  /** Break-the-glass grants (the gate loads them into the staff Principal). */
  breakGlass: BreakGlassGrants;
  /**
   * Seals a capability's secrets at rest (AES-256-GCM under a subkey of SEN_SECRET_KEY for that purpose), e.g. the
   * e-health-book signing key: `sealerFor('ehb-signing-key')`.
   */
  sealerFor(purpose: string): SecretBox;
  close(): Promise<void>;
}

const LOGIN_MESSAGES: Record<string, string> = {
  invalid: 'Sai tên đăng nhập hoặc mật khẩu. / Wrong username or password.',
  locked: 'Tài khoản tạm khoá do đăng nhập sai nhiều lần; thử lại sau 15 phút. / Account locked for 15 minutes.',
  disabled: 'Tài khoản đã bị vô hiệu hoá. / This account is disabled.',
  'rate-limited': 'Quá nhiều lần thử; vui lòng đợi. / Too many attempts; please wait.',
  'mfa-invalid': 'Mã xác thực không đúng. / The code is not valid.',
};

/** Where Sen's web app runs: the public URL, and in demo mode the Vite dev server too. */
export const WEB_DEV_ORIGIN = 'http://localhost:5173';
function webOrigins(config: SecurityConfig): string[] {
  const own = new URL(config.publicUrl).origin;
  return config.mode === 'demo' && own !== WEB_DEV_ORIGIN ? [own, WEB_DEV_ORIGIN] : [own];
}

/**
 * Identity for Sen: the OpenID Connect / SMART authorization server, staff accounts, the tamper-evident audit
 * trail, and the bridge from a bearer token to the gate's Principal.
 */
export async function createSecurity(
  app: FastifyInstance,
  db: Db,
  config: SecurityConfig,
  router?: FhirRouter,
): Promise<Security> {
  const secret = await resolveSecretKey({ mode: config.mode, value: config.secretKey, dataDir: config.dataDir });
  const accounts = new StaffAccounts({ db, encryptionKey: deriveKey(secret, 'staff-accounts') });
  const secure = new URL(config.publicUrl).protocol === 'https:';
  const audit = new AuditLog(db);
  const patients = createPatientSignIn({
    db,
    secret,
    audit,
    mode: config.mode,
    issuer: `${config.publicUrl}/oidc`,
    nationalId: config.nationalId,
    guardianPollMs: config.guardianPollMs,
    onError: (err) => app.log.warn({ errName: err.name }, 'guardian links refresh failed'),
  });
  const authServer = await createAuthServer({
    db,
    issuer: `${config.publicUrl}/oidc`,
    fhirBase: config.fhirBase,
    mode: config.mode,
    secretKey: secret,
    dataDir: config.dataDir,
    demoClientSecret: config.mode === 'demo' ? config.demoClientSecret : undefined,
    // the web app at the public URL; in demo mode also its dev server (npm run dev, Vite on port 5173)
    webRedirectUris: webOrigins(config).map((o) => `${o}/`),
    webPostLogoutRedirectUris: webOrigins(config).map((o) => `${o}/`),
    findAccount: async (id) => {
      const patient = await patients.findAccount(id);
      if (patient) {
        return patient;
      }
      const a = await accounts.findAccount(id);
      if (!a || a.disabled) {
        return undefined;
      }
      return { accountId: a.id, claims: () => ({ fhirUser: `Practitioner/${a.practitionerId}` }) };
    },
    authenticate: async (username, password, totp, ctx) => {
      const r = await accounts.authenticate({ username, password, totp, ip: ctx.ip, userAgent: ctx.userAgent });
      if (!r.ok && (r.reason === 'mfa-required' || r.reason === 'mfa-enrolment-required')) {
        // password right, a second step follows (not a failure; the step's own outcome is audited)
        return r.reason === 'mfa-required'
          ? { next: 'mfa', token: r.mfaToken }
          : { next: 'enrol', token: r.enrolmentToken };
      }
      await audit.record({
        action: r.ok ? 'login' : 'login-failed',
        outcome: r.ok ? 'success' : 'failure',
        who: r.ok ? `Practitioner/${r.account.practitionerId}` : undefined,
        client: ctx.clientId,
        sourceIp: ctx.ip,
        detail: r.ok ? undefined : { reason: r.reason },
      });
      if (r.ok) {
        return {
          accountId: r.account.id,
          amr: r.account.mfaEnabled ? ['pwd', 'otp'] : ['pwd'],
          sessionId: r.session.id,
        };
      }
      return { error: LOGIN_MESSAGES[r.reason] ?? LOGIN_MESSAGES.invalid };
    },
    secondFactor: staffSecondFactor(accounts, audit),
    patientPicker: router
      ? createPatientPicker({ router, accounts, audit, treatedBy: (id) => treatedBy(id) })
      : undefined,
    sessionCookie: (sessionId) => accountCookie(sessionId, secure),
    ttl: config.ttl,
    clockToleranceSeconds: config.clockToleranceSeconds,
    logger: { warn: (o, m) => app.log.warn(o, m), error: (o, m) => app.log.error(o, m) },
  });
  await registerAuthServer(app, authServer, { externalSignIn: patients.externalSignIn });
  registerAccountPage(app, { accounts, audit, secure, revokeGrants: (id) => authServer.revokeAccount(id) });

  // who a clinician is treating: patients of encounters, care teams and episodes naming them (cached briefly)
  const careTeams = new Map<string, { at: number; ids: Set<string> }>();
  const treatedBy = async (practitionerId: string): Promise<Set<string>> => {
    const hit = careTeams.get(practitionerId);
    if (hit && Date.now() - hit.at < 60_000) {
      return hit.ids;
    }
    const { rows } = await db.query<{ cid: string }>(
      `SELECT DISTINCT c.cid FROM idx_reference ref
         JOIN resource r ON r.rid = ref.rid AND r.type IN ('Encounter', 'CareTeam', 'EpisodeOfCare') AND NOT r.deleted
         JOIN compartment c ON c.rid = ref.rid AND c.ctype = 'Patient'
        WHERE ref.target_type = 'Practitioner' AND ref.target_id = $1`,
      [practitionerId],
    );
    const ids = new Set(rows.map((x) => x.cid));
    careTeams.set(practitionerId, { at: Date.now(), ids });
    return ids;
  };

  // a verified token is remembered (the same frozen scope list each time): parse its scopes once
  const parsedScopes = new WeakMap<readonly string[], ResourceScope[]>();
  const scopesOf = (list: readonly string[]): ResourceScope[] => {
    let parsed = parsedScopes.get(list);
    if (!parsed) {
      parsed = parseScopes(list);
      parsedScopes.set(list, parsed);
    }
    return parsed;
  };

  const breakGlass = new BreakGlassGrants(db);
  const systemPrincipal = systemPrincipals(db, authServer);
  const authenticate = async (req: FastifyRequest): Promise<Principal> => {
    const h = req.headers.authorization;
    const m = typeof h === 'string' ? /^Bearer\s+(\S+)$/i.exec(h) : null;
    if (!m) {
      throw outcomes.unauthorized('Sign in first: send an access token (Authorization: Bearer …)');
    }
    const t = await authServer.verifyAccessToken(m[1]);
    const scopes = scopesOf(t.scopes);
    const fhirUser = t.fhirUser?.replace(/^.*\/(Practitioner|Patient|RelatedPerson)\//, '$1/');
    if (fhirUser?.startsWith('Practitioner/')) {
      const account = await accounts.findAccount(t.sub);
      if (!account || account.disabled) {
        throw outcomes.unauthorized('The account of this token no longer exists or is disabled');
      }
      return {
        kind: 'staff',
        accountId: account.id,
        practitionerId: account.practitionerId,
        roles: account.roles,
        facilityId: account.facilityId,
        departmentIds: account.departmentIds,
        scopes,
        careTeamPatientIds: await treatedBy(account.practitionerId),
        breakGlass: await breakGlass.activeFor(account.id),
        launchPatientId: t.patient,
      };
    }
    const patient = await patients.principal(t, scopes);
    if (patient) {
      return patient;
    }
    const patientId = fhirUser?.startsWith('Patient/') ? fhirUser.slice('Patient/'.length) : t.patient;
    if (patientId) {
      return { kind: 'patient', accountId: t.sub, patientId, guardianOf: [], scopes };
    }
    if (t.sub === t.clientId) {
      return systemPrincipal(t.clientId, scopes);
    }
    throw outcomes.forbidden('This token names no user, patient or system client Sen knows');
  };

  const interval = config.sealIntervalMs ?? 5000;
  const sealNow = (): Promise<void> =>
    audit.seal().then(
      () => undefined,
      // the reason names no patient data (seq numbers and positions only); sealing is retried next tick
      (err: Error) => app.log.error({ errName: err.name, reason: err.message }, 'audit sealing failed'),
    );
  const timer = interval > 0 ? setInterval(() => void sealNow(), interval) : undefined;
  timer?.unref();
  return {
    fhir: {
      authenticate,
      audit,
      recorder: new AuditBatcher(audit, { maxInFlight: config.auditInFlight, readCommit: config.auditReadCommit }),
      rateLimit: new RateLimiter(config.rateLimit),
    },
    authServer,
    accounts,
    patients,
    audit,
    breakGlass,
    sealerFor: (purpose) => new SecretBox(deriveKey(secret, purpose)),
    async close() {
      if (timer) {
        clearInterval(timer);
      }
      patients.close();
      await sealNow();
      await authServer.close();
    },
  };
}

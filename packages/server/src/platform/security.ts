import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Db } from '@sen/db';
import { outcomes } from '@sen/fhir';
import { AuditLog } from '@sen/store';
import type { FhirSecurity } from '../fhir/rest.ts';
import type { FhirRouter } from '../fhir/router.ts';
import { AuditBatcher } from './audit-batcher.ts';
import { accountCookie, registerAccountPage } from './auth/account-page.ts';
import { StaffAccounts } from './auth/index.ts';
import type { Principal } from './gate/gate.ts';
import { parseScopes } from './gate/scopes.ts';
import { createPatientPicker } from './launch-patients.ts';
import {
  type AuthServer,
  type AuthServerTtl,
  createAuthServer,
  deriveKey,
  registerAuthServer,
  resolveSecretKey,
} from './oauth/index.ts';
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
  /** Token lifetimes (tests shorten them). */
  ttl?: AuthServerTtl;
  /** Leeway on access token expiry, seconds (default 5). */
  clockToleranceSeconds?: number;
}

export interface Security {
  fhir: FhirSecurity;
  authServer: AuthServer;
  accounts: StaffAccounts;
  audit: AuditLog;
  close(): Promise<void>;
}

const LOGIN_MESSAGES: Record<string, string> = {
  invalid: 'Sai tên đăng nhập hoặc mật khẩu. / Wrong username or password.',
  locked: 'Tài khoản tạm khoá do đăng nhập sai nhiều lần; thử lại sau 15 phút. / Account locked for 15 minutes.',
  disabled: 'Tài khoản đã bị vô hiệu hoá. / This account is disabled.',
  'rate-limited': 'Quá nhiều lần thử; vui lòng đợi. / Too many attempts; please wait.',
  'mfa-invalid': 'Mã xác thực không đúng. / The code is not valid.',
};

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
  const authServer = await createAuthServer({
    db,
    issuer: `${config.publicUrl}/oidc`,
    fhirBase: config.fhirBase,
    mode: config.mode,
    secretKey: secret,
    dataDir: config.dataDir,
    demoClientSecret: config.mode === 'demo' ? config.demoClientSecret : undefined,
    findAccount: async (id) => {
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
  await registerAuthServer(app, authServer);
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

  const authenticate = async (req: FastifyRequest): Promise<Principal> => {
    const h = req.headers.authorization;
    const m = typeof h === 'string' ? /^Bearer\s+(\S+)$/i.exec(h) : null;
    if (!m) {
      throw outcomes.unauthorized('Sign in first: send an access token (Authorization: Bearer …)');
    }
    const t = await authServer.verifyAccessToken(m[1]);
    const scopes = parseScopes([...t.scopes]);
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
        launchPatientId: t.patient,
      };
    }
    const patientId = fhirUser?.startsWith('Patient/') ? fhirUser.slice('Patient/'.length) : t.patient;
    if (patientId) {
      return { kind: 'patient', accountId: t.sub, patientId, guardianOf: [], scopes };
    }
    if (t.sub === t.clientId) {
      return { kind: 'system', clientId: t.clientId, scopes };
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
    fhir: { authenticate, audit, recorder: new AuditBatcher(audit) },
    authServer,
    accounts,
    audit,
    async close() {
      if (timer) {
        clearInterval(timer);
      }
      await sealNow();
      await authServer.close();
    },
  };
}

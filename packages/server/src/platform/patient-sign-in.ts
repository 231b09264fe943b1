/**
 * The patient side of Sen's identity, wired for security.ts: patient accounts, the national-ID sign-in (when
 * configured) with its audit records, guardian links, and the bridge from a patient's token to the gate's Principal.
 */
import type { Db } from '@sen/db';
import { outcomes } from '@sen/fhir';
import type { AuditLog } from '@sen/store';
import { PATIENT_ACCOUNT_PREFIX, PatientAccounts } from './auth/patient-accounts.ts';
import type { Principal } from './gate/gate.ts';
import { GuardianLinks } from './gate/guardians.ts';
import type { ResourceScope } from './gate/scopes.ts';
import { createNationalIdSignIn, type NationalIdConfig } from './oauth/national-id.ts';
import { deriveKey, type AuthAccount, type VerifiedToken } from './oauth/index.ts';
import type { ExternalSignIn } from './oauth/plugin.ts';

export interface PatientSignInOptions {
  db: Db;
  /** The key-encryption key (SEN_SECRET_KEY); national ID digests use a key derived from it. */
  secret: Uint8Array;
  audit: AuditLog;
  mode: 'demo' | 'production';
  /** Sen's issuer, e.g. http://localhost:8080/oidc. */
  issuer: string;
  /** The external national-ID identity provider; absent: no patient sign-in. */
  nationalId?: NationalIdConfig;
  /** How long a guardian's children are cached, ms (default 30 s); changes to RelatedPerson drop it sooner. */
  guardianCacheMs?: number;
  /** How often the change feed is checked for RelatedPerson and Patient changes, ms (default 2 s). */
  guardianPollMs?: number;
  onError?: (err: Error) => void;
}

export interface PatientSignIn {
  accounts: PatientAccounts;
  guardians: GuardianLinks;
  /** The national-ID button and routes of the sign-in page (when configured). */
  externalSignIn?: ExternalSignIn;
  /** The account behind a token subject, for the authorization server (undefined: not a patient account). */
  findAccount(id: string): Promise<AuthAccount | undefined>;
  /** The gate's principal for a patient account's token; undefined when the token is not a patient account's. */
  principal(token: VerifiedToken, scopes: readonly ResourceScope[]): Promise<Principal | undefined>;
  close(): void;
}

export function createPatientSignIn(options: PatientSignInOptions): PatientSignIn {
  const { db, audit } = options;
  const accounts = new PatientAccounts({ db, hashKey: deriveKey(options.secret, 'patient-accounts national-id v1') });
  const guardians = new GuardianLinks({
    db,
    matchesHash: (n, h) => accounts.matchesHash(n, h),
    ttlMs: options.guardianCacheMs,
    pollMs: options.guardianPollMs,
    onError: options.onError,
  });
  const idpIssuer = options.nationalId?.issuer;
  const externalSignIn =
    options.nationalId && idpIssuer
      ? createNationalIdSignIn({
          config: options.nationalId,
          db,
          senIssuer: options.issuer,
          mode: options.mode,
          hooks: {
            async signIn(nationalId, ctx) {
              const r = await accounts.signIn(nationalId, idpIssuer);
              await audit.record({
                action: r.ok ? 'login' : 'login-failed',
                outcome: r.ok ? 'success' : 'failure',
                who: r.ok ? `Patient/${r.account.patientId}` : undefined,
                role: 'patient',
                client: ctx.clientId,
                sourceIp: ctx.ip,
                patient: r.ok ? r.account.patientId : r.patientId,
                detail: { method: 'national-id', ...(r.ok ? { created: r.created } : { reason: r.reason }) },
              });
              return r.ok ? { accountId: r.account.id } : { refused: r.reason };
            },
            async failed(reason, ctx) {
              await audit.record({
                action: 'login-failed',
                outcome: 'failure',
                role: 'patient',
                client: ctx.clientId,
                sourceIp: ctx.ip,
                detail: { method: 'national-id', reason },
              });
            },
          },
        })
      : undefined;

  return {
    accounts,
    guardians,
    externalSignIn,
    async findAccount(id) {
      const a = await accounts.findAccount(id);
      if (!a || a.disabled) {
        return undefined;
      }
      return { accountId: a.id, claims: () => ({ fhirUser: `Patient/${a.patientId}`, patient: a.patientId }) };
    },
    async principal(token, scopes) {
      if (!token.sub.startsWith(PATIENT_ACCOUNT_PREFIX)) {
        return undefined;
      }
      const account = await accounts.findAccount(token.sub);
      if (!account || account.disabled) {
        throw outcomes.unauthorized('The account of this token no longer exists or is disabled');
      }
      return {
        kind: 'patient',
        accountId: account.id,
        patientId: account.patientId,
        guardianOf: await guardians.childrenOf(account),
        scopes,
      };
    },
    close() {
      guardians.close();
    },
  };
}

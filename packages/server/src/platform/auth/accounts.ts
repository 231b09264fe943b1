/**
 * Staff accounts: sign-in with password and TOTP, lockout, rate limiting, sessions. HTTP-free: a login interaction
 * calls `authenticate` / `completeMfa` / `enrolMfa` / `confirmMfa`, and an OpenID Connect provider's `findAccount`
 * calls `findAccount` (and `getSession` to check that the sign-in behind a grant still stands).
 *
 * Sign-in sequence (every step records a login attempt):
 *   1. rate limits: failures per client IP and per username over a time window → 'rate-limited'
 *   2. unknown username → a dummy argon2 verification (same time as a real one) → 'invalid'; such names lock like
 *      real ones after repeated failures, so 'locked' does not tell real names from unknown ones
 *   3. the attempt is counted against the account before the password is checked (an atomic increment that fails
 *      when the account is locked → 'locked'), so parallel guesses cannot overrun the lockout; outcomes that are
 *      not failures give the count back, a full success resets it
 *   4. wrong password → 'invalid'; right password on a disabled account → 'disabled'
 *   5. MFA: clinical and admin roles (and anyone who opted in) need a TOTP code: none enrolled →
 *      'mfa-enrolment-required' + a one-time enrolment token; no code → 'mfa-required' + a one-time MFA token
 *      (the second form posts the token and the code to `completeMfa`, so no one keeps the password between steps);
 *      wrong or replayed code → 'mfa-invalid'
 *   6. success → a session.
 *
 * Never logged or returned: passwords, hashes, TOTP secrets (except once, to the user enrolling) and codes.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { classifyDbError, type Queryable } from '@sen/db';
import { type AttemptOutcome, LoginGuard, type LoginGuardPolicy } from './login-guard.ts';
import {
  ARGON2_PARAMS,
  type Argon2Params,
  checkPasswordPolicy,
  hashPassword,
  needsRehash,
  type PasswordPolicyResult,
  type PasswordProblem,
  verifyPassword,
} from './passwords.ts';
import { isStaffRole, rolesRequireMfa, STAFF_ROLES, type StaffRole } from './roles.ts';
import { SecretBox } from './secret-box.ts';
import { type SessionPolicy, type StaffSession, StaffSessions } from './sessions.ts';
import { isoColumn, isoPlus } from './sql-time.ts';
import { generateTotpSecret, totpUri, verifyTotp } from './totp.ts';

export { isStaffRole, MFA_REQUIRED_ROLES, rolesRequireMfa, STAFF_ROLES, type StaffRole } from './roles.ts';
export type { StaffSession } from './sessions.ts';

/** An account as callers see it: no hash, no secret. Instants are ISO 8601 strings in UTC. */
export interface StaffAccount {
  id: string;
  username: string;
  practitionerId: string;
  facilityId: string;
  departmentIds: string[];
  roles: StaffRole[];
  /** A TOTP authenticator is enrolled and asked for at sign-in. */
  mfaEnabled: boolean;
  /** The roles make TOTP mandatory. */
  mfaRequired: boolean;
  disabled: boolean;
  lockedUntil?: string;
  passwordChangedAt?: string;
  createdAt: string;
}

export type AuthResult =
  | { ok: true; account: StaffAccount; session: StaffSession }
  | { ok: false; reason: 'invalid' | 'locked' | 'mfa-invalid' | 'disabled' | 'rate-limited' }
  /** Password accepted; post `mfaToken` with a TOTP code to `completeMfa` (or call `authenticate` again with `totp`). */
  | { ok: false; reason: 'mfa-required'; mfaToken: string }
  /** Password accepted; the role needs MFA and none is enrolled: `enrolMfa` then `confirmMfa` with this token. */
  | { ok: false; reason: 'mfa-enrolment-required'; enrolmentToken: string };

export type AuthFailureReason = Extract<AuthResult, { ok: false }>['reason'];

export interface AuthenticateInput {
  username: string;
  password: string;
  totp?: string;
  ip: string;
  userAgent?: string;
}

export interface CompleteMfaInput {
  mfaToken: string;
  totp: string;
  ip: string;
  userAgent?: string;
}

/** Who is enrolling: the holder of an enrolment token (sign-in flow) or a signed-in account (opting in, new phone). */
export type MfaSubject = { enrolmentToken: string } | { accountId: string };

export interface MfaEnrolment {
  accountId: string;
  /** Base32, for typing into the app when the QR code cannot be scanned. Show once; never log. */
  secret: string;
  /** otpauth:// URI (issuer "Sen", label the username), for the QR code. */
  uri: string;
}

export type ConfirmMfaInput = MfaSubject & { code: string; ip: string; userAgent?: string };

export type ConfirmMfaResult =
  /** `session` is present when enrolment completed a sign-in (enrolment token). */
  | { ok: true; account: StaffAccount; session?: StaffSession }
  | { ok: false; reason: 'invalid' | 'locked' | 'mfa-invalid' | 'disabled' | 'rate-limited' };

export interface CreateAccountInput {
  username: string;
  practitionerId: string;
  facilityId: string;
  departmentIds?: string[];
  roles: StaffRole[];
  /** Optional: without one the account cannot sign in until `setPassword`. Checked against the policy. */
  password?: string;
}

export interface AuthPolicy extends LoginGuardPolicy, SessionPolicy {
  /** Lifetime of the MFA token between the password and the code. */
  mfaTokenTtlMs: number;
  /** Lifetime of an enrolment token. */
  enrolmentTokenTtlMs: number;
}

export const DEFAULT_AUTH_POLICY: Readonly<AuthPolicy> = Object.freeze({
  maxFailures: 5,
  lockoutMs: 15 * 60_000,
  ipMaxFailures: 20,
  ipWindowMs: 10 * 60_000,
  usernameMaxFailures: 10,
  usernameWindowMs: 10 * 60_000,
  sessionTtlMs: 12 * 3600_000,
  sessionIdleMs: 30 * 60_000,
  sessionTouchMs: 60_000,
  mfaTokenTtlMs: 5 * 60_000,
  enrolmentTokenTtlMs: 15 * 60_000,
});

export interface StaffAccountsOptions {
  db: Queryable;
  /** 32 bytes from configuration (see `parseEncryptionKey`): seals TOTP secrets, keys the username digests. */
  encryptionKey: Uint8Array;
  /** Keys before a rotation, only for opening secrets sealed with them. */
  previousEncryptionKeys?: readonly Uint8Array[];
  clock?: () => Date;
  policy?: Partial<AuthPolicy>;
  passwordParams?: Argon2Params;
  /** The argon2 verification (default: passwords.ts `verifyPassword`); tests count and inspect the calls. */
  verifyPassword?: (hash: string, password: string) => Promise<boolean>;
}

export type AccountErrorCode =
  | 'invalid-input'
  | 'invalid-username'
  | 'invalid-role'
  | 'username-taken'
  | 'practitioner-taken'
  | 'password-policy'
  | 'not-found';

/** Refused administrative input (create, update, set password on a missing account). */
export class AccountError extends Error {
  readonly code: AccountErrorCode;
  readonly problems?: PasswordProblem[];
  constructor(code: AccountErrorCode, message: string, problems?: PasswordProblem[]) {
    super(message);
    this.name = 'AccountError';
    this.code = code;
    this.problems = problems;
  }
}

const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._@-]{2,63}$/i;
/** Longer input is refused without hashing (argon2 would accept it; nobody types this much). */
const MAX_PASSWORD_INPUT = 1024;

interface AccountRow {
  id: string;
  username: string;
  practitioner_id: string;
  facility_id: string;
  department_ids: string[];
  roles: StaffRole[];
  password_hash: string | null;
  password_changed_at: string | null;
  mfa_secret: string | null;
  mfa_enabled: boolean;
  mfa_pending_secret: string | null;
  mfa_last_step: string | number | null;
  locked_until: string | null;
  disabled: boolean;
  created_at: string;
}

const ACCOUNT_COLUMNS = [
  'id',
  'username',
  'practitioner_id',
  'facility_id',
  'department_ids',
  'roles',
  'password_hash',
  isoColumn('password_changed_at'),
  'mfa_secret',
  'mfa_enabled',
  'mfa_pending_secret',
  'mfa_last_step',
  isoColumn('locked_until'),
  'disabled',
  isoColumn('created_at'),
].join(', ');

function sha256(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function newToken(): string {
  return randomBytes(32).toString('base64url');
}

function mfaAad(accountId: string): string {
  return `staff_account.mfa_secret:${accountId}`;
}

export class StaffAccounts {
  readonly #db: Queryable;
  readonly #box: SecretBox;
  readonly #guard: LoginGuard;
  readonly #sessions: StaffSessions;
  readonly #clock: () => Date;
  readonly #policy: AuthPolicy;
  readonly #params: Argon2Params;
  #dummyHash?: Promise<string>;
  readonly #verify: (hash: string, password: string) => Promise<boolean>;

  constructor(options: StaffAccountsOptions) {
    this.#db = options.db;
    this.#box = new SecretBox(options.encryptionKey, options.previousEncryptionKeys);
    this.#clock = options.clock ?? (() => new Date());
    this.#policy = { ...DEFAULT_AUTH_POLICY, ...options.policy };
    this.#guard = new LoginGuard({ db: this.#db, policy: this.#policy, encryptionKey: options.encryptionKey });
    this.#sessions = new StaffSessions({ db: this.#db, clock: this.#clock, policy: this.#policy });
    this.#params = options.passwordParams ?? ARGON2_PARAMS;
    this.#verify = options.verifyPassword ?? verifyPassword;
  }

  get policy(): Readonly<AuthPolicy> {
    return this.#policy;
  }

  // ---- Administration ----

  async create(input: CreateAccountInput): Promise<StaffAccount> {
    const username = input.username.trim();
    if (!USERNAME_PATTERN.test(username)) {
      throw new AccountError(
        'invalid-username',
        'a username is 3–64 characters: letters a–z, digits, and . _ @ - (not first)',
      );
    }
    if (!input.practitionerId || !input.facilityId) {
      throw new AccountError('invalid-input', 'practitionerId and facilityId are required');
    }
    const roles = this.#checkRoles(input.roles);
    const departmentIds = this.#checkDepartments(input.departmentIds ?? []);
    const now = this.#now();
    let passwordHash: string | null = null;
    if (input.password !== undefined) {
      const policy = checkPasswordPolicy(input.password, { username });
      if (!policy.ok) {
        throw new AccountError('password-policy', 'the password does not meet the policy', policy.problems);
      }
      passwordHash = await hashPassword(input.password, this.#params);
    }
    const id = randomUUID();
    try {
      await this.#db.query(
        `INSERT INTO staff_account (id, username, practitioner_id, facility_id, department_ids, roles, password_hash,
           password_changed_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5::text[], $6::text[], $7, $8::timestamptz, $9::timestamptz, $9::timestamptz)`,
        [
          id,
          username,
          input.practitionerId,
          input.facilityId,
          departmentIds,
          roles,
          passwordHash,
          passwordHash ? now : null,
          now,
        ],
      );
    } catch (err) {
      const info = classifyDbError(err);
      if (info.kind === 'unique') {
        const text = `${info.constraint ?? ''} ${(err as Error).message}`;
        if (text.includes('staff_account_practitioner')) {
          throw new AccountError('practitioner-taken', 'this practitioner already has an account at this facility');
        }
        throw new AccountError('username-taken', 'this username is taken');
      }
      throw err;
    }
    return (await this.findAccount(id)) as StaffAccount;
  }

  /** Changes roles, departments or facility. Does not touch sessions: the caller decides whether to revoke. */
  async update(
    accountId: string,
    changes: { roles?: StaffRole[]; departmentIds?: string[]; facilityId?: string },
  ): Promise<StaffAccount> {
    const roles = changes.roles ? this.#checkRoles(changes.roles) : null;
    const departments = changes.departmentIds ? this.#checkDepartments(changes.departmentIds) : null;
    const { rowCount } = await this.#db.query(
      `UPDATE staff_account SET roles = coalesce($2::text[], roles), department_ids = coalesce($3::text[], department_ids),
         facility_id = coalesce($4, facility_id), updated_at = $5::timestamptz
       WHERE id = $1`,
      [accountId, roles, departments, changes.facilityId ?? null, this.#now()],
    );
    if (rowCount === 0) {
      throw new AccountError('not-found', 'no such account');
    }
    return (await this.findAccount(accountId)) as StaffAccount;
  }

  /**
   * Sets a new password after checking the policy. Signs the account out everywhere except `keepSessionId`
   * (the session of a user changing their own password), drops pending sign-in tokens and clears a lockout.
   */
  async setPassword(
    accountId: string,
    password: string,
    options: { keepSessionId?: string } = {},
  ): Promise<PasswordPolicyResult> {
    const row = await this.#row('id = $1', [accountId]);
    if (!row) {
      throw new AccountError('not-found', 'no such account');
    }
    const policy = checkPasswordPolicy(password, { username: row.username });
    if (!policy.ok) {
      return policy;
    }
    const passwordHash = await hashPassword(password, this.#params);
    const now = this.#now();
    await this.#db.query(
      `UPDATE staff_account SET password_hash = $2, password_changed_at = $3::timestamptz, failed_attempts = 0,
         locked_until = NULL, updated_at = $3::timestamptz
       WHERE id = $1`,
      [accountId, passwordHash, now],
    );
    await this.#dropChallenges(accountId);
    await this.revokeAllSessions(accountId, { exceptSessionId: options.keepSessionId });
    return { ok: true };
  }

  /**
   * A user changing their own password: the current one is checked first (a wrong one counts towards the lockout),
   * then the new one against the policy; other sessions end (see `setPassword`).
   */
  async changePassword(input: {
    accountId: string;
    currentPassword: string;
    newPassword: string;
    ip: string;
    keepSessionId?: string;
  }): Promise<PasswordPolicyResult | { ok: false; reason: 'invalid' | 'locked' | 'disabled' | 'rate-limited' }> {
    const now = this.#clock();
    const row = await this.#row('id = $1', [input.accountId]);
    const { attempt, refusal } = await this.#secondStep(now, String(input.ip ?? ''), row, row, input.accountId);
    if (refusal || !row) {
      return refusal ?? { ok: false, reason: 'invalid' };
    }
    const current = String(input.currentPassword ?? '');
    const ok =
      row.password_hash !== null && current.length <= MAX_PASSWORD_INPUT
        ? await this.#verify(row.password_hash, current)
        : false;
    if (!ok) {
      await attempt('invalid', row.id);
      return { ok: false, reason: 'invalid' };
    }
    await this.#guard.release(row.id);
    return this.setPassword(row.id, String(input.newPassword ?? ''), { keepSessionId: input.keepSessionId });
  }

  /**
   * Provisioning only (the demo seed): turns MFA on with a given base32 secret, without a confirming code. Real
   * users enrol through `enrolMfa` + `confirmMfa`, which prove that their authenticator holds the secret.
   */
  async provisionMfa(accountId: string, secret: string): Promise<void> {
    const { rowCount } = await this.#db.query(
      `UPDATE staff_account SET mfa_secret = $2, mfa_enabled = true, mfa_pending_secret = NULL, mfa_last_step = NULL,
         updated_at = $3::timestamptz
       WHERE id = $1`,
      [accountId, this.#box.seal(secret, mfaAad(accountId)), this.#now()],
    );
    if (rowCount === 0) {
      throw new AccountError('not-found', 'no such account');
    }
  }

  /** Disabling signs the account out everywhere; a disabled account cannot sign in (its sessions are invalid). */
  async setDisabled(accountId: string, disabled: boolean): Promise<StaffAccount> {
    const { rowCount } = await this.#db.query(
      'UPDATE staff_account SET disabled = $2, updated_at = $3::timestamptz WHERE id = $1',
      [accountId, disabled, this.#now()],
    );
    if (rowCount === 0) {
      throw new AccountError('not-found', 'no such account');
    }
    if (disabled) {
      await this.#dropChallenges(accountId);
      await this.revokeAllSessions(accountId);
    }
    return (await this.findAccount(accountId)) as StaffAccount;
  }

  /** Lifts a lockout (an administrator, after checking who is calling). */
  async unlock(accountId: string): Promise<void> {
    await this.#guard.reset(accountId);
  }

  /** Forgets the authenticator (lost phone): the next sign-in of an MFA role goes through enrolment again. */
  async resetMfa(accountId: string): Promise<void> {
    await this.#db.query(
      `UPDATE staff_account SET mfa_secret = NULL, mfa_enabled = false, mfa_pending_secret = NULL, mfa_last_step = NULL,
         updated_at = $2::timestamptz
       WHERE id = $1`,
      [accountId, this.#now()],
    );
    await this.#dropChallenges(accountId);
  }

  // ---- Lookup (OIDC findAccount) ----

  async findAccount(accountId: string): Promise<StaffAccount | undefined> {
    const row = await this.#row('id = $1', [accountId]);
    return row ? this.#toAccount(row) : undefined;
  }

  async findAccountByUsername(username: string): Promise<StaffAccount | undefined> {
    const row = await this.#row('lower(username) = lower($1)', [username.trim()]);
    return row ? this.#toAccount(row) : undefined;
  }

  // ---- Sign-in ----

  async authenticate(input: AuthenticateInput): Promise<AuthResult> {
    const now = this.#clock();
    const username = String(input.username ?? '').trim();
    const usernameKey = this.#guard.usernameDigest(username);
    const ip = String(input.ip ?? '');
    const attempt = (outcome: AttemptOutcome, accountId?: string) =>
      this.#guard.record(now, usernameKey, ip, outcome, accountId);

    if (await this.#guard.rateLimited(now, usernameKey, ip)) {
      await attempt('rate-limited');
      return { ok: false, reason: 'rate-limited' };
    }
    const password = typeof input.password === 'string' ? input.password : '';
    const row =
      username.length > 0 && username.length <= 256
        ? await this.#row('lower(username) = lower($1)', [username])
        : undefined;
    if (!row) {
      if (await this.#guard.unknownLocked(now, usernameKey)) {
        await attempt('locked');
        return { ok: false, reason: 'locked' };
      }
      await this.#dummyVerify(password);
      await attempt('invalid');
      return { ok: false, reason: 'invalid' };
    }

    if (!(await this.#guard.reserve(row.id, now))) {
      await attempt('locked', row.id);
      return { ok: false, reason: 'locked' };
    }
    const passwordOk =
      row.password_hash !== null && password.length <= MAX_PASSWORD_INPUT
        ? await this.#verify(row.password_hash, password)
        : (await this.#dummyVerify(password), false);
    if (!passwordOk) {
      await attempt('invalid', row.id);
      return { ok: false, reason: 'invalid' };
    }
    if (row.password_hash && needsRehash(row.password_hash, this.#params)) {
      await this.#db.query('UPDATE staff_account SET password_hash = $2 WHERE id = $1 AND password_hash = $3', [
        row.id,
        await hashPassword(password, this.#params),
        row.password_hash,
      ]);
    }
    if (row.disabled) {
      await this.#guard.release(row.id);
      await attempt('disabled', row.id);
      return { ok: false, reason: 'disabled' };
    }
    const needsMfa = row.mfa_enabled || rolesRequireMfa(row.roles);
    if (needsMfa && !row.mfa_enabled) {
      await this.#guard.release(row.id);
      const enrolmentToken = await this.#issueChallenge(row.id, 'mfa-enrolment', now);
      await attempt('mfa-enrolment-required', row.id);
      return { ok: false, reason: 'mfa-enrolment-required', enrolmentToken };
    }
    if (needsMfa && (input.totp === undefined || input.totp === '')) {
      await this.#guard.release(row.id);
      const mfaToken = await this.#issueChallenge(row.id, 'mfa', now);
      await attempt('mfa-required', row.id);
      return { ok: false, reason: 'mfa-required', mfaToken };
    }
    if (needsMfa && !(await this.#checkTotp(row, String(input.totp), now))) {
      await attempt('mfa-invalid', row.id);
      return { ok: false, reason: 'mfa-invalid' };
    }
    return this.#succeed(row, now, ip, input.userAgent, attempt);
  }

  /** Second step of a two-form sign-in: the token from 'mfa-required' and the TOTP code. */
  async completeMfa(input: CompleteMfaInput): Promise<AuthResult> {
    const now = this.#clock();
    const ip = String(input.ip ?? '');
    const challenge = await this.#findChallenge(String(input.mfaToken ?? ''), 'mfa', now);
    const row = challenge ? await this.#row('id = $1', [challenge.accountId]) : undefined;
    const { attempt, refusal } = await this.#secondStep(now, ip, challenge ? row : undefined, row);
    if (refusal || !challenge || !row) {
      return refusal ?? { ok: false, reason: 'invalid' };
    }
    if (!row.mfa_enabled || !(await this.#checkTotp(row, String(input.totp ?? ''), now))) {
      await attempt('mfa-invalid', row.id);
      return { ok: false, reason: 'mfa-invalid' };
    }
    if (!(await this.#useChallenge(challenge.hash, now))) {
      await attempt('invalid', row.id);
      return { ok: false, reason: 'invalid' };
    }
    return this.#succeed(row, now, ip, input.userAgent, attempt);
  }

  // ---- MFA enrolment ----

  /**
   * Starts (or restarts) enrolment: a new secret, kept encrypted as pending until `confirmMfa`. Undefined when the
   * token is unknown, used or expired, or the account is missing or disabled. Re-enrolling an account that already
   * has MFA (by accountId) keeps the current authenticator working until the new one is confirmed; the caller should
   * have asked for a fresh sign-in or code first. `reusePending` shows the pending secret again instead of a new one.
   */
  async enrolMfa(subject: MfaSubject, options: { reusePending?: boolean } = {}): Promise<MfaEnrolment | undefined> {
    const now = this.#clock();
    const row = await this.#subject(subject, now);
    if (!row || row.disabled) {
      return undefined;
    }
    if (options.reusePending && row.mfa_pending_secret) {
      // the same page shown again (a mistyped code): the secret already scanned stays
      const pending = this.#box.open(row.mfa_pending_secret, mfaAad(row.id));
      return { accountId: row.id, secret: pending, uri: totpUri(pending, row.username) };
    }
    const secret = generateTotpSecret();
    await this.#db.query(
      'UPDATE staff_account SET mfa_pending_secret = $2, updated_at = $3::timestamptz WHERE id = $1',
      [row.id, this.#box.seal(secret, mfaAad(row.id)), now.toISOString()],
    );
    return { accountId: row.id, secret, uri: totpUri(secret, row.username) };
  }

  /**
   * Confirms enrolment with a code from the new authenticator: MFA is then on. With an enrolment token this also
   * completes the sign-in (a session, and the token is used up); with an accountId it does not create a session.
   * Wrong codes count as failed attempts (lockout).
   */
  async confirmMfa(input: ConfirmMfaInput): Promise<ConfirmMfaResult> {
    const now = this.#clock();
    const ip = String(input.ip ?? '');
    const byToken = 'enrolmentToken' in input;
    const challenge = byToken ? await this.#findChallenge(input.enrolmentToken, 'mfa-enrolment', now) : undefined;
    const row = byToken
      ? challenge
        ? await this.#row('id = $1', [challenge.accountId])
        : undefined
      : await this.#row('id = $1', [input.accountId]);
    const { attempt, refusal } = await this.#secondStep(
      now,
      ip,
      row?.mfa_pending_secret ? row : undefined,
      row,
      row?.id,
    );
    if (refusal || !row?.mfa_pending_secret) {
      return refusal ?? { ok: false, reason: 'invalid' };
    }
    const secret = this.#box.open(row.mfa_pending_secret, mfaAad(row.id));
    const check = verifyTotp({ secret, code: String(input.code ?? ''), at: now });
    if (!check.ok) {
      await attempt('mfa-invalid', row.id);
      return { ok: false, reason: 'mfa-invalid' };
    }
    if (challenge && !(await this.#useChallenge(challenge.hash, now))) {
      await attempt('invalid', row.id);
      return { ok: false, reason: 'invalid' };
    }
    // The pending ciphertext becomes the active one only if it is still the one this code was checked against.
    const { rowCount } = await this.#db.query(
      `UPDATE staff_account SET mfa_secret = mfa_pending_secret, mfa_pending_secret = NULL, mfa_enabled = true,
         mfa_last_step = $3, failed_attempts = 0, locked_until = NULL, updated_at = $4::timestamptz
       WHERE id = $1 AND mfa_pending_secret = $2`,
      [row.id, row.mfa_pending_secret, check.step, now.toISOString()],
    );
    if (rowCount === 0) {
      await attempt('invalid', row.id);
      return { ok: false, reason: 'invalid' };
    }
    if (byToken) {
      const session = await this.#sessions.create(row.id, now, ip, input.userAgent);
      await attempt('ok', row.id);
      return { ok: true, account: (await this.findAccount(row.id)) as StaffAccount, session };
    }
    await attempt('enrolled', row.id);
    return { ok: true, account: (await this.findAccount(row.id)) as StaffAccount };
  }

  // ---- Sessions ----

  /** The session when it is current: not revoked, not past its end or idle timeout, account not disabled. */
  getSession(sessionId: string): Promise<StaffSession | undefined> {
    return this.#sessions.get(sessionId);
  }

  /** `getSession` that also records activity (written at most once a minute), extending the idle timeout. */
  touchSession(sessionId: string): Promise<StaffSession | undefined> {
    return this.#sessions.touch(sessionId);
  }

  /** The account's current sessions (what "where am I signed in" shows), most recently used first. */
  listSessions(accountId: string): Promise<StaffSession[]> {
    return this.#sessions.list(accountId);
  }

  /**
   * Ends one session. With `accountId`, only a session of that account (a user revoking from their own list).
   * True when a session was ended.
   */
  revokeSession(sessionId: string, options: { accountId?: string } = {}): Promise<boolean> {
    return this.#sessions.revoke(sessionId, options.accountId);
  }

  /** "Sign out everywhere": ends every session of the account (but `exceptSessionId`). Returns how many ended. */
  revokeAllSessions(accountId: string, options: { exceptSessionId?: string } = {}): Promise<number> {
    return this.#sessions.revokeAll(accountId, options.exceptSessionId);
  }

  /**
   * Housekeeping for a periodic job: deletes login attempts older than `attemptsOlderThanMs` (default one day,
   * far beyond every rate-limit window), used or expired sign-in tokens, and sessions ended more than
   * `sessionsOlderThanMs` ago (default 90 days).
   */
  async purge(options: { attemptsOlderThanMs?: number; sessionsOlderThanMs?: number } = {}): Promise<void> {
    const now = this.#clock();
    await this.#guard.purge(new Date(now.getTime() - (options.attemptsOlderThanMs ?? 24 * 3600_000)));
    await this.#sessions.purge(new Date(now.getTime() - (options.sessionsOlderThanMs ?? 90 * 24 * 3600_000)));
    await this.#db.query(
      'DELETE FROM staff_login_challenge WHERE used_at IS NOT NULL OR expires_at < $1::timestamptz',
      [now.toISOString()],
    );
  }

  // ---- Internals ----

  #now(): string {
    return this.#clock().toISOString();
  }

  #checkRoles(roles: readonly string[]): StaffRole[] {
    if (!Array.isArray(roles) || roles.length === 0) {
      throw new AccountError('invalid-role', 'an account needs at least one role');
    }
    for (const r of roles) {
      if (!isStaffRole(r)) {
        throw new AccountError('invalid-role', `unknown role '${String(r)}' (known: ${STAFF_ROLES.join(', ')})`);
      }
    }
    return [...new Set(roles as StaffRole[])];
  }

  #checkDepartments(ids: readonly string[]): string[] {
    if (!Array.isArray(ids) || ids.some((d) => typeof d !== 'string' || d.length === 0)) {
      throw new AccountError('invalid-input', 'department ids are non-empty strings');
    }
    return [...new Set(ids)];
  }

  /**
   * The checks every second sign-in step shares, in order: rate limit, a usable account (`usable`), not disabled,
   * not locked (reserving an attempt). Each refusal is recorded; `attempt` records the step's own outcome later.
   */
  async #secondStep(
    now: Date,
    ip: string,
    usable: AccountRow | undefined,
    known: AccountRow | undefined,
    invalidAccountId?: string,
  ): Promise<{
    attempt: (outcome: AttemptOutcome, accountId?: string) => Promise<void>;
    refusal?: { ok: false; reason: 'invalid' | 'disabled' | 'locked' | 'rate-limited' };
  }> {
    const usernameKey = this.#guard.usernameDigest(known?.username ?? '');
    const attempt = (outcome: AttemptOutcome, accountId?: string): Promise<void> =>
      this.#guard.record(now, usernameKey, ip, outcome, accountId);
    if (await this.#guard.rateLimited(now, usernameKey, ip)) {
      await attempt('rate-limited', known?.id);
      return { attempt, refusal: { ok: false, reason: 'rate-limited' } };
    }
    if (!usable) {
      await attempt('invalid', invalidAccountId);
      return { attempt, refusal: { ok: false, reason: 'invalid' } };
    }
    if (usable.disabled) {
      await attempt('disabled', usable.id);
      return { attempt, refusal: { ok: false, reason: 'disabled' } };
    }
    if (!(await this.#guard.reserve(usable.id, now))) {
      await attempt('locked', usable.id);
      return { attempt, refusal: { ok: false, reason: 'locked' } };
    }
    return { attempt };
  }

  async #row(where: string, params: unknown[]): Promise<AccountRow | undefined> {
    const { rows } = await this.#db.query<AccountRow>(
      `SELECT ${ACCOUNT_COLUMNS} FROM staff_account WHERE ${where}`,
      params,
    );
    return rows[0];
  }

  #toAccount(row: AccountRow): StaffAccount {
    const now = this.#clock().toISOString();
    return {
      id: row.id,
      username: row.username,
      practitionerId: row.practitioner_id,
      facilityId: row.facility_id,
      departmentIds: [...row.department_ids],
      roles: [...row.roles],
      mfaEnabled: row.mfa_enabled,
      mfaRequired: rolesRequireMfa(row.roles),
      disabled: row.disabled,
      lockedUntil: row.locked_until && row.locked_until > now ? row.locked_until : undefined,
      passwordChangedAt: row.password_changed_at ?? undefined,
      createdAt: row.created_at,
    };
  }

  /** A verification against a fixed hash with the same parameters, so an unknown username costs the same time. */
  async #dummyVerify(password: string): Promise<void> {
    this.#dummyHash ??= hashPassword(randomBytes(24).toString('base64url'), this.#params);
    await this.#verify(await this.#dummyHash, password.slice(0, MAX_PASSWORD_INPUT));
  }

  /** Checks a TOTP code against the enrolled secret and records its step, so the same code is refused next time. */
  async #checkTotp(row: AccountRow, code: string, now: Date): Promise<boolean> {
    if (!row.mfa_secret) {
      return false;
    }
    const secret = this.#box.open(row.mfa_secret, mfaAad(row.id));
    const lastUsedStep = row.mfa_last_step === null ? null : Number(row.mfa_last_step);
    const check = verifyTotp({ secret, code, at: now, lastUsedStep });
    if (!check.ok) {
      return false;
    }
    // Atomic: of two requests carrying the same code, only one moves the step forward.
    const { rowCount } = await this.#db.query(
      'UPDATE staff_account SET mfa_last_step = $2 WHERE id = $1 AND (mfa_last_step IS NULL OR mfa_last_step < $2)',
      [row.id, check.step],
    );
    if (rowCount > 0 && this.#box.isStale(row.mfa_secret)) {
      await this.#db.query('UPDATE staff_account SET mfa_secret = $2 WHERE id = $1 AND mfa_secret = $3', [
        row.id,
        this.#box.seal(secret, mfaAad(row.id)),
        row.mfa_secret,
      ]);
    }
    return rowCount > 0;
  }

  async #succeed(
    row: AccountRow,
    now: Date,
    ip: string,
    userAgent: string | undefined,
    attempt: (outcome: AttemptOutcome, accountId?: string) => Promise<void>,
  ): Promise<AuthResult> {
    await this.#guard.reset(row.id);
    const session = await this.#sessions.create(row.id, now, ip, userAgent);
    await attempt('ok', row.id);
    return { ok: true, account: (await this.findAccount(row.id)) as StaffAccount, session };
  }

  async #issueChallenge(accountId: string, purpose: 'mfa' | 'mfa-enrolment', now: Date): Promise<string> {
    const token = newToken();
    const ttl = purpose === 'mfa' ? this.#policy.mfaTokenTtlMs : this.#policy.enrolmentTokenTtlMs;
    await this.#db.query(
      `INSERT INTO staff_login_challenge (token_hash, account_id, purpose, created_at, expires_at)
       VALUES ($1, $2, $3, $4::timestamptz, $5::timestamptz)`,
      [sha256(token), accountId, purpose, now.toISOString(), isoPlus(now, ttl)],
    );
    return token;
  }

  async #findChallenge(
    token: string,
    purpose: 'mfa' | 'mfa-enrolment',
    now: Date,
  ): Promise<{ hash: string; accountId: string } | undefined> {
    if (!token) {
      return undefined;
    }
    const hash = sha256(token);
    const { rows } = await this.#db.query<{ account_id: string }>(
      `SELECT account_id FROM staff_login_challenge
       WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3::timestamptz`,
      [hash, purpose, now.toISOString()],
    );
    return rows[0] ? { hash, accountId: rows[0].account_id } : undefined;
  }

  /** Marks a token used; false when another request used it first. */
  async #useChallenge(hash: string, now: Date): Promise<boolean> {
    const { rowCount } = await this.#db.query(
      'UPDATE staff_login_challenge SET used_at = $2::timestamptz WHERE token_hash = $1 AND used_at IS NULL',
      [hash, now.toISOString()],
    );
    return rowCount > 0;
  }

  async #dropChallenges(accountId: string): Promise<void> {
    await this.#db.query('DELETE FROM staff_login_challenge WHERE account_id = $1', [accountId]);
  }

  async #subject(subject: MfaSubject, now: Date): Promise<AccountRow | undefined> {
    if ('enrolmentToken' in subject) {
      const challenge = await this.#findChallenge(subject.enrolmentToken, 'mfa-enrolment', now);
      return challenge ? this.#row('id = $1', [challenge.accountId]) : undefined;
    }
    return this.#row('id = $1', [subject.accountId]);
  }
}

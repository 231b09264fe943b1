/**
 * Brute-force protection for staff sign-in: the login_attempt log (rate limits per client IP and per username over
 * time windows) and the per-account consecutive-failure counter (lockout).
 *
 * An attempt is counted against the account before its password or code is checked, by one atomic UPDATE that
 * refuses while the account is locked; so parallel guesses cannot overrun the limit. Outcomes that are not failures
 * give the count back (`release`), a full success clears it (`reset`).
 *
 * Usernames are logged as an HMAC under a key derived from the configured encryption key, never as typed: people
 * type their password into the username field.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import type { Queryable } from '@sen/db';
import { isoPlus } from './sql-time.ts';

export interface LoginGuardPolicy {
  /** Consecutive failures that lock an account. */
  maxFailures: number;
  lockoutMs: number;
  /** Failed attempts from one client IP within `ipWindowMs` after which attempts from it are refused. */
  ipMaxFailures: number;
  ipWindowMs: number;
  /** Failed attempts on one username (from anywhere) within `usernameWindowMs` after which it is refused. */
  usernameMaxFailures: number;
  usernameWindowMs: number;
}

/** What a login_attempt row records; the outcomes in `NOT_FAILED` do not count towards the rate limits. */
export type AttemptOutcome =
  | 'ok'
  | 'enrolled'
  | 'mfa-required'
  | 'mfa-enrolment-required'
  | 'invalid'
  | 'locked'
  | 'mfa-invalid'
  | 'disabled'
  | 'rate-limited';

const NOT_FAILED: ReadonlySet<AttemptOutcome> = new Set<AttemptOutcome>([
  'ok',
  'enrolled',
  'mfa-required',
  'mfa-enrolment-required',
]);

export class LoginGuard {
  readonly #db: Queryable;
  readonly #policy: LoginGuardPolicy;
  readonly #usernameKey: Buffer;

  constructor(options: { db: Queryable; policy: LoginGuardPolicy; encryptionKey: Uint8Array }) {
    this.#db = options.db;
    this.#policy = options.policy;
    this.#usernameKey = Buffer.from(
      hkdfSync('sha256', options.encryptionKey, new Uint8Array(0), 'sen/login-attempt/username', 32),
    );
  }

  /** The keyed digest under which a username's attempts are logged (case-insensitive). */
  usernameDigest(username: string): string {
    return createHmac('sha256', this.#usernameKey).update(username.trim().toLowerCase()).digest('base64url');
  }

  async record(
    at: Date,
    usernameDigest: string,
    ip: string,
    outcome: AttemptOutcome,
    accountId?: string,
  ): Promise<void> {
    await this.#db.query(
      `INSERT INTO login_attempt (at, username_hmac, client_ip, account_id, outcome, failed)
       VALUES ($1::timestamptz, $2, $3, $4, $5, $6)`,
      [at.toISOString(), usernameDigest, ip, accountId ?? null, outcome, !NOT_FAILED.has(outcome)],
    );
  }

  /** True when the IP or the username has had too many failures in its window. */
  async rateLimited(now: Date, usernameDigest: string, ip: string): Promise<boolean> {
    const p = this.#policy;
    const { rows } = await this.#db.query<{ by_ip: number; by_name: number }>(
      `SELECT
         (SELECT count(*)::int FROM login_attempt WHERE failed AND client_ip = $1 AND at > $2::timestamptz) AS by_ip,
         (SELECT count(*)::int FROM login_attempt WHERE failed AND username_hmac = $3 AND at > $4::timestamptz) AS by_name`,
      [ip, isoPlus(now, -p.ipWindowMs), usernameDigest, isoPlus(now, -p.usernameWindowMs)],
    );
    const r = rows[0];
    return Number(r.by_ip) >= p.ipMaxFailures || Number(r.by_name) >= p.usernameMaxFailures;
  }

  /**
   * An unknown username answers 'locked' after as many recent failures as would lock a real account, so the answer
   * does not tell real usernames from made-up ones. (A sliding window here, a counter for real accounts: telling
   * them apart takes watching one name for more than the lockout time.)
   */
  async unknownLocked(now: Date, usernameDigest: string): Promise<boolean> {
    const { rows } = await this.#db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM login_attempt
       WHERE failed AND username_hmac = $1 AND outcome = 'invalid' AND at > $2::timestamptz`,
      [usernameDigest, isoPlus(now, -this.#policy.lockoutMs)],
    );
    return Number(rows[0].n) >= this.#policy.maxFailures;
  }

  /**
   * Counts an attempt on the account as a failure before it is checked; reaching the limit sets the lock, and a lock
   * that has run out starts a fresh count. False (nothing counted) while the account is locked.
   */
  async reserve(accountId: string, now: Date): Promise<boolean> {
    const { rowCount } = await this.#db.query(
      `UPDATE staff_account SET
         failed_attempts = CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failed_attempts + 1 END,
         locked_until = CASE
           WHEN (CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failed_attempts + 1 END) >= $3 THEN $4::timestamptz
           ELSE NULL END
       WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2::timestamptz)`,
      [accountId, now.toISOString(), this.#policy.maxFailures, isoPlus(now, this.#policy.lockoutMs)],
    );
    return rowCount > 0;
  }

  /** Gives back a reserved attempt whose outcome was not a failure (password right, next step pending). */
  async release(accountId: string): Promise<void> {
    await this.#db.query(
      `UPDATE staff_account SET failed_attempts = greatest(failed_attempts - 1, 0),
         locked_until = CASE WHEN failed_attempts - 1 < $2 THEN NULL ELSE locked_until END
       WHERE id = $1`,
      [accountId, this.#policy.maxFailures],
    );
  }

  /** A full success, an administrator's unlock or a new password: no failures, no lock. */
  async reset(accountId: string): Promise<void> {
    await this.#db.query('UPDATE staff_account SET failed_attempts = 0, locked_until = NULL WHERE id = $1', [
      accountId,
    ]);
  }

  /** Deletes attempts older than `before` (all rate-limit windows are far shorter than a day). */
  async purge(before: Date): Promise<void> {
    await this.#db.query('DELETE FROM login_attempt WHERE at < $1::timestamptz', [before.toISOString()]);
  }
}

/**
 * Staff sessions: one row per sign-in, with an absolute end and an idle timeout. Listed to their owner ("where am I
 * signed in"), revocable one by one or all at once ("sign out everywhere"). A session of a disabled account is not
 * current. The id is 256 random bits.
 */
import { randomBytes } from 'node:crypto';
import type { Queryable } from '@sen/db';
import { isoColumn, isoPlus } from './sql-time.ts';

export interface StaffSession {
  id: string;
  accountId: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  revokedAt?: string;
  ip?: string;
  userAgent?: string;
}

export interface SessionPolicy {
  /** Absolute session lifetime. */
  sessionTtlMs: number;
  /** A session unused for this long ends. */
  sessionIdleMs: number;
  /** `touch` writes last_seen_at at most this often. */
  sessionTouchMs: number;
}

interface SessionRow {
  id: string;
  account_id: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  revoked_at: string | null;
  client_ip: string | null;
  user_agent: string | null;
}

function columns(alias = ''): string {
  const c = (name: string) => (alias ? `${alias}.${name}` : name);
  return [
    c('id'),
    c('account_id'),
    isoColumn(c('created_at')),
    isoColumn(c('last_seen_at')),
    isoColumn(c('expires_at')),
    isoColumn(c('revoked_at')),
    c('client_ip'),
    c('user_agent'),
  ].join(', ');
}

function toSession(row: SessionRow): StaffSession {
  return {
    id: row.id,
    accountId: row.account_id,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at ?? undefined,
    ip: row.client_ip ?? undefined,
    userAgent: row.user_agent ?? undefined,
  };
}

export class StaffSessions {
  readonly #db: Queryable;
  readonly #clock: () => Date;
  readonly #policy: SessionPolicy;

  constructor(options: { db: Queryable; clock: () => Date; policy: SessionPolicy }) {
    this.#db = options.db;
    this.#clock = options.clock;
    this.#policy = options.policy;
  }

  async create(accountId: string, now: Date, ip: string, userAgent?: string): Promise<StaffSession> {
    const { rows } = await this.#db.query<SessionRow>(
      `INSERT INTO staff_session (id, account_id, created_at, last_seen_at, expires_at, client_ip, user_agent)
       VALUES ($1, $2, $3::timestamptz, $3::timestamptz, $4::timestamptz, $5, $6)
       RETURNING ${columns()}`,
      [
        randomBytes(32).toString('base64url'),
        accountId,
        now.toISOString(),
        isoPlus(now, this.#policy.sessionTtlMs),
        ip || null,
        userAgent ? userAgent.slice(0, 512) : null,
      ],
    );
    return toSession(rows[0]);
  }

  async get(sessionId: string): Promise<StaffSession | undefined> {
    if (typeof sessionId !== 'string' || sessionId.length === 0) {
      return undefined;
    }
    const now = this.#clock();
    const { rows } = await this.#db.query<SessionRow>(
      `SELECT ${columns('s')}
       FROM staff_session s JOIN staff_account a ON a.id = s.account_id
       WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2::timestamptz
         AND s.last_seen_at > $3::timestamptz AND NOT a.disabled`,
      [sessionId, now.toISOString(), isoPlus(now, -this.#policy.sessionIdleMs)],
    );
    return rows[0] ? toSession(rows[0]) : undefined;
  }

  async touch(sessionId: string): Promise<StaffSession | undefined> {
    const session = await this.get(sessionId);
    if (!session) {
      return undefined;
    }
    const now = this.#clock();
    if (now.getTime() - Date.parse(session.lastSeenAt) < this.#policy.sessionTouchMs) {
      return session;
    }
    await this.#db.query(
      'UPDATE staff_session SET last_seen_at = $2::timestamptz WHERE id = $1 AND last_seen_at < $2::timestamptz',
      [sessionId, now.toISOString()],
    );
    return { ...session, lastSeenAt: now.toISOString() };
  }

  async list(accountId: string): Promise<StaffSession[]> {
    const now = this.#clock();
    const { rows } = await this.#db.query<SessionRow>(
      `SELECT ${columns()} FROM staff_session
       WHERE account_id = $1 AND revoked_at IS NULL AND expires_at > $2::timestamptz AND last_seen_at > $3::timestamptz
       ORDER BY last_seen_at DESC, created_at DESC`,
      [accountId, now.toISOString(), isoPlus(now, -this.#policy.sessionIdleMs)],
    );
    return rows.map(toSession);
  }

  async revoke(sessionId: string, accountId?: string): Promise<boolean> {
    const { rowCount } = await this.#db.query(
      `UPDATE staff_session SET revoked_at = $2::timestamptz
       WHERE id = $1 AND revoked_at IS NULL AND ($3::text IS NULL OR account_id = $3::text)`,
      [sessionId, this.#clock().toISOString(), accountId ?? null],
    );
    return rowCount > 0;
  }

  async revokeAll(accountId: string, exceptSessionId?: string): Promise<number> {
    const { rowCount } = await this.#db.query(
      `UPDATE staff_session SET revoked_at = $2::timestamptz
       WHERE account_id = $1 AND revoked_at IS NULL AND ($3::text IS NULL OR id <> $3::text)`,
      [accountId, this.#clock().toISOString(), exceptSessionId ?? null],
    );
    return rowCount;
  }

  /** Deletes sessions that ended (revoked or expired) before `before`. */
  async purge(before: Date): Promise<void> {
    await this.#db.query('DELETE FROM staff_session WHERE coalesce(revoked_at, expires_at) < $1::timestamptz', [
      before.toISOString(),
    ]);
  }
}

/**
 * The oidc-provider storage adapter over one table (`oauth_store`), for every model the provider keeps: Session,
 * Interaction, Grant, AuthorizationCode, RefreshToken, ReplayDetection, PushedAuthorizationRequest, registered
 * Client metadata, and Sen's own LaunchRequest / LaunchContext.
 *
 * Opaque tokens are their own id (a refresh token's value is its jti), so the id column keeps a SHA-256 digest and
 * the payload leaves jti out: a copy of the table hands out no usable code or refresh token. Registered clients keep
 * their id in clear. Expired rows are invisible at once and deleted by purgeExpired().
 */
import { createHash } from 'node:crypto';
import type { Db } from '@sen/db';
import type { Adapter, AdapterConstructor, AdapterPayload } from 'oidc-provider';

/** Models whose lookups by uid / user code need jti in the payload (their cookie ids are signed, besides). */
const KEEP_JTI = new Set(['Session', 'DeviceCode', 'BackchannelAuthenticationRequest', 'Client']);
/** Models whose ids are not secrets and stay readable. */
const CLEAR_ID = new Set(['Client']);

export interface AdapterOptions {
  /** The application's clock (ms since the epoch); tests move it. */
  now?: () => number;
  /** Called when every token of a grant is revoked (refresh token revoked, code replayed, logout). */
  onGrantRevoked?: (grantId: string) => Promise<void>;
}

interface Row {
  payload: AdapterPayload | string;
  consumed: number | null;
}

/** An oidc-provider Adapter class bound to a database: `new (createAdapter(db))('RefreshToken')`. */
export function createAdapter(db: Db, options: AdapterOptions = {}): AdapterConstructor {
  const now = options.now ?? Date.now;
  const iso = (ms: number): string => new Date(ms).toISOString();

  return class SenOAuthAdapter implements Adapter {
    readonly name: string;

    constructor(name: string) {
      this.name = name;
    }

    key(id: string): string {
      return CLEAR_ID.has(this.name) ? id : createHash('sha256').update(id).digest('base64url');
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const stored: AdapterPayload = { ...payload };
      if (!KEEP_JTI.has(this.name) && stored.jti === id) {
        delete stored.jti;
      }
      const expiresAt = expiresIn ? iso(now() + expiresIn * 1000) : null;
      await db.query(
        `INSERT INTO oauth_store (model, id, payload, grant_id, account_id, user_code, uid, expires_at)
         VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8)
         ON CONFLICT (model, id) DO UPDATE
           SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id, account_id = EXCLUDED.account_id,
               user_code = EXCLUDED.user_code, uid = EXCLUDED.uid, expires_at = EXCLUDED.expires_at`,
        [
          this.name,
          this.key(id),
          JSON.stringify(stored),
          payload.grantId ?? null,
          payload.accountId ?? null,
          payload.userCode ?? null,
          payload.uid ?? null,
          expiresAt,
        ],
        { prepare: true },
      );
    }

    #revive(row: Row | undefined, id?: string): AdapterPayload | undefined {
      if (!row) {
        return undefined;
      }
      const payload = (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as AdapterPayload;
      if (id !== undefined && payload.jti === undefined && !KEEP_JTI.has(this.name)) {
        payload.jti = id;
      }
      if (row.consumed !== null && row.consumed !== undefined) {
        payload.consumed = Math.floor(Number(row.consumed));
      }
      return payload;
    }

    async #findBy(column: 'id' | 'uid' | 'user_code', value: string): Promise<Row | undefined> {
      const { rows } = await db.query<Row>(
        `SELECT payload, extract(epoch FROM consumed_at)::float8 AS consumed
           FROM oauth_store
          WHERE model = $1 AND ${column} = $2 AND (expires_at IS NULL OR expires_at > $3)
          LIMIT 1`,
        [this.name, value, iso(now())],
        { prepare: true },
      );
      return rows[0];
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      return this.#revive(await this.#findBy('id', this.key(id)), id);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.#revive(await this.#findBy('uid', uid));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.#revive(await this.#findBy('user_code', userCode));
    }

    async consume(id: string): Promise<void> {
      await db.query(
        'UPDATE oauth_store SET consumed_at = $3 WHERE model = $1 AND id = $2 AND consumed_at IS NULL',
        [this.name, this.key(id), iso(now())],
        { prepare: true },
      );
    }

    async destroy(id: string): Promise<void> {
      await db.query('DELETE FROM oauth_store WHERE model = $1 AND id = $2', [this.name, this.key(id)], {
        prepare: true,
      });
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      // Everything issued under the grant (codes, refresh tokens, launch context), whichever model asks first.
      await db.query('DELETE FROM oauth_store WHERE grant_id = $1', [grantId], { prepare: true });
      await options.onGrantRevoked?.(grantId);
    }
  };
}

/**
 * Ends everything an account holds at the authorization server ("sign out everywhere"): its sign-in sessions and
 * every grant with the codes and refresh tokens under it. Returns the grant ids, whose access tokens the caller
 * must revoke too (they are JWTs: see RevocationList).
 */
export async function deleteAccountGrants(db: Db, accountId: string): Promise<string[]> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ grant_id: string }>(
      'SELECT DISTINCT grant_id FROM oauth_store WHERE account_id = $1 AND grant_id IS NOT NULL',
      [accountId],
    );
    const grantIds = rows.map((r) => r.grant_id);
    for (const grantId of grantIds) {
      await tx.query('DELETE FROM oauth_store WHERE grant_id = $1', [grantId]);
    }
    // Sessions and the grants themselves (their payload names the account).
    await tx.query(`DELETE FROM oauth_store WHERE account_id = $1`, [accountId]);
    return grantIds;
  });
}

/** Deletes expired rows of the store and of the revocation list. Returns how many store rows went. */
export async function purgeExpired(db: Db, now: Date = new Date()): Promise<number> {
  const at = now.toISOString();
  const res = await db.query('DELETE FROM oauth_store WHERE expires_at <= $1', [at]);
  await db.query('DELETE FROM oauth_revocation WHERE expires_at <= $1', [at]);
  return res.rowCount;
}

/**
 * Verifying Sen's access tokens where they are used (the FHIR API): RFC 9068 JWTs (typ at+jwt) checked with jose
 * against the authorization server's keys (issuer, audience = the FHIR base, expiry), then against the revocation
 * list.
 *
 * No database round trip per request: the public keys are imported once and kept in memory (an unknown kid reloads
 * them, at most once per `keyReloadMs`), and the revocation list (revoked access tokens by jti, revoked grants) is an
 * in-memory map that this server updates as it revokes and that refresh() reloads from the database, so that
 * revocations made by another server of the same database take effect within the refresh interval.
 */
import type { Db } from '@sen/db';
import { outcomes } from '@sen/fhir';
import { errors as joseErrors, importJWK, type JWK, type JWTPayload, jwtVerify, type JWTHeaderParameters } from 'jose';

export interface VerifiedToken {
  /** The user's account id, or the client id for a client_credentials token. */
  sub: string;
  clientId: string;
  scopes: readonly string[];
  /** SMART launch context: the Patient id in context. */
  patient?: string;
  /** SMART launch context: the Encounter id in context. */
  encounter?: string;
  /** The FHIR resource URL of the user (Practitioner/…, Patient/…, RelatedPerson/…). */
  fhirUser?: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
  /** Issued at, seconds since the epoch. */
  iat?: number;
  jti: string;
  /** The grant the token was issued under (absent for client_credentials). */
  grantId?: string;
}

/** Revoked access tokens ('jti:…') and grants ('grant:…'), in memory, mirrored in oauth_revocation. */
export class RevocationList {
  readonly #db: Db;
  readonly #now: () => number;
  #entries = new Map<string, number>();

  constructor(db: Db, options: { now?: () => number } = {}) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
  }

  has(id: string): boolean {
    const until = this.#entries.get(id);
    return until !== undefined && until > this.#now();
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Records a revocation until `expiresAtMs` (after which the token it concerns is expired anyway). */
  async add(id: string, expiresAtMs: number): Promise<void> {
    this.#entries.set(id, Math.max(this.#entries.get(id) ?? 0, expiresAtMs));
    await this.#db.query(
      `INSERT INTO oauth_revocation (id, revoked_at, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET expires_at = GREATEST(oauth_revocation.expires_at, EXCLUDED.expires_at)`,
      [id, new Date(this.#now()).toISOString(), new Date(expiresAtMs).toISOString()],
    );
  }

  /** Reloads the live revocations (this server's and other servers'). */
  async refresh(): Promise<void> {
    const { rows } = await this.#db.query<{ id: string; until: number }>(
      `SELECT id, (extract(epoch FROM expires_at) * 1000)::float8 AS until FROM oauth_revocation WHERE expires_at > $1`,
      [new Date(this.#now()).toISOString()],
    );
    const next = new Map<string, number>();
    for (const r of rows) {
      next.set(r.id, Number(r.until));
    }
    // Keep local additions whose insert may not be visible yet (none normally: add() awaits its insert).
    for (const [id, until] of this.#entries) {
      if (!next.has(id) && until > this.#now()) {
        next.set(id, until);
      }
    }
    this.#entries = next;
  }
}

type VerifyKey = Awaited<ReturnType<typeof importJWK>>;

/** The public verification keys by kid; reloads on an unknown kid (rate-limited). */
export class VerificationKeys {
  readonly #load: () => Promise<JWK[]>;
  readonly #reloadMs: number;
  #keys = new Map<string, { alg: string; key: VerifyKey }>();
  #loadedAt = 0;
  #loading: Promise<void> | undefined;

  constructor(load: () => Promise<JWK[]>, options: { reloadMs?: number } = {}) {
    this.#load = load;
    this.#reloadMs = options.reloadMs ?? 1000;
  }

  async set(jwks: JWK[]): Promise<void> {
    const next = new Map<string, { alg: string; key: VerifyKey }>();
    for (const jwk of jwks) {
      if (jwk.kid && jwk.alg) {
        next.set(jwk.kid, { alg: jwk.alg, key: await importJWK(jwk, jwk.alg) });
      }
    }
    this.#keys = next;
    this.#loadedAt = Date.now();
  }

  async reload(): Promise<void> {
    this.#loading ??= (async () => {
      try {
        await this.set(await this.#load());
      } finally {
        this.#loading = undefined;
      }
    })();
    return this.#loading;
  }

  /** The key for a JWS header; an unknown kid triggers one reload unless the keys were loaded moments ago. */
  async resolve(header: JWTHeaderParameters): Promise<VerifyKey> {
    const kid = header.kid;
    if (!kid) {
      throw new joseErrors.JWKSNoMatchingKey();
    }
    let entry = this.#keys.get(kid);
    if (!entry && Date.now() - this.#loadedAt > this.#reloadMs) {
      await this.reload();
      entry = this.#keys.get(kid);
    }
    if (!entry || entry.alg !== header.alg) {
      throw new joseErrors.JWKSNoMatchingKey();
    }
    return entry.key;
  }
}

export interface AccessTokenVerifierOptions {
  issuer: string;
  /** The FHIR base URL: the only audience accepted. */
  audience: string;
  keys: VerificationKeys;
  revocations: RevocationList;
  /** Clock tolerance for exp / nbf / iat, seconds (default 5). */
  clockToleranceSeconds?: number;
  /** How many verified tokens to remember (a client sends the same token for its whole life); 0 disables. */
  cacheSize?: number;
}

const ALGORITHMS = ['RS256', 'ES256'];

export type AccessTokenVerifier = (token: string, options?: { now?: Date }) => Promise<VerifiedToken>;

/** Builds verifyAccessToken: resolves a VerifiedToken or throws OutcomeError 401 (never echoing the token). */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier {
  const { issuer, audience, keys, revocations } = options;
  const clockTolerance = options.clockToleranceSeconds ?? 5;
  const cacheSize = options.cacheSize ?? 10_000;
  const getKey = (header: JWTHeaderParameters): Promise<VerifyKey> => keys.resolve(header);
  // Tokens whose signature and claims were verified, by their exact text: a repeat costs a map lookup, and the
  // checks that can change (expiry, revocation) run every time. Oldest entries leave first.
  const verified = new Map<string, VerifiedToken>();

  const checkRevocation = (t: VerifiedToken): VerifiedToken => {
    if (revocations.has(`jti:${t.jti}`) || (t.grantId !== undefined && revocations.has(`grant:${t.grantId}`))) {
      throw outcomes.unauthorized('The access token has been revoked');
    }
    return t;
  };

  return async (token, opts = {}) => {
    if (typeof token !== 'string' || token.length === 0 || token.length > 16_384) {
      throw outcomes.unauthorized('The access token is invalid');
    }
    const cached = verified.get(token);
    if (cached) {
      const now = (opts.now?.getTime() ?? Date.now()) / 1000;
      if (cached.exp + clockTolerance <= now) {
        verified.delete(token);
        throw outcomes.unauthorized('The access token has expired');
      }
      return checkRevocation(cached);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, getKey, {
        issuer,
        audience,
        algorithms: ALGORITHMS,
        typ: 'at+jwt',
        clockTolerance,
        currentDate: opts.now,
        requiredClaims: ['exp', 'jti', 'client_id'],
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) {
        throw outcomes.unauthorized('The access token has expired');
      }
      throw outcomes.unauthorized('The access token is invalid');
    }
    const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
    const result: VerifiedToken = {
      sub: str(payload.sub) ?? (payload.client_id as string),
      clientId: payload.client_id as string,
      scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
      patient: str(payload.patient),
      encounter: str(payload.encounter),
      fhirUser: str(payload.fhirUser),
      exp: payload.exp as number,
      iat: typeof payload.iat === 'number' ? payload.iat : undefined,
      jti: payload.jti as string,
      grantId: str(payload.gid),
    };
    Object.freeze(result.scopes);
    Object.freeze(result);
    if (cacheSize > 0) {
      if (verified.size >= cacheSize) {
        verified.delete(verified.keys().next().value as string);
      }
      verified.set(token, result);
    }
    return checkRevocation(result);
  };
}

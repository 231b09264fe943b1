/**
 * Token signing keys of the authorization server: RS256 (signs access and ID tokens) and ES256 (for clients that ask
 * for it), generated with jose on first start and kept in the database (`oauth_key`), the private half sealed with
 * AES-256-GCM under the key-encryption key from configuration (SEN_SECRET_KEY).
 *
 * Rotation adds a new current key per algorithm; the previous ones stop signing but stay in the JWKS until they
 * expire (the retention must outlive every JWT they signed: access tokens 15 min, ID tokens 15 min).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from '@sen/db';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { parseEncryptionKey, SecretBox } from '../auth/secret-box.ts';

export const SIGNING_ALGS = ['RS256', 'ES256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/** How long a retired key stays published for verification (default: one day). */
export const DEFAULT_KEY_RETENTION_SECONDS = 24 * 60 * 60;

export interface StoredKey {
  kid: string;
  alg: SigningAlg;
  /** The private JWK (kid, alg, use set); only in memory. */
  privateJwk: JWK;
  publicJwk: JWK;
  createdAt: Date;
  retiredAt?: Date;
  expiresAt?: Date;
}

export interface KeySet {
  /** Signing keys first (the newest current key of each algorithm), then the retired ones. */
  keys: StoredKey[];
  /** For the provider's `jwks` configuration: private JWKs, current keys first; retired keys only verify. */
  providerJwks(): { keys: JWK[] };
  /** The public JWKS as published. */
  publicJwks(): { keys: JWK[] };
}

/** File in the data directory that keeps the demo-mode key-encryption key. */
export const SECRET_KEY_FILE = 'secret.key';

export interface SecretKeyOptions {
  mode: 'demo' | 'production';
  /** SEN_SECRET_KEY: 32 bytes as base64 (or 64 hex characters). */
  value?: string;
  /** Demo mode: where `secret.key` is kept; absent → an ephemeral key (in-memory databases, tests). */
  dataDir?: string;
}

/**
 * The key-encryption key: SEN_SECRET_KEY when set; in production mode it is required; in demo mode a random key is
 * generated once and kept in `<dataDir>/secret.key` (mode 0600).
 */
export async function resolveSecretKey(options: SecretKeyOptions): Promise<Buffer> {
  if (options.value) {
    return parseEncryptionKey(options.value);
  }
  if (options.mode === 'production') {
    throw new Error('SEN_SECRET_KEY is required in production mode (32 random bytes, base64: openssl rand -base64 32)');
  }
  if (!options.dataDir) {
    return randomBytes(32);
  }
  const file = join(options.dataDir, SECRET_KEY_FILE);
  try {
    return parseEncryptionKey(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
  }
  const key = randomBytes(32);
  await mkdir(options.dataDir, { recursive: true });
  try {
    // 'wx': never overwrite a key another process wrote meanwhile.
    await writeFile(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      return parseEncryptionKey(await readFile(file, 'utf8'));
    }
    throw err;
  }
}

/** A purpose-bound subkey of the key-encryption key (cookie signing keys and the like). */
export function deriveKey(secretKey: Uint8Array, purpose: string): Buffer {
  return createHmac('sha256', secretKey).update(`sen oauth ${purpose}`).digest();
}

interface KeyRow {
  kid: string;
  alg: string;
  private_jwk: string;
  public_jwk: JWK | string;
  created_at: string;
  retired_at: string | null;
  expires_at: string | null;
}

const sealContext = (kid: string): string => `oauth_key:${kid}`;

async function generate(alg: SigningAlg): Promise<{ kid: string; privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(
    alg,
    alg === 'RS256' ? { modulusLength: 2048, extractable: true } : { extractable: true },
  );
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk = await exportJWK(privateKey);
  return {
    kid,
    privateJwk: { ...privateJwk, kid, alg, use: 'sig' },
    publicJwk: { ...publicJwk, kid, alg, use: 'sig' },
  };
}

function toPublic(jwk: JWK): JWK {
  const { kty, crv, x, y, n, e, kid, alg, use } = jwk;
  return Object.fromEntries(
    Object.entries({ kty, crv, x, y, n, e, kid, alg, use }).filter(([, v]) => v !== undefined),
  ) as JWK;
}

function makeKeySet(keys: StoredKey[]): KeySet {
  return {
    keys,
    providerJwks: () => ({
      keys: keys.map((k) => (k.retiredAt ? { ...k.privateJwk, key_ops: ['verify'] } : k.privateJwk)),
    }),
    publicJwks: () => ({ keys: keys.map((k) => k.publicJwk) }),
  };
}

/**
 * The signing keys in the database: loads the live ones, generates a current key for every algorithm that has none
 * (first start). Two servers starting at once take turns (table lock), so only one generates.
 */
export async function loadOrCreateKeys(db: Db, secretKey: Uint8Array, now: Date = new Date()): Promise<KeySet> {
  const box = new SecretBox(secretKey);
  const existing = await readKeys(db, box, now);
  if (SIGNING_ALGS.every((alg) => existing.keys.some((k) => k.alg === alg && !k.retiredAt))) {
    return existing;
  }
  await db.transaction(async (tx) => {
    await tx.query('LOCK TABLE oauth_key IN EXCLUSIVE MODE');
    const { rows } = await tx.query<{ alg: string }>(
      'SELECT DISTINCT alg FROM oauth_key WHERE retired_at IS NULL AND (expires_at IS NULL OR expires_at > $1)',
      [now.toISOString()],
    );
    const have = new Set(rows.map((r) => r.alg));
    for (const alg of SIGNING_ALGS) {
      if (!have.has(alg)) {
        await insertKey(tx, box, alg, now);
      }
    }
  });
  return readKeys(db, box, now);
}

async function insertKey(q: Pick<Db, 'query'>, box: SecretBox, alg: SigningAlg, now: Date): Promise<{ kid: string }> {
  const k = await generate(alg);
  await q.query(
    `INSERT INTO oauth_key (kid, alg, private_jwk, public_jwk, created_at) VALUES ($1, $2, $3, $4::jsonb, $5)`,
    [
      k.kid,
      alg,
      box.seal(JSON.stringify(k.privateJwk), sealContext(k.kid)),
      JSON.stringify(k.publicJwk),
      now.toISOString(),
    ],
  );
  return { kid: k.kid };
}

/** The live keys (not expired), newest current keys first. */
export async function readKeys(db: Pick<Db, 'query'>, box: SecretBox, now: Date = new Date()): Promise<KeySet> {
  const { rows } = await db.query<KeyRow>(
    `SELECT kid, alg, private_jwk, public_jwk, created_at::text, retired_at::text, expires_at::text
       FROM oauth_key
      WHERE expires_at IS NULL OR expires_at > $1
      ORDER BY (retired_at IS NOT NULL), created_at DESC, CASE alg WHEN 'RS256' THEN 0 ELSE 1 END, kid`,
    [now.toISOString()],
  );
  const keys = rows.map((r): StoredKey => {
    const publicJwk = typeof r.public_jwk === 'string' ? (JSON.parse(r.public_jwk) as JWK) : r.public_jwk;
    let privateJwk: JWK;
    try {
      privateJwk = JSON.parse(box.open(r.private_jwk, sealContext(r.kid))) as JWK;
    } catch (err) {
      throw new Error(
        `cannot open signing key ${r.kid}: SEN_SECRET_KEY is not the key the signing keys were sealed with`,
        { cause: err },
      );
    }
    return {
      kid: r.kid,
      alg: r.alg as SigningAlg,
      privateJwk,
      publicJwk: toPublic(publicJwk),
      createdAt: new Date(r.created_at),
      retiredAt: r.retired_at ? new Date(r.retired_at) : undefined,
      expiresAt: r.expires_at ? new Date(r.expires_at) : undefined,
    };
  });
  // Exactly one signing key per algorithm: an older unretired one (two servers generated at once) only verifies.
  const seen = new Set<string>();
  for (const k of keys) {
    if (!k.retiredAt) {
      if (seen.has(k.alg)) {
        k.retiredAt = k.createdAt;
      }
      seen.add(k.alg);
    }
  }
  keys.sort((a, b) => Number(!!a.retiredAt) - Number(!!b.retiredAt));
  return makeKeySet(keys);
}

/**
 * Adds a new current key for every algorithm; the previous current keys retire now and leave the JWKS after
 * `retentionSeconds` (tokens they signed stay verifiable until then). Returns the new kids.
 */
export async function rotateKeys(
  db: Db,
  secretKey: Uint8Array,
  options: { retentionSeconds?: number; now?: Date } = {},
): Promise<string[]> {
  const box = new SecretBox(secretKey);
  const now = options.now ?? new Date();
  const until = new Date(now.getTime() + (options.retentionSeconds ?? DEFAULT_KEY_RETENTION_SECONDS) * 1000);
  return db.transaction(async (tx) => {
    await tx.query('LOCK TABLE oauth_key IN EXCLUSIVE MODE');
    await tx.query('UPDATE oauth_key SET retired_at = $1, expires_at = $2 WHERE retired_at IS NULL', [
      now.toISOString(),
      until.toISOString(),
    ]);
    const kids: string[] = [];
    for (const alg of SIGNING_ALGS) {
      kids.push((await insertKey(tx, box, alg, now)).kid);
    }
    return kids;
  });
}

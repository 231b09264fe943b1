/**
 * Encryption at rest for small secrets (TOTP seeds): AES-256-GCM through node:crypto, with a key from configuration.
 *
 * Sealed form: `v1.<key id>.<iv>.<ciphertext>.<tag>` (base64url parts). The key id (first 8 bytes of SHA-256 of the
 * key) lets a rotated deployment keep older keys for opening while sealing with the new one, and turns "wrong key"
 * into a clear error instead of an authentication failure. The associated data binds a ciphertext to its row and
 * column, so a sealed value copied to another account does not open.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Reads a 32-byte key given as base64 / base64url (43–44 characters) or hex (64 characters). */
export function parseEncryptionKey(value: string): Buffer {
  const v = value.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64');
  if (key.length !== KEY_BYTES) {
    throw new Error(`the encryption key must be ${KEY_BYTES} bytes (base64 or hex), got ${key.length} bytes`);
  }
  return key;
}

function keyId(key: Uint8Array): string {
  return createHash('sha256').update(key).digest().subarray(0, 8).toString('base64url');
}

export class SecretBox {
  readonly #key: Buffer;
  readonly #keyId: string;
  readonly #openKeys: Map<string, Buffer>;

  /**
   * @param key the 32-byte key sealing new values
   * @param previousKeys older keys, only for opening values sealed before a key rotation
   */
  constructor(key: Uint8Array, previousKeys: readonly Uint8Array[] = []) {
    for (const k of [key, ...previousKeys]) {
      if (k.length !== KEY_BYTES) {
        throw new Error(`an AES-256-GCM key is ${KEY_BYTES} bytes, got ${k.length}`);
      }
    }
    this.#key = Buffer.from(key);
    this.#keyId = keyId(key);
    this.#openKeys = new Map([[this.#keyId, this.#key]]);
    for (const k of previousKeys) {
      const id = keyId(k);
      if (!this.#openKeys.has(id)) {
        this.#openKeys.set(id, Buffer.from(k));
      }
    }
  }

  seal(plaintext: string, associatedData: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, this.#keyId, iv.toString('base64url'), ct.toString('base64url'), tag.toString('base64url')].join(
      '.',
    );
  }

  open(sealed: string, associatedData: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== VERSION) {
      throw new Error('not a sealed secret');
    }
    const [, kid, iv, ct, tag] = parts;
    const key = this.#openKeys.get(kid);
    if (!key) {
      throw new Error('the secret was sealed with a key that is not configured');
    }
    // A fixed tag length: GCM would otherwise accept a truncated tag.
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  }

  /** True when the value was sealed with an older key (re-seal it with the current one). */
  isStale(sealed: string): boolean {
    return sealed.split('.')[1] !== this.#keyId;
  }
}

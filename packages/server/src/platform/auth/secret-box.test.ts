import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { parseEncryptionKey, SecretBox } from './secret-box.ts';

describe('SecretBox (AES-256-GCM)', () => {
  const key = randomBytes(32);

  test('seals and opens; ciphertexts differ each time and do not contain the plaintext', () => {
    const box = new SecretBox(key);
    const a = box.seal('JBSWY3DPEHPK3PXP', 'row-1');
    const b = box.seal('JBSWY3DPEHPK3PXP', 'row-1');
    assert.notEqual(a, b);
    assert.ok(!a.includes('JBSWY3DPEHPK3PXP'));
    assert.match(a, /^v1\./);
    assert.equal(box.open(a, 'row-1'), 'JBSWY3DPEHPK3PXP');
  });

  test('refuses another row, a tampered value, a truncated tag, or the wrong key', () => {
    const box = new SecretBox(key);
    const sealed = box.seal('JBSWY3DPEHPK3PXP', 'row-1');
    assert.throws(() => box.open(sealed, 'row-2'));
    const parts = sealed.split('.');
    const ct = Buffer.from(parts[3], 'base64url');
    ct[0] ^= 1;
    assert.throws(() => box.open([...parts.slice(0, 3), ct.toString('base64url'), parts[4]].join('.'), 'row-1'));
    const shortTag = Buffer.from(parts[4], 'base64url').subarray(0, 4).toString('base64url');
    assert.throws(() => box.open([...parts.slice(0, 4), shortTag].join('.'), 'row-1'));
    assert.throws(() => new SecretBox(randomBytes(32)).open(sealed, 'row-1'), /not configured/);
    assert.throws(() => box.open('plain text', 'row-1'), /not a sealed secret/);
  });

  test('opens values sealed with a previous key after rotation and reports them stale', () => {
    const old = new SecretBox(key);
    const sealed = old.seal('JBSWY3DPEHPK3PXP', 'row-1');
    const rotated = new SecretBox(randomBytes(32), [key]);
    assert.equal(rotated.open(sealed, 'row-1'), 'JBSWY3DPEHPK3PXP');
    assert.equal(rotated.isStale(sealed), true);
    assert.equal(rotated.isStale(rotated.seal('x', 'row-1')), false);
  });

  test('keys are 32 bytes, from base64 or hex', () => {
    assert.deepEqual(parseEncryptionKey(key.toString('base64')), key);
    assert.deepEqual(parseEncryptionKey(key.toString('hex')), key);
    assert.throws(() => parseEncryptionKey('c2hvcnQ='), /32 bytes/);
    assert.throws(() => new SecretBox(randomBytes(16)), /32 bytes/);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ARGON2_PARAMS,
  checkPasswordPolicy,
  COMMON_PASSWORDS,
  hashPassword,
  needsRehash,
  PASSWORD_MIN_LENGTH,
  verifyPassword,
} from './passwords.ts';

describe('password hashing', () => {
  test('hashes with argon2id and the OWASP parameters, salted', async () => {
    assert.ok(ARGON2_PARAMS.memoryCost >= 19 * 1024);
    assert.equal(ARGON2_PARAMS.timeCost, 2);
    assert.equal(ARGON2_PARAMS.parallelism, 1);
    const a = await hashPassword('Sen-mat-khau-dai-2026');
    const b = await hashPassword('Sen-mat-khau-dai-2026');
    assert.match(a, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.notEqual(a, b, 'a fresh salt each time');
    assert.ok(!a.includes('Sen-mat-khau-dai-2026'));
  });

  test('verifies the right password and refuses others', async () => {
    const h = await hashPassword('Sen-mat-khau-dai-2026');
    assert.equal(await verifyPassword(h, 'Sen-mat-khau-dai-2026'), true);
    assert.equal(await verifyPassword(h, 'sen-mat-khau-dai-2026'), false);
    assert.equal(await verifyPassword(h, ''), false);
    assert.equal(await verifyPassword('not a hash', 'Sen-mat-khau-dai-2026'), false);
  });

  test('composed and decomposed Vietnamese diacritics are the same password', async () => {
    const composed = 'Mật khẩu bệnh viện'.normalize('NFC');
    const decomposed = composed.normalize('NFD');
    assert.notEqual(composed, decomposed);
    const h = await hashPassword(composed);
    assert.equal(await verifyPassword(h, decomposed), true);
  });

  test('needsRehash: true for weaker parameters or another algorithm, false for the current ones', async () => {
    const current = await hashPassword('Sen-mat-khau-dai-2026');
    assert.equal(needsRehash(current), false);
    const weaker = await hashPassword('Sen-mat-khau-dai-2026', { memoryCost: 8192, timeCost: 1, parallelism: 1 });
    assert.equal(needsRehash(weaker), true);
    assert.equal(await verifyPassword(weaker, 'Sen-mat-khau-dai-2026'), true, 'old hashes still verify');
    assert.equal(needsRehash(current, { ...ARGON2_PARAMS, timeCost: 3 }), true, 'raised parameters');
    assert.equal(needsRehash('$2b$10$abcdefghijklmnopqrstuu1234567890123456789012345678901'), true, 'bcrypt');
    assert.equal(needsRehash('garbage'), true);
  });
});

describe('password policy', () => {
  test('accepts a long, uncommon password', () => {
    assert.deepEqual(checkPasswordPolicy('Hoa sen nở giữa hồ 2026', { username: 'bs.lan' }), { ok: true });
  });

  test(`too short: fewer than ${PASSWORD_MIN_LENGTH} characters, counted as characters not bytes`, () => {
    const r = checkPasswordPolicy('Xy7#kq2!z');
    assert.equal(r.ok, false);
    assert.ok(!r.ok);
    assert.deepEqual(
      r.problems.map((p) => p.code),
      ['too-short'],
    );
    assert.equal(r.problems[0].vi, 'Mật khẩu phải có ít nhất 10 ký tự.');
    assert.equal(r.problems[0].en, 'The password must be at least 10 characters long.');
    // 10 Vietnamese letters are 10 characters even when typed decomposed.
    assert.equal(checkPasswordPolicy('ắằẳẵặấầẩẫậ'.normalize('NFD')).ok, true);
  });

  test('refuses a password containing the username, whatever the case', () => {
    const r = checkPasswordPolicy('NguyenVanAn-2026!', { username: 'nguyenvanan' });
    assert.ok(!r.ok);
    assert.deepEqual(
      r.problems.map((p) => p.code),
      ['contains-username'],
    );
    assert.equal(r.problems[0].vi, 'Mật khẩu không được chứa tên đăng nhập.');
    assert.equal(r.problems[0].en, 'The password must not contain the username.');
    const email = checkPasswordPolicy('xin chao lan.nguyen 99', { username: 'lan.nguyen@sen.vn' });
    assert.ok(!email.ok, 'the part before @ counts too');
  });

  test('refuses common passwords, Vietnamese ones included, with clear messages', () => {
    for (const p of ['matkhau123', 'MatKhau123', '1234567890', 'anhyeuem123', 'Password123', 'benhvien@123']) {
      const r = checkPasswordPolicy(p);
      assert.ok(!r.ok, p);
      assert.ok(
        r.problems.some((x) => x.code === 'common'),
        p,
      );
    }
    for (const p of ['12345678', 'matkhau123', 'abc@123']) {
      assert.ok(COMMON_PASSWORDS.has(p), p);
    }
    const r = checkPasswordPolicy('abc@123');
    assert.ok(!r.ok);
    assert.deepEqual(r.problems.map((p) => p.code).sort(), ['common', 'too-short']);
    const common = r.problems.find((p) => p.code === 'common');
    assert.equal(common?.vi, 'Mật khẩu này quá phổ biến, dễ bị đoán. Vui lòng chọn mật khẩu khác.');
    assert.equal(common?.en, 'This password is too common and easy to guess. Please choose another one.');
  });

  test('refuses absurdly long input', () => {
    const r = checkPasswordPolicy('x'.repeat(300));
    assert.ok(!r.ok);
    assert.deepEqual(
      r.problems.map((p) => p.code),
      ['too-long'],
    );
  });
});

/**
 * Staff passwords: argon2id hashing and the password policy.
 *
 * Hashing goes through the `argon2` npm package (the reference C implementation, prebuilt binaries shipped inside
 * the package, hashing on libuv's thread pool so the event loop never waits). It is pinned to 0.44.0: the 0.45
 * prebuilds declare Node-API 10, which Node 20 does not have, and crash the process when loaded.
 *
 * Parameters are OWASP's first recommended argon2id configuration (m = 19 MiB, t = 2, p = 1): about 30–60 ms on one
 * core, and 19 MiB per hash in flight, which a 2-core clinic PC serving a shift change can afford.
 * Stored hashes are PHC strings, so they carry their own parameters: `needsRehash` tells the caller to re-hash after
 * a successful sign-in when the parameters are raised.
 *
 * Passwords are normalised to Unicode NFC before hashing: Vietnamese input methods produce composed or decomposed
 * diacritics depending on the system, and the same typed password must give the same hash everywhere.
 */
import { argon2id, hash, needsRehash as argon2NeedsRehash, verify } from 'argon2';

export interface Argon2Params {
  /** KiB */
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** OWASP Password Storage Cheat Sheet, argon2id: m = 19 MiB, t = 2, p = 1. */
export const ARGON2_PARAMS: Readonly<Argon2Params> = Object.freeze({ memoryCost: 19456, timeCost: 2, parallelism: 1 });

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

function normalise(password: string): string {
  return password.normalize('NFC');
}

/** An argon2id PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) with a fresh random salt. */
export function hashPassword(password: string, params: Argon2Params = ARGON2_PARAMS): Promise<string> {
  return hash(normalise(password), { type: argon2id, ...params });
}

/** True when the password matches the stored hash (the comparison is constant-time). False for a malformed hash. */
export async function verifyPassword(storedHash: string, password: string): Promise<boolean> {
  try {
    return await verify(storedHash, normalise(password));
  } catch {
    return false;
  }
}

/** True when the stored hash is not argon2id with the given parameters (re-hash it after a successful sign-in). */
export function needsRehash(storedHash: string, params: Argon2Params = ARGON2_PARAMS): boolean {
  if (!storedHash.startsWith('$argon2id$')) {
    return true;
  }
  try {
    return argon2NeedsRehash(storedHash, { ...params, version: 0x13 });
  } catch {
    return true;
  }
}

// ---- Policy ----

export type PasswordProblemCode = 'too-short' | 'too-long' | 'contains-username' | 'common';

export interface PasswordProblem {
  code: PasswordProblemCode;
  /** For the user, in Vietnamese. */
  vi: string;
  /** For the user, in English. */
  en: string;
}

export type PasswordPolicyResult = { ok: true } | { ok: false; problems: PasswordProblem[] };

const MESSAGES: Record<PasswordProblemCode, { vi: string; en: string }> = {
  'too-short': {
    vi: `Mật khẩu phải có ít nhất ${PASSWORD_MIN_LENGTH} ký tự.`,
    en: `The password must be at least ${PASSWORD_MIN_LENGTH} characters long.`,
  },
  'too-long': {
    vi: `Mật khẩu không được dài quá ${PASSWORD_MAX_LENGTH} ký tự.`,
    en: `The password must be at most ${PASSWORD_MAX_LENGTH} characters long.`,
  },
  'contains-username': {
    vi: 'Mật khẩu không được chứa tên đăng nhập.',
    en: 'The password must not contain the username.',
  },
  common: {
    vi: 'Mật khẩu này quá phổ biến, dễ bị đoán. Vui lòng chọn mật khẩu khác.',
    en: 'This password is too common and easy to guess. Please choose another one.',
  },
};

/**
 * Passwords seen again and again in leaks, Vietnamese ones included. Compared lower-cased; entries shorter than
 * the minimum length are refused by length anyway and are kept so the list reads as what it is.
 */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set(
  [
    // numbers and keyboard walks
    '123456',
    '12345678',
    '123456789',
    '1234567890',
    '0123456789',
    '12345678910',
    '123456789a',
    'a123456789',
    '1234567890a',
    '123123123',
    '1231231234',
    '123456123456',
    '1111111111',
    '0000000000',
    '1234512345',
    '9876543210',
    '0987654321',
    'qwertyuiop',
    'qwerty123456',
    '1qaz2wsx3edc',
    '1q2w3e4r5t',
    'asdfghjkl123',
    'zxcvbnm123',
    'aaaaaaaaaa',
    // English
    'password',
    'password1',
    'password12',
    'password123',
    'password@123',
    'password1234',
    'passw0rd123',
    'p@ssw0rd123',
    'iloveyou123',
    'admin@123',
    'admin12345',
    'admin@12345',
    'administrator',
    'welcome123',
    'welcome@123',
    'changeme123',
    'letmein123',
    // Vietnamese
    'abc@123',
    'abc@12345',
    'abc@123456',
    'abcd@1234',
    'abcd@12345',
    'abc123456789',
    'matkhau',
    'matkhau123',
    'matkhau@123',
    'matkhau1234',
    'matkhau12345',
    'matkhaumoi',
    'matkhaumoi123',
    'doimatkhau',
    'doimatkhau123',
    'anhyeuem',
    'anhyeuem123',
    'emyeuanh',
    'emyeuanh123',
    'yeuemmaimai',
    'motconvit',
    'khongbiet',
    'khongbiet123',
    'vietnam123',
    'vietnam@123',
    'vietnam1234',
    'hanoi12345',
    'saigon12345',
    'benhvien123',
    'benhvien@123',
    'bacsi12345',
    'bacsi@123',
    'yte@123456',
    'quantri123',
    'quantri@123',
    'sen@123456',
    'sen12345678',
  ].map((p) => p.toLowerCase()),
);

/**
 * Checks a new password: at least 10 characters (Unicode characters after NFC, so 'ậ' counts once), at most 256,
 * not containing the username (case-insensitive), not a common password. Every failing rule is reported.
 */
export function checkPasswordPolicy(password: string, context: { username?: string } = {}): PasswordPolicyResult {
  const p = normalise(password);
  const length = [...p].length;
  const lower = p.toLowerCase();
  const codes: PasswordProblemCode[] = [];
  if (length < PASSWORD_MIN_LENGTH) {
    codes.push('too-short');
  }
  if (length > PASSWORD_MAX_LENGTH) {
    codes.push('too-long');
  }
  const username = context.username?.trim().toLowerCase();
  if (username && username.length >= 3) {
    const local = username.split('@')[0];
    if (lower.includes(username) || (local.length >= 3 && lower.includes(local))) {
      codes.push('contains-username');
    }
  }
  if (COMMON_PASSWORDS.has(lower)) {
    codes.push('common');
  }
  if (codes.length === 0) {
    return { ok: true };
  }
  return { ok: false, problems: codes.map((code) => ({ code, ...MESSAGES[code] })) };
}

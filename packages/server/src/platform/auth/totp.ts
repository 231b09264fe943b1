/**
 * TOTP (RFC 6238) through the `otpauth` npm package: SHA-1, 6 digits, 30-second steps — the parameters every
 * authenticator app (Google Authenticator, Microsoft Authenticator, FreeOTP, Aegis…) accepts from a QR code.
 * A code is accepted for the current step and one step either side (clock drift), and at most once: the caller keeps
 * the last accepted step per account and passes it back, and codes of that step or earlier are refused.
 */
import { HOTP, Secret, TOTP, URI } from 'otpauth';

export const TOTP_ISSUER = 'Sen';
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
export const TOTP_ALGORITHM = 'SHA1';
/** Steps accepted either side of the current one. */
export const TOTP_WINDOW = 1;
/** 160 bits, the HMAC-SHA-1 block-size recommendation of RFC 4226. */
const SECRET_BYTES = 20;

/** A new random secret, base32 (what authenticator apps show when the QR code cannot be scanned). */
export function generateTotpSecret(): string {
  return new Secret({ size: SECRET_BYTES }).base32;
}

function totp(secret: string, label = ''): TOTP {
  return new TOTP({
    issuer: TOTP_ISSUER,
    label,
    algorithm: TOTP_ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    secret: Secret.fromBase32(secret),
  });
}

/** The `otpauth://totp/Sen:<username>?secret=…&issuer=Sen…` URI an enrolment QR code carries. */
export function totpUri(secret: string, username: string): string {
  return URI.stringify(totp(secret, username));
}

/** The time step (number of 30-second periods since the epoch) of an instant. */
export function totpStep(at: Date): number {
  return TOTP.counter({ period: TOTP_PERIOD_SECONDS, timestamp: at.getTime() });
}

/** The code of a step (tests and tooling; the server only verifies). */
export function totpCode(secret: string, at: Date): string {
  return totp(secret).generate({ timestamp: at.getTime() });
}

export type TotpCheck = { ok: true; step: number } | { ok: false; reason: 'invalid' | 'replayed' };

/**
 * Checks a code typed by the user (spaces ignored) at instant `at`. `lastUsedStep` is the step of the last code
 * accepted for this account (undefined or null when none): a code of that step or an earlier one is 'replayed'.
 * On success, store the returned step as the new last used step.
 */
export function verifyTotp(input: {
  secret: string;
  code: string;
  at: Date;
  lastUsedStep?: number | null;
  window?: number;
}): TotpCheck {
  const code = input.code.replace(/\s+/g, '');
  if (!new RegExp(`^\\d{${TOTP_DIGITS}}$`).test(code)) {
    return { ok: false, reason: 'invalid' };
  }
  const current = totpStep(input.at);
  const delta = HOTP.validate({
    token: code,
    secret: Secret.fromBase32(input.secret),
    algorithm: TOTP_ALGORITHM,
    digits: TOTP_DIGITS,
    counter: current,
    window: input.window ?? TOTP_WINDOW,
  });
  if (delta === null) {
    return { ok: false, reason: 'invalid' };
  }
  const step = current + delta;
  if (input.lastUsedStep !== undefined && input.lastUsedStep !== null && step <= input.lastUsedStep) {
    return { ok: false, reason: 'replayed' };
  }
  return { ok: true, step };
}

/**
 * CSRF protection for Sen's own server-rendered forms (MFA and enrolment steps, patient picker, account page):
 * a double-submit token. The browser holds a random value in an HttpOnly, SameSite=Strict cookie; every form carries
 * the same value in a hidden field; a POST is accepted only when both are present and equal. Another site can make
 * the browser post a form, but cannot read or set the cookie, so it cannot fill in the field.
 *
 * Kept apart from the interaction forms' own check (the lead unifies the two).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';

export const FORM_COOKIE = 'sen_form';
export const FORM_FIELD = 'form_token';
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A cookie's value from a Cookie header (undefined when absent). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      return part.slice(eq + 1).trim();
    }
  }
  return undefined;
}

/** Adds a Set-Cookie header without dropping those already set on the raw response (oidc-provider sets its own). */
export function appendSetCookie(res: ServerResponse, cookie: string): void {
  const prev = res.getHeader('set-cookie');
  const list = prev === undefined ? [] : Array.isArray(prev) ? prev : [String(prev)];
  res.setHeader('set-cookie', [...list, cookie]);
}

/**
 * The token for the forms of a page: the browser's current one, or a new one (then set as a cookie on `res`).
 * `secure`: the server is reached over https.
 */
export function formToken(cookieHeader: string | undefined, res: ServerResponse, secure: boolean): string {
  const current = readCookie(cookieHeader, FORM_COOKIE);
  if (current && TOKEN_PATTERN.test(current)) {
    return current;
  }
  const token = randomBytes(32).toString('base64url');
  appendSetCookie(
    res,
    `${FORM_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}; Max-Age=43200`,
  );
  return token;
}

/** Whether a posted form carries the browser's token. */
export function formTokenValid(cookieHeader: string | undefined, submitted: unknown): boolean {
  const cookie = readCookie(cookieHeader, FORM_COOKIE);
  if (!cookie || typeof submitted !== 'string' || !TOKEN_PATTERN.test(cookie) || submitted.length !== cookie.length) {
    return false;
  }
  return timingSafeEqual(Buffer.from(cookie), Buffer.from(submitted));
}

/**
 * CSRF protection for the cookie-based sign-in and consent forms (`<mount path>/interaction/:uid/…`).
 *
 * - Every POST form on these pages carries a hidden `csrf` field: an HMAC of the interaction uid under a key derived
 *   from SEN_SECRET_KEY. Only a page served to the browser that holds the interaction cookie shows it, and another
 *   site cannot read that page, so it cannot forge the field.
 * - Every POST must present that token, and must not come from another origin (Origin header, or Sec-Fetch-Site
 *   `cross-site`): either refusal is a 403 page and the form is not processed.
 *
 * The fields are added to the HTML as it is sent (an onSend hook of the interaction routes), so forms added to these
 * pages later are covered without each page knowing about it. A page of this scope without an interaction uid in its
 * path binds its token to a random `sen_csrf` cookie instead (HttpOnly, SameSite=Strict), set with the page.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { escapeHtml, htmlPage, PAGE_HEADERS } from './html.ts';

export const CSRF_FIELD = 'csrf';
export const CSRF_COOKIE = 'sen_csrf';

function cookie(req: FastifyRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const v = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{16,128}$/.test(v) ? v : undefined;
    }
  }
  return undefined;
}

export function csrfToken(key: Uint8Array, uid: string): string {
  return createHmac('sha256', key).update(`sen csrf ${uid}`).digest('base64url');
}

function formField(body: unknown, name: string): string | undefined {
  if (typeof body === 'string') {
    return new URLSearchParams(body).get(name) ?? undefined;
  }
  if (body && typeof body === 'object') {
    const v = (body as Record<string, unknown>)[name];
    return typeof v === 'string' ? v : undefined;
  }
  return undefined;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function refuse(reply: FastifyReply): FastifyReply {
  return reply
    .code(403)
    .headers(PAGE_HEADERS)
    .send(
      htmlPage(
        'Lỗi / Error',
        '<h1>Yêu cầu bị từ chối <span class="en">/ Request refused</span></h1>' +
          '<p>Biểu mẫu không hợp lệ hoặc được gửi từ trang khác. Hãy mở lại ứng dụng và đăng nhập.</p>' +
          '<p class="en">The form is invalid or was sent from another site. Open the application and sign in again.</p>',
      ),
    );
}

/**
 * Installs the check in an (encapsulated) Fastify scope holding the interaction routes. `origin` is the issuer's
 * origin: the only one allowed to post these forms.
 */
export function registerCsrf(scope: FastifyInstance, options: { key: Uint8Array; origin: string }): void {
  const uidOf = (req: FastifyRequest): string | undefined => (req.params as { uid?: string } | undefined)?.uid;
  /** What the token of this request is bound to: the interaction uid, else the browser's CSRF cookie. */
  const binding = (req: FastifyRequest): string | undefined => {
    const uid = uidOf(req);
    if (uid !== undefined) {
      return uid;
    }
    const c = cookie(req, CSRF_COOKIE);
    return c === undefined ? undefined : `cookie ${c}`;
  };

  scope.addHook('preHandler', async (req, reply) => {
    if (req.method !== 'POST') {
      return undefined;
    }
    const origin = req.headers.origin;
    const site = req.headers['sec-fetch-site'];
    // the pages send `Referrer-Policy: no-referrer`, so a browser posts their forms with `Origin: null`; that is
    // accepted only when the browser itself says the post came from this origin
    const foreign = origin === 'null' ? site !== 'same-origin' : origin !== undefined && origin !== options.origin;
    if (foreign || site === 'cross-site') {
      return refuse(reply);
    }
    const bound = binding(req);
    const sent = formField(req.body, CSRF_FIELD);
    if (bound === undefined || !sent || !same(sent, csrfToken(options.key, bound))) {
      return refuse(reply);
    }
    return undefined;
  });

  scope.addHook('onSend', async (req, reply, payload) => {
    const type = String(reply.getHeader('content-type') ?? '');
    if (typeof payload !== 'string' || !type.startsWith('text/html') || !/<form\b/i.test(payload)) {
      return payload;
    }
    let bound = binding(req);
    if (bound === undefined) {
      const value = randomBytes(24).toString('base64url');
      const secure = options.origin.startsWith('https:') ? '; Secure' : '';
      reply.header('set-cookie', `${CSRF_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict${secure}`);
      bound = `cookie ${value}`;
    }
    const field = `<input type="hidden" name="${CSRF_FIELD}" value="${escapeHtml(csrfToken(options.key, bound))}">`;
    return payload.replace(/<form\b[^>]*\bmethod="post"[^>]*>/gi, (tag) => `${tag}${field}`);
  });
}

/**
 * Test support for the authorization server tests: a Fastify app on 127.0.0.1 with only the OAuth plugin, and a
 * small browser (fetch with a cookie jar, redirects followed by hand). Used by *.test.ts only.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import type { Db } from '@sen/db';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerAuthServer } from './plugin.ts';
import { type AuthServer, type AuthServerOptions, createAuthServer } from './provider.ts';

export const TEST_SECRET_KEY = Buffer.alloc(32, 7).toString('base64');

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface Running {
  base: string;
  issuer: string;
  fhirBase: string;
  server: AuthServer;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Starts an app with only the authorization server, on a free port of 127.0.0.1. */
export async function startAuthApp(db: Db, options: Partial<AuthServerOptions> = {}): Promise<Running> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = await createAuthServer({
    db,
    issuer: `${base}/oidc`,
    fhirBase: `${base}/fhir/R4`,
    mode: 'demo',
    secretKey: TEST_SECRET_KEY,
    refreshIntervalMs: 0,
    webRedirectUris: [`${base}/app/callback`],
    ...options,
  });
  const app = Fastify({ logger: false });
  await registerAuthServer(app, server);
  await app.listen({ host: '127.0.0.1', port });
  return {
    base,
    issuer: server.issuer,
    fhirBase: server.fhirBase,
    server,
    app,
    async close() {
      await app.close();
      await server.close();
    },
  };
}

export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

export async function postForm(
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    json = {};
  }
  return { status: res.status, json, text };
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** An authorization request of the code flow with PKCE (S256), and what the token request needs later. */
export function authorizeRequest(o: {
  issuer: string;
  audience: string;
  redirectUri: string;
  scope: string;
  clientId?: string;
  extra?: Record<string, string>;
}): { url: string; verifier: string; state: string } {
  const { verifier, challenge } = pkcePair();
  const state = randomBytes(8).toString('hex');
  const url = new URL(`${o.issuer}/auth`);
  url.search = new URLSearchParams({
    client_id: o.clientId ?? 'sen-web',
    response_type: 'code',
    redirect_uri: o.redirectUri,
    scope: o.scope,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    aud: o.audience,
    ...o.extra,
  }).toString();
  return { url: url.toString(), verifier, state };
}

/** The payload of a JWT, unverified (for looking at claims in tests). */
export function jwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
}

export function jwtHeader(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** A browser enough for the code flow: cookies by path, no automatic redirects. */
export class Browser {
  #cookies = new Map<string, { value: string; path: string }>();
  /** The hidden CSRF field of the last page shown: posted with the next form, as a browser submits it. */
  #csrf: string | undefined;

  cookieHeader(url: string): string {
    const path = new URL(url).pathname;
    return [...this.#cookies]
      .filter(([, c]) => path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
  }

  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'text/html' };
    const cookie = this.cookieHeader(url);
    if (cookie) {
      headers.cookie = cookie;
    }
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      const form = this.#csrf && !('csrf' in init.form) ? { ...init.form, csrf: this.#csrf } : init.form;
      body = new URLSearchParams(form).toString();
    }
    const res = await fetch(url, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let expired = value === '';
      for (const a of attrs) {
        const [k, v] = a.split('=');
        if (k.toLowerCase() === 'path' && v) {
          path = v;
        }
        if (k.toLowerCase() === 'expires' && v && Date.parse(v) < Date.now()) {
          expired = true;
        }
        if (k.toLowerCase() === 'max-age' && Number(v) <= 0) {
          expired = true;
        }
      }
      if (expired) {
        this.#cookies.delete(name);
      } else {
        this.#cookies.set(name, { value, path });
      }
    }
    if ((res.headers.get('content-type') ?? '').startsWith('text/html') && res.status !== 204 && res.status !== 304) {
      const text = await res.text();
      this.#csrf = /name="csrf" value="([^"]+)"/.exec(text)?.[1] ?? this.#csrf;
      return new Response(text, { status: res.status, statusText: res.statusText, headers: res.headers });
    }
    return res;
  }

  /** Follows redirects until one leaves `origin` (returned as a URL) or a page answers (returned as Response). */
  async follow(url: string, origin: string, first?: Response): Promise<{ res: Response; url: string }> {
    let res = first ?? (await this.request(url));
    let current = url;
    for (let i = 0; i < 10 && res.status >= 300 && res.status < 400; i++) {
      const next = new URL(res.headers.get('location') ?? '', current).toString();
      if (!next.startsWith(origin) || next.startsWith(`${origin}/app/`)) {
        return { res, url: next };
      }
      await res.arrayBuffer();
      current = next;
      res = await this.request(next);
    }
    return { res, url: current };
  }
}

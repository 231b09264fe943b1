import { createServer } from 'node:net';
import type { Engine } from '@sen/db';
import { createTestDb } from '@sen/db/testing';
import { type AppConfig, buildApp, type SenApp } from '../src/app.ts';

export interface TestServer extends SenApp {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** e.g. http://127.0.0.1:41234/fhir/R4 */
  fhir: string;
  /** A `system/*.cruds` access token of the demo client, got through the real token endpoint. */
  token?: string;
  close(): Promise<void>;
}

export const TEST_CLIENT_SECRET = 'test-client-secret';

/** Tokens per FHIR base, so fhirFetch signs requests to a test server without each test saying so. */
const tokens = new Map<string, string>();

/** A client_credentials token from a Sen server's token endpoint (client_secret_basic). */
export async function clientCredentialsToken(
  url: string,
  scope = 'system/*.cruds',
  secret = TEST_CLIENT_SECRET,
): Promise<string> {
  const res = await fetch(`${url}/oidc/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`sen-demo:${secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
  });
  const body = (await res.json()) as { access_token?: string; error?: string };
  if (!res.ok || !body.access_token) {
    throw new Error(`token request failed: ${res.status} ${body.error ?? ''}`);
  }
  return body.access_token;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A real Sen server on 127.0.0.1 over a fresh, migrated database of the given engine, with sign-in, gate
 * and audit on (as `npm start` runs it); `auth: false` gives the open API for store-level suites.
 */
export async function startTestServer(
  engine: Engine,
  options: { auth?: boolean; config?: Partial<Omit<AppConfig, 'publicUrl'>> } = {},
): Promise<TestServer> {
  const { db, drop } = await createTestDb(engine);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const auth = options.auth ?? true;
  const sen = await buildApp({
    db,
    config: {
      publicUrl: url,
      logLevel: 'silent',
      security: auth ? { mode: 'demo', demoClientSecret: TEST_CLIENT_SECRET, sealIntervalMs: 0 } : undefined,
      ...options.config,
    },
  });
  sen.app.addHook('onClose', async () => {
    await drop();
  });
  await sen.app.listen({ port, host: '127.0.0.1' });
  const fhir = `${url}/fhir/R4`;
  let token: string | undefined;
  if (auth) {
    token = await clientCredentialsToken(url);
    tokens.set(fhir, token);
  }
  return {
    ...sen,
    url,
    fhir,
    token,
    close: async () => {
      tokens.delete(fhir);
      await sen.app.close();
    },
  };
}

export interface FhirResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A small fetch wrapper for tests: JSON in, JSON out. */
export async function fhirFetch<T = any>(
  base: string,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<FhirResult<T>> {
  const headers: Record<string, string> = { accept: 'application/fhir+json', ...(init.headers ?? {}) };
  const token = [...tokens.entries()].find(([b]) => base.startsWith(b))?.[1];
  if (token && !('authorization' in headers)) {
    headers.authorization = `Bearer ${token}`;
  }
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    headers['content-type'] ??= 'application/fhir+json';
  }
  const res = await fetch(`${base}/${path.replace(/^\//, '')}`, { method: init.method ?? 'GET', headers, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

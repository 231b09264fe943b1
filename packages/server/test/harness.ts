import { createServer } from 'node:net';
import type { Engine } from '@sen/db';
import { createTestDb } from '@sen/db/testing';
import { buildApp, type SenApp } from '../src/app.ts';

export interface TestServer extends SenApp {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** e.g. http://127.0.0.1:41234/fhir/R4 */
  fhir: string;
  close(): Promise<void>;
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

/** A real Sen server on 127.0.0.1 over a fresh, migrated database of the given engine. */
export async function startTestServer(engine: Engine): Promise<TestServer> {
  const { db, drop } = await createTestDb(engine);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const sen = await buildApp({ db, config: { publicUrl: url, logLevel: 'silent' } });
  sen.app.addHook('onClose', async () => {
    await drop();
  });
  await sen.app.listen({ port, host: '127.0.0.1' });
  return { ...sen, url, fhir: `${url}/fhir/R4`, close: () => sen.app.close() };
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

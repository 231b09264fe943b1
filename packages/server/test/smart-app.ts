/**
 * Test support: a SMART app built on the published SMART on FHIR JavaScript client (`fhirclient`, Node adapter) on
 * 127.0.0.1, and a driver for Sen's sign-in pages (the Browser of oauth/test-support.ts: cookies, redirects by hand).
 *
 * The app: GET /launch → `smart(req, res, storage).authorize(...)` (a redirect to Sen); GET /app?code=… →
 * `smart(req, res, storage).ready()` (the token request), then `client.request('Patient/<launch patient>')`, answered
 * as JSON with the token response.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import smart from 'fhirclient';
import { Browser } from '../src/platform/oauth/test-support.ts';

export interface SmartAppResult {
  patient: { resourceType: string; id: string };
  tokenResponse: {
    access_token: string;
    refresh_token?: string;
    id_token?: string;
    patient?: string;
    scope?: string;
    expires_in?: number;
  };
}

export interface SmartApp {
  url: string;
  clientId: string;
  close(): Promise<void>;
}

/** Starts the app: it launches against `fhirBase` as `clientId` with `scope`. */
export async function startSmartApp(fhirBase: string, clientId: string, scope: string): Promise<SmartApp> {
  const values = new Map<string, unknown>();
  const storage = {
    async get(key: string): Promise<unknown> {
      return values.get(key);
    },
    async set(key: string, value: unknown): Promise<unknown> {
      values.set(key, value);
      return value;
    },
    async unset(key: string): Promise<boolean> {
      return values.delete(key);
    },
  };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const work = async (): Promise<void> => {
      if (path === '/launch') {
        await smart(req, res, storage).authorize({ iss: fhirBase, clientId, scope, redirectUri: '/app' });
        return;
      }
      if (path === '/app') {
        const client = await smart(req, res, storage).ready();
        // the test server's tokens live 3 s: fhirclient would refresh before every request (within 10 s of expiry)
        const patient = await client.request(`Patient/${client.patient.id}`, { useRefreshToken: false });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ patient, tokenResponse: client.state.tokenResponse }));
        return;
      }
      res.writeHead(404).end();
    };
    work().catch(async (err: Error & { parse?: () => Promise<unknown> }) => {
      await err.parse?.(); // fhirclient's HttpError: adds the server's error to the message
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
      }
      res.end(JSON.stringify({ error: err.message }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    clientId,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The value of a named input (hidden fields: token, form_token). */
export function field(html: string, name: string): string | undefined {
  return new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];
}

/** The action of the n-th form on a page. */
export function formAction(html: string, n = 0): string {
  const all = [...html.matchAll(/<form method="post" action="([^"]+)"/g)].map((m) => m[1]);
  return all[n];
}

/**
 * One browser session against Sen: follows redirects on Sen's origin, and stops at a page (status 200/4xx) or at a
 * redirect to the app (returned as `appUrl`).
 */
export class SignInDriver {
  readonly browser = new Browser();
  readonly #sen: string;

  constructor(senUrl: string) {
    this.#sen = senUrl;
  }

  /** GETs or POSTs, then follows Sen's redirects. */
  async go(
    url: string,
    form?: Record<string, string>,
  ): Promise<{ status: number; html: string; url: string; appUrl?: string }> {
    let res = await this.browser.request(url, form ? { form } : {});
    let current = url;
    for (let i = 0; i < 12 && res.status >= 300 && res.status < 400; i++) {
      const next = new URL(res.headers.get('location') ?? '', current).toString();
      await res.arrayBuffer();
      if (!next.startsWith(this.#sen)) {
        return { status: res.status, html: '', url: current, appUrl: next };
      }
      current = next;
      res = await this.browser.request(next);
    }
    return { status: res.status, html: await res.text(), url: current };
  }
}

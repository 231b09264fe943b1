import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** The built web app (`npm run build` → packages/web/dist). */
export const WEB_DIST = fileURLToPath(new URL('../../../web/dist', import.meta.url));

/** Paths that belong to the server, never to the web app's client-side routes. */
const SERVER_PREFIXES = ['/fhir', '/oidc', '/api', '/.well-known', '/healthz', '/readyz', '/assets/'];

/**
 * The web app's pages: Mantine sets inline styles, so styles may be inline; scripts, connections and frames stay
 * on this origin only.
 */
export const WEB_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

const NOT_BUILT = `<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Sen</title></head><body>
<h1>Sen</h1><p>Giao diện web chưa được build: chạy <code>npm run build</code> (việc này tự chạy khi <code>npm start</code>).</p>
<p lang="en">The web app is not built yet: run <code>npm run build</code> (<code>npm start</code> does it for you).</p>
<p>API FHIR: <a href="/fhir/R4/metadata">/fhir/R4</a></p></body></html>`;

export interface WebApp {
  /** Answers a GET for a client-side route (e.g. /patients) with the app's index.html; false when not one. */
  fallback(req: FastifyRequest, reply: FastifyReply): Promise<boolean>;
}

/**
 * Serves the React app from its build: hashed assets under /assets/ (cached for a year: their names change with
 * their content), index.html at / and at every client-side route (never cached).
 */
export async function registerWebApp(app: FastifyInstance, dist = WEB_DIST): Promise<WebApp> {
  const built = existsSync(join(dist, 'index.html'));
  let index: string | undefined;
  const page = async (reply: FastifyReply): Promise<FastifyReply> => {
    index ??= built ? await readFile(join(dist, 'index.html'), 'utf8') : NOT_BUILT;
    return reply.type('text/html; charset=utf-8').header('Content-Security-Policy', WEB_CSP).send(index);
  };
  if (built && existsSync(join(dist, 'assets'))) {
    await app.register(fastifyStatic, {
      root: join(dist, 'assets'),
      prefix: '/assets/',
      index: false,
      wildcard: true,
      cacheControl: false,
      setHeaders: (res) => {
        res.header('Cache-Control', 'public, max-age=31536000, immutable');
      },
    });
  }
  app.get('/', (_req, reply) => page(reply));
  return {
    async fallback(req, reply) {
      const path = req.url.split('?')[0];
      const wantsHtml = (req.headers.accept ?? '').includes('text/html');
      if (req.method !== 'GET' || !wantsHtml || SERVER_PREFIXES.some((p) => path.startsWith(p)) || path.includes('.')) {
        return false;
      }
      await page(reply);
      return true;
    },
  };
}

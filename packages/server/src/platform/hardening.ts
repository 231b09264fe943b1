import type { FastifyInstance } from 'fastify';

export interface HardeningOptions {
  /** Browser origins allowed to call the API cross-origin (exact matches); none by default. */
  corsOrigins?: readonly string[];
  /** The public URL: HSTS is sent only when it is https. */
  publicUrl: string;
}

const API_PREFIXES = ['/fhir/', '/oidc/', '/.well-known/'];

/**
 * Security headers on every response, and strict CORS: only listed origins get CORS headers, credentials are
 * never allowed cross-origin (the API takes bearer tokens, not cookies), and preflights of other origins fail.
 */
export function registerHardening(app: FastifyInstance, options: HardeningOptions): void {
  const allowed = new Set(options.corsOrigins ?? []);
  const https = options.publicUrl.startsWith('https://');
  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin;
    const isApi = API_PREFIXES.some((p) => req.url.startsWith(p));
    if (origin && isApi && allowed.has(origin)) {
      reply.header('Access-Control-Allow-Origin', origin);
      reply.header('Vary', 'Origin');
      reply.header('Access-Control-Expose-Headers', 'Location, ETag, Last-Modified, Content-Location');
    }
    if (req.method === 'OPTIONS' && isApi && req.headers['access-control-request-method']) {
      if (!origin || !allowed.has(origin)) {
        return reply.code(403).header('Content-Type', 'text/plain; charset=utf-8').send('CORS origin not allowed');
      }
      return reply
        .code(204)
        .header('Access-Control-Allow-Methods', 'GET, POST, PUT, PATCH, DELETE, OPTIONS')
        .header(
          'Access-Control-Allow-Headers',
          'Authorization, Content-Type, Accept, Prefer, If-Match, If-None-Match, If-None-Exist, If-Modified-Since',
        )
        .header('Access-Control-Max-Age', '600')
        .send();
    }
    return undefined;
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    reply.header('Permissions-Policy', 'camera=(self), microphone=(self), geolocation=()');
    if (!reply.hasHeader('Content-Security-Policy')) {
      reply.header(
        'Content-Security-Policy',
        "default-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
      );
    }
    if (!reply.hasHeader('Cache-Control')) {
      // health data must not linger in shared caches
      reply.header('Cache-Control', 'no-store');
    }
    if (https) {
      reply.header('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    }
    return payload;
  });
}

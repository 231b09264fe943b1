import { outcomes } from '@sen/fhir';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type FhirRouter, RawJson } from './router.ts';
import { serialize } from './serialize.ts';
import type { FhirRequest, FhirResponse } from './types.ts';

const FHIR_JSON = 'application/fhir+json';

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Picks the response media type from Accept and _format; anything but JSON is 406. */
function negotiate(req: FastifyRequest, query: [string, string][]): string {
  const format = query.find(([k]) => k === '_format')?.[1];
  if (format) {
    if (/json/.test(format)) {
      return format.includes('fhir') ? FHIR_JSON : 'application/json';
    }
    throw outcomes.notAcceptable(`_format '${format}' is not supported; Sen speaks application/fhir+json`);
  }
  const accept = header(req, 'accept');
  if (!accept || accept.includes('*/*') || accept.includes('application/*')) {
    return FHIR_JSON;
  }
  if (accept.includes('application/fhir+json') || accept.includes('application/json+fhir')) {
    return FHIR_JSON;
  }
  if (accept.includes('application/json')) {
    return 'application/json';
  }
  if (accept.includes('text/html') || accept.includes('text/plain')) {
    return FHIR_JSON;
  }
  throw outcomes.notAcceptable(`Accept '${accept}' is not supported; Sen speaks application/fhir+json`);
}

function parseQuery(url: string): [string, string][] {
  const i = url.indexOf('?');
  return i < 0 ? [] : [...new URLSearchParams(url.slice(i + 1)).entries()];
}

export function sendFhir(reply: FastifyReply, res: FhirResponse, mediaType: string, pretty: boolean): FastifyReply {
  reply.code(res.status);
  if (res.etag) {
    reply.header('ETag', res.etag);
  }
  if (res.lastModified) {
    reply.header('Last-Modified', new Date(res.lastModified).toUTCString());
  }
  if (res.location) {
    reply.header(
      'Location',
      res.location.startsWith('http') ? res.location : `${reply.request.fhirBase}/${res.location}`,
    );
  }
  if (res.body === undefined) {
    return reply.send();
  }
  reply.header('Content-Type', `${mediaType}; charset=utf-8`);
  const body = typeof res.body === 'string' ? new RawJson(res.body) : res.body;
  return reply.send(serialize(body, pretty));
}

/** The FHIR R4 REST API under /fhir/R4: every interaction goes through the HTTP-free router. */
export function registerFhirRoutes(app: FastifyInstance, router: FhirRouter, prefix = '/fhir/R4'): void {
  const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const query = parseQuery(req.url);
    const mediaType = negotiate(req, query);
    const pretty = query.some(([k, v]) => k === '_pretty' && v === 'true');
    let path = (req.params as { '*'?: string })['*'] ?? '';
    path = path.split('?')[0];
    let body: unknown = req.body;
    let allQuery = query;
    if (req.method === 'POST' && path.endsWith('/_search')) {
      // POST _search: parameters in the form body as well as the URL
      if (typeof req.body === 'string' || req.body === undefined || req.body === null) {
        allQuery = [...query, ...new URLSearchParams((req.body as string) ?? '').entries()];
      } else if (
        req.body &&
        typeof req.body === 'object' &&
        !Array.isArray(req.body) &&
        !(req.body as { resourceType?: string }).resourceType
      ) {
        allQuery = [
          ...query,
          ...Object.entries(req.body as Record<string, string>).map(([k, v]) => [k, String(v)] as [string, string]),
        ];
      }
      body = undefined;
    }
    const fr: FhirRequest = {
      method: req.method as FhirRequest['method'],
      path: decodeURIComponent(path),
      query: allQuery,
      body,
      contentType: header(req, 'content-type'),
      ifMatch: header(req, 'if-match'),
      ifNoneExist: header(req, 'if-none-exist'),
      ifNoneMatch: header(req, 'if-none-match'),
      ifModifiedSince: header(req, 'if-modified-since'),
      prefer: header(req, 'prefer'),
    };
    if (
      (fr.method === 'POST' || fr.method === 'PUT' || fr.method === 'PATCH') &&
      !path.endsWith('_search') &&
      fr.body === undefined
    ) {
      throw outcomes.badRequest('The request has no body');
    }
    const res = await router.handle(fr);
    return sendFhir(reply, res, mediaType, pretty);
  };
  app.route({ method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], url: `${prefix}/*`, handler });
  app.route({ method: ['GET', 'POST'], url: prefix, handler });
}

import { outcomes } from '@sen/fhir';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type FhirRouter, RawJson } from './router.ts';
import { serialize } from './serialize.ts';
import type { AuditAction, AuditEntry, AuditLog } from '@sen/store';
import { createAccessContext } from '../platform/gate/context.ts';
import { type RateLimiter, throttledOutcome } from '../platform/rate-limit.ts';
import type { Principal } from '../platform/gate/gate.ts';
import { searchAuditEvents } from './audit-events.ts';
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

/** Identity and audit for the FHIR routes: who is calling, and where every access is recorded. */
export interface FhirSecurity {
  /** Resolves the caller from the request (bearer token); throws a 401 OutcomeError when there is none. */
  authenticate(req: FastifyRequest): Promise<Principal>;
  audit: AuditLog;
  /** Where each request's record goes (a group-committing writer over `audit`); the request waits for it. */
  recorder: { record(entry: AuditEntry): Promise<unknown> };
  /** Token buckets per user and per client; a request over the limit gets 429 with Retry-After. */
  rateLimit?: RateLimiter;
}

/** The audited action of a request. */
export function auditAction(fr: FhirRequest): AuditAction {
  const segs = fr.path.split('/').filter(Boolean);
  if (segs.length === 0) {
    const type = (fr.body as { type?: string } | undefined)?.type;
    return fr.method === 'POST' ? (type === 'batch' ? 'batch' : 'transaction') : 'search';
  }
  if (segs.some((x) => x.startsWith('$'))) {
    return segs.includes('$everything') ? 'export' : 'operation';
  }
  if (segs.includes('_history')) {
    return segs.length === 4 ? 'vread' : 'history';
  }
  switch (fr.method) {
    case 'POST':
      return segs[1] === '_search' ? 'search' : 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return segs.length === 2 ? 'read' : 'search';
  }
}

/** Who a principal is, for the audit record. */
export function principalWho(p: Principal): { who: string; role: string; client?: string } {
  switch (p.kind) {
    case 'staff':
      return { who: p.practitionerId ? `Practitioner/${p.practitionerId}` : p.accountId, role: p.roles.join(' ') };
    case 'patient':
      return { who: `Patient/${p.patientId}`, role: 'patient' };
    default:
      return { who: `Device/${p.clientId}`, role: 'system', client: p.clientId };
  }
}

/** The FHIR R4 REST API under /fhir/R4: every interaction goes through the HTTP-free router. */
export function registerFhirRoutes(
  app: FastifyInstance,
  router: FhirRouter,
  prefix = '/fhir/R4',
  security?: FhirSecurity,
): void {
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
    if (!security || (fr.method === 'GET' && fr.path === 'metadata')) {
      return sendFhir(reply, await router.handle(fr), mediaType, pretty);
    }
    // No request reaches patient data without an identity, a policy decision and an audit record.
    const principal = await security.authenticate(req);
    const wait = security.rateLimit?.take(principal) ?? 0;
    if (wait > 0) {
      reply.header('Retry-After', String(wait));
      return sendFhir(reply, { status: 429, body: throttledOutcome(wait) }, mediaType, pretty);
    }
    const access = createAccessContext(principal);
    fr.access = access;
    let res: FhirResponse | undefined;
    let failure: unknown;
    try {
      if (fr.method === 'GET' && (fr.path === 'AuditEvent' || fr.path === 'AuditEvent/_search')) {
        res = {
          status: 200,
          body: await searchAuditEvents(
            security.audit,
            principal,
            access,
            fr.query,
            `${req.fhirBase}/${fr.path}${req.url.includes('?') ? `?${req.url.split('?')[1]}` : ''}`,
          ),
        };
      } else {
        res = await router.handle(fr);
      }
    } catch (err) {
      failure = err;
    }
    const status = res?.status ?? (failure as { status?: number })?.status ?? 500;
    const resourceSegs = fr.path.split('/').filter(Boolean);
    const patients = access.notes.patientIds;
    await security.recorder.record({
      action: auditAction(fr),
      outcome: failure ? (status === 403 || status === 404 ? 'denied' : 'failure') : 'success',
      ...principalWho(principal),
      sourceIp: req.ip,
      patient: patients.length === 1 ? patients[0] : undefined,
      resourceType: resourceSegs[0],
      resourceId:
        resourceSegs[1] && !resourceSegs[1].startsWith('_') && !resourceSegs[1].startsWith('$')
          ? resourceSegs[1]
          : undefined,
      query: fr.query.length > 0 ? new URLSearchParams(fr.query).toString() : undefined,
      purpose: access.notes.purposeOfUse,
      detail: {
        status,
        ...(patients.length > 1 ? { patients } : {}),
        ...(access.notes.breakGlass ? { breakGlass: true } : {}),
      },
    });
    if (failure) {
      throw failure;
    }
    return sendFhir(reply, res as FhirResponse, mediaType, pretty);
  };
  app.route({ method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], url: `${prefix}/*`, handler });
  app.route({ method: ['GET', 'POST'], url: prefix, handler });
}

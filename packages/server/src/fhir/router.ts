import type { Bundle, BundleEntry, Parameters, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '@sen/db';
import {
  applySummary,
  isResourceType,
  isValidId,
  outcome,
  outcomes,
  parseSearchRequest,
  type SearchRequest,
} from '@sen/fhir';
import { type ConditionalGuard, extractIndex, type FhirStore, type StoredVersion, searchRows } from '@sen/store';
import jsonpatch, { type Operation } from 'fast-json-patch';
import { everything } from './everything.ts';
import { OperationInput, type OperationLevel, OperationRegistry } from './operations.ts';
import type { AccessAction, FhirRequest, FhirResponse } from './types.ts';

export interface RouterOptions {
  /** Absolute base URL of the FHIR API, e.g. http://localhost:8080/fhir/R4 (for links and fullUrls). */
  baseUrl: string;
  capabilityStatement: () => Resource;
}

export function etagOf(version: number | string): string {
  return `W/"${version}"`;
}

export function parseEtag(v: string | undefined): number | undefined {
  if (!v) {
    return undefined;
  }
  const m = /^(?:W\/)?"?(\d+)"?$/.exec(v.trim());
  if (!m) {
    throw outcomes.badRequest(`Invalid If-Match / ETag value '${v}'`);
  }
  return Number(m[1]);
}

function preferReturn(prefer: string | undefined): 'minimal' | 'representation' | 'OperationOutcome' {
  const m = /return=(minimal|representation|OperationOutcome)/.exec(prefer ?? '');
  return (m?.[1] as 'minimal' | 'representation' | 'OperationOutcome') ?? 'representation';
}

function isLenient(prefer: string | undefined): boolean {
  return /handling=lenient/.test(prefer ?? '');
}

function written(stored: StoredVersion, status: number, prefer: string | undefined, text: string): FhirResponse {
  const ret = preferReturn(prefer);
  const res: FhirResponse = {
    status,
    location: `${stored.type}/${stored.id}/_history/${stored.version}`,
    etag: etagOf(stored.version),
    lastModified: stored.lastUpdated,
  };
  if (ret === 'representation') {
    res.body = stored.content;
  } else if (ret === 'OperationOutcome') {
    res.body = outcome('information', 'informational', text);
  }
  return res;
}

function asResource(body: unknown): Resource {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw outcomes.badRequest('The request body must be a FHIR resource (a JSON object)');
  }
  return body as Resource;
}

/** FHIR REST semantics over the store, with no knowledge of HTTP. */
export class FhirRouter {
  readonly store: FhirStore;
  readonly options: RouterOptions;
  /** The `$operations` this router serves besides `Patient/$everything`; capabilities register theirs here. */
  readonly operations = new OperationRegistry();

  constructor(store: FhirStore, options: RouterOptions) {
    this.store = store;
    this.options = options;
  }

  async handle(req: FhirRequest, q?: Queryable): Promise<FhirResponse> {
    const segs = req.path.split('/').filter((s) => s.length > 0);
    const [a, b, c, d] = segs;
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    if (segs.length === 0) {
      if (method === 'POST') {
        const { processBundle } = await import('./bundle.ts');
        return { status: 200, body: await processBundle(this, asResource(req.body) as Bundle, req.prefer, req.access) };
      }
      if (method === 'GET') {
        return this.historyOrSearchAll(req);
      }
      throw outcomes.methodNotAllowed(`${req.method} is not allowed on the base URL`);
    }
    if (a === 'metadata' && segs.length === 1 && method === 'GET') {
      return { status: 200, body: this.options.capabilityStatement() };
    }
    if (a === '_history' && segs.length === 1 && method === 'GET') {
      return this.history(undefined, undefined, req);
    }
    if (a.startsWith('$') && segs.length === 1) {
      return this.invoke('system', a, req, undefined, undefined, q);
    }
    if (!isResourceType(a)) {
      throw outcomes.notFound(`Unknown resource type '${a}'`);
    }
    if (segs.length === 1) {
      switch (method) {
        case 'GET':
          return this.search(a, req.query, req.prefer, q, undefined, req);
        case 'POST':
          return this.create(a, req, q);
        case 'PUT':
          return this.conditionalUpdate(a, req, q);
        case 'DELETE':
          return this.conditionalDelete(a, req, q);
        case 'PATCH':
          return this.conditionalPatch(a, req, q);
        default:
          throw outcomes.methodNotAllowed(`${req.method} is not allowed on ${a}`);
      }
    }
    if (b === '_search' && segs.length === 2 && method === 'POST') {
      return this.search(a, req.query, req.prefer, q, undefined, req);
    }
    if (b === '_history' && segs.length === 2 && method === 'GET') {
      return this.history(a, undefined, req);
    }
    if (b.startsWith('$')) {
      if (segs.length !== 2) {
        throw outcomes.notFound(`No route for ${req.method} ${req.path}`);
      }
      return this.invoke('type', b, req, a, undefined, q);
    }
    if (!isValidId(b)) {
      throw outcomes.badRequest(`Invalid resource id '${b}'`);
    }
    if (segs.length === 2) {
      switch (method) {
        case 'GET':
          return this.read(a, b, req, q);
        case 'PUT':
          return this.update(a, b, req, q);
        case 'DELETE':
          return this.delete(a, b, req, q);
        case 'PATCH':
          return this.patch(a, b, req, q);
        default:
          throw outcomes.methodNotAllowed(`${req.method} is not allowed on ${a}/${b}`);
      }
    }
    if (c === '_history' && method === 'GET') {
      if (segs.length === 3) {
        return this.history(a, b, req);
      }
      if (segs.length === 4) {
        const v = await this.store.vread(a, b, d, q);
        if (req.access) {
          req.access.check('vread', a, JSON.parse(v.content as string), await this.store.compartmentOf(a, b, q));
        }
        return { status: 200, body: v.content, etag: etagOf(v.version), lastModified: v.lastUpdated };
      }
    }
    if (c === '$everything' && segs.length === 3 && a === 'Patient' && method === 'GET') {
      await this.guardExisting(req, 'read', 'Patient', b, q);
      return { status: 200, body: await everything(this, b, req.query, req.access?.policy) };
    }
    if (segs.length === 3 && c.startsWith('$')) {
      return this.invoke('instance', c, req, a, b, q);
    }
    if (segs.length === 3 && a === 'Patient' && isResourceType(c) && method === 'GET') {
      // compartment search: Patient/123/Observation?…
      await this.store.read('Patient', b, q);
      await this.guardExisting(req, 'read', 'Patient', b, q);
      return this.search(c, req.query, req.prefer, q, { compartmentType: 'Patient', compartmentId: b }, req);
    }
    throw outcomes.notFound(`No route for ${req.method} ${req.path}`);
  }

  /** Calls a registered operation after the gate has allowed its declared access. */
  private async invoke(
    level: OperationLevel,
    name: string,
    req: FhirRequest,
    type: string | undefined,
    id: string | undefined,
    q?: Queryable,
  ): Promise<FhirResponse> {
    const op = this.operations.find(name.slice(1), level, type);
    const where = level === 'system' ? 'the system level' : level === 'type' ? type : `${type} instances`;
    if (!op) {
      throw outcomes.notSupported(`Operation ${name} on ${where} is not supported`);
    }
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    if (!(op.methods as readonly string[]).includes(method)) {
      throw outcomes.methodNotAllowed(`Operation ${name} is called with ${op.methods.join(' or ')}, not ${req.method}`);
    }
    const input = OperationInput.from(req);
    if (req.access) {
      const accessType = op.access.resourceType ?? type;
      if (level === 'instance' && type && id && accessType === type) {
        await this.store.read(type, id, q);
        await this.guardExisting(req, op.access.action, type, id, q);
      } else if (accessType) {
        req.access.check(op.access.action, accessType);
      }
    }
    return op.handler({ req, input, resourceType: type, id, q });
  }

  private async read(type: string, id: string, req: FhirRequest, q?: Queryable): Promise<FhirResponse> {
    let s: StoredVersion;
    if (req.access) {
      // one query brings the patients too: the gate decides on them and the audit records whose record this is
      const withPatients = await this.store.readWithCompartment(type, id, q);
      const resource = req.access.needsResource ? (JSON.parse(withPatients.content as string) as Resource) : undefined;
      req.access.check('read', type, resource, withPatients.patientIds);
      s = withPatients;
    } else {
      s = await this.store.read(type, id, q);
    }
    const etag = etagOf(s.version);
    if (req.ifNoneMatch && parseEtag(req.ifNoneMatch) === s.version) {
      return { status: 304, etag, lastModified: s.lastUpdated };
    }
    if (req.ifModifiedSince) {
      const since = Date.parse(req.ifModifiedSince);
      if (!Number.isNaN(since) && Date.parse(s.lastUpdated) <= since + 999) {
        return { status: 304, etag, lastModified: s.lastUpdated };
      }
    }
    let body: Resource | string | undefined = s.content;
    const summary = req.query.find(([k]) => k === '_summary')?.[1];
    const elements = req.query.find(([k]) => k === '_elements')?.[1];
    if ((summary && summary !== 'false') || elements) {
      body = applySummary(
        JSON.parse(s.content as string),
        summary as never,
        elements?.split(','),
      ) as unknown as Resource;
    }
    return { status: 200, body, etag, lastModified: s.lastUpdated };
  }

  private async create(type: string, req: FhirRequest, q?: Queryable): Promise<FhirResponse> {
    const resource = asResource(req.body);
    if (resource.resourceType !== type) {
      throw outcomes.badRequest(`Resource type '${resource.resourceType}' does not match the URL (${type})`, [
        'resourceType',
      ]);
    }
    this.guardNew(req, 'create', resource);
    if (req.ifNoneExist) {
      if (q) {
        await this.store.lockKey(`${type}?${req.ifNoneExist}`, q);
        const found = await this.store.searchIds(type, req.ifNoneExist, q, 2, req.access?.policy);
        if (found.length > 1) {
          throw outcomes.multipleMatches(`If-None-Exist '${req.ifNoneExist}' matched more than one ${type}`);
        }
        if (found.length === 1) {
          await this.guardExisting(req, 'read', type, found[0].id, q);
          return written(await this.store.read(type, found[0].id, q), 200, req.prefer, 'Resource already exists');
        }
        const r = await this.store.create(resource, q);
        return written(r.stored, 201, req.prefer, 'Created');
      }
      const r = await this.store.conditionalCreate(resource, req.ifNoneExist, this.conditionalGuard(req, 'read', type));
      if (r.existing) {
        return written(r.existing, 200, req.prefer, 'Resource already exists');
      }
      return written(r.result!.stored, 201, req.prefer, 'Created');
    }
    const r = await this.store.create(resource, q);
    return written(r.stored, 201, req.prefer, 'Created');
  }

  private async update(type: string, id: string, req: FhirRequest, q?: Queryable): Promise<FhirResponse> {
    const resource = asResource(req.body);
    if (resource.resourceType !== type) {
      throw outcomes.badRequest(`Resource type '${resource.resourceType}' does not match the URL (${type})`, [
        'resourceType',
      ]);
    }
    if (!resource.id) {
      throw outcomes.badRequest('The resource in an update must have an id matching the URL', ['id']);
    }
    if (resource.id !== id) {
      throw outcomes.badRequest(`The resource id '${resource.id}' does not match the URL id '${id}'`, ['id']);
    }
    if (req.access) {
      const current = await this.forGate(type, id, q);
      if (current.resource) {
        req.access.check('update', type, current.resource, current.patientIds);
      }
      this.guardNew(req, current.resource ? 'update' : 'create', resource);
    }
    const r = await this.store.update(resource, { ifMatch: parseEtag(req.ifMatch) }, q);
    return written(r.stored, r.created ? 201 : 200, req.prefer, r.created ? 'Created' : 'Updated');
  }

  private async delete(type: string, id: string, req: FhirRequest, q?: Queryable): Promise<FhirResponse> {
    if (req.access) {
      const current = await this.forGate(type, id, q);
      req.access.check('delete', type, current.resource, current.resource ? current.patientIds : undefined);
    }
    await this.store.delete(type, id, q, { ifMatch: parseEtag(req.ifMatch) });
    return preferReturn(req.prefer) === 'minimal'
      ? { status: 204 }
      : { status: 200, body: outcome('information', 'informational', `${type}/${id} deleted`) };
  }

  private async patch(type: string, id: string, req: FhirRequest, q?: Queryable): Promise<FhirResponse> {
    const run = async (tx: Queryable): Promise<FhirResponse> => {
      const current = await this.store.readWithCompartment(type, id, tx);
      req.access?.check('patch', type, JSON.parse(current.content as string), current.patientIds);
      const ifMatch = parseEtag(req.ifMatch);
      if (ifMatch !== undefined && ifMatch !== current.version) {
        throw outcomes.preconditionFailed(
          `Version conflict: ${type}/${id} is at version ${current.version}, If-Match was ${ifMatch}`,
        );
      }
      const patched = applyPatch(JSON.parse(current.content as string), req);
      if (patched.resourceType !== type || patched.id !== id) {
        throw outcomes.badRequest('A patch may not change resourceType or id');
      }
      this.guardNew(req, 'patch', patched);
      const r = await this.store.update(patched, { ifMatch: current.version }, tx);
      return written(r.stored, 200, req.prefer, 'Patched');
    };
    return q ? run(q) : this.store.transaction(run);
  }

  private async conditionalUpdate(type: string, req: FhirRequest, q?: Queryable): Promise<FhirResponse> {
    const query = new URLSearchParams(req.query).toString();
    if (!query) {
      throw outcomes.methodNotAllowed(`PUT on ${type} needs an id or search criteria`);
    }
    const resource = asResource(req.body);
    if (resource.resourceType !== type) {
      throw outcomes.badRequest(`Resource type '${resource.resourceType}' does not match the URL (${type})`, [
        'resourceType',
      ]);
    }
    this.guardNew(req, 'update', resource);
    const r = await this.store.conditionalUpdate(resource, query, q, this.conditionalGuard(req, 'update', type));
    return written(r.stored, r.created ? 201 : 200, req.prefer, r.created ? 'Created' : 'Updated');
  }

  private async conditionalDelete(type: string, req: FhirRequest, q?: Queryable): Promise<FhirResponse> {
    const query = new URLSearchParams(req.query).toString();
    if (!query) {
      throw outcomes.methodNotAllowed(`DELETE on ${type} needs an id or search criteria`);
    }
    req.access?.check('delete', type);
    const n = await this.store.conditionalDelete(type, query, q, this.conditionalGuard(req, 'delete', type));
    return { status: 200, body: outcome('information', 'informational', `${n} ${type} resource(s) deleted`) };
  }

  private async conditionalPatch(type: string, req: FhirRequest, q?: Queryable): Promise<FhirResponse> {
    const query = new URLSearchParams(req.query).toString();
    if (!query) {
      throw outcomes.methodNotAllowed(`PATCH on ${type} needs an id or search criteria`);
    }
    const found = await this.store.searchIds(type, query, q, 2, req.access?.policy);
    if (found.length === 0) {
      throw outcomes.notFound(`No ${type} matches '${query}'`);
    }
    if (found.length > 1) {
      throw outcomes.multipleMatches(`Conditional patch '${query}' matched more than one ${type}`);
    }
    return this.patch(type, found[0].id, req, q);
  }

  async search(
    type: string,
    query: [string, string][],
    prefer: string | undefined,
    q?: Queryable,
    compartment?: { compartmentType: string; compartmentId: string },
    from?: FhirRequest,
  ): Promise<FhirResponse> {
    from?.access?.check('search', type);
    const req = parseSearchRequest(type, query, { lenient: isLenient(prefer) });
    if (compartment) {
      req.criteria.push({ kind: 'compartment', ...compartment });
    }
    const result = await searchRows(this.store, req, q, from?.access?.policy);
    const selfPath = compartment ? `Patient/${compartment.compartmentId}/${type}` : type;
    return { status: 200, body: this.searchBundle(req, result, selfPath, query) };
  }

  searchBundle(
    req: SearchRequest,
    result: Awaited<ReturnType<typeof searchRows>>,
    selfPath: string,
    query: [string, string][],
  ): Bundle {
    const base = this.options.baseUrl;
    const qs = (extra: [string, string][]): string => {
      const kept = query.filter(([k]) => k !== '_cursor' && k !== '_offset');
      const s = new URLSearchParams([...kept, ...extra]).toString();
      return s ? `?${s}` : '';
    };
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      link: [{ relation: 'self', url: `${base}/${selfPath}${qs(req.cursor ? [['_cursor', req.cursor]] : [])}` }],
    };
    if (result.total !== undefined) {
      bundle.total = result.total;
    }
    if (result.next) {
      bundle.link?.push({ relation: 'next', url: `${base}/${selfPath}${qs([['_cursor', result.next]])}` });
    }
    const entries: BundleEntry[] = [];
    const transform = req.summary || req.elements;
    for (const r of result.rows) {
      entries.push({
        fullUrl: `${base}/${r.type}/${r.id}`,
        resource: (transform
          ? applySummary(JSON.parse(r.content), req.summary, req.elements)
          : RAW(r.content)) as unknown as Resource,
        search: { mode: 'match' },
      });
    }
    for (const r of result.included) {
      entries.push({
        fullUrl: `${base}/${r.type}/${r.id}`,
        resource: RAW(r.content) as unknown as Resource,
        search: { mode: 'include' },
      });
    }
    if (req.summary !== 'count') {
      bundle.entry = entries;
    }
    return bundle;
  }

  private async history(type: string | undefined, id: string | undefined, req: FhirRequest): Promise<FhirResponse> {
    if (req.access) {
      if (type && id) {
        await this.guardExisting(req, 'history', type, id);
      } else if (!req.access.unrestricted) {
        throw outcomes.forbidden(
          'History across resources is not available to this account; read one resource’s history',
        );
      } else {
        req.access.check('history', type ?? 'Resource');
      }
    }
    const get = (k: string): string | undefined => req.query.find(([key]) => key === k)?.[1];
    const count = get('_count') ? Number(get('_count')) : 20;
    if (!Number.isInteger(count) || count < 0) {
      throw outcomes.badRequest('_count must be a non-negative integer');
    }
    const since = get('_since');
    if (since && Number.isNaN(Date.parse(since))) {
      throw outcomes.badRequest(`_since must be an instant, got '${since}'`);
    }
    const at = get('_at');
    const cursor = get('_cursor');
    if (cursor && !/^\d+$/.test(cursor)) {
      throw outcomes.badRequest('Invalid history cursor');
    }
    const h = await this.store.history(type, id, { since, at, count, beforeSeq: cursor });
    const base = this.options.baseUrl;
    const path = [type, id, '_history'].filter(Boolean).join('/');
    const keep = req.query.filter(([k]) => k !== '_cursor');
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'history',
      link: [{ relation: 'self', url: `${base}/${path}${keep.length ? `?${new URLSearchParams(keep)}` : ''}` }],
      entry: h.entries.map((e) => {
        const entry: BundleEntry = {
          fullUrl: `${base}/${e.type}/${e.id}`,
          request: {
            method: e.method === 'delete' ? 'DELETE' : e.method === 'create' ? 'POST' : 'PUT',
            url: e.method === 'create' ? e.type : `${e.type}/${e.id}`,
          },
          response: {
            status: e.method === 'delete' ? '204' : e.method === 'create' ? '201' : '200',
            etag: etagOf(e.version),
            lastModified: e.lastUpdated,
          },
        };
        if (e.content) {
          entry.resource = RAW(e.content) as unknown as Resource;
        }
        return entry;
      }),
    };
    if (h.next) {
      bundle.link?.push({
        relation: 'next',
        url: `${base}/${path}?${new URLSearchParams([...keep, ['_cursor', h.next]])}`,
      });
    }
    return { status: 200, body: bundle };
  }

  private async historyOrSearchAll(req: FhirRequest): Promise<FhirResponse> {
    void req;
    throw outcomes.notSupported('Searching across all resource types is not supported; search one type');
  }

  /** Checks an interaction on a stored resource (its labels, facility and patient compartment). */
  async guardExisting(req: FhirRequest, action: AccessAction, type: string, id: string, q?: Queryable): Promise<void> {
    if (!req.access) {
      return;
    }
    if (!req.access.needsResource) {
      req.access.check(action, type);
      return;
    }
    const current = await this.forGate(type, id, q);
    req.access.check(action, type, current.resource, current.patientIds);
  }

  /**
   * A stored resource and its patients, in one query, for the gate. A deleted or unknown resource has neither
   * (its compartment rows go with the deletion): the decision then rests on the type alone.
   */
  private async forGate(
    type: string,
    id: string,
    q?: Queryable,
  ): Promise<{ resource?: Resource; patientIds: string[] }> {
    try {
      const s = await this.store.readWithCompartment(type, id, q);
      return { resource: JSON.parse(s.content as string) as Resource, patientIds: s.patientIds };
    } catch {
      return { patientIds: [] };
    }
  }

  /** Checks a resource about to be written (its own references decide its patient compartment). */
  guardNew(req: FhirRequest, action: AccessAction, resource: Resource): void {
    if (!req.access) {
      return;
    }
    if (!req.access.needsResource) {
      req.access.check(action, resource.resourceType);
      return;
    }
    const ids = new Set(extractIndex(resource).compartment.cid);
    req.access.check(action, resource.resourceType, resource, [...ids]);
  }

  private conditionalGuard(req: FhirRequest, action: AccessAction, type: string): ConditionalGuard {
    if (!req.access) {
      return {};
    }
    return { policy: req.access.policy, onMatch: (id, tx) => this.guardExisting(req, action, type, id, tx) };
  }

  /** Input Parameters helper for operations. */
  static param(p: Parameters | undefined, name: string): string | undefined {
    const v = p?.parameter?.find((x) => x.name === name);
    return v?.valueString ?? v?.valueCode ?? v?.valueUri ?? undefined;
  }
}

/** Marks stored JSON text to be spliced into the response as is (no parse / re-serialise). */
export class RawJson {
  /** Set by serialize() while it splices raw JSON itself, so toJSON need not parse. */
  static splicing = false;
  readonly json: string;
  constructor(json: string) {
    this.json = json;
  }
  toJSON(): unknown {
    return RawJson.splicing ? null : JSON.parse(this.json);
  }
}

export function RAW(json: string): RawJson {
  return new RawJson(json);
}

function applyPatch(resource: Resource, req: FhirRequest): Resource {
  const ct = req.contentType ?? '';
  if (ct.includes('json-patch') || Array.isArray(req.body)) {
    if (!Array.isArray(req.body)) {
      throw outcomes.badRequest('A JSON Patch body must be an array of operations');
    }
    const err = jsonpatch.validate(req.body as Operation[], resource);
    if (err?.name === 'TEST_OPERATION_FAILED') {
      throw outcomes.unprocessable('JSON Patch test operation failed');
    }
    if (err) {
      throw outcomes.badRequest(`Invalid JSON Patch: ${err.message.split('\n')[0]}`);
    }
    try {
      return jsonpatch.applyPatch(resource, req.body as Operation[], true, false).newDocument as Resource;
    } catch (e) {
      if ((e as { name?: string }).name === 'TEST_OPERATION_FAILED') {
        throw outcomes.unprocessable('JSON Patch test operation failed');
      }
      throw outcomes.badRequest(`JSON Patch could not be applied: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw outcomes.unsupportedMediaType('PATCH accepts application/json-patch+json');
}

import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, BundleEntryResponse, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '@sen/db';
import { isOutcomeError, isResourceType, OutcomeError, outcome, outcomes } from '@sen/fhir';
import { type FhirRouter, RAW } from './router.ts';
import type { AccessContext, FhirRequest, FhirResponse } from './types.ts';

const METHOD_ORDER: Record<string, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };
const MAX_ENTRIES = 10_000;

function statusText(status: number): string {
  const texts: Record<number, string> = {
    200: 'OK',
    201: 'Created',
    204: 'No Content',
    304: 'Not Modified',
    400: 'Bad Request',
    404: 'Not Found',
    409: 'Conflict',
    410: 'Gone',
    412: 'Precondition Failed',
    422: 'Unprocessable Entity',
  };
  return `${status} ${texts[status] ?? ''}`.trim();
}

function entryRequest(entry: BundleEntry, index: number, base?: string): FhirRequest {
  const r = entry.request;
  if (!r?.method || !r.url) {
    throw outcomes.badRequest(`Bundle entry ${index} has no request method or url`, [`Bundle.entry[${index}].request`]);
  }
  if (!(r.method in METHOD_ORDER)) {
    throw outcomes.badRequest(`Bundle entry ${index} has an unknown request method '${r.method}'`, [
      `Bundle.entry[${index}].request.method`,
    ]);
  }
  // a request url may be absolute to our own base; strip it to the relative form
  const url = (base && r.url.startsWith(`${base}/`) ? r.url.slice(base.length + 1) : r.url).replace(/^\//, '');
  const qIdx = url.indexOf('?');
  const path = qIdx >= 0 ? url.slice(0, qIdx) : url;
  const query = qIdx >= 0 ? [...new URLSearchParams(url.slice(qIdx + 1)).entries()] : [];
  return {
    method: r.method as FhirRequest['method'],
    path,
    query,
    body: entry.resource,
    ifMatch: r.ifMatch,
    ifNoneExist: r.ifNoneExist,
    ifNoneMatch: r.ifNoneMatch,
    ifModifiedSince: r.ifModifiedSince,
    contentType: 'application/fhir+json',
  };
}

function responseEntry(res: FhirResponse, prefer: string | undefined): BundleEntry {
  const response: BundleEntryResponse = { status: statusText(res.status) };
  if (res.location) {
    response.location = res.location;
  }
  if (res.etag) {
    response.etag = res.etag;
  }
  if (res.lastModified) {
    response.lastModified = res.lastModified;
  }
  const entry: BundleEntry = { response };
  if (res.body !== undefined && !/return=minimal/.test(prefer ?? '')) {
    const body = typeof res.body === 'string' ? (RAW(res.body) as unknown as Resource) : res.body;
    if ((res.body as Resource).resourceType === 'OperationOutcome') {
      response.outcome = res.body as never;
    } else {
      entry.resource = body;
    }
  }
  return entry;
}

function errorEntry(err: unknown): BundleEntry {
  if (isOutcomeError(err)) {
    return { response: { status: statusText(err.status), outcome: err.outcome } };
  }
  return {
    response: { status: '500', outcome: outcome('fatal', 'exception', 'Internal error processing this entry') },
  };
}

/** Replaces references in place: urn:uuid / fullUrl aliases, and conditional references resolved by search. */
async function rewriteReferences(
  router: FhirRouter,
  value: unknown,
  map: Map<string, string>,
  q: Queryable | undefined,
  cache: Map<string, string>,
  access?: AccessContext,
): Promise<void> {
  if (Array.isArray(value)) {
    for (const v of value) {
      await rewriteReferences(router, v, map, q, cache, access);
    }
    return;
  }
  if (!value || typeof value !== 'object') {
    return;
  }
  const obj = value as Record<string, unknown>;
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'reference' && typeof v === 'string') {
      const mapped = map.get(v);
      if (mapped) {
        obj[k] = mapped;
      } else if (v.includes('?') && isResourceType(v.slice(0, v.indexOf('?')))) {
        obj[k] = await resolveConditional(router, v, q, cache, access);
      } else if (v.startsWith('urn:uuid:') || v.startsWith('urn:oid:')) {
        throw outcomes.badRequest(`Reference '${v}' does not match any fullUrl in the Bundle`);
      }
    } else if (k !== 'contained' && v && typeof v === 'object') {
      await rewriteReferences(router, v, map, q, cache, access);
    } else if (k === 'contained') {
      await rewriteReferences(router, v, map, q, cache, access);
    }
  }
}

async function resolveConditional(
  router: FhirRouter,
  ref: string,
  q: Queryable | undefined,
  cache: Map<string, string>,
  access?: AccessContext,
): Promise<string> {
  const hit = cache.get(ref);
  if (hit) {
    return hit;
  }
  const type = ref.slice(0, ref.indexOf('?'));
  const query = ref.slice(ref.indexOf('?') + 1);
  const found = await router.store.searchIds(type, query, q, 2, access?.policy);
  if (found.length === 0) {
    throw outcomes.notFound(`Conditional reference '${ref}' matched no resource`);
  }
  if (found.length > 1) {
    throw outcomes.multipleMatches(`Conditional reference '${ref}' matched more than one resource`);
  }
  const out = `${type}/${found[0].id}`;
  cache.set(ref, out);
  return out;
}

/**
 * Batch: each entry on its own, errors reported per entry. Transaction: all entries in one database
 * transaction — all succeed or nothing changes; `urn:uuid:` fullUrls and conditional references
 * (`Practitioner?identifier=…`) are resolved; `ifNoneExist` creates are honoured.
 */
export async function processBundle(
  router: FhirRouter,
  bundle: Bundle,
  prefer: string | undefined,
  access?: AccessContext,
): Promise<Bundle> {
  if (bundle.resourceType !== 'Bundle') {
    throw outcomes.badRequest('POST to the base URL takes a Bundle');
  }
  if (bundle.type !== 'batch' && bundle.type !== 'transaction') {
    throw outcomes.badRequest(`Bundle type must be batch or transaction, got '${bundle.type}'`, ['Bundle.type']);
  }
  const entries = bundle.entry ?? [];
  if (entries.length > MAX_ENTRIES) {
    throw outcomes.tooLarge(`A Bundle may hold at most ${MAX_ENTRIES} entries`);
  }
  // Every entry needs a request (bdl-3): a Bundle without one is refused whole, batch or transaction.
  for (let i = 0; i < entries.length; i++) {
    entryRequest(entries[i], i, router.options.baseUrl);
  }
  if (bundle.type === 'batch') {
    return processBatch(router, entries, prefer, access);
  }
  return processTransaction(router, entries, prefer, access);
}

async function processBatch(
  router: FhirRouter,
  entries: BundleEntry[],
  prefer: string | undefined,
  access?: AccessContext,
): Promise<Bundle> {
  const out: BundleEntry[] = [];
  const cache = new Map<string, string>();
  for (let i = 0; i < entries.length; i++) {
    try {
      const req = entryRequest(entries[i], i, router.options.baseUrl);
      req.access = access;
      if (req.body) {
        req.body = structuredClone(req.body);
        await rewriteReferences(router, req.body, new Map(), undefined, cache, access);
      }
      out.push(responseEntry(await router.handle(req), prefer));
    } catch (err) {
      out.push(errorEntry(err));
    }
  }
  return { resourceType: 'Bundle', type: 'batch-response', entry: out };
}

async function processTransaction(
  router: FhirRouter,
  entries: BundleEntry[],
  prefer: string | undefined,
  access?: AccessContext,
): Promise<Bundle> {
  const reqs = entries.map((e, i) => ({
    index: i,
    entry: e,
    req: { ...entryRequest(e, i, router.options.baseUrl), access },
  }));
  // Ids for new resources are chosen up front, so every reference can be rewritten before any write.
  const map = new Map<string, string>();
  const seenFullUrls = new Set<string>();
  for (const r of reqs) {
    const fullUrl = r.entry.fullUrl;
    if (fullUrl) {
      if (seenFullUrls.has(fullUrl)) {
        throw outcomes.badRequest(`Duplicate fullUrl '${fullUrl}' in transaction`, [
          `Bundle.entry[${r.index}].fullUrl`,
        ]);
      }
      seenFullUrls.add(fullUrl);
    }
    if (r.req.method === 'POST' && r.req.query.length === 0 && r.req.path.split('/').length === 1) {
      if (r.req.body && typeof r.req.body === 'object') {
        r.req.body = { ...(r.req.body as object), id: undefined };
      }
      (r as { newId?: string }).newId = randomUUID();
      if (fullUrl) {
        map.set(fullUrl, `${r.req.path}/${(r as { newId?: string }).newId}`);
      }
    } else if (r.req.method === 'PUT' && fullUrl && r.req.query.length === 0) {
      map.set(fullUrl, r.req.path);
    }
  }
  const order = [...reqs].sort(
    (a, b) => (METHOD_ORDER[a.req.method] ?? 9) - (METHOD_ORDER[b.req.method] ?? 9) || a.index - b.index,
  );
  const results: BundleEntry[] = new Array(entries.length);
  await router.store.transaction(async (tx) => {
    const cache = new Map<string, string>();
    // conditional creates: an existing match takes the place of the new id. Looked up once the DELETEs are
    // done (they come first in processing order) and before any other entry has its references rewritten.
    const resolveConditionalCreates = async (): Promise<void> => {
      const firstByCriteria = new Map<string, string>();
      for (const r of order) {
        // conditional update whose fullUrl others refer to: resolve (or choose) its id now
        if (r.req.method === 'PUT' && r.req.query.length > 0 && r.entry.fullUrl && !map.has(r.entry.fullUrl)) {
          const type = r.req.path;
          const query = new URLSearchParams(r.req.query).toString();
          await router.store.lockKey(`${type}?${query}`, tx);
          const found = await router.store.searchIds(type, query, tx, 2, access?.policy);
          if (found.length === 1) {
            map.set(r.entry.fullUrl, `${type}/${found[0].id}`);
          } else if (
            found.length === 0 &&
            r.req.body &&
            typeof r.req.body === 'object' &&
            !(r.req.body as { id?: string }).id
          ) {
            const id = randomUUID();
            r.req.body = { ...(r.req.body as object), id };
            map.set(r.entry.fullUrl, `${type}/${id}`);
          }
        }
        if (r.req.method === 'POST' && r.req.ifNoneExist) {
          const type = r.req.path;
          const key = `${type}?${r.req.ifNoneExist}`;
          const earlier = firstByCriteria.get(key);
          if (earlier) {
            // the same criteria twice in one bundle: the second entry is the resource the first creates
            (r as { existing?: string }).existing = earlier;
            if (r.entry.fullUrl) {
              map.set(r.entry.fullUrl, `${type}/${earlier}`);
            }
            continue;
          }
          await router.store.lockKey(`${type}?${r.req.ifNoneExist}`, tx);
          const found = await router.store.searchIds(type, r.req.ifNoneExist, tx, 2, access?.policy);
          if (found.length > 1) {
            throw new OutcomeError(
              412,
              outcome('error', 'multiple-matches', `Entry ${r.index}: ifNoneExist matched more than one ${type}`, [
                `Bundle.entry[${r.index}].request.ifNoneExist`,
              ]),
            );
          }
          if (found.length === 1) {
            (r as { existing?: string }).existing = found[0].id;
            firstByCriteria.set(key, found[0].id);
            if (r.entry.fullUrl) {
              map.set(r.entry.fullUrl, `${type}/${found[0].id}`);
            }
          } else {
            firstByCriteria.set(key, (r as { newId?: string }).newId as string);
          }
        }
      }
    };
    let conditionalCreatesResolved = false;
    for (const r of order) {
      if (!conditionalCreatesResolved && r.req.method !== 'DELETE') {
        await resolveConditionalCreates();
        conditionalCreatesResolved = true;
      }
      try {
        if (r.req.body) {
          r.req.body = structuredClone(r.req.body);
          await rewriteReferences(router, r.req.body, map, tx, cache, access);
        }
        const existing = (r as { existing?: string }).existing;
        const newId = (r as { newId?: string }).newId;
        let res: FhirResponse;
        if (existing) {
          await router.guardExisting(r.req, 'read', r.req.path, existing, tx);
          const s = await router.store.read(r.req.path, existing, tx);
          res = {
            status: 200,
            body: s.content,
            location: `${s.type}/${s.id}/_history/${s.version}`,
            etag: `W/"${s.version}"`,
            lastModified: s.lastUpdated,
          };
        } else if (newId) {
          router.guardNew(r.req, 'create', r.req.body as Resource);
          const w = await router.store.create(r.req.body as Resource, tx, newId);
          res = {
            status: 201,
            body: w.stored.content,
            location: `${w.stored.type}/${w.stored.id}/_history/1`,
            etag: 'W/"1"',
            lastModified: w.stored.lastUpdated,
          };
        } else {
          res = await router.handle({ ...r.req, ifNoneExist: undefined }, tx);
        }
        results[r.index] = responseEntry(res, prefer);
      } catch (err) {
        if (isOutcomeError(err)) {
          const issue = err.outcome.issue?.[0];
          if (issue) {
            issue.diagnostics = `Bundle.entry[${r.index}]: ${issue.diagnostics ?? issue.details?.text ?? ''}`;
            issue.expression = (issue.expression ?? [`Bundle.entry[${r.index}]`]).map((e) =>
              e.startsWith('Bundle') ? e : `Bundle.entry[${r.index}].resource.${e.replace(/^[A-Z][A-Za-z]+\./, '')}`,
            );
          }
        }
        throw err;
      }
    }
  });
  return { resourceType: 'Bundle', type: 'transaction-response', entry: results };
}

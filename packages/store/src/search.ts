import type { Queryable } from '@sen/db';
import type { Resource } from '@medplum/fhirtypes';
import {
  getPatientCompartmentParams,
  getSearchParams,
  type IncludeSpec,
  outcomes,
  parseReference,
  parseSearchRequest,
  type SearchRequest,
} from '@sen/fhir';
import { type AccessPolicy, accessCondition } from './access.ts';
import { compileCriterion, sortExpression } from './search-sql.ts';
import { SqlParams } from './sql.ts';
import type { FhirStore } from './store.ts';

export interface SearchRow {
  rid: string;
  type: string;
  id: string;
  version: number;
  content: string;
}

export interface SearchResult {
  rows: SearchRow[];
  /** Resources added by _include / _revinclude. */
  included: SearchRow[];
  total?: number;
  /** An opaque cursor for the next page, when there is one. */
  next?: string;
}

interface Cursor {
  /** Sort values of the last row of the page, then its rid. */
  v: (string | null)[];
  r: string;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(s: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Cursor;
    if (!Array.isArray(c.v) || typeof c.r !== 'string' || !/^\d+$/.test(c.r)) {
      throw new Error('bad cursor');
    }
    return c;
  } catch {
    throw outcomes.badRequest('Invalid or expired paging cursor (_cursor)');
  }
}

/** WHERE clause of a search over alias r. */
function whereClause(
  store: FhirStore,
  req: SearchRequest,
  P: SqlParams,
  correlated = false,
  access?: AccessPolicy,
): string {
  const conds = [`r.type = ${P.add(req.resourceType)}`, 'NOT r.deleted'];
  for (const c of req.criteria) {
    conds.push(
      `(${compileCriterion(c, 'r', req.resourceType, { params: P, base: store.baseUrl, correlated, access })})`,
    );
  }
  if (access) {
    conds.push(`(${accessCondition(access, req.resourceType, 'r', P)})`);
  }
  return conds.join(' AND ');
}

/**
 * Finds the matching resources of a search: filtered and sorted in SQL, paged by keyset cursor, so
 * a `next` link stays correct while data changes (rows inserted or deleted before the cursor do not
 * shift the pages after it).
 */
export async function searchRows(
  store: FhirStore,
  req: SearchRequest,
  q: Queryable = store.db,
  access?: AccessPolicy,
): Promise<SearchResult> {
  const P = new SqlParams();
  // A patient's resources sorted by their clinical date: drive the query from the compartment index,
  // which holds the member's date range, so the first page is an ordered index scan that stops early.
  // The same holds without _sort: a patient's resources of one type in insertion (rid) order.
  const byDate = req.sort.length > 0 && req.sort[0].code === 'date' && req.sort[0].param?.type === 'date';
  const patientId = byDate || req.sort.length === 0 ? compartmentPatient(req) : undefined;
  // On that path each criterion is a per-row lookup, so the ordered scan can stop after one page.
  const where = whereClause(store, req, P, patientId !== undefined, access);
  // (the compartment's date column replaces the first key's expression: build it without binding parameters
  // that the SQL would then not use — PostgreSQL cannot type an unreferenced $n)
  const sorts = req.sort.map((k, i) =>
    patientId && byDate && i === 0
      ? { key: k, expr: k.desc ? 'c.date_hi' : 'c.date_lo', cast: 'timestamptz' }
      : { key: k, ...sortExpression(k, 'r', P) },
  );
  let from = 'resource r';
  let ridCol = 'r.rid';
  if (patientId) {
    from = `compartment c JOIN resource r ON r.rid = c.rid AND c.ctype = 'Patient' AND c.cid = ${P.add(patientId)} AND c.rtype = ${P.add(req.resourceType)}`;
    ridCol = 'c.rid';
  }
  const orderBy = [...sorts.map((s) => `${s.expr} ${s.key.desc ? 'DESC' : 'ASC'}`), `${ridCol} ASC`].join(', ');
  let cursorCond = '';
  if (req.cursor) {
    const cur = decodeCursor(req.cursor);
    if (cur.v.length !== sorts.length) {
      throw outcomes.badRequest('The paging cursor does not belong to this search');
    }
    // (k1, k2, …, rid) strictly after the cursor, honouring each key's direction
    const ors: string[] = [];
    for (let i = 0; i <= sorts.length; i++) {
      const eqs: string[] = [];
      for (let j = 0; j < i; j++) {
        eqs.push(`${sorts[j].expr} = ${P.add(cur.v[j])}::${sorts[j].cast}`);
      }
      if (i < sorts.length) {
        const op = sorts[i].key.desc ? '<' : '>';
        eqs.push(`${sorts[i].expr} ${op} ${P.add(cur.v[i])}::${sorts[i].cast}`);
      } else {
        eqs.push(`${ridCol} > ${P.add(cur.r)}::bigint`);
      }
      ors.push(`(${eqs.join(' AND ')})`);
    }
    cursorCond = ` AND (${ors.join(' OR ')})`;
  }
  const sortCols = sorts.map((s, i) => `, (${s.expr})::text AS s${i}`).join('');
  const limit = req.count + 1;
  const offset = req.offset && !req.cursor ? ` OFFSET ${req.offset}` : '';
  let rows: (SearchRow & Record<string, unknown>)[] = [];
  if (req.count > 0 && req.summary !== 'count') {
    const res = await q.query<SearchRow & Record<string, unknown>>(
      `SELECT r.rid::text AS rid, r.type, r.id, r.version, r.content${sortCols} FROM ${from} WHERE ${where}${cursorCond} ORDER BY ${orderBy} LIMIT ${limit}${offset}`,
      P.values,
    );
    rows = res.rows;
  }
  const hasMore = rows.length > req.count;
  const page = hasMore ? rows.slice(0, req.count) : rows;
  let next: string | undefined;
  if (hasMore) {
    const last = page[page.length - 1];
    next = encodeCursor({ v: sorts.map((_, i) => (last[`s${i}`] as string | null) ?? null), r: last.rid });
  }
  let total: number | undefined;
  if (req.total === 'accurate' || req.total === 'estimate' || req.summary === 'count') {
    const P2 = new SqlParams();
    const w2 = whereClause(store, req, P2, false, access);
    const c = await q.query<{ n: string }>(`SELECT count(*)::text AS n FROM resource r WHERE ${w2}`, P2.values);
    total = Number(c.rows[0]?.n ?? 0);
  } else if (req.total === 'default' && !hasMore && !req.cursor && !req.offset && req.count > 0) {
    total = page.length;
  }
  const out: SearchRow[] = page.map((r) => ({
    rid: r.rid,
    type: r.type,
    id: r.id,
    version: Number(r.version),
    content: r.content,
  }));
  const included =
    req.include.length > 0 || req.revinclude.length > 0 ? await loadIncludes(store, req, out, q, access) : [];
  return { rows: out, included, total, next };
}

/**
 * The patient whose compartment holds every match: a `compartment` criterion, or a single-valued reference
 * criterion to Patient/{id} through one of the type's Patient-compartment parameters.
 */
function compartmentPatient(req: SearchRequest): string | undefined {
  const params = getPatientCompartmentParams().get(req.resourceType);
  for (const c of req.criteria) {
    if (c.kind === 'compartment' && c.compartmentType === 'Patient') {
      return c.compartmentId;
    }
    if (
      c.kind !== 'param' ||
      c.param.type !== 'reference' ||
      c.values.length !== 1 ||
      !params?.includes(c.param.code)
    ) {
      continue;
    }
    if (c.modifier && c.modifier !== 'Patient') {
      continue;
    }
    const v = c.values[0];
    if (/^[a-z][a-z0-9+.-]*:/i.test(v)) {
      continue; // an absolute URL (maybe another server's patient): no compartment shortcut
    }
    const ref = parseReference(v);
    if (ref?.type === 'Patient') {
      return ref.id;
    }
    if (
      !ref &&
      !v.includes('/') &&
      (c.modifier === 'Patient' || (c.param.targets.length === 1 && c.param.targets[0] === 'Patient'))
    ) {
      return v;
    }
  }
  return undefined;
}

async function loadIncludes(
  store: FhirStore,
  req: SearchRequest,
  page: SearchRow[],
  q: Queryable,
  access?: AccessPolicy,
): Promise<SearchRow[]> {
  const seen = new Set(page.map((r) => r.rid));
  const included: SearchRow[] = [];
  let frontier = page;
  // First round uses every spec; :iterate specs keep running over what was just added (bounded).
  for (let round = 0; round < 4 && frontier.length > 0; round++) {
    const specsInc = round === 0 ? req.include : req.include.filter((s) => s.iterate);
    const specsRev = round === 0 ? req.revinclude : req.revinclude.filter((s) => s.iterate);
    const added: SearchRow[] = [];
    for (const spec of specsInc) {
      for (const row of await visibleOnly(await includeTargets(spec, frontier, q), q, access)) {
        if (!seen.has(row.rid)) {
          seen.add(row.rid);
          added.push(row);
        }
      }
    }
    for (const spec of specsRev) {
      for (const row of await visibleOnly(await revIncludeSources(spec, frontier, q), q, access)) {
        if (!seen.has(row.rid)) {
          seen.add(row.rid);
          added.push(row);
        }
      }
    }
    included.push(...added);
    frontier = added;
    if (included.length > 5000) {
      throw outcomes.tooLarge('_include/_revinclude selected more than 5000 resources; narrow the search');
    }
  }
  void store;
  return included;
}

async function includeTargets(spec: IncludeSpec, sources: SearchRow[], q: Queryable): Promise<SearchRow[]> {
  const P = new SqlParams();
  const rids = sources.filter((s) => spec.sourceType === '*' || s.type === spec.sourceType).map((s) => s.rid);
  if (rids.length === 0) {
    return [];
  }
  let codeCond = '';
  if (spec.code !== '*') {
    codeCond = ` AND ref.code = ${P.add(spec.code)}`;
  } else {
    const refCodes = [...getSearchParams(spec.sourceType).values()]
      .filter((p) => p.type === 'reference')
      .map((p) => p.code);
    codeCond = ` AND ref.code = ANY(${P.add(refCodes)}::text[])`;
  }
  const typeCond = spec.targetType ? ` AND ref.target_type = ${P.add(spec.targetType)}` : '';
  const { rows } = await q.query<SearchRow>(
    `SELECT t.rid::text AS rid, t.type, t.id, t.version, t.content FROM resource t
      WHERE NOT t.deleted AND (t.type, t.id) IN (
        SELECT ref.target_type, ref.target_id FROM idx_reference ref
         WHERE ref.rid = ANY(${P.add(rids)}::bigint[])${codeCond}${typeCond} AND ref.target_id IS NOT NULL)`,
    P.values,
  );
  return rows.map((r) => ({ ...r, version: Number(r.version) }));
}

async function revIncludeSources(spec: IncludeSpec, targets: SearchRow[], q: Queryable): Promise<SearchRow[]> {
  if (targets.length === 0) {
    return [];
  }
  const P = new SqlParams();
  const types = targets.map((t) => t.type);
  const ids = targets.map((t) => t.id);
  const codeCond = spec.code === '*' ? '' : ` AND ref.code = ${P.add(spec.code)}`;
  const { rows } = await q.query<SearchRow>(
    `SELECT s.rid::text AS rid, s.type, s.id, s.version, s.content FROM resource s
      WHERE NOT s.deleted${spec.sourceType === '*' ? '' : ` AND s.type = ${P.add(spec.sourceType)}`} AND s.rid IN (
        SELECT ref.rid FROM idx_reference ref
          JOIN unnest(${P.add(types)}::text[], ${P.add(ids)}::text[]) AS tg(t, i) ON ref.target_type = tg.t AND ref.target_id = tg.i
         WHERE true${codeCond})`,
    P.values,
  );
  return rows.map((r) => ({ ...r, version: Number(r.version) }));
}

/** Keeps only the rows the access policy lets the caller see (for included resources of any type). */
export async function visibleOnly<T extends { rid: string; type: string }>(
  rows: T[],
  q: Queryable,
  access?: AccessPolicy,
): Promise<T[]> {
  if (!access || rows.length === 0) {
    return rows;
  }
  const byType = new Map<string, T[]>();
  for (const r of rows) {
    const list = byType.get(r.type);
    if (list) {
      list.push(r);
    } else {
      byType.set(r.type, [r]);
    }
  }
  const keep = new Set<string>();
  for (const [type, list] of byType) {
    const f = access(type);
    if (f === 'deny') {
      continue;
    }
    if (!f) {
      for (const r of list) {
        keep.add(r.rid);
      }
      continue;
    }
    const P = new SqlParams();
    const ids = P.add(list.map((r) => r.rid));
    const cond = accessCondition(access, type, 'r', P);
    const res = await q.query<{ rid: string }>(
      `SELECT r.rid::text AS rid FROM resource r WHERE r.rid = ANY(${ids}::bigint[]) AND ${cond}`,
      P.values,
    );
    for (const r of res.rows) {
      keep.add(r.rid);
    }
  }
  return rows.filter((r) => keep.has(r.rid));
}

/**
 * The resources of a server-side search, parsed (the first `limit`, default 1000): a capability reading what belongs
 * to one visit or patient, after it has asked the gate about that visit or patient. Not for paging a user's search.
 */
export async function searchResources<T extends Resource>(
  store: FhirStore,
  type: T['resourceType'] | string,
  query: readonly [string, string][],
  q: Queryable = store.db,
  limit = 1000,
): Promise<T[]> {
  const res = await searchRows(store, parseSearchRequest(type, [...query, ['_count', String(limit)]]), q);
  return res.rows.map((r) => JSON.parse(r.content) as T);
}

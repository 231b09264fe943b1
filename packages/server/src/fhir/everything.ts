import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { outcomes } from '@sen/fhir';
import { type AccessPolicy, visibleOnly } from '@sen/store';
import { type FhirRouter, RAW } from './router.ts';

/**
 * Patient/{id}/$everything: the patient, every resource in the patient's compartment (an index
 * lookup: the compartment is materialised on write), and the resources they refer to.
 * Supports _since, _type and _count with a keyset `next` link.
 */
export async function everything(
  router: FhirRouter,
  id: string,
  query: [string, string][],
  access?: AccessPolicy,
): Promise<Bundle> {
  const get = (k: string): string | undefined => query.find(([key]) => key === k)?.[1];
  const patient = await router.store.read('Patient', id);
  const count = Math.min(Number(get('_count') ?? 1000), 5000);
  if (!Number.isInteger(count) || count < 1) {
    throw outcomes.badRequest('_count must be a positive integer');
  }
  const since = get('_since');
  if (since && Number.isNaN(Date.parse(since))) {
    throw outcomes.badRequest(`_since must be an instant, got '${since}'`);
  }
  const types = get('_type')
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const cursor = get('_cursor');
  if (cursor && !/^\d+$/.test(cursor)) {
    throw outcomes.badRequest('Invalid cursor');
  }
  const params: unknown[] = [id];
  let cond = '';
  if (since) {
    params.push(since);
    cond += ` AND r.last_updated >= $${params.length}::timestamptz`;
  }
  if (types && types.length > 0) {
    params.push(types);
    cond += ` AND r.type = ANY($${params.length}::text[])`;
  }
  if (cursor) {
    params.push(cursor);
    cond += ` AND r.rid > $${params.length}::bigint`;
  }
  const { rows } = await router.store.db.query<{ rid: string; type: string; id: string; content: string }>(
    `SELECT r.rid::text AS rid, r.type, r.id, r.content FROM resource r
      WHERE r.rid IN (SELECT rid FROM compartment WHERE ctype = 'Patient' AND cid = $1) AND NOT r.deleted${cond}
      ORDER BY r.rid LIMIT ${count + 1}`,
    params,
  );
  // the gate's filter (sensitivity labels, types this account may not read) applies to every entry
  const page = await visibleOnly(rows.slice(0, count), router.store.db, access);
  const base = router.options.baseUrl;
  const entries: BundleEntry[] = [];
  const seen = new Set<string>();
  const add = (type: string, resourceId: string, content: string, mode: 'match' | 'include'): void => {
    const key = `${type}/${resourceId}`;
    if (!seen.has(key)) {
      seen.add(key);
      entries.push({ fullUrl: `${base}/${key}`, resource: RAW(content) as unknown as Resource, search: { mode } });
    }
  };
  if (!cursor && (!types || types.includes('Patient'))) {
    add('Patient', id, patient.content as string, 'match');
  }
  for (const r of page) {
    add(r.type, r.id, r.content, 'match');
  }
  // referenced resources outside the compartment (practitioners, organisations, medications, …)
  // (with _type, only those of the listed types)
  if (page.length > 0 && (!types || types.some((t) => t !== 'Patient'))) {
    const refs = await router.store.db.query<{ rid: string; type: string; id: string; content: string }>(
      `SELECT t.rid::text AS rid, t.type, t.id, t.content FROM resource t
        WHERE NOT t.deleted AND t.type <> 'Patient'${types ? ' AND t.type = ANY($2::text[])' : ''} AND (t.type, t.id) IN (
          SELECT ref.target_type, ref.target_id FROM idx_reference ref WHERE ref.rid = ANY($1::bigint[]) AND ref.target_id IS NOT NULL)`,
      types ? [page.map((r) => r.rid), types] : [page.map((r) => r.rid)],
    );
    for (const r of await visibleOnly(refs.rows, router.store.db, access)) {
      add(r.type, r.id, r.content, 'include');
    }
  }
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    link: [
      {
        relation: 'self',
        url: `${base}/Patient/${id}/$everything${query.length ? `?${new URLSearchParams(query)}` : ''}`,
      },
    ],
    entry: entries,
  };
  if (rows.length > count) {
    const keep = query.filter(([k]) => k !== '_cursor');
    bundle.link?.push({
      relation: 'next',
      url: `${base}/Patient/${id}/$everything?${new URLSearchParams([...keep, ['_cursor', rows[count - 1].rid]])}`,
    });
  } else if (!cursor) {
    bundle.total = entries.filter((e) => e.search?.mode === 'match').length;
  }
  return bundle;
}

import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import { loadAdminUnitCatalogs, loadDemoCatalogs } from '../capabilities/terminology/demo.ts';
import { processBundle } from '../fhir/bundle.ts';
import type { FhirRouter } from '../fhir/router.ts';
import { loadAdminUnits } from './admin-units.ts';
import { buildDemoBundle } from './demo-data.ts';
import { seedDemoQueues } from './demo-queues.ts';
import { seedDemoSchedules } from './demo-schedules.ts';
import { seedDemoStock } from './demo-stock.ts';

export interface SeedOptions {
  sharedDir: string;
  patients?: number;
  /** Also load the demo catalogs and the administrative units as terminology (default true; idempotent). */
  catalogs?: boolean;
}

/**
 * Loads the demo facility, staff and synthetic patients once. Idempotent: resources that already exist
 * (same fixed id) are left untouched, so restarting never adds versions or duplicates.
 */
export async function seedDemo(
  router: FhirRouter,
  options: SeedOptions,
): Promise<{ created: number; skipped: number }> {
  const adminUnits = loadAdminUnits(options.sharedDir);
  if (options.catalogs ?? true) {
    await loadDemoCatalogs(router.store);
    await loadAdminUnitCatalogs(router.store, adminUnits, options.sharedDir);
  }
  const bundle = buildDemoBundle({ adminUnits, patients: options.patients });
  const entries = bundle.entry ?? [];
  const missing: BundleEntry[] = [];
  const ids = new Map<string, string[]>();
  for (const e of entries) {
    const [type, id] = (e.request?.url ?? '').split('/');
    if (type && id) {
      ids.set(type, [...(ids.get(type) ?? []), id]);
    }
  }
  const existing = new Set<string>();
  for (const [type, list] of ids) {
    const { rows } = await router.store.db.query<{ id: string }>(
      'SELECT id FROM resource WHERE type = $1 AND id = ANY($2::text[])',
      [type, list],
    );
    for (const r of rows) {
      existing.add(`${type}/${r.id}`);
    }
  }
  for (const e of entries) {
    if (!existing.has(e.request?.url ?? '')) {
      missing.push(e);
    }
  }
  if (missing.length === 0) {
    await seedDemoQueues(router); // today's waiting patients (once a day per room)
    await seedDemoSchedules(router); // bookable clinic hours of the next working days (portal booking)
    await seedDemoStock(router.store.db); // the pharmacy's lots (once)
    return { created: 0, skipped: entries.length };
  }
  // References to resources already stored are plain `Type/id` after the PUT urls, so rewrite fullUrls of
  // skipped entries to their ids before sending only the missing ones.
  const alias = new Map<string, string>();
  for (const e of entries) {
    if (e.fullUrl && e.request?.url) {
      alias.set(e.fullUrl, e.request.url);
    }
  }
  const rewrite = (v: unknown): unknown => {
    if (Array.isArray(v)) {
      return v.map(rewrite);
    }
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        out[k] = k === 'reference' && typeof x === 'string' && alias.has(x) ? alias.get(x) : rewrite(x);
      }
      return out;
    }
    return v;
  };
  const tx: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: missing.map((e) => rewrite(e) as BundleEntry),
  };
  await processBundle(router, tx, 'return=minimal');
  await seedDemoQueues(router);
  await seedDemoSchedules(router);
  await seedDemoStock(router.store.db);
  return { created: missing.length, skipped: entries.length - missing.length };
}

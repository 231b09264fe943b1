/**
 * The DEMO catalogs shipped with Sen: small subsets written for the demo and the tests (common ICD-10 diagnoses,
 * common drugs, common lab tests, a service price list, the 54 ethnic groups). They are NOT the national lists: codes of drugs, services
 * and lab indicators are placeholders (DEMO-…, 99…), prices and registration numbers are invented. The full lists
 * come in through `npm run catalog -- import <kind> <file>`. Administrative units come from the shared reference data.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FhirStore } from '@sen/store';
import type { AdminUnits } from '../../seed/admin-units.ts';
import { parseCsvText, readCatalogFile } from './files.ts';
import { formatReport, type ImportReport, importCatalog } from './importer.ts';

const DEMO_DIR = fileURLToPath(new URL('./demo/', import.meta.url));

/** The demo files, their kind and validity. */
export const DEMO_CATALOGS = [
  { kind: 'icd10', file: 'icd10.demo.csv', validFrom: '2026-07-01' },
  { kind: 'drugs', file: 'drugs.demo.csv', validFrom: '2026-01-01' },
  { kind: 'lab-indicators', file: 'lab.demo.csv', validFrom: '2025-04-11' },
  { kind: 'services', file: 'services.demo.csv', validFrom: '2026-01-01' },
  // the 54 ethnic groups in the order and numbering of the GSO list (Quyết định 121-TCTK/PPCĐ, 1979), written
  // from that list for Sen: check against the list your BHXH gateway uses before relying on the codes
  { kind: 'ethnicities', file: 'ethnicities.demo.csv', validFrom: '1979-03-02' },
] as const;

export function demoFile(name: string): string {
  return join(DEMO_DIR, name);
}

/** Loads the demo catalogs (idempotent: unchanged files add no version). */
export async function loadDemoCatalogs(store: FhirStore): Promise<ImportReport[]> {
  const out: ImportReport[] = [];
  for (const c of DEMO_CATALOGS) {
    const table = parseCsvText(await readFile(demoFile(c.file), 'utf8'));
    const r = await importCatalog(store, c.kind, table, {
      validFrom: c.validFrom,
      version: `demo-${c.validFrom}`,
      demo: true,
    });
    if (r.status === 'rejected') {
      throw new Error(`demo catalog ${c.file} was rejected:\n${formatReport(r).join('\n')}`);
    }
    out.push(r);
  }
  return out;
}

/** The two-level units as importer records (provinces, then their communes). */
export function adminUnitRecords(units: AdminUnits): Record<string, unknown>[] {
  const records: Record<string, unknown>[] = [];
  for (const p of units.provinces) {
    records.push({ code: p.code, name: p.name });
    for (const w of p.wards) {
      records.push({ code: w.code, name: w.name, province: p.code });
    }
  }
  return records;
}

/** Path of the old→new mapping inside the shared folder. */
export const ADMIN_UNITS_SPLITS_FILE = join('data', 'vn', 'admin-units', 'dvhcvn-20250701', 'splits.old-to-new.json');

/**
 * Imports the current administrative units (the shared list, or the built-in excerpt) and, when the shared folder
 * has it, the pre-reform units with the old→new mapping.
 */
export async function loadAdminUnitCatalogs(
  store: FhirStore,
  units: AdminUnits,
  sharedDir: string,
  options: { mapping?: boolean } = {},
): Promise<ImportReport[]> {
  const out = [
    await importCatalog(
      store,
      'admin-units',
      { records: adminUnitRecords(units), firstRow: 1 },
      { validFrom: '2025-07-01', version: units.source === 'shared' ? '2025-07-01' : '2025-07-01-excerpt' },
    ),
  ];
  const splits = join(sharedDir, ADMIN_UNITS_SPLITS_FILE);
  if ((options.mapping ?? true) && existsSync(splits)) {
    out.push(
      await importCatalog(store, 'admin-units-old', await readCatalogFile(splits), {
        validTo: '2025-06-30',
        version: '2025-06-30',
      }),
    );
  }
  return out;
}

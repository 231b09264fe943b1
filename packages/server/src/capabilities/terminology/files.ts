/**
 * Reads a catalog file into plain records (header → cell): CSV (csv-parse), XLSX (read-excel-file, first sheet or
 * the one named) and JSON (an array of objects, `{ rows | data: [...] }`, or the two administrative-unit layouts of
 * the shared reference data). Records keep the file's own headers; columns.ts matches them.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { readSheet } from 'read-excel-file/node';

export type FileFormat = 'csv' | 'xlsx' | 'json';

export interface CatalogTable {
  records: Record<string, unknown>[];
  /** Row number of the first record (CSV/XLSX: 2, after the header; JSON: 1). */
  firstRow: number;
}

export function formatOf(path: string): FileFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv' || ext === '.tsv' || ext === '.txt') {
    return 'csv';
  }
  if (ext === '.xlsx') {
    return 'xlsx';
  }
  if (ext === '.json') {
    return 'json';
  }
  throw new Error(`Unknown file type '${ext}': use .csv, .xlsx or .json`);
}

export function parseCsvText(text: string): CatalogTable {
  const clean = text.replace(/^\uFEFF/, '');
  const firstLine = clean.split(/\r?\n/, 1)[0] ?? '';
  const delimiter = firstLine.includes('\t')
    ? '\t'
    : firstLine.split(';').length > firstLine.split(',').length
      ? ';'
      : ',';
  const records = parseCsv(clean, {
    columns: true,
    delimiter,
    skip_empty_lines: true,
    trim: true,
    relax_column_count: true,
  }) as Record<string, string>[];
  return { records, firstRow: 2 };
}

export async function parseXlsx(data: Buffer, sheet?: string): Promise<CatalogTable> {
  const rows = (await (sheet ? readSheet(data, sheet) : readSheet(data))) as unknown[][];
  const [header, ...body] = rows;
  if (!header) {
    return { records: [], firstRow: 2 };
  }
  const names = header.map((h) => (h === null || h === undefined ? '' : String(h).trim()));
  const records: Record<string, unknown>[] = [];
  for (const r of body) {
    if (r.every((c) => c === null || c === undefined || c === '')) {
      continue;
    }
    const rec: Record<string, unknown> = {};
    names.forEach((n, i) => {
      if (n && r[i] !== null && r[i] !== undefined) {
        rec[n] = r[i];
      }
    });
    records.push(rec);
  }
  return { records, firstRow: 2 };
}

interface UnitsProvince {
  Code?: unknown;
  FullName?: unknown;
  Wards?: { Code?: unknown; FullName?: unknown }[];
}

interface SplitsFile {
  data?: {
    level1_id?: string;
    name?: string;
    splits?: { new_id?: string; name?: string }[];
    level3s?: { level3_id?: string; name?: string; splits?: { new_id?: string; name?: string }[] }[];
  }[];
}

/** JSON catalogs: plain arrays, `{rows}` / `{data}`, the thanglequoc provinces-with-wards list, the dvhcvn splits. */
export function parseJsonText(text: string): CatalogTable {
  const raw = JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
  if (Array.isArray(raw) && raw.length > 0 && typeof raw[0] === 'object' && raw[0] && 'Wards' in raw[0]) {
    const records: Record<string, unknown>[] = [];
    for (const p of raw as UnitsProvince[]) {
      records.push({ code: p.Code, name: p.FullName });
      for (const w of p.Wards ?? []) {
        records.push({ code: w.Code, name: w.FullName, province: p.Code });
      }
    }
    return { records, firstRow: 1 };
  }
  const splits = raw as SplitsFile;
  if (splits && !Array.isArray(raw) && Array.isArray(splits.data) && splits.data[0]?.level3s) {
    const records: Record<string, unknown>[] = [];
    for (const p of splits.data) {
      for (const s of p.splits ?? []) {
        records.push({ old_code: p.level1_id, old_name: p.name, new_code: s.new_id, new_name: s.name });
      }
      for (const c of p.level3s ?? []) {
        for (const s of c.splits ?? []) {
          records.push({
            old_code: c.level3_id,
            old_name: c.name,
            old_province: p.level1_id,
            new_code: s.new_id,
            new_name: s.name,
          });
        }
      }
    }
    return { records, firstRow: 1 };
  }
  const list = Array.isArray(raw)
    ? raw
    : ((raw as { rows?: unknown[]; data?: unknown[] }).rows ?? (raw as { data?: unknown[] }).data);
  if (!Array.isArray(list) || list.some((r) => !r || typeof r !== 'object' || Array.isArray(r))) {
    throw new Error('A JSON catalog is an array of objects (or { "rows": [...] })');
  }
  return { records: list as Record<string, unknown>[], firstRow: 1 };
}

/** Reads and parses a catalog file by its extension. */
export async function readCatalogFile(path: string, options: { sheet?: string } = {}): Promise<CatalogTable> {
  const format = formatOf(path);
  if (format === 'xlsx') {
    return parseXlsx(await readFile(path), options.sheet);
  }
  const text = await readFile(path, 'utf8');
  return format === 'csv' ? parseCsvText(text) : parseJsonText(text);
}

/**
 * Row validation for catalog imports: column specs, header matching and typed cell values. A rejected row names its
 * row number and the field, so the person importing the file can fix it.
 */
import { fold } from '@sen/vn';

export type ColumnType = 'text' | 'code' | 'number' | 'integer' | 'boolean' | 'date' | 'percent';

export interface ColumnSpec {
  /** The key the kind reads (`code`, `name_vi`, …). */
  key: string;
  /** Other header names accepted (folded: `Mã bệnh` → `ma_benh`). */
  aliases?: readonly string[];
  type: ColumnType;
  required?: boolean;
  /** For `code` columns: the shape of a valid value. */
  pattern?: RegExp;
  /** Shown in the rejection reason when the pattern does not match, e.g. `7 chữ số / 7 digits`. */
  hint?: string;
}

export type CellValue = string | number | boolean;

/** One input row after header matching: the spec key → the value (absent when empty). */
export type ParsedRow = Record<string, CellValue | undefined>;

export interface RowProblem {
  /** 1-based data row number (the header is row 1 in CSV/XLSX, so the first data row is 2). */
  row: number;
  field: string;
  reason: string;
}

/** Folds a header for matching: `Mã bệnh (ICD-10)` → `ma_benh_icd_10`. */
export function headerKey(h: string): string {
  return fold(h)
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

const TRUE = new Set(['1', 'x', 'true', 'yes', 'co', 'y', 'có']);
const FALSE = new Set(['0', '', 'false', 'no', 'khong', 'n', 'không']);

function parseNumber(v: string): number | undefined {
  const s = v.trim().replace(/\s/g, '');
  // 1,234.5 and 1234.5 are numbers; a lone comma is a decimal comma (12,5)
  const normal = /^-?\d{1,3}(,\d{3})+(\.\d+)?$/.test(s) ? s.replace(/,/g, '') : s.replace(/^(-?\d+),(\d+)$/, '$1.$2');
  if (!/^-?\d+(\.\d+)?$/.test(normal)) {
    return undefined;
  }
  return Number(normal);
}

function parseDate(v: CellValue): string | undefined {
  const s = String(v).trim();
  let m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (m) {
    return validDate(Number(m[1]), Number(m[2]), Number(m[3]));
  }
  m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(s);
  if (m) {
    return validDate(Number(m[3]), Number(m[2]), Number(m[1]));
  }
  m = /^(\d{4})(\d{2})(\d{2})$/.exec(s);
  if (m) {
    return validDate(Number(m[1]), Number(m[2]), Number(m[3]));
  }
  return undefined;
}

function validDate(y: number, mo: number, d: number): string | undefined {
  const t = new Date(Date.UTC(y, mo - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) {
    return undefined;
  }
  return t.toISOString().slice(0, 10);
}

/** A date as the importer stores it (YYYY-MM-DD), from YYYY-MM-DD, DD/MM/YYYY or YYYYMMDD; undefined when invalid. */
export function isoDate(v: string): string | undefined {
  return parseDate(v);
}

/** Converts one cell; returns the value or the reason it is refused. */
function convert(spec: ColumnSpec, raw: unknown): { value?: CellValue; error?: string } {
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) {
    return spec.required ? { error: 'bắt buộc, đang trống / required, empty' } : {};
  }
  const text = raw instanceof Date ? raw.toISOString().slice(0, 10) : String(raw).trim();
  switch (spec.type) {
    case 'text':
      return { value: text.normalize('NFC') };
    case 'code': {
      const v = text.normalize('NFC');
      if (spec.pattern && !spec.pattern.test(v)) {
        return { error: `mã không hợp lệ '${v}' / invalid code${spec.hint ? ` (${spec.hint})` : ''}` };
      }
      return { value: v };
    }
    case 'number':
    case 'integer':
    case 'percent': {
      const n = typeof raw === 'number' ? raw : parseNumber(text.replace(/%$/, ''));
      if (n === undefined || !Number.isFinite(n)) {
        return { error: `không phải số '${text}' / not a number` };
      }
      if (spec.type === 'integer' && !Number.isInteger(n)) {
        return { error: `không phải số nguyên '${text}' / not an integer` };
      }
      if (spec.type === 'percent' && (n < 0 || n > 100)) {
        return { error: `tỷ lệ phải từ 0 đến 100, đang là ${n} / rate must be 0–100` };
      }
      if (n < 0) {
        return { error: `không được âm (${n}) / must not be negative` };
      }
      return { value: n };
    }
    case 'boolean': {
      if (typeof raw === 'boolean') {
        return { value: raw };
      }
      const f = fold(text);
      if (TRUE.has(f)) {
        return { value: true };
      }
      if (FALSE.has(f)) {
        return { value: false };
      }
      return { error: `giá trị đúng/sai không hợp lệ '${text}' / not a yes/no value (1/0, x, true/false)` };
    }
    case 'date': {
      const d = parseDate(raw instanceof Date ? raw.toISOString().slice(0, 10) : text);
      return d ? { value: d } : { error: `ngày không hợp lệ '${text}' / invalid date (YYYY-MM-DD or DD/MM/YYYY)` };
    }
  }
}

export interface MatchedRows {
  rows: { row: number; values: ParsedRow }[];
  problems: RowProblem[];
}

/**
 * Matches the headers of a table to the kind's columns and converts every cell. Missing required columns are one
 * problem on row 1; unknown columns are ignored (MoH lists carry many we do not keep).
 */
export function matchRows(
  specs: readonly ColumnSpec[],
  records: readonly Record<string, unknown>[],
  firstRow = 2,
): MatchedRows {
  const problems: RowProblem[] = [];
  const headers = new Set<string>();
  for (const r of records) {
    for (const k of Object.keys(r)) {
      headers.add(k);
    }
  }
  const columnOf = new Map<string, string>();
  for (const h of headers) {
    const key = headerKey(h);
    const spec = specs.find((s) => s.key === key || s.aliases?.includes(key));
    if (spec && ![...columnOf.values()].includes(spec.key)) {
      columnOf.set(h, spec.key);
    }
  }
  const present = new Set(columnOf.values());
  for (const s of specs) {
    if (s.required && !present.has(s.key)) {
      problems.push({ row: 1, field: s.key, reason: 'thiếu cột bắt buộc / required column missing' });
    }
  }
  if (problems.length > 0) {
    return { rows: [], problems };
  }
  const rows: MatchedRows['rows'] = [];
  records.forEach((rec, i) => {
    const row = firstRow + i;
    const values: ParsedRow = {};
    const bySpec = new Map<string, unknown>();
    for (const [h, v] of Object.entries(rec)) {
      const key = columnOf.get(h);
      if (key) {
        bySpec.set(key, v);
      }
    }
    let ok = true;
    for (const s of specs) {
      const { value, error } = convert(s, bySpec.get(s.key));
      if (error) {
        problems.push({ row, field: s.key, reason: error });
        ok = false;
      } else if (value !== undefined) {
        values[s.key] = value;
      }
    }
    if (ok) {
      rows.push({ row, values });
    }
  });
  return { rows, problems };
}

/** Text of a parsed value (absent → undefined). */
export function str(v: CellValue | undefined): string | undefined {
  return v === undefined ? undefined : String(v);
}

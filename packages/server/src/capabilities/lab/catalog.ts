/**
 * The indicators of an ordered lab service: the lab-indicator catalog (terminology, kind `lab-indicators`) lists for
 * each indicator its unit, LOINC code, reference ranges by sex and age and the service code it belongs to. Critical
 * limits come from `critical-limits.csv` beside this file (a hospital edits it for its own policy and restarts).
 */
import { readFileSync } from 'node:fs';
import type { CodeSystemConcept } from '@medplum/fhirtypes';
import type { Queryable } from '@sen/db';
import { parseCsvText } from '../terminology/files.ts';
import { CATALOG_URLS } from '../terminology/kinds.ts';
import { TerminologyService } from '../terminology/service.ts';
import { type CriticalLimits, parseNumber, type ReferenceRange } from './model.ts';

export interface Indicator {
  /** Catalog code (7 digits, QĐ 1227 style). */
  code: string;
  display: string;
  displayEn?: string;
  unit?: string;
  loinc?: string;
  /** The service code of the test it belongs to. */
  service?: string;
  ranges: ReferenceRange[];
  critical?: CriticalLimits;
  /** The catalog version the indicator was read from. */
  version: string;
}

/** Reads critical-limits.csv text: indicator_code, critical_low, critical_high (either may be empty). */
export function parseCriticalLimits(text: string): Map<string, CriticalLimits> {
  const out = new Map<string, CriticalLimits>();
  const t = parseCsvText(text);
  t.records.forEach((r, i) => {
    const row = r as Record<string, string>;
    const code = (row.indicator_code ?? '').trim();
    const num = (k: string): number | undefined => {
      const v = (row[k] ?? '').trim();
      if (v === '') {
        return undefined;
      }
      const n = parseNumber(v);
      if (n === undefined) {
        throw new Error(`critical-limits.csv row ${t.firstRow + i}: ${k} '${v}' is not a number`);
      }
      return n;
    };
    if (!/^\d{7}$/.test(code)) {
      throw new Error(`critical-limits.csv row ${t.firstRow + i}: indicator_code '${code}' must be 7 digits`);
    }
    const low = num('critical_low');
    const high = num('critical_high');
    if (low !== undefined && high !== undefined && low >= high) {
      throw new Error(`critical-limits.csv row ${t.firstRow + i}: critical_low must be below critical_high`);
    }
    out.set(code, { low, high });
  });
  return out;
}

let defaultLimits: Map<string, CriticalLimits> | undefined;

export function loadCriticalLimits(): Map<string, CriticalLimits> {
  defaultLimits ??= parseCriticalLimits(readFileSync(new URL('./critical-limits.csv', import.meta.url), 'utf8'));
  return defaultLimits;
}

function prop(c: CodeSystemConcept, code: string): string | undefined {
  const p = c.property?.find((x) => x.code === code);
  const v = p?.valueString ?? p?.valueCode;
  return v === undefined ? undefined : String(v);
}

export function indicatorOf(
  c: CodeSystemConcept,
  version: string,
  limits: ReadonlyMap<string, CriticalLimits>,
): Indicator {
  const ranges: ReferenceRange[] = (c.property ?? [])
    .filter((p) => p.code === 'referenceRange' && typeof p.valueString === 'string')
    .map((p) => JSON.parse(p.valueString as string) as ReferenceRange);
  return {
    code: c.code,
    display: c.display ?? c.code,
    displayEn: c.designation?.find((d) => d.language === 'en')?.value,
    unit: prop(c, 'unit'),
    loinc: prop(c, 'loinc'),
    service: prop(c, 'service'),
    ranges,
    critical: limits.get(c.code),
    version,
  };
}

/** The lab-indicator catalog in force, cached per catalog version (versions never change). */
export class LabCatalog {
  private cached?: { vid: string; list: Indicator[] };

  constructor(
    private readonly terminology: TerminologyService,
    private readonly limits: ReadonlyMap<string, CriticalLimits> = loadCriticalLimits(),
  ) {}

  /**
   * Every indicator. Inside a transaction give its connection: on PGlite (one connection) a query on the database
   * while the transaction is open would wait for it forever.
   */
  async all(q?: Queryable): Promise<Indicator[]> {
    const terms = q ? new TerminologyService(q, { cacheMs: 0 }) : this.terminology;
    const version = await terms.resolve(CATALOG_URLS.labIndicators);
    if (this.cached?.vid !== version.vid) {
      const exp = await terms.expand(CATALOG_URLS.labIndicators, { version: version.version, count: 1000 });
      this.cached = {
        vid: version.vid,
        list: exp.items
          .map((i) => indicatorOf(i.concept, exp.version.version, this.limits))
          .sort((a, b) => a.code.localeCompare(b.code)),
      };
    }
    return this.cached.list;
  }

  /** The indicators of a service code, by code. */
  async forService(serviceCode: string, q?: Queryable): Promise<Indicator[]> {
    return (await this.all(q)).filter((i) => i.service === serviceCode);
  }
}

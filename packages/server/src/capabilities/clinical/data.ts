/**
 * The clinical data files (data/*.csv, see data/README.md): service → executing department and order category,
 * service aliases, order sets, drug–drug interactions and the chronic-disease list. Read once at start-up; a bad
 * file stops the server with the file and row named, rather than ordering to the wrong department later.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fold } from '@sen/vn';
import { parseCsvText } from '../terminology/files.ts';

export const ORDER_CATEGORIES = ['lab', 'imaging', 'procedure'] as const;
export type OrderCategory = (typeof ORDER_CATEGORIES)[number];

export const INTERACTION_SEVERITIES = ['moderate', 'major', 'contraindicated'] as const;
export type InteractionSeverity = (typeof INTERACTION_SEVERITIES)[number];

export interface Routing {
  category: OrderCategory;
  /** Department code (SEN_SID.department) of the facility, e.g. K06. */
  department: string;
}

export interface OrderSet {
  code: string;
  name: string;
  services: string[];
}

export interface Interaction {
  /** Folded ingredient names. */
  a: string;
  b: string;
  severity: InteractionSeverity;
  vi: string;
  en: string;
}

export interface ClinicalData {
  routeByCode: Map<string, Routing>;
  routeByGroup: Map<string, Routing>;
  /** Service code → folded aliases. */
  aliases: Map<string, string[]>;
  orderSets: OrderSet[];
  interactions: Interaction[];
  /** ICD-10 code prefixes (upper case, no dot) allowing up to 90 days. */
  chronicPrefixes: string[];
}

export interface ClinicalDataFiles {
  serviceDepartments: string;
  serviceAliases: string;
  orderSets: string;
  interactions: string;
  chronic: string;
}

function records(name: string, text: string): { row: number; r: Record<string, string> }[] {
  const t = parseCsvText(text);
  return t.records.map((r, i) => ({ row: t.firstRow + i, r: r as Record<string, string> }));
}

function fail(file: string, row: number, why: string): never {
  throw new Error(`clinical data ${file}, row ${row}: ${why}`);
}

/** Parses the five files (text); throws naming the file and row of the first bad record. */
export function parseClinicalData(files: ClinicalDataFiles): ClinicalData {
  const routeByCode = new Map<string, Routing>();
  const routeByGroup = new Map<string, Routing>();
  for (const { row, r } of records('service-departments.csv', files.serviceDepartments)) {
    const category = r.category as OrderCategory;
    if (!ORDER_CATEGORIES.includes(category)) {
      fail('service-departments.csv', row, `category '${r.category}' is not one of ${ORDER_CATEGORIES.join(', ')}`);
    }
    if (!/^[A-Za-z0-9-]{1,20}$/.test(r.department ?? '')) {
      fail('service-departments.csv', row, 'a department code is required');
    }
    const routing = { category, department: r.department };
    if (r.service_code) {
      routeByCode.set(r.service_code, routing);
    } else if (r.service_group) {
      routeByGroup.set(fold(r.service_group), routing);
    } else {
      fail('service-departments.csv', row, 'give service_code or service_group');
    }
  }
  const aliases = new Map<string, string[]>();
  for (const { row, r } of records('service-aliases.csv', files.serviceAliases)) {
    if (!r.service_code || !r.alias) {
      fail('service-aliases.csv', row, 'service_code and alias are required');
    }
    aliases.set(r.service_code, [...(aliases.get(r.service_code) ?? []), fold(r.alias)]);
  }
  const orderSets: OrderSet[] = [];
  for (const { row, r } of records('order-sets.csv', files.orderSets)) {
    const services = (r.services ?? '').split(/[\s,;]+/).filter((s) => s.length > 0);
    if (!r.code || !r.name || services.length === 0) {
      fail('order-sets.csv', row, 'code, name and at least one service are required');
    }
    if (orderSets.some((s) => s.code === r.code)) {
      fail('order-sets.csv', row, `order set ${r.code} is listed twice`);
    }
    orderSets.push({ code: r.code, name: r.name, services });
  }
  const interactions: Interaction[] = [];
  for (const { row, r } of records('interactions.csv', files.interactions)) {
    const severity = r.severity as InteractionSeverity;
    if (!r.ingredient_a || !r.ingredient_b || !INTERACTION_SEVERITIES.includes(severity) || !r.message_vi) {
      fail('interactions.csv', row, 'ingredient_a, ingredient_b, severity and message_vi are required');
    }
    interactions.push({
      a: fold(r.ingredient_a),
      b: fold(r.ingredient_b),
      severity,
      vi: r.message_vi,
      en: r.message_en ?? r.message_vi,
    });
  }
  const chronicPrefixes: string[] = [];
  for (const { row, r } of records('chronic-icd10.csv', files.chronic)) {
    const p = (r.code_prefix ?? '').toUpperCase().replace('.', '');
    if (!/^[A-Z]\d{2}\d{0,2}$/.test(p)) {
      fail('chronic-icd10.csv', row, `'${r.code_prefix}' is not an ICD-10 code prefix`);
    }
    chronicPrefixes.push(p);
  }
  for (const s of orderSets) {
    for (const code of s.services) {
      if (!/^\d{2}\.\d{4}\.\d{4}$/.test(code)) {
        throw new Error(`clinical data order-sets.csv: ${s.code} lists '${code}', not a service code`);
      }
    }
  }
  return { routeByCode, routeByGroup, aliases, orderSets, interactions, chronicPrefixes };
}

const DATA_DIR = new URL('./data/', import.meta.url);

/** The files shipped in data/. */
export function loadClinicalData(): ClinicalData {
  const read = (name: string): string => readFileSync(fileURLToPath(new URL(name, DATA_DIR)), 'utf8');
  return parseClinicalData({
    serviceDepartments: read('service-departments.csv'),
    serviceAliases: read('service-aliases.csv'),
    orderSets: read('order-sets.csv'),
    interactions: read('interactions.csv'),
    chronic: read('chronic-icd10.csv'),
  });
}

/** Where a catalog service is performed and how it is ordered; undefined when it cannot be ordered. */
export function routingOf(data: ClinicalData, code: string, group: string | undefined): Routing | undefined {
  return data.routeByCode.get(code) ?? (group ? data.routeByGroup.get(fold(group)) : undefined);
}

/** Whether every typed word is a prefix of a word of the text (both folded). */
export function matchesWords(text: string, query: string): boolean {
  const words = fold(text)
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  const typed = fold(query)
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  return typed.every((t) => words.some((w) => w.startsWith(t)));
}

/** Whether a diagnosis code allows a 90-day prescription. */
export function isChronic(data: ClinicalData, icd10: string): boolean {
  const c = icd10.toUpperCase().replace('.', '').replace(/[†*]/g, '');
  return data.chronicPrefixes.some((p) => c.startsWith(p));
}

import type { FhirPathAtom, TypedValue } from '@medplum/core';
import { evalFhirPathTyped, toTypedValue } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import {
  type DateRange,
  getPatientCompartmentParams,
  getSearchParams,
  parseDateRange,
  parseReference,
  type SearchParamDef,
} from '@sen/fhir';
import { fold } from '@sen/vn';

/** The search index rows of one resource version, as column arrays (bound straight to unnest()). */
export interface IndexRows {
  string: { code: string[]; value: string[]; raw: string[] };
  token: { code: string[]; system: (string | null)[]; value: (string | null)[]; text: (string | null)[] };
  reference: {
    code: string[];
    targetType: (string | null)[];
    targetId: (string | null)[];
    raw: string[];
    identSystem: (string | null)[];
    identValue: (string | null)[];
  };
  date: { code: string[]; lo: string[]; hi: string[] };
  number: { code: string[]; value: string[] };
  quantity: { code: string[]; system: (string | null)[]; unit: (string | null)[]; value: string[] };
  uri: { code: string[]; value: string[] };
  composite: {
    code: string[];
    system1: (string | null)[];
    value1: (string | null)[];
    system2: (string | null)[];
    value2: (string | null)[];
    num2: (string | null)[];
    lo2: (string | null)[];
    hi2: (string | null)[];
  };
  compartment: { ctype: string[]; cid: string[]; rtype: string[]; dateLo: string[]; dateHi: string[] };
}

export function emptyIndexRows(): IndexRows {
  return {
    string: { code: [], value: [], raw: [] },
    token: { code: [], system: [], value: [], text: [] },
    reference: { code: [], targetType: [], targetId: [], raw: [], identSystem: [], identValue: [] },
    date: { code: [], lo: [], hi: [] },
    number: { code: [], value: [] },
    quantity: { code: [], system: [], unit: [], value: [] },
    uri: { code: [], value: [] },
    composite: { code: [], system1: [], value1: [], system2: [], value2: [], num2: [], lo2: [], hi2: [] },
    compartment: { ctype: [], cid: [], rtype: [], dateLo: [], dateHi: [] },
  };
}

const MAX_STRING = 2000;

function addString(rows: IndexRows, code: string, s: unknown, seen: Set<string>): void {
  if (typeof s !== 'string' || s.length === 0) {
    return;
  }
  const raw = s.length > MAX_STRING ? s.slice(0, MAX_STRING) : s;
  const key = `${code}\u0000${raw}`;
  if (seen.has(key)) {
    return;
  }
  seen.add(key);
  rows.string.code.push(code);
  rows.string.value.push(fold(raw));
  rows.string.raw.push(raw);
}

function stringsOf(tv: TypedValue): string[] {
  const v = tv.value;
  if (v === null || v === undefined) {
    return [];
  }
  switch (tv.type) {
    case 'HumanName': {
      const out: string[] = [];
      const given: string[] = Array.isArray(v.given) ? v.given : [];
      if (v.text) {
        out.push(v.text);
      }
      if (v.family) {
        out.push(v.family);
      }
      out.push(...given);
      if (Array.isArray(v.prefix)) {
        out.push(...v.prefix);
      }
      if (Array.isArray(v.suffix)) {
        out.push(...v.suffix);
      }
      // Whole-name forms, so "nguyen van a" (family first, the Vietnamese order) and "van a nguyen" both match.
      if (v.family && given.length > 0) {
        out.push(`${v.family} ${given.join(' ')}`, `${given.join(' ')} ${v.family}`);
      } else if (given.length > 1) {
        out.push(given.join(' '));
      }
      return out;
    }
    case 'Address': {
      const out: string[] = [];
      const lines: string[] = Array.isArray(v.line) ? v.line : [];
      out.push(...lines);
      for (const k of ['city', 'district', 'state', 'postalCode', 'country', 'text']) {
        if (typeof v[k] === 'string') {
          out.push(v[k]);
        }
      }
      const whole = [...lines, v.district, v.city, v.state, v.country].filter((x) => typeof x === 'string').join(', ');
      if (whole) {
        out.push(whole);
      }
      return out;
    }
    case 'string':
    case 'markdown':
    case 'code':
    case 'uri':
    case 'url':
    case 'canonical':
    case 'id':
      return typeof v === 'string' ? [v] : [];
    case 'CodeableConcept':
      return [v.text, ...(v.coding ?? []).map((c: { display?: string }) => c.display)].filter(Boolean);
    case 'Coding':
      return v.display ? [v.display] : [];
    case 'Identifier':
      return v.value ? [v.value] : [];
    case 'ContactPoint':
      return v.value ? [v.value] : [];
    case 'Annotation':
      return v.text ? [v.text] : [];
    case 'Reference':
      return v.display ? [v.display] : [];
    default:
      return typeof v === 'string' ? [v] : [];
  }
}

interface Tok {
  system: string | null;
  value: string | null;
  text: string | null;
}

function tokensOf(tv: TypedValue): Tok[] {
  const v = tv.value;
  if (v === null || v === undefined) {
    return [];
  }
  switch (tv.type) {
    case 'CodeableConcept': {
      const text = v.text ? fold(v.text) : null;
      const out: Tok[] = (v.coding ?? []).map((c: { system?: string; code?: string; display?: string }) => ({
        system: c.system ?? null,
        value: c.code ?? null,
        text: c.display ? fold(c.display) : text,
      }));
      if (text && out.length === 0) {
        out.push({ system: null, value: null, text });
      } else if (text) {
        out.push({ system: null, value: null, text });
      }
      return out;
    }
    case 'Coding':
      return [{ system: v.system ?? null, value: v.code ?? null, text: v.display ? fold(v.display) : null }];
    case 'Identifier': {
      const text = v.type?.text ? fold(v.type.text) : null;
      return [{ system: v.system ?? null, value: v.value ?? null, text }];
    }
    case 'ContactPoint':
      return [{ system: null, value: v.value ?? null, text: null }];
    case 'boolean':
      return [{ system: null, value: v ? 'true' : 'false', text: null }];
    case 'code':
    case 'string':
    case 'id':
    case 'uri':
    case 'url':
    case 'canonical':
    case 'oid':
    case 'uuid':
      return typeof v === 'string' ? [{ system: null, value: v, text: null }] : [];
    default:
      if (typeof v === 'string' || typeof v === 'number') {
        return [{ system: null, value: String(v), text: null }];
      }
      return [];
  }
}

function datesOf(tv: TypedValue): DateRange[] {
  const v = tv.value;
  if (v === null || v === undefined) {
    return [];
  }
  switch (tv.type) {
    case 'date':
    case 'dateTime':
    case 'instant': {
      const r = typeof v === 'string' ? parseDateRange(v) : undefined;
      return r ? [r] : [];
    }
    case 'Period': {
      const s = v.start ? parseDateRange(v.start) : undefined;
      const e = v.end ? parseDateRange(v.end) : undefined;
      if (!s && !e) {
        return [];
      }
      return [{ lo: s?.lo ?? '-infinity', hi: e?.hi ?? 'infinity' }];
    }
    case 'Timing': {
      const out: DateRange[] = [];
      for (const ev of v.event ?? []) {
        const r = parseDateRange(ev);
        if (r) {
          out.push(r);
        }
      }
      const b = v.repeat?.boundsPeriod;
      if (b && (b.start || b.end)) {
        out.push({
          lo: b.start ? (parseDateRange(b.start)?.lo ?? '-infinity') : '-infinity',
          hi: b.end ? (parseDateRange(b.end)?.hi ?? 'infinity') : 'infinity',
        });
      }
      return out;
    }
    default:
      if (typeof v === 'string') {
        const r = parseDateRange(v);
        return r ? [r] : [];
      }
      return [];
  }
}

interface Qty {
  value: string;
  system: string | null;
  unit: string | null;
}

function quantitiesOf(tv: TypedValue): Qty[] {
  const v = tv.value;
  if (!v || typeof v !== 'object') {
    if (typeof v === 'number') {
      return [{ value: String(v), system: null, unit: null }];
    }
    return [];
  }
  if (typeof v.value === 'number') {
    const code = v.code ?? v.currency;
    const out: Qty[] = [{ value: String(v.value), system: v.system ?? null, unit: code ?? v.unit ?? null }];
    // `value-quantity=72||beats/min` matches the human unit as well as the code (R4 3.1.1.4.7): a second row
    // without a system, so a search with a system still needs the code.
    if (code && typeof v.unit === 'string' && v.unit !== code) {
      out.push({ value: String(v.value), system: null, unit: v.unit });
    }
    return out;
  }
  if (tv.type === 'Range') {
    const out: Qty[] = [];
    for (const q of [v.low, v.high]) {
      if (q && typeof q.value === 'number') {
        out.push({ value: String(q.value), system: q.system ?? null, unit: q.code ?? q.unit ?? null });
      }
    }
    return out;
  }
  return [];
}

function uriOf(tv: TypedValue): string[] {
  const v = tv.value;
  if (typeof v === 'string') {
    return [v];
  }
  if (v && typeof v === 'object' && typeof v.reference === 'string') {
    return [v.reference];
  }
  return [];
}

function addReference(rows: IndexRows, code: string, tv: TypedValue, base: string | undefined): void {
  const v = tv.value;
  if (v === null || v === undefined) {
    return;
  }
  let raw: string | undefined;
  let identSystem: string | null = null;
  let identValue: string | null = null;
  if (typeof v === 'string') {
    raw = v; // canonical / uri
  } else if (typeof v === 'object') {
    raw = typeof v.reference === 'string' ? v.reference : undefined;
    if (v.identifier && (v.identifier.system || v.identifier.value)) {
      identSystem = v.identifier.system ?? null;
      identValue = v.identifier.value ?? null;
    }
  }
  if (!raw && !identValue) {
    return;
  }
  let targetType: string | null = null;
  let targetId: string | null = null;
  if (raw) {
    const local = base && raw.startsWith(base) ? raw.slice(base.length).replace(/^\//, '') : raw;
    const isAbsolute = /^[a-z][a-z0-9+.-]*:/i.test(local);
    const parsed = isAbsolute ? undefined : parseReference(local);
    if (parsed) {
      targetType = parsed.type;
      targetId = parsed.id;
    } else if (typeof v === 'object' && typeof v.type === 'string' && !isAbsolute && !local.includes('/')) {
      targetType = v.type;
      targetId = local;
    }
  }
  rows.reference.code.push(code);
  rows.reference.targetType.push(targetType);
  rows.reference.targetId.push(targetId);
  rows.reference.raw.push(raw ?? '');
  rows.reference.identSystem.push(identSystem);
  rows.reference.identValue.push(identValue);
}

function evalParam(p: SearchParamDef, input: TypedValue[]): TypedValue[] {
  if (!p.atom) {
    return [];
  }
  try {
    return evalFhirPathTyped(p.atom, input);
  } catch {
    return [];
  }
}

function addComposite(rows: IndexRows, p: SearchParamDef, base: TypedValue): void {
  const comps = p.components;
  if (comps?.length !== 2) {
    return;
  }
  const first = comps[0];
  const second = comps[1];
  const firstVals = evalComponent(first.atom ?? first.expression, base);
  const secondVals = evalComponent(second.atom ?? second.expression, base);
  const toks = firstVals.flatMap((tv) => (first.type === 'token' ? tokensOf(tv) : []));
  for (const t of toks) {
    if (t.value === null) {
      continue;
    }
    for (const sv of secondVals) {
      const row = {
        system2: null as string | null,
        value2: null as string | null,
        num2: null as string | null,
        lo2: null as string | null,
        hi2: null as string | null,
      };
      const emit = (): void => {
        rows.composite.code.push(p.code);
        rows.composite.system1.push(t.system);
        rows.composite.value1.push(t.value);
        rows.composite.system2.push(row.system2);
        rows.composite.value2.push(row.value2);
        rows.composite.num2.push(row.num2);
        rows.composite.lo2.push(row.lo2);
        rows.composite.hi2.push(row.hi2);
      };
      if (second.type === 'quantity' || second.type === 'number') {
        for (const q of quantitiesOf(sv)) {
          row.num2 = q.value;
          row.system2 = q.system;
          row.value2 = q.unit;
          emit();
        }
      } else if (second.type === 'token') {
        for (const t2 of tokensOf(sv)) {
          row.system2 = t2.system;
          row.value2 = t2.value;
          emit();
        }
      } else if (second.type === 'date') {
        for (const d of datesOf(sv)) {
          row.lo2 = d.lo;
          row.hi2 = d.hi;
          emit();
        }
      } else if (second.type === 'string') {
        for (const s of stringsOf(sv)) {
          row.value2 = fold(s);
          emit();
        }
      }
    }
  }
}

function evalComponent(expression: FhirPathAtom | string, base: TypedValue): TypedValue[] {
  try {
    return evalFhirPathTyped(expression, [base]);
  } catch {
    return [];
  }
}

/**
 * Extracts every official search parameter's index rows from a resource, plus its Patient compartment
 * membership. `base` is the server's own base URL, so absolute references to ourselves index as local.
 */
export function extractIndex(resource: Resource, base?: string): IndexRows {
  const rows = emptyIndexRows();
  const params = getSearchParams(resource.resourceType);
  const input = [toTypedValue(resource)];
  const seenStrings = new Set<string>();
  for (const p of params.values()) {
    if (p.code === '_id' || p.code === '_lastUpdated' || p.type === 'special') {
      continue;
    }
    if (p.keys && !hasAnyKey(resource as unknown as Record<string, unknown>, p.keys)) {
      continue;
    }
    const values = evalParam(p, input);
    if (values.length === 0) {
      continue;
    }
    switch (p.type) {
      case 'string':
        for (const tv of values) {
          for (const s of stringsOf(tv)) {
            addString(rows, p.code, s, seenStrings);
          }
        }
        break;
      case 'token': {
        const seen = new Set<string>();
        for (const tv of values) {
          for (const t of tokensOf(tv)) {
            const k = `${t.system}|${t.value}|${t.text}`;
            if (seen.has(k)) {
              continue;
            }
            seen.add(k);
            rows.token.code.push(p.code);
            rows.token.system.push(t.system);
            rows.token.value.push(t.value);
            rows.token.text.push(t.text);
          }
        }
        break;
      }
      case 'reference':
        for (const tv of values) {
          addReference(rows, p.code, tv, base);
        }
        break;
      case 'date':
        for (const tv of values) {
          for (const d of datesOf(tv)) {
            rows.date.code.push(p.code);
            rows.date.lo.push(d.lo);
            rows.date.hi.push(d.hi);
          }
        }
        break;
      case 'number':
        for (const tv of values) {
          const n = typeof tv.value === 'number' ? tv.value : Number(tv.value?.value);
          if (Number.isFinite(n)) {
            rows.number.code.push(p.code);
            rows.number.value.push(String(n));
          }
        }
        break;
      case 'quantity':
        for (const tv of values) {
          for (const q of quantitiesOf(tv)) {
            rows.quantity.code.push(p.code);
            rows.quantity.system.push(q.system);
            rows.quantity.unit.push(q.unit);
            rows.quantity.value.push(q.value);
          }
        }
        break;
      case 'uri':
        for (const tv of values) {
          for (const u of uriOf(tv)) {
            rows.uri.code.push(p.code);
            rows.uri.value.push(u);
          }
        }
        break;
      case 'composite':
        for (const tv of values) {
          addComposite(rows, p, tv);
        }
        break;
      default:
        break;
    }
  }
  addCompartments(resource, rows);
  return rows;
}

/** True when the resource has one of the elements (or a choice element starting with one, e.g. valueQuantity). */
function hasAnyKey(resource: Record<string, unknown>, keys: readonly string[]): boolean {
  for (const k of keys) {
    if (resource[k] !== undefined) {
      return true;
    }
  }
  for (const name in resource) {
    for (const k of keys) {
      if (name.length > k.length && name.startsWith(k)) {
        const c = name.charCodeAt(k.length);
        if (c >= 65 && c <= 90) {
          return true;
        }
      }
    }
  }
  return false;
}

function addCompartments(resource: Resource, rows: IndexRows): void {
  const ids: string[] = [];
  if (resource.resourceType === 'Patient' && resource.id) {
    ids.push(resource.id);
  }
  const params = getPatientCompartmentParams().get(resource.resourceType);
  const r = rows.reference;
  if (params) {
    for (let i = 0; i < r.code.length; i++) {
      const id = r.targetId[i];
      if (r.targetType[i] === 'Patient' && id && params.includes(r.code[i]) && !ids.includes(id)) {
        ids.push(id);
      }
    }
  }
  if (ids.length === 0) {
    return;
  }
  // the range of the resource's `date` parameter, the usual clinical sort key ('-infinity'/'infinity' when absent,
  // so a missing date sorts last either way)
  const at = (v: string): number => (v === '-infinity' ? -Infinity : v === 'infinity' ? Infinity : Date.parse(v));
  let lo = 'infinity';
  let hi = '-infinity';
  const d = rows.date;
  for (let i = 0; i < d.code.length; i++) {
    if (d.code[i] === 'date') {
      if (at(d.lo[i]) < at(lo)) {
        lo = d.lo[i];
      }
      if (at(d.hi[i]) > at(hi)) {
        hi = d.hi[i];
      }
    }
  }
  for (const id of ids) {
    rows.compartment.ctype.push('Patient');
    rows.compartment.cid.push(id);
    rows.compartment.rtype.push(resource.resourceType);
    rows.compartment.dateLo.push(lo);
    rows.compartment.dateHi.push(hi);
  }
}

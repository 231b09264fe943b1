import type { Bundle, StructureDefinition } from '@medplum/fhirtypes';
import { readDefinition } from './definitions.ts';
import type { SummaryMode } from './search-request.ts';

let summaryElements: Map<string, Set<string>> | undefined;

/** Top-level element names flagged isSummary in each resource's StructureDefinition (choice types as prefix). */
function getSummaryElements(type: string): Set<string> {
  if (!summaryElements) {
    summaryElements = new Map();
    for (const e of readDefinition<Bundle<StructureDefinition>>('profiles-resources.json').entry ?? []) {
      const sd = e.resource;
      if (sd?.resourceType !== 'StructureDefinition' || sd.kind !== 'resource' || !sd.type) {
        continue;
      }
      const set = new Set<string>();
      for (const el of sd.snapshot?.element ?? []) {
        const parts = el.path.split('.');
        if (parts.length === 2 && el.isSummary) {
          set.add(parts[1].replace('[x]', ''));
        }
      }
      summaryElements.set(sd.type, set);
    }
  }
  return summaryElements.get(type) ?? new Set();
}

const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };

function markSubsetted(r: Record<string, unknown>): void {
  const meta = { ...((r.meta as Record<string, unknown>) ?? {}) };
  const tags = Array.isArray(meta.tag) ? [...meta.tag] : [];
  if (!tags.some((t: { code?: string }) => t.code === 'SUBSETTED')) {
    tags.push(SUBSETTED);
  }
  meta.tag = tags;
  r.meta = meta;
}

function matchesName(key: string, names: Set<string>): boolean {
  if (names.has(key)) {
    return true;
  }
  for (const n of names) {
    if (key.startsWith(n) && key.length > n.length && key[n.length] >= 'A' && key[n.length] <= 'Z') {
      return true; // choice type: value[x] → valueQuantity
    }
  }
  return false;
}

/** Applies _summary / _elements to a resource (R4 3.1.1.5.9–10). Returns the input when nothing applies. */
export function applySummary(
  resource: Record<string, unknown>,
  summary?: SummaryMode,
  elements?: string[],
): Record<string, unknown> {
  if (elements && elements.length > 0) {
    const type = resource.resourceType as string;
    const wanted = new Set(
      elements.map((e) => (e.startsWith(`${type}.`) ? e.slice(type.length + 1) : e).split('.')[0]),
    );
    const out: Record<string, unknown> = { resourceType: type };
    for (const [k, v] of Object.entries(resource)) {
      if (
        k === 'id' ||
        k === 'meta' ||
        matchesName(k, wanted) ||
        (k.startsWith('_') && matchesName(k.slice(1), wanted))
      ) {
        out[k] = v;
      }
    }
    markSubsetted(out);
    return out;
  }
  if (!summary || summary === 'false') {
    return resource;
  }
  const type = resource.resourceType as string;
  const out: Record<string, unknown> = {};
  if (summary === 'text') {
    for (const [k, v] of Object.entries(resource)) {
      if (k === 'resourceType' || k === 'id' || k === 'meta' || k === 'text') {
        out[k] = v;
      }
    }
  } else if (summary === 'data') {
    for (const [k, v] of Object.entries(resource)) {
      if (k !== 'text') {
        out[k] = v;
      }
    }
  } else {
    const names = getSummaryElements(type);
    for (const [k, v] of Object.entries(resource)) {
      if (k === 'resourceType' || k === 'id' || k === 'meta' || matchesName(k, names)) {
        out[k] = v;
      }
    }
  }
  markSubsetted(out);
  return out;
}

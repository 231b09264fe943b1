import { getStructureDefinitions } from '../packages/fhir/src/definitions.ts';
for (const sd of getStructureDefinitions()) for (const el of sd.snapshot?.element ?? []) for (const c of el.constraint ?? []) {
  if (c.severity === 'error' && /\bis\b|\bas\b/.test(c.expression ?? '') && c.key !== 'ele-1') console.log(el.path, c.key, '|', c.expression);
}

import { getStructureDefinitions } from '../packages/fhir/src/definitions.ts';
const sds = getStructureDefinitions();
const kinds: Record<string, number> = {};
for (const sd of sds) kinds[`${sd.kind}/${sd.abstract}/${sd.derivation}`] = (kinds[`${sd.kind}/${sd.abstract}/${sd.derivation}`] ?? 0) + 1;
console.log(kinds);
const codes = new Set<string>();
for (const sd of sds) for (const el of sd.snapshot?.element ?? []) {
  for (const t of el.type ?? []) codes.add(t.code);
  if (el.binding?.strength === 'required' && el.type?.some(t => t.code === 'CodeableConcept')) console.log('CC', el.path, el.binding.valueSet);
  if (el.contentReference && !el.contentReference.startsWith('#')) console.log('cr', el.contentReference);
  if (el.max === '0') console.log('max0', el.path);
}
console.log([...codes].filter(c => !/^[A-Z]/.test(c)).join(' '));
console.log(sds.find(s => s.type === 'Patient')!.snapshot!.element.slice(0, 3).map(e => JSON.stringify({ p: e.path, t: e.type, max: e.max, b: e.binding })).join('\n'));

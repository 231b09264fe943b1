import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
const doc = parse(readFileSync('/work/shared/testdata/fhirpath-js-r4/fhir-r4.yaml', 'utf8'));
console.log(Object.keys(doc));
const kinds: Record<string, number> = {};
const keys: Record<string, number> = {};
let n = 0, dis = 0;
function walk(items: any[], disabled: boolean) {
  for (const it of items) {
    const g = Object.keys(it).find(k => k.startsWith('group'));
    if (g) { walk(it[g], disabled || it.disable === true); continue; }
    n++; if (disabled || it.disable) dis++;
    for (const k of Object.keys(it)) keys[k] = (keys[k] ?? 0) + 1;
    for (const r of it.result ?? []) { const k = typeof r === 'object' ? (r instanceof Date ? 'Date' : 'object:' + JSON.stringify(r).slice(0, 60)) : typeof r; kinds[k] = (kinds[k] ?? 0) + 1; }
    if (Array.isArray(it.expression)) console.log('array expr', it.desc);
  }
}
walk(doc.tests, false);
console.log(n, dis, keys, kinds);

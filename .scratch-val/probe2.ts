import { getStructureDefinitions, getTerminologyResources } from '../packages/fhir/src/definitions.ts';
const sds = getStructureDefinitions();
console.log('sds', sds.length, sds.filter(s => s.derivation === 'constraint').map(s => s.name).join(','));
const term = getTerminologyResources();
const vs = new Map<string, any>(); const cs = new Map<string, any>();
for (const t of term) { if (t.resourceType === 'ValueSet') { if (vs.has(t.url!)) console.log('dup vs', t.url); vs.set(t.url!, t); } else { if (cs.has(t.url!)) console.log('dup cs', t.url); cs.set(t.url!, t); } }
console.log('vs', vs.size, 'cs', cs.size, 'vs with expansion', [...vs.values()].filter(v => v.expansion).length);
const contents: Record<string, number> = {};
for (const c of cs.values()) contents[c.content] = (contents[c.content] ?? 0) + 1;
console.log(contents);
const req = new Map<string, string[]>();
for (const sd of sds) {
  if (sd.derivation === 'constraint') continue;
  for (const el of sd.snapshot?.element ?? []) {
    if (el.binding?.strength === 'required' && el.binding.valueSet) {
      const u = el.binding.valueSet.split('|')[0];
      const types = (el.type ?? []).map(t => t.code).join('/');
      if (!req.has(u)) req.set(u, []);
      req.get(u)!.push(el.path + ':' + types);
    }
  }
}
console.log('required VS', req.size, 'uses', [...req.values()].reduce((a, b) => a + b.length, 0));
const typeCounts: Record<string, number> = {};
for (const [u, paths] of req) for (const p of paths) { const t = p.split(':')[1]; typeCounts[t] = (typeCounts[t] ?? 0) + 1; }
console.log(typeCounts);
// classify
const why: Record<string, string[]> = {};
for (const u of req.keys()) {
  const v = vs.get(u);
  let reason = 'ok';
  if (!v) reason = 'missing-vs';
  else if (!v.compose) reason = 'no-compose';
  else {
    for (const inc of [...v.compose.include, ...(v.compose.exclude ?? [])]) {
      if (inc.filter) { reason = 'filter'; break; }
      if (inc.system && !inc.concept && !cs.has(inc.system)) { reason = 'external:' + inc.system; break; }
      if (inc.system && !inc.concept && cs.get(inc.system).content !== 'complete') { reason = 'cs-' + cs.get(inc.system).content + ':' + inc.system; break; }
      if (inc.valueSet) reason = 'vs-import';
    }
  }
  (why[reason.split(':')[0]] ??= []).push(u + ' ' + reason);
}
for (const [k, l] of Object.entries(why)) console.log(k, l.length, k === 'ok' ? '' : l.join('\n   '));

import { readdirSync, readFileSync } from 'node:fs';
import { validateResource, hasErrors } from '../packages/fhir/src/validation.ts';
const dir = '/work/shared/testdata/fhir-r4-examples/';
const files = readdirSync(dir).filter(f => f.endsWith('.json')).sort();
let ok = 0; const t0 = performance.now();
for (const f of files) {
  const r = JSON.parse(readFileSync(dir + f, 'utf8'));
  const issues = validateResource(r).filter(i => i.severity === 'error' || i.severity === 'fatal');
  if (issues.length === 0) { ok++; continue; }
  console.log('FAIL', f);
  for (const i of issues.slice(0, 6)) console.log('   ', i.code, i.expression?.join(), '|', i.details?.text, '|', (i.diagnostics ?? '').slice(0, 200));
}
console.log(ok, '/', files.length, (performance.now() - t0).toFixed(0), 'ms');

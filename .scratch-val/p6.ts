import { evalFhirPathTyped, toTypedValue } from '@medplum/core';
import { loadDefinitions } from '../packages/fhir/src/definitions.ts';
import { readFileSync } from 'node:fs';
loadDefinitions();
const r = JSON.parse(readFileSync('/work/shared/testdata/fhir-r4-examples/RiskAssessment-prognosis.json', 'utf8'));
const r2 = JSON.parse(readFileSync('/work/shared/testdata/fhir-r4-examples/RiskAssessment-breastcancer-risk.json', 'utf8'));
for (const e of ['prediction.probability is decimal', 'prediction.probability', 'prediction.probability.exists()', 'prediction.probability is decimal implies (prediction.probability as decimal) <= 100', '{} is decimal', 'prediction[0].probability is decimal implies (prediction[0].probability as decimal) <= 100']) {
  for (const x of [r, r2]) { try { console.log(e, JSON.stringify(evalFhirPathTyped(e, [toTypedValue(x)]))); } catch (err) { console.log(e, 'ERR', String(err)); } }
}
console.log(JSON.stringify(r2.prediction.map((p: any) => p.probabilityDecimal ?? p.probabilityRange)));
const b = JSON.parse(readFileSync('/work/shared/testdata/fhir-r4-examples/Binary-example.json', 'utf8')).data.replace(/\s/g, '');
console.log(b.length % 4, /^([A-Za-z\d+/]{4})*([A-Za-z\d+/]{2}==|[A-Za-z\d+/]{3}=)?$/.test(b));

import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';
const r = { resourceType: 'RiskAssessment', prediction: [{ outcome: { text: 'x' } }] };
for (const e of ['RiskAssessment.prediction.probability is decimal', '{} is decimal', 'RiskAssessment.prediction.all(probability is decimal implies (probability as decimal) <= 100)']) console.log(e, fhirpath.evaluate(r, e, null, r4));

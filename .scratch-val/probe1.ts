import { validateResource, OperationOutcomeError } from '@medplum/core';
import { loadDefinitions } from '/work/main/packages/fhir/src/definitions.ts';
loadDefinitions();
function v(r: any) {
  try { return validateResource(r); } catch (e) { if (e instanceof OperationOutcomeError) return e.outcome.issue; return 'THROW ' + String(e); }
}
const cases: any[] = [
  { resourceType: 'Patient', gender: 'bogus', contact: [{ gender: 'x' }] },
  { resourceType: 'Patient', name: [] , birthDate: 123},
  { resourceType: 'Patient', name: [{}] },
  { resourceType: 'Patient', name: [{ given: [''] }] },
  { resourceType: 'Patient', _gender: {} },
  { resourceType: 'Patient', identifier: [{ system: '' }] },
  { resourceType: 'Observation' },
  { resourceType: 'Observation', status: 'bogus', code: { text: 'x' }, valueQuantity: { value: 'a', comparator: 'zz' } },
  { resourceType: 'Foo' },
  { resourceType: 'Patient', contained: [{ resourceType: 'Observation', status: 'final', code: {text: 'x'}, valueQuantity: { value: 'a' } }] },
  { resourceType: 'Patient', foo: 1 },
  { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', birthDate: 5 } }] },
];
for (const c of cases) console.log(JSON.stringify(c), '\n  =>', JSON.stringify(v(c)));

import { validateResource } from '../packages/fhir/src/validation.ts';
const cases: any[] = [
  { resourceType: 'Patient', gender: 'bogus', contact: [{ gender: 'x', name: {text: 'a'} }] },
  { resourceType: 'Patient', name: [] , birthDate: 123},
  { resourceType: 'Patient', _gender: {}, gender: '' },
  { resourceType: 'Patient', identifier: [{ system: '' }], name: [{ given: [''] }] },
  { resourceType: 'Observation', status: 'bogus', code: { text: 'x' }, valueQuantity: { value: 1, comparator: 'zz', unit: '' } },
  { resourceType: 'Foo' }, 5, null, [], {},
  { resourceType: 'Patient', contained: [{ resourceType: 'Observation', status: 'finalx', code: {text: 'x'} }] },
  { resourceType: 'Condition', subject: {reference: 'Patient/1'}, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'nope' }] } },
  { resourceType: 'Condition', subject: {reference: 'Patient/1'}, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] } },
  { resourceType: 'Questionnaire', status: 'active', item: [{ linkId: 'a', type: 'group', item: [{ linkId: 'b', type: 'bogus' }] }] },
  { resourceType: 'Patient', extension: [{ url: 'http://x', valueQuantity: { value: 1, comparator: 'zz' } }] },
  { resourceType: 'Patient', _birthDate: { extension: [{ url: 'http://x', valueContactPoint: { system: 'zz' } }] } },
];
for (const c of cases) console.log(JSON.stringify(c), '\n  =>', JSON.stringify(validateResource(c)));

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { isOutcomeError } from './outcomes.ts';
import { assertValid, checkBindings, getValueSetCodes, hasErrors, validateResource } from './validation.ts';

const validPatient = {
  resourceType: 'Patient',
  id: 'p1',
  active: true,
  name: [{ use: 'official', family: 'Nguyễn', given: ['Văn', 'An'] }],
  gender: 'male',
  birthDate: '1980-04-01',
  telecom: [{ system: 'phone', value: '+84 90 000 0000', use: 'mobile' }],
  address: [{ use: 'home', city: 'Hà Nội', country: 'VN' }],
  contact: [{ name: { text: 'Nguyễn Thị B' }, gender: 'female' }],
};

const validObservation = {
  resourceType: 'Observation',
  status: 'final',
  category: [
    {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }],
    },
  ],
  code: { coding: [{ system: 'http://loinc.org', code: '29463-7', display: 'Body weight' }] },
  subject: { reference: 'Patient/p1' },
  effectiveDateTime: '2024-01-02T10:00:00+07:00',
  valueQuantity: { value: 70.5, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
};

function errors(resource: unknown): OperationOutcomeIssue[] {
  return validateResource(resource).filter((i) => i.severity === 'error' || i.severity === 'fatal');
}

function expressions(resource: unknown): string[] {
  return errors(resource).flatMap((i) => i.expression ?? []);
}

function findError(resource: unknown, expression: string): OperationOutcomeIssue {
  const found = errors(resource).find((i) => i.expression?.includes(expression));
  assert.ok(found, `expected an error at ${expression}, got ${JSON.stringify(errors(resource))}`);
  return found;
}

describe('validateResource', () => {
  it('accepts a valid Patient and Observation', () => {
    assert.deepEqual(errors(validPatient), []);
    assert.deepEqual(errors(validObservation), []);
    assert.equal(hasErrors(validateResource(validPatient)), false);
  });

  it('rejects an unknown gender code with a FHIRPath expression and a readable message', () => {
    const issue = findError({ ...validPatient, gender: 'unknown-ish' }, 'Patient.gender');
    assert.equal(issue.code, 'code-invalid');
    assert.match(issue.details?.text ?? '', /'unknown-ish'/);
    assert.match(issue.details?.text ?? '', /administrative-gender/);
    assert.equal(issue.diagnostics, issue.details?.text);
  });

  it('checks required bindings inside backbone elements, with indexes', () => {
    const p = { ...validPatient, contact: [validPatient.contact[0], { name: { text: 'X' }, gender: 'M' }] };
    assert.deepEqual(expressions(p), ['Patient.contact[1].gender']);
  });

  it('reports missing mandatory elements (cardinality)', () => {
    const exprs = expressions({ resourceType: 'Observation', subject: { reference: 'Patient/p1' } });
    assert.ok(exprs.includes('Observation.status'), exprs.join());
    assert.ok(exprs.includes('Observation.code'), exprs.join());
  });

  it('reports wrong JSON types', () => {
    findError({ ...validPatient, birthDate: 123 }, 'Patient.birthDate');
    findError({ ...validPatient, active: 'yes' }, 'Patient.active');
  });

  it('reports invariant violations (pat-1: a contact needs details or an organization)', () => {
    const issue = findError({ ...validPatient, contact: [{ gender: 'female' }] }, 'Patient.contact[0]');
    assert.equal(issue.code, 'invariant');
    assert.match(issue.details?.text ?? '', /pat-1/);
  });

  it('rejects Observation.status "bogus"', () => {
    const issue = findError({ ...validObservation, status: 'bogus' }, 'Observation.status');
    assert.match(issue.details?.text ?? '', /observation-status/);
  });

  it('checks codes in contained resources', () => {
    const p = { ...validPatient, contained: [{ ...validObservation, id: 'o1', status: 'finished' }] };
    assert.deepEqual(expressions(p), ['Patient.contained[0].status']);
  });

  it('checks codes in Bundle entries', () => {
    const b = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: validPatient }, { resource: { ...validPatient, gender: 'x' } }],
    };
    assert.deepEqual(expressions(b), ['Bundle.entry[1].resource.gender']);
  });

  it('checks codes in choice types, nested datatypes and extensions', () => {
    const o = { ...validObservation, valueQuantity: { ...validObservation.valueQuantity, comparator: '~' } };
    assert.deepEqual(expressions(o), ['Observation.value.ofType(Quantity).comparator']);
    const p = { ...validPatient, telecom: [{ system: 'telegram', value: '1' }] };
    assert.deepEqual(expressions(p), ['Patient.telecom[0].system']);
    const ext = {
      ...validPatient,
      _birthDate: { extension: [{ url: 'http://example.org/x', valueContactPoint: { system: 'fax2', value: '1' } }] },
    };
    assert.deepEqual(expressions(ext), ['Patient.birthDate.extension[0].value.ofType(ContactPoint).system']);
  });

  it('checks recursive backbone elements (contentReference)', () => {
    const q = {
      resourceType: 'Questionnaire',
      status: 'active',
      item: [{ linkId: 'g', type: 'group', item: [{ linkId: 'q1', text: 'Q', type: 'free-text' }] }],
    };
    assert.deepEqual(expressions(q), ['Questionnaire.item[0].item[0].type']);
  });

  it('checks CodeableConcepts with required bindings when they use the value set systems', () => {
    const system = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
    const condition = { resourceType: 'Condition', subject: { reference: 'Patient/p1' } };
    assert.deepEqual(expressions({ ...condition, clinicalStatus: { coding: [{ system, code: 'active' }] } }), []);
    const bad = { ...condition, clinicalStatus: { coding: [{ system, code: 'cured' }] } };
    const issue = findError(bad, 'Condition.clinicalStatus');
    assert.equal(issue.code, 'code-invalid');
    // Only judged on codings from the value set's own systems.
    const other = { ...condition, clinicalStatus: { coding: [{ system: 'http://example.org/cs', code: 'x' }] } };
    assert.deepEqual(expressions(other), []);
  });

  it('rejects empty strings, arrays and objects', () => {
    assert.deepEqual(expressions({ ...validPatient, name: [] }), ['Patient.name']);
    assert.deepEqual(expressions({ ...validPatient, identifier: [{ system: '', value: '1' }] }), [
      'Patient.identifier[0].system',
    ]);
    assert.deepEqual(expressions({ ...validPatient, maritalStatus: {} }), ['Patient.maritalStatus']);
    assert.deepEqual(expressions({ ...validPatient, _gender: {} }), ['Patient.gender']);
    assert.ok(expressions({ ...validPatient, name: [{ given: [''] }] }).includes('Patient.name[0].given[0]'));
  });

  it('rejects non-objects and missing or unknown resource types', () => {
    for (const v of [null, 42, 'Patient', [validPatient]]) {
      assert.equal(errors(v).length, 1, JSON.stringify(v));
    }
    assert.match(errors({ id: 'x' })[0].details?.text ?? '', /resourceType/);
    assert.match(errors({ resourceType: 'Patients' })[0].details?.text ?? '', /Unknown resourceType 'Patients'/);
    assert.ok(errors({ ...validPatient, foo: 1 }).length > 0, 'unknown property');
  });

  it('accepts line-wrapped base64Binary (allowed in R4) but not invalid base64', () => {
    const binary = { resourceType: 'Binary', contentType: 'text/plain', data: 'SGVs bG8g\nV29y bGQ=' };
    assert.deepEqual(errors(binary), []);
    assert.deepEqual(expressions({ ...binary, data: 'SGVsbG8*' }), ['Binary.data']);
  });

  it('applies ras-2 only when a probability is present', () => {
    const ra = {
      resourceType: 'RiskAssessment',
      status: 'final',
      subject: { reference: 'Patient/p1' },
      prediction: [{ outcome: { text: 'stroke' } }],
    };
    assert.deepEqual(errors(ra), []);
    const tooHigh = { ...ra, prediction: [{ outcome: { text: 'stroke' }, probabilityDecimal: 150 }] };
    assert.deepEqual(expressions(tooHigh), ['RiskAssessment.prediction[0]']);
  });
});

describe('assertValid', () => {
  it('passes valid resources and throws a 422 OutcomeError otherwise', () => {
    assertValid(validPatient);
    try {
      assertValid({ ...validPatient, gender: 'bogus' });
      assert.fail('should throw');
    } catch (err) {
      assert.ok(isOutcomeError(err));
      assert.equal(err.status, 422);
      assert.equal(err.outcome.issue?.[0]?.expression?.[0], 'Patient.gender');
    }
  });
});

describe('required-binding internals', () => {
  it('expands value sets locally, strips versions and skips external ones', () => {
    const gender = getValueSetCodes('http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1');
    assert.deepEqual([...(gender?.all ?? [])].sort(), ['female', 'male', 'other', 'unknown']);
    // nested concepts are included (v3 / hierarchical code systems)
    assert.ok(getValueSetCodes('http://hl7.org/fhir/ValueSet/resource-types')?.all.has('Patient'));
    assert.equal(getValueSetCodes('http://hl7.org/fhir/ValueSet/mimetypes'), undefined);
    assert.equal(getValueSetCodes('http://hl7.org/fhir/ValueSet/no-such-value-set'), undefined);
  });

  it('checkBindings reports only binding and empty-value issues', () => {
    assert.deepEqual(checkBindings({ resourceType: 'Patient', birthDate: 'x' } as never), []);
    assert.equal(checkBindings({ resourceType: 'Patient', gender: 'x' } as never).length, 1);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseReference, referenceId } from './references.ts';

describe('references', () => {
  it('parses local, versioned and absolute references; refuses contained, conditional and malformed ones', () => {
    assert.deepEqual(parseReference('Patient/123'), { type: 'Patient', id: '123' });
    assert.deepEqual(parseReference('Patient/123/_history/2'), { type: 'Patient', id: '123', version: '2' });
    assert.deepEqual(parseReference('https://sen.example/fhir/R4/Encounter/e-1'), { type: 'Encounter', id: 'e-1' });
    for (const bad of ['#c1', 'urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0', 'Patient?identifier=x', 'Patient', '']) {
      assert.equal(parseReference(bad), undefined, bad);
    }
  });

  it('gives the id of a reference to the asked type only', () => {
    assert.equal(referenceId({ reference: 'ServiceRequest/sr-1' }, 'ServiceRequest'), 'sr-1');
    assert.equal(referenceId('Patient/p1/_history/3', 'Patient'), 'p1');
    assert.equal(referenceId({ reference: 'http://x/fhir/Patient/p1' }, 'Patient'), 'p1');
    assert.equal(referenceId({ reference: 'Patient/p1' }, 'Encounter'), undefined);
    assert.equal(referenceId({ reference: 'RelatedPerson/p1' }, 'Person'), undefined, 'no suffix match');
    assert.equal(referenceId({ display: 'Nguyễn Văn A' } as { reference?: string }, 'Patient'), undefined);
    assert.equal(referenceId(undefined, 'Patient'), undefined);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isOutcomeError } from '@sen/fhir';
import { OperationInput } from './operations.ts';

const input = new OperationInput([
  { name: 'patient', valueReference: { reference: 'Patient/p-1' } },
  { name: 'location', valueString: 'Location/room-2' },
  { name: 'coverage', valueString: 'cov-3' },
  { name: 'wrong', valueReference: { reference: 'Practitioner/x' } },
  { name: 'bad', valueString: 'Patient/not valid' },
]);

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(isOutcomeError(err));
    assert.equal(err.status, 400);
    return err.outcome.issue?.[0]?.diagnostics ?? err.outcome.issue?.[0]?.details?.text ?? '';
  }
  assert.fail('expected a 400');
}

describe('OperationInput.reference', () => {
  it('takes a valueReference, Type/id text or a bare id', () => {
    assert.equal(input.reference('patient', 'Patient', true), 'p-1');
    assert.equal(input.reference('location', 'Location'), 'room-2');
    assert.equal(input.reference('coverage', 'Coverage'), 'cov-3');
    assert.equal(input.reference('absent', 'Slot'), undefined);
  });

  it('refuses a missing required one, another type and a malformed id with 400 naming the parameter', () => {
    assert.match(
      refusal(() => input.reference('absent', 'Slot', true)),
      /'absent'/,
    );
    assert.match(
      refusal(() => input.reference('wrong', 'Patient')),
      /'wrong'.*Patient/,
    );
    assert.match(
      refusal(() => input.reference('bad', 'Patient')),
      /'bad'/,
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VN_CORE_SID } from '@sen/vn';
import { guardianChild, V3_ROLE_CODE } from './guardians.ts';

const GUARDIAN = '079190123456';
const NOW = new Date('2026-06-15T08:00:00Z');

const link = (changes: Record<string, unknown> = {}): Record<string, unknown> => ({
  resourceType: 'RelatedPerson',
  active: true,
  patient: { reference: 'Patient/child-1' },
  identifier: [{ system: VN_CORE_SID.cccd, value: GUARDIAN }],
  relationship: [{ coding: [{ system: V3_ROLE_CODE, code: 'GUARD' }] }],
  period: { start: '2020-01-01' },
  ...changes,
});

describe('guardian links from RelatedPerson', () => {
  it('makes the person named by CCCD guardian of the patient for guardian and parent relationships', () => {
    assert.equal(guardianChild(link(), GUARDIAN, NOW), 'child-1');
    for (const code of ['MTH', 'FTH', 'PRN', 'NMTH', 'ADOPTF', 'STPMTH']) {
      const rp = link({ relationship: [{ coding: [{ system: V3_ROLE_CODE, code }] }] });
      assert.equal(guardianChild(rp, GUARDIAN, NOW), 'child-1', code);
    }
    assert.equal(
      guardianChild(link({ patient: { reference: 'http://x/fhir/R4/Patient/child-1' } }), GUARDIAN, NOW),
      'child-1',
    );
    assert.equal(guardianChild(link({ period: undefined }), GUARDIAN, NOW), 'child-1');
  });

  it('grants nothing to an inactive link, a link outside its period or with an unreadable period', () => {
    assert.equal(guardianChild(link({ active: false }), GUARDIAN, NOW), undefined);
    assert.equal(guardianChild(link({ period: { start: '2020-01-01', end: '2026-06-14' } }), GUARDIAN, NOW), undefined);
    assert.equal(guardianChild(link({ period: { start: '2026-07-01' } }), GUARDIAN, NOW), undefined);
    assert.equal(guardianChild(link({ period: { end: 'not-a-date' } }), GUARDIAN, NOW), undefined);
    // an end date covers its whole day
    assert.equal(guardianChild(link({ period: { end: '2026-06-15' } }), GUARDIAN, NOW), 'child-1');
  });

  it('grants nothing for another person’s number, another identifier system, or a non-guardian relationship', () => {
    assert.equal(guardianChild(link(), '001085000777', NOW), undefined);
    const otherSystem = link({ identifier: [{ system: VN_CORE_SID.passport, value: GUARDIAN }] });
    assert.equal(guardianChild(otherSystem, GUARDIAN, NOW), undefined);
    const expiredIdentifier = link({
      identifier: [{ system: VN_CORE_SID.cccd, value: GUARDIAN, period: { end: '2025-01-01' } }],
    });
    assert.equal(guardianChild(expiredIdentifier, GUARDIAN, NOW), undefined);
    for (const relationship of [
      [{ coding: [{ system: V3_ROLE_CODE, code: 'FRND' }] }],
      [{ coding: [{ system: 'http://example.org/roles', code: 'GUARD' }] }],
      [{ text: 'guardian' }],
      [],
    ]) {
      assert.equal(guardianChild(link({ relationship }), GUARDIAN, NOW), undefined, JSON.stringify(relationship));
    }
  });

  it('needs a Patient reference and a RelatedPerson', () => {
    assert.equal(guardianChild(link({ patient: { reference: 'Group/g1' } }), GUARDIAN, NOW), undefined);
    assert.equal(guardianChild(link({ patient: undefined }), GUARDIAN, NOW), undefined);
    assert.equal(guardianChild(link({ resourceType: 'Person' }), GUARDIAN, NOW), undefined);
  });
});

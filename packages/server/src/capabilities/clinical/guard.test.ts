import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Encounter, MedicationRequest } from '@medplum/fhirtypes';
import { amending, clinicalWriteGuard, ERX_CODE_SYSTEM } from './guard.ts';
import { canonicalJson, contentHash } from './signature.ts';

const sent: MedicationRequest = {
  resourceType: 'MedicationRequest',
  id: 'm1',
  status: 'active',
  intent: 'order',
  subject: { reference: 'Patient/p' },
  medicationCodeableConcept: { text: 'Senpara 500 mg' },
  groupIdentifier: { system: ERX_CODE_SYSTEM, value: '79999abcdefg-C' },
};

describe('write guard', () => {
  it('refuses any change or deletion of a sent prescription outside the clinical amendment', () => {
    assert.throws(() => clinicalWriteGuard.check(sent, { ...sent, note: [{ text: 'x' }] }), /79999abcdefg-C/);
    assert.throws(() => clinicalWriteGuard.check(sent, undefined), /không được sửa hoặc xoá/);
    assert.throws(() => clinicalWriteGuard.check(sent, { ...sent, status: 'stopped' }), /replace/);
    const draft = { ...sent, groupIdentifier: undefined };
    assert.doesNotThrow(() => clinicalWriteGuard.check(draft, { ...draft, note: [{ text: 'x' }] }));
  });

  it('lets the replacement stop it, changing nothing else', async () => {
    await amending('prescription-status', async () => {
      assert.doesNotThrow(() =>
        clinicalWriteGuard.check(sent, { ...sent, status: 'stopped', statusReason: { text: 'r' } }),
      );
      assert.throws(() => clinicalWriteGuard.check(sent, { ...sent, status: 'stopped', note: [{ text: 'x' }] }));
      assert.throws(() => clinicalWriteGuard.check(sent, undefined));
    });
  });

  it('refuses edits of a finished encounter except its amendment, which stays finished', async () => {
    const done: Encounter = { resourceType: 'Encounter', id: 'e', status: 'finished', class: { code: 'AMB' } };
    assert.throws(() => clinicalWriteGuard.check(done, { ...done, status: 'in-progress' }), /đã kết thúc/);
    assert.doesNotThrow(() => clinicalWriteGuard.check({ ...done, status: 'in-progress' }, done));
    await amending('encounter-amend', async () => {
      assert.doesNotThrow(() => clinicalWriteGuard.check(done, { ...done, length: { value: 1 } }));
      assert.throws(() => clinicalWriteGuard.check(done, { ...done, status: 'in-progress' }));
    });
  });
});

describe('content hash', () => {
  it('is the same for the same content whatever the key order or meta, and changes with one byte', () => {
    assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: 'x' }] }), '{"a":[{"c":"x","d":2}],"b":1}');
    const a = { ...sent, meta: { versionId: '1' } };
    const b = { meta: { versionId: '1', lastUpdated: 'x' }, ...JSON.parse(JSON.stringify(sent)) };
    assert.equal(contentHash([a]), contentHash([b]));
    assert.match(contentHash([a]), /^[0-9a-f]{64}$/);
    assert.notEqual(contentHash([a]), contentHash([{ ...a, status: 'stopped' }]));
  });
});

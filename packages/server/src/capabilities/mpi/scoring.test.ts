import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Patient } from '@medplum/fhirtypes';
import { VN_CORE_SID } from '@sen/vn';
import { repoint } from '../../platform/merge-scope.ts';
import {
  addressSimilarity,
  birthDateSimilarity,
  editDistance,
  foldedName,
  gradeOf,
  matchKey,
  nameSimilarity,
  scoreCandidate,
} from './scoring.ts';

const TODAY = '2026-07-01';

function patient(p: Partial<Patient>): Patient {
  return { resourceType: 'Patient', ...p };
}

describe('MPI scoring', () => {
  it('folds names whatever the diacritics, case and spacing', () => {
    assert.equal(foldedName([{ family: 'Nguyễn', given: ['Thị Lan', 'Anh'] }]), 'nguyen thi lan anh');
    assert.equal(foldedName([{ text: '  NGUYEN   thi lan anh ' }]), 'nguyen thi lan anh');
    assert.equal(foldedName([{ family: 'Đặng', given: ['Đức'] }]), 'dang duc');
  });

  it('measures name, birth date and address similarity', () => {
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(nameSimilarity('nguyen van an', 'nguyen van an'), 1);
    assert.equal(nameSimilarity('van an nguyen', 'nguyen van an'), 0.95);
    assert.ok(nameSimilarity('le thi thu ha', 'le thi thu hoa') > 0.9);
    assert.ok(nameSimilarity('le thi thu ha', 'tran van binh') < 0.5);
    assert.equal(birthDateSimilarity('1990-03-04', '1990-03-04'), 1);
    assert.equal(birthDateSimilarity('1990-03-04', '1990-04-03'), 0.7);
    assert.equal(birthDateSimilarity('1990-03-04', '1990-03-05'), 0.6);
    assert.equal(birthDateSimilarity('1990-03-04', '1990-11-25'), 0.3);
    assert.equal(birthDateSimilarity('1990-03-04', '1975-11-25'), 0);
    assert.equal(addressSimilarity('a b c', 'a b d'), 0.5);
  });

  it('scores the same person typed differently as probable, a namesake born elsewhere in time as not a match', () => {
    const stored = matchKey(
      patient({
        name: [{ family: 'Nguyễn', given: ['Văn', 'An'] }],
        birthDate: '1980-02-01',
        gender: 'male',
        address: [{ text: '12 Lê Lợi, Phường Bến Thành, TP Hồ Chí Minh' }],
        identifier: [{ system: VN_CORE_SID.cccd, value: '079080000001' }],
      }),
      TODAY,
    );
    const typed = matchKey(
      patient({
        name: [{ text: 'nguyen van an' }],
        birthDate: '1980-02-01',
        gender: 'male',
        address: [{ text: '12 le loi phuong ben thanh tp ho chi minh' }],
      }),
      TODAY,
    );
    const s = scoreCandidate(typed, stored);
    assert.equal(s, 0.99);
    assert.equal(gradeOf(s), 'probable');
    const namesake = matchKey(
      patient({ name: [{ text: 'Nguyễn Văn An' }], birthDate: '1955-09-30', gender: 'male' }),
      TODAY,
    );
    assert.equal(gradeOf(scoreCandidate(namesake, stored)), 'certainly-not');
  });

  it('halves the score when both sides carry different current ID numbers, ignoring old ones', () => {
    const base = { name: [{ text: 'Trần Thị Bình' }], birthDate: '1970-01-01', gender: 'female' as const };
    const a = matchKey(patient({ ...base, identifier: [{ system: VN_CORE_SID.cccd, value: '001170000001' }] }), TODAY);
    const b = matchKey(patient({ ...base, identifier: [{ system: VN_CORE_SID.cccd, value: '001170000002' }] }), TODAY);
    assert.ok(scoreCandidate(a, b) <= 0.5);
    const old = matchKey(
      patient({ ...base, identifier: [{ system: VN_CORE_SID.cccd, value: '001170000002', use: 'old' }] }),
      TODAY,
    );
    assert.equal(scoreCandidate(a, old), 0.99);
  });
});

describe('repoint', () => {
  it('re-points relative, absolute and versioned references to the source only', () => {
    const r = {
      subject: { reference: 'Patient/a' },
      performer: [{ reference: 'http://x/fhir/R4/Patient/a/_history/2' }, { reference: 'Patient/ab' }],
      contained: [{ link: { other: { reference: 'Patient/a' } } }],
    };
    assert.equal(repoint(r, 'a', 'b', 'http://x/fhir/R4'), 3);
    assert.deepEqual(r, {
      subject: { reference: 'Patient/b' },
      performer: [{ reference: 'Patient/b' }, { reference: 'Patient/ab' }],
      contained: [{ link: { other: { reference: 'Patient/b' } } }],
    });
  });
});

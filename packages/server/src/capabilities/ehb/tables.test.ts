import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Condition, Encounter, MedicationRequest, Patient } from '@medplum/fhirtypes';
import { VN_CORE_SID } from '@sen/vn';
import { buildTables, type EpisodeData, xmlDate, xmlTime } from './tables.ts';
import { parseTable, tableXml } from './xml.ts';

const ICD = 'https://sen.health.vn/fhir/CodeSystem/icd-10-vn';

function episode(over: Partial<EpisodeData> = {}): EpisodeData {
  const encounter: Encounter = {
    resourceType: 'Encounter',
    id: 'enc-1',
    status: 'finished',
    class: { code: 'AMB' },
    type: [{ coding: [{ system: 'https://sen.health.vn/fhir/CodeSystem/visit-type', code: 'fee' }] }],
    subject: { reference: 'Patient/p1' },
    period: { start: '2026-12-02T17:30:00Z', end: '2026-12-02T18:05:00Z' },
    diagnosis: [
      { condition: { reference: 'Condition/c2' }, rank: 2 },
      { condition: { reference: 'Condition/c1' }, rank: 1 },
    ],
  };
  const cond = (id: string, code: string): Condition => ({
    resourceType: 'Condition',
    id,
    subject: { reference: 'Patient/p1' },
    code: { coding: [{ system: ICD, code, display: `Bệnh ${code}` }] },
  });
  const patient: Patient = {
    resourceType: 'Patient',
    id: 'p1',
    identifier: [
      { system: VN_CORE_SID.cccd, value: '001099000111', use: 'old', period: { end: '2024-01-01' } },
      { system: VN_CORE_SID.cccd, value: '001099000222' },
    ],
    name: [{ family: 'Lê', given: ['Văn', 'Tám'] }],
    gender: 'male',
    birthDate: '1999-07-01',
  };
  return {
    encounter,
    patient,
    diagnoses: [cond('c1', 'J06.9'), cond('c2', 'R50.9')],
    conditions: [],
    allergies: [],
    immunizations: [],
    services: [],
    medications: [],
    dispenses: [],
    observations: [],
    reports: [],
    impressions: [],
    practitioners: new Map(),
    ...over,
  };
}

const col = (row: [string, string][], name: string): string | undefined => row.find(([k]) => k === name)?.[1];

test('times and dates are written in Vietnam time (UTC+7), a bare date at 0000', () => {
  assert.equal(xmlTime('2026-12-02T17:30:00Z'), '202612030030');
  assert.equal(xmlTime('2026-12-02T10:15:00+07:00'), '202612021015');
  assert.equal(xmlTime('1999-07-01'), '199907010000');
  assert.equal(xmlDate('2026-12-02T18:05:00Z'), '20261203');
  assert.equal(xmlTime(undefined), '');
  assert.equal(xmlTime('not a date'), '');
});

test('an uninsured visit: no card columns, no BHYT category; diagnoses by rank; the current ID number', () => {
  const t = buildTables(episode());
  assert.equal(col(t.XML1, 'MA_THE_BHYT'), '');
  assert.equal(col(t.XML1, 'MA_DOITUONG_KCB'), '');
  assert.equal(col(t.XML1, 'MA_BENH_CHINH'), 'J06.9');
  assert.equal(col(t.XML1, 'MA_BENH_KT'), 'R50.9');
  assert.equal(col(t.XML1, 'CHAN_DOAN_RV'), 'Bệnh J06.9; Bệnh R50.9');
  assert.equal(col(t.XML1, 'SO_CCCD'), '001099000222');
  assert.equal(col(t.XML1, 'HO_TEN'), 'Lê Văn Tám');
  assert.equal(col(t.XML1, 'GIOI_TINH'), '1');
  assert.equal(col(t.XML1, 'NGAY_VAO'), '202612030030');
  assert.equal(col(t.XML1, 'NAM_QT'), '2026');
  assert.equal(col(t.XML1, 'THANG_QT'), '12');
  assert.deepEqual([t.XML2, t.XML3, t.XML4], [[], [], []]);
  assert.equal(col(t.XML8, 'MA_LK'), 'enc-1');
});

test('at most 12 secondary codes; an emergency visit is category 2', () => {
  const many = Array.from({ length: 15 }, (_, i) => ({
    resourceType: 'Condition' as const,
    id: `s${i}`,
    subject: { reference: 'Patient/p1' },
    code: { coding: [{ system: ICD, code: `R${10 + i}` }] },
  }));
  const data = episode({ diagnoses: [...episode().diagnoses, ...many] });
  data.encounter.type = [
    { coding: [{ system: 'https://sen.health.vn/fhir/CodeSystem/visit-type', code: 'emergency' }] },
  ];
  const t = buildTables(data);
  assert.equal(col(t.XML1, 'MA_BENH_KT')?.split(';').length, 12);
  assert.equal(col(t.XML1, 'MA_DOITUONG_KCB'), '2');
});

test('drugs: the dispensed quantity wins over the prescribed one; stopped prescriptions are left out', () => {
  const mr = (id: string, status: MedicationRequest['status'], qty: number): MedicationRequest => ({
    resourceType: 'MedicationRequest',
    id,
    status,
    intent: 'order',
    subject: { reference: 'Patient/p1' },
    medicationCodeableConcept: { coding: [{ code: `D-${id}`, display: `Thuốc ${id}` }] },
    dispenseRequest: { quantity: { value: qty, unit: 'viên' } },
    dosageInstruction: [{ text: 'Sáng 1 viên, chiều 1 viên', route: { text: 'Uống' } }],
  });
  const t = buildTables(
    episode({
      medications: [mr('a', 'active', 10), mr('b', 'stopped', 4), mr('c', 'completed', 6)],
      dispenses: [
        {
          resourceType: 'MedicationDispense',
          status: 'completed',
          authorizingPrescription: [{ reference: 'MedicationRequest/a' }],
          quantity: { value: 8 },
        },
      ],
    }),
  );
  assert.deepEqual(
    t.XML2.map((r) => [col(r, 'STT'), col(r, 'MA_THUOC'), col(r, 'SO_LUONG'), col(r, 'DUONG_DUNG')]),
    [
      ['1', 'D-a', '8', 'Uống'],
      ['2', 'D-c', '6', 'Uống'],
    ],
  );
});

test('a table written and read back keeps every column, special characters included', () => {
  const t = buildTables(episode({ encounter: { ...episode().encounter, reasonCode: [{ text: 'Sốt <39°C> & ho' }] } }));
  const [row] = parseTable('XML1', tableXml('XML1', t.XML1));
  assert.equal(row.LY_DO_VV, 'Sốt <39°C> & ho');
  assert.deepEqual(
    Object.keys(row),
    t.XML1.map(([k]) => k),
  );
});

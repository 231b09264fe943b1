import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Bundle } from '@medplum/fhirtypes';
import {
  chartPoints,
  currentCare,
  maskId,
  prescriptionGroups,
  repeatedTrends,
  splitRecord,
  upcoming,
  viDate,
  visitTimeline,
  viTime,
} from './portal.logic.ts';

const LOINC = 'http://loinc.org';
const bundle: Bundle = {
  resourceType: 'Bundle',
  type: 'collection',
  entry: [
    { resource: { resourceType: 'Patient', id: 'p1', name: [{ text: 'Trần Thị Mẹ' }] } },
    {
      resource: {
        resourceType: 'Encounter',
        id: 'e1',
        status: 'finished',
        class: { code: 'AMB' },
        period: { start: '2026-09-01T01:00:00Z' },
        diagnosis: [{ condition: { reference: 'Condition/c2' }, rank: 1 }],
      },
    },
    {
      resource: {
        resourceType: 'Encounter',
        id: 'e2',
        status: 'finished',
        class: { code: 'AMB' },
        period: { start: '2026-11-01T01:00:00Z' },
        extension: [
          { url: 'https://sen.health.vn/fhir/StructureDefinition/encounter-follow-up', valueDate: '2026-12-15' },
        ],
        diagnosis: [
          { condition: { reference: 'Condition/c1' }, rank: 2 },
          { condition: { reference: 'Condition/c2' }, rank: 1 },
        ],
      },
    },
    {
      resource: {
        resourceType: 'Condition',
        id: 'c1',
        subject: { reference: 'Patient/p1' },
        code: { coding: [{ code: 'I10' }], text: 'Tăng huyết áp' },
      },
    },
    {
      resource: {
        resourceType: 'Condition',
        id: 'c2',
        subject: { reference: 'Patient/p1' },
        code: { coding: [{ code: 'E11' }], text: 'Đái tháo đường type 2' },
      },
    },
    ...[7.8, 6.9].map((v, i) => ({
      resource: {
        resourceType: 'Observation' as const,
        id: `g${i}`,
        status: 'final' as const,
        code: { coding: [{ system: LOINC, code: '2345-7' }], text: 'Glucose' },
        effectiveDateTime: i === 0 ? '2026-09-01' : '2026-11-01',
        valueQuantity: { value: v, unit: 'mmol/L' },
      },
    })),
    {
      resource: {
        resourceType: 'Observation',
        id: 'once',
        status: 'final',
        code: { coding: [{ system: LOINC, code: '2160-0' }], text: 'Creatinin' },
        effectiveDateTime: '2026-11-01',
        valueQuantity: { value: 80, unit: 'umol/L' },
      },
    },
    ...['a', 'b'].map((x) => ({
      resource: {
        resourceType: 'MedicationRequest' as const,
        id: `m${x}`,
        status: 'active' as const,
        intent: 'order' as const,
        subject: { reference: 'Patient/p1' },
        authoredOn: '2026-11-01',
        groupIdentifier: { system: 'https://sen.health.vn/sid/e-prescription', value: '79999abcdefg-C' },
        medicationCodeableConcept: { text: x === 'a' ? 'Metformin 500 mg' : 'Amlodipin 5 mg' },
        dosageInstruction: [{ text: 'Uống 1 viên sau ăn sáng' }],
      },
    })),
    {
      resource: {
        resourceType: 'Appointment',
        id: 'a1',
        status: 'booked',
        start: '2026-12-10T01:30:00Z',
        identifier: [{ system: 'https://sen.health.vn/fhir/sid/booking-code', value: 'K7M2QX9D' }],
        participant: [{ status: 'accepted' }],
      },
    },
  ],
};

describe('portal logic', () => {
  const record = splitRecord(bundle);

  it('lists visits newest first with the main diagnosis first and the follow-up date', () => {
    const visits = visitTimeline(record);
    assert.deepEqual(
      visits.map((v) => v.encounter.id),
      ['e2', 'e1'],
    );
    assert.deepEqual(
      visits[0].diagnoses.map((d) => [d.code, d.main]),
      [
        ['E11', true],
        ['I10', false],
      ],
    );
    assert.equal(visits[0].followUp, '2026-12-15');
  });

  it('draws trends only for tests measured more than once', () => {
    const trends = repeatedTrends(record);
    assert.deepEqual(
      trends.map((t) => [t.code, t.points.map((p) => p.value)]),
      [['2345-7', [7.8, 6.9]]],
    );
  });

  it('groups prescriptions under their e-prescription code', () => {
    const groups = prescriptionGroups(record);
    assert.equal(groups.length, 1);
    assert.equal(groups[0].code, '79999abcdefg-C');
    assert.equal(groups[0].items.length, 2);
    assert.equal(groups[0].items[0].instruction, 'Uống 1 viên sau ăn sáng');
  });

  it('lists follow-ups and booked appointments from today, soonest first', () => {
    const items = upcoming(record, '2026-12-03');
    assert.deepEqual(
      items.map((i) => [i.kind, i.code]),
      [
        ['appointment', 'K7M2QX9D'],
        ['follow-up', undefined],
      ],
    );
    assert.equal(upcoming(record, '2026-12-20').length, 0);
  });

  it('writes dates and times the Vietnamese way, in Vietnam time', () => {
    assert.equal(viDate('2026-12-10'), '10/12/2026');
    assert.equal(viDate('2026-12-09T18:00:00Z'), '10/12/2026');
    assert.equal(viTime('2026-12-10T01:30:00Z'), '08:30');
    assert.equal(maskId('079190123456'), '••••••••3456');
  });

  it('shows the stay in progress with today’s orders and its care plan', () => {
    const stay = splitRecord({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        {
          resource: {
            resourceType: 'Encounter',
            id: 'in1',
            status: 'in-progress',
            class: { code: 'IMP' },
            period: { start: '2026-12-01T03:00:00Z' },
          },
        },
        {
          resource: {
            resourceType: 'ServiceRequest',
            id: 'o1',
            status: 'completed',
            intent: 'order',
            subject: { reference: 'Patient/p1' },
            encounter: { reference: 'Encounter/in1' },
            authoredOn: '2026-12-03T01:00:00Z',
            code: { text: 'Công thức máu' },
          },
        },
        {
          resource: {
            resourceType: 'ServiceRequest',
            id: 'o2',
            status: 'completed',
            intent: 'order',
            subject: { reference: 'Patient/p1' },
            encounter: { reference: 'Encounter/in1' },
            authoredOn: '2026-12-01T01:00:00Z',
            code: { text: 'X-quang ngực' },
          },
        },
        {
          resource: {
            resourceType: 'CarePlan',
            id: 'cp',
            status: 'active',
            intent: 'plan',
            subject: { reference: 'Patient/p1' },
            title: 'Điều trị viêm phổi',
            activity: [{ detail: { status: 'in-progress', description: 'Kháng sinh tĩnh mạch 7 ngày' } }],
          },
        },
      ],
    });
    const care = currentCare(stay, '2026-12-03');
    assert.ok(care?.inpatient);
    assert.deepEqual(
      care?.orders.map((o) => o.id),
      ['o1'],
    );
    assert.deepEqual(care?.plans, [{ title: 'Điều trị viêm phổi', activities: ['Kháng sinh tĩnh mạch 7 ngày'] }]);
    assert.equal(currentCare(record, '2026-12-03'), undefined);
  });

  it('scales a chart: higher values higher up, a flat series in the middle', () => {
    const c = chartPoints([5, 10], 100, 50, 10);
    assert.deepEqual(c.points, [
      [10, 40],
      [90, 10],
    ]);
    assert.equal(chartPoints([3, 3], 100, 50).points[0][1], 25);
  });
});

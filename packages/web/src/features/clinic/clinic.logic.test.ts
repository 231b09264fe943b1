import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Encounter, Observation, OperationOutcome, Parameters } from '@medplum/fhirtypes';
import {
  ageLabel,
  ageOn,
  bhytShare,
  bmiClass,
  bmiOf,
  defaultInstructions,
  drugsOf,
  isChildUnder72Months,
  isPrescriptionCode,
  orderablesOf,
  parameters,
  prescribedQuantity,
  prescribingWarnings,
  QUEUE_NUMBER_EXT,
  QUEUE_NUMBER_SID,
  QUEUE_STATUS_EXT,
  queueGroups,
  queueNumber,
  sparklinePoints,
  trendDirection,
  trendsOf,
  unacknowledged,
  vitalFlag,
  vitalImpossible,
} from './clinic.logic.ts';

describe('clinic: prescription quantity', () => {
  it('multiplies dose per time × times per day × days', () => {
    assert.equal(prescribedQuantity(1, 2, 30), 60);
    assert.equal(prescribedQuantity(2, 3, 7), 42);
  });
  it('keeps half tablets exact without floating-point noise', () => {
    assert.equal(prescribedQuantity(0.5, 3, 7), 10.5);
    assert.equal(prescribedQuantity(0.1, 3, 7), 2.1);
  });
  it('gives nothing for an incomplete or impossible line', () => {
    assert.equal(prescribedQuantity(undefined, 2, 30), undefined);
    assert.equal(prescribedQuantity(1, 0, 30), undefined);
    assert.equal(prescribedQuantity(1, 2, -1), undefined);
    assert.equal(prescribedQuantity(1, 2.5, 30), undefined);
    assert.equal(prescribedQuantity(1, 2, 7.5), undefined);
  });
  it('writes default instructions the Vietnamese way, English second', () => {
    assert.equal(defaultInstructions('vi', 1, 2, 'Viên', 'Uống'), 'Ngày uống 2 lần, mỗi lần 1 Viên');
    assert.equal(defaultInstructions('vi', 1, 1, 'Ống', 'Tiêm bắp'), 'Ngày dùng 1 lần, mỗi lần 1 Ống');
    assert.equal(defaultInstructions('en', 1, 2, 'Viên', 'Uống'), '2 times a day, 1 Viên each time');
    assert.equal(defaultInstructions('vi', undefined, 2, 'Viên', 'Uống'), '');
  });
});

describe('clinic: age and BMI display', () => {
  const on = new Date(2026, 11, 2); // 2 December 2026, local time
  it('counts whole years and months, the birthday itself included', () => {
    assert.deepEqual(ageOn('1970-12-02', on), { years: 56, months: 672 });
    assert.deepEqual(ageOn('1970-12-03', on), { years: 55, months: 671 });
    assert.equal(ageOn('2027-01-01', on), undefined);
    assert.equal(ageOn('not a date', on), undefined);
  });
  it('shows months under 72 months (e-prescription rule) and years from then on', () => {
    assert.equal(ageLabel('2024-06-15', on, 'vi'), '29 tháng');
    assert.equal(ageLabel('2024-06-15', on, 'en'), '29 months');
    assert.equal(ageLabel('2020-12-02', on, 'vi'), '6 tuổi');
    assert.equal(ageLabel('2020-12-03', on, 'vi'), '71 tháng');
    assert.equal(isChildUnder72Months('2020-12-03', on), true);
    assert.equal(isChildUnder72Months('2020-12-02', on), false);
    assert.equal(ageLabel(undefined, on, 'vi'), '');
  });
  it('computes BMI to one decimal and classes it with the Asia-Pacific cut-offs', () => {
    assert.equal(bmiOf(165, 70), 25.7);
    assert.equal(bmiOf(160, 47), 18.4);
    assert.equal(bmiOf(undefined, 70), undefined);
    assert.equal(bmiOf(5, 70), undefined);
    assert.equal(bmiClass(18.4), 'underweight');
    assert.equal(bmiClass(22.9), 'normal');
    assert.equal(bmiClass(23), 'overweight');
    assert.equal(bmiClass(25.7), 'obese1');
    assert.equal(bmiClass(31), 'obese2');
  });
  it('flags out-of-range vital signs and refuses impossible values', () => {
    assert.equal(vitalFlag('systolic', 150), 'H');
    assert.equal(vitalFlag('systolic', 185), 'HH');
    assert.equal(vitalFlag('systolic', 120), undefined);
    assert.equal(vitalFlag('spo2', 93), 'L');
    assert.equal(vitalFlag('spo2', 85), 'LL');
    assert.equal(vitalFlag('temperature', 38.5), 'H');
    assert.equal(vitalFlag('pulse', 35), 'LL');
    assert.equal(vitalFlag('height', 300), undefined);
    assert.equal(vitalImpossible('pulse', 400), true);
    assert.equal(vitalImpossible('spo2', 101), true);
    assert.equal(vitalImpossible('temperature', 37), false);
    assert.equal(vitalImpossible('weight', undefined), false);
  });
});

describe('clinic: prescribing warnings from a 422', () => {
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'warning',
        code: 'business-rule',
        details: { coding: [{ code: 'allergy' }], text: 'Bệnh nhân dị ứng với Amoxicilin' },
      },
      {
        severity: 'error',
        code: 'business-rule',
        details: { coding: [{ code: 'interaction:DEMO-T010+DEMO-T020' }] },
        diagnostics: 'Tương tác thuốc: Amlodipin với Simvastatin',
        expression: ['item[1]'],
      },
      { severity: 'error', code: 'invalid', diagnostics: 'Số ngày dùng phải từ 1 đến 90' },
    ],
  };
  it('maps each issue to a code and a readable message; uncoded issues are plain errors', () => {
    const w = prescribingWarnings(outcome);
    assert.deepEqual(w, [
      { code: 'allergy', message: 'Bệnh nhân dị ứng với Amoxicilin', severity: 'warning', expression: undefined },
      {
        code: 'interaction:DEMO-T010+DEMO-T020',
        message: 'Tương tác thuốc: Amlodipin với Simvastatin',
        severity: 'warning',
        expression: 'item[1]',
      },
      { code: 'issue-2', message: 'Số ngày dùng phải từ 1 đến 90', severity: 'error', expression: undefined },
    ]);
  });
  it('keeps blocking what is not acknowledged, and errors always', () => {
    const w = prescribingWarnings(outcome);
    assert.deepEqual(
      unacknowledged(w, ['allergy']).map((x) => x.code),
      ['interaction:DEMO-T010+DEMO-T020', 'issue-2'],
    );
    assert.deepEqual(
      unacknowledged(w, ['allergy', 'interaction:DEMO-T010+DEMO-T020', 'issue-2']).map((x) => x.code),
      ['issue-2'],
    );
    assert.deepEqual(prescribingWarnings(undefined), []);
  });
  it('recognises the national e-prescription code shape', () => {
    assert.equal(isPrescriptionCode('79001a1b2c3d-C'), true);
    assert.equal(isPrescriptionCode('79001A1B2C3D-C'), false);
    assert.equal(isPrescriptionCode('79001a1b2c3d-X'), false);
    assert.equal(isPrescriptionCode('79001a1b2c3-C'), false);
  });
});

describe('clinic: operation parameters', () => {
  it('leaves out unset values when building Parameters', () => {
    assert.deepEqual(
      parameters([
        ['pulse', { valueDecimal: 80 }],
        ['systolic', undefined],
        ['advice', { valueString: '' }],
      ]),
      { resourceType: 'Parameters', parameter: [{ name: 'pulse', valueDecimal: 80 }] },
    );
  });
  it('reads orderable services with price and BHYT, and order sets with their codes', () => {
    const p: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        {
          name: 'service',
          part: [
            { name: 'code', valueCoding: { system: 's', code: '99.2301.2001', display: 'Tổng phân tích tế bào máu' } },
            { name: 'category', valueCode: 'lab' },
            { name: 'price', valueDecimal: 46200 },
            { name: 'bhytCovered', valueBoolean: true },
            { name: 'bhytRate', valueDecimal: 80 },
            { name: 'department', valueString: 'Khoa Xét nghiệm' },
          ],
        },
        { name: 'service', part: [{ name: 'category', valueCode: 'lab' }] },
        {
          name: 'orderSet',
          part: [
            { name: 'code', valueCode: 'THA' },
            { name: 'name', valueString: 'Tăng huyết áp' },
            { name: 'services', valueString: '99.2301.2001, 99.2401.3004' },
          ],
        },
      ],
    };
    const { services, orderSets } = orderablesOf(p);
    assert.equal(services.length, 1);
    assert.deepEqual(services[0], {
      code: { system: 's', code: '99.2301.2001', display: 'Tổng phân tích tế bào máu' },
      category: 'lab',
      price: 46200,
      bhytCovered: true,
      bhytRate: 80,
      department: 'Khoa Xét nghiệm',
    });
    assert.deepEqual(orderSets, [{ code: 'THA', name: 'Tăng huyết áp', services: ['99.2301.2001', '99.2401.3004'] }]);
    assert.deepEqual(bhytShare(46200, 80, true), { bhyt: 36960, patient: 9240 });
    assert.deepEqual(bhytShare(46200, 80, false), { bhyt: 0, patient: 46200 });
  });
  it('reads drugs found by ingredient or brand', () => {
    const d = drugsOf({
      resourceType: 'Parameters',
      parameter: [
        {
          name: 'drug',
          part: [
            { name: 'code', valueCoding: { system: 'd', code: 'DEMO-T010', display: 'Senlodi' } },
            { name: 'name', valueString: 'Senlodi' },
            { name: 'ingredient', valueString: 'Amlodipin' },
            { name: 'strength', valueString: '5 mg' },
            { name: 'unit', valueString: 'Viên' },
            { name: 'route', valueString: 'Uống' },
            { name: 'price', valueDecimal: 600 },
            { name: 'bhytCovered', valueBoolean: true },
          ],
        },
      ],
    });
    assert.equal(d.length, 1);
    assert.equal(d[0].ingredient, 'Amlodipin');
    assert.equal(d[0].price, 600);
    assert.equal(d[0].bhytCovered, true);
    assert.equal(d[0].form, undefined);
  });
});

describe('clinic: the queue and the trends', () => {
  const enc = (id: string, n: number, status: string, useIdentifier = false): Encounter => ({
    resourceType: 'Encounter',
    id,
    status: 'arrived',
    class: { code: 'AMB' },
    ...(useIdentifier ? { identifier: [{ system: QUEUE_NUMBER_SID, value: `K01-P02-20261202-${n}` }] } : {}),
    extension: [
      ...(useIdentifier ? [] : [{ url: QUEUE_NUMBER_EXT, valueInteger: n }]),
      { url: QUEUE_STATUS_EXT, valueCode: status },
    ],
  });
  it('reads the number from the extension or the identifier, and groups by queue status in number order', () => {
    assert.equal(queueNumber(enc('a', 7, 'waiting', true)), 7);
    const g = queueGroups([
      enc('c', 3, 'waiting'),
      enc('a', 1, 'done'),
      enc('b', 2, 'skipped'),
      enc('d', 5, 'waiting'),
      enc('e', 4, 'waiting'),
      enc('f', 6, 'in-progress'),
    ]);
    assert.deepEqual(
      g.waiting.map((e) => e.id),
      ['c', 'e', 'd'],
    );
    assert.deepEqual(
      g.skipped.map((e) => e.id),
      ['b'],
    );
    assert.deepEqual(
      g['in-progress'].map((e) => e.id),
      ['f'],
    );
    assert.deepEqual(
      g.done.map((e) => e.id),
      ['a'],
    );
  });
  it('groups observation history by code, splits blood pressure, and orders points oldest first', () => {
    const obs = (id: string, at: string, code: string, value: number, flag?: string): Observation => ({
      resourceType: 'Observation',
      id,
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code }], text: code === '2345-7' ? 'Glucose máu' : code },
      effectiveDateTime: at,
      valueQuantity: { value, unit: 'mg/dL' },
      ...(flag ? { interpretation: [{ coding: [{ code: flag }] }] } : {}),
    });
    const bp: Observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ code: '85354-9' }], text: 'Huyết áp' },
      effectiveDateTime: '2026-03-01T08:00:00+07:00',
      component: [
        { code: { coding: [{ code: '8480-6' }], text: 'Huyết áp tâm thu' }, valueQuantity: { value: 150 } },
        { code: { coding: [{ code: '8462-4' }], text: 'Huyết áp tâm trương' }, valueQuantity: { value: 95 } },
      ],
    };
    const trends = trendsOf([
      obs('2', '2026-06-01T08:00:00+07:00', '2345-7', 140, 'H'),
      obs('1', '2026-01-01T08:00:00+07:00', '2345-7', 110, 'H'),
      { ...obs('x', '2026-02-01T08:00:00+07:00', '2345-7', 999), status: 'entered-in-error' },
      bp,
    ]);
    const glucose = trends.find((t) => t.code === '2345-7');
    assert.ok(glucose);
    assert.equal(glucose.label, 'Glucose máu');
    assert.deepEqual(
      glucose.points.map((p) => [p.value, p.flag]),
      [
        [110, 'H'],
        [140, 'H'],
      ],
    );
    assert.equal(trendDirection(glucose.points), 'up');
    assert.deepEqual(
      trends.filter((t) => t.code.startsWith('84')).map((t) => [t.code, t.points[0].value]),
      [
        ['8480-6', 150],
        ['8462-4', 95],
      ],
    );
  });
  it('draws a sparkline inside its box, flat series in the middle', () => {
    assert.equal(sparklinePoints([1, 3, 2], 100, 20), '2,18 50,2 98,10');
    assert.equal(sparklinePoints([5, 5], 100, 20), '2,10 98,10');
    assert.equal(sparklinePoints([], 100, 20), '');
  });
});

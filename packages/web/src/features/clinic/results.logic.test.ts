import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Bundle } from '@medplum/fhirtypes';
import { alertText, rangeText, reportsOf } from './results.logic.ts';

const V2 = 'http://terminology.hl7.org/CodeSystem/v2-0074';
const INTERP = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';

const bundle: Bundle = {
  resourceType: 'Bundle',
  type: 'searchset',
  entry: [
    {
      resource: {
        resourceType: 'DiagnosticReport',
        id: 'lab1',
        status: 'preliminary',
        category: [{ coding: [{ system: V2, code: 'LAB' }] }],
        code: { text: 'Tổng phân tích tế bào máu' },
        issued: '2026-12-03T08:00:00+07:00',
        basedOn: [{ reference: 'ServiceRequest/sr1' }],
        result: [{ reference: 'Observation/wbc' }, { reference: 'Observation/plt' }, { reference: 'Observation/gone' }],
      },
    },
    {
      resource: {
        resourceType: 'DiagnosticReport',
        id: 'rad1',
        status: 'final',
        category: [{ coding: [{ system: V2, code: 'RAD' }] }],
        code: { text: 'Chụp X-quang ngực thẳng' },
        issued: '2026-12-03T09:00:00+07:00',
        conclusion: 'Không thấy tổn thương',
        presentedForm: [
          {
            contentType: 'text/plain; charset=utf-8',
            data: Buffer.from('Phổi sáng đều hai bên', 'utf8').toString('base64'),
          },
        ],
        resultsInterpreter: [{ display: 'BS. Trần Văn Hình' }],
      },
    },
    {
      resource: {
        resourceType: 'DiagnosticReport',
        id: 'void',
        status: 'entered-in-error',
        code: { text: 'nhầm' },
      },
    },
    {
      resource: {
        resourceType: 'Observation',
        id: 'wbc',
        status: 'preliminary',
        code: { text: 'Số lượng bạch cầu (WBC)' },
        valueQuantity: { value: 7.2, unit: 'G/L' },
        referenceRange: [{ low: { value: 4 }, high: { value: 10 } }],
      },
    },
    {
      resource: {
        resourceType: 'Observation',
        id: 'plt',
        status: 'preliminary',
        code: { text: 'Số lượng tiểu cầu (PLT)' },
        valueQuantity: { value: 18, unit: 'G/L' },
        referenceRange: [{ low: { value: 150 }, high: { value: 400 } }],
        interpretation: [{ coding: [{ system: INTERP, code: 'LL' }] }],
      },
    },
  ],
};

describe('results on the chart', () => {
  it('lists the reports newest first, without voided ones, lab values with range and flag', () => {
    const reports = reportsOf(bundle);
    assert.deepEqual(
      reports.map((r) => [r.id, r.kind, r.signed]),
      [
        ['rad1', 'imaging', true],
        ['lab1', 'lab', false],
      ],
    );
    const lab = reports[1];
    assert.deepEqual(lab.orderIds, ['sr1']);
    assert.equal(lab.critical, true);
    assert.deepEqual(
      lab.values.map((v) => [v.name, v.value, v.unit, v.range, v.flag]),
      [
        ['Số lượng bạch cầu (WBC)', '7.2', 'G/L', '4–10', undefined],
        ['Số lượng tiểu cầu (PLT)', '18', 'G/L', '150–400', 'LL'],
      ],
      'a result the search did not return is left out, not shown empty',
    );
    assert.equal(reports[0].findings, 'Phổi sáng đều hai bên');
    assert.equal(reports[0].conclusion, 'Không thấy tổn thương');
    assert.equal(reports[0].performer, 'BS. Trần Văn Hình');
    assert.equal(reports[0].critical, false);
  });

  it('writes one-sided and text ranges', () => {
    assert.equal(rangeText([{ high: { value: 5.2 } }]), '≤ 5.2');
    assert.equal(rangeText([{ low: { value: 0.9 } }]), '≥ 0.9');
    assert.equal(rangeText([{ text: 'Âm tính' }]), 'Âm tính');
    assert.equal(rangeText(undefined), undefined);
  });

  it('shows an alert in the user’s language', () => {
    const c = {
      resourceType: 'Communication' as const,
      status: 'in-progress' as const,
      payload: [
        { contentString: 'Giá trị nguy hiểm: Tiểu cầu = 18 G/L (LL) / Critical value: Platelets = 18 G/L (LL)' },
      ],
    };
    assert.equal(alertText(c, 'vi'), 'Giá trị nguy hiểm: Tiểu cầu = 18 G/L (LL)');
    assert.equal(alertText(c, 'en'), 'Critical value: Platelets = 18 G/L (LL)');
  });
});

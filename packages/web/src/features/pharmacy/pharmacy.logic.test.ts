import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Parameters } from '@medplum/fhirtypes';
import {
  choiceProblems,
  dispenseRequest,
  fefoPlan,
  formatDecimal,
  isPrescriptionCode,
  isPrice,
  prescriptionsOf,
  receiptRequest,
  stockRowsOf,
} from './pharmacy.logic.ts';

const lot = (id: string, expiry: string, available: number) => ({
  name: 'lot',
  part: [
    { name: 'id', valueString: id },
    { name: 'lotNumber', valueString: `L${id}` },
    { name: 'expiry', valueDate: expiry },
    { name: 'available', valueDecimal: available },
  ],
});

const dispensable: Parameters = {
  resourceType: 'Parameters',
  parameter: [
    {
      name: 'prescription',
      part: [
        { name: 'code', valueString: '79999abc1234-C' },
        { name: 'status', valueCode: 'partial' },
        { name: 'patient', valueReference: { reference: 'Patient/p1', display: 'Trần Thị Bình' } },
        {
          name: 'line',
          part: [
            {
              name: 'medicationRequest',
              resource: {
                resourceType: 'MedicationRequest',
                id: 'm1',
                status: 'active',
                intent: 'order',
                subject: { reference: 'Patient/p1' },
                medicationCodeableConcept: {
                  coding: [{ system: 'https://sen.health.vn/fhir/CodeSystem/drug', code: 'DEMO-T001' }],
                  text: 'Senpara (Paracetamol)',
                },
              },
            },
            { name: 'prescribed', valueDecimal: 10 },
            { name: 'dispensed', valueDecimal: 4 },
            { name: 'remaining', valueDecimal: 6 },
            { name: 'unit', valueString: 'Viên' },
            lot('2', '2027-06-01', 5),
            lot('1', '2027-01-01', 3),
          ],
        },
      ],
    },
  ],
};

describe('pharmacy logic', () => {
  it('reads a prescription with its lines and lots', () => {
    const [rx] = prescriptionsOf(dispensable);
    assert.equal(rx.code, '79999abc1234-C');
    assert.equal(rx.state, 'partial');
    assert.equal(rx.patientName, 'Trần Thị Bình');
    assert.equal(rx.lines[0].drugCode, 'DEMO-T001');
    assert.equal(rx.lines[0].remaining, 6);
    assert.equal(rx.lines[0].lots.length, 2);
  });

  it('plans first expiring first and says how much is missing', () => {
    const [rx] = prescriptionsOf(dispensable);
    const { plan, short } = fefoPlan(rx.lines[0].lots, 6);
    assert.deepEqual(
      plan.map((p) => [p.lot.id, p.quantity]),
      [
        ['1', 3],
        ['2', 3],
      ],
    );
    assert.equal(short, 0);
    assert.equal(fefoPlan(rx.lines[0].lots, 9.5).short, 1.5);
  });

  it('builds the dispense request and flags choices above what is left or in stock', () => {
    const [rx] = prescriptionsOf(dispensable);
    const req = dispenseRequest(rx.code, 'loc1', rx, { m1: { quantity: 2, lotId: '2' } });
    const line = req.parameter?.find((p) => p.name === 'line');
    assert.equal(line?.part?.find((p) => p.name === 'quantity')?.valueDecimal, 2);
    assert.equal(line?.part?.find((p) => p.name === 'lot')?.valueString, '2');
    assert.equal(dispenseRequest(rx.code, 'loc1', rx, { m1: { quantity: 0 } }).parameter?.length, 2);
    assert.deepEqual(choiceProblems(rx, { m1: { quantity: 7 } }), [{ lineId: 'm1', kind: 'over' }]);
    assert.deepEqual(choiceProblems(rx, { m1: { quantity: 4, lotId: '1' } }), [{ lineId: 'm1', kind: 'lot' }]);
    assert.deepEqual(choiceProblems(rx, { m1: { quantity: 6 } }), []);
  });

  it('formats exact decimals with Vietnamese and English separators, never through floating point', () => {
    assert.equal(formatDecimal('1234567.89', 'vi'), '1.234.567,89');
    assert.equal(formatDecimal('1234567.89', 'en'), '1,234,567.89');
    assert.equal(formatDecimal('12345678901234.05', 'vi'), '12.345.678.901.234,05');
    assert.equal(formatDecimal('0.3', 'vi'), '0,3');
  });

  it('recognises prescription codes and prices', () => {
    assert.ok(isPrescriptionCode('79999abc1234-C'));
    assert.ok(!isPrescriptionCode('nguyen van an'));
    assert.ok(isPrice('1100,25') && isPrice('0') && !isPrice('1.234') && !isPrice('-1'));
  });

  it('sends receipt prices as text and reads the stock report', () => {
    const req = receiptRequest('loc', ' PN-1 ', [
      {
        drug: { code: 'DEMO-T001', display: 'x' },
        lot: 'A',
        expiry: '2027-01-01',
        quantity: '10',
        unitPrice: '1100,25',
      },
    ]);
    const item = req.parameter?.find((p) => p.name === 'item');
    assert.equal(item?.part?.find((p) => p.name === 'unitPrice')?.valueString, '1100.25');
    assert.equal(req.parameter?.find((p) => p.name === 'receiptNumber')?.valueString, 'PN-1');
    const report = stockRowsOf({
      resourceType: 'Parameters',
      parameter: [
        { name: 'totalValue', valueString: '14802' },
        {
          name: 'row',
          part: [
            { name: 'drug', valueCoding: { code: 'DEMO-T007', display: 'Senzith' } },
            { name: 'lotNumber', valueString: 'N1' },
            { name: 'state', valueCode: 'near-expiry' },
            { name: 'value', valueString: '10002' },
          ],
        },
      ],
    });
    assert.equal(report.totalValue, '14802');
    assert.equal(report.rows[0].state, 'near-expiry');
  });
});

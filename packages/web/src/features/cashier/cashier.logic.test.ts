import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Invoice, Parameters } from '@medplum/fhirtypes';
import { billOf, changeDue, formatVnd, parseVisitQuery, visitInvoices } from './cashier.logic.ts';

const SHARE = 'https://sen.health.vn/fhir/StructureDefinition/charge-share';
const money = (value: number) => ({ value, currency: 'VND' as const });
const charge = (id: string, name: string, drug: boolean, s: Record<string, number>, status = 'billable') => ({
  name: 'chargeItem',
  resource: {
    resourceType: 'ChargeItem',
    id,
    status,
    code: {
      text: name,
      coding: [
        {
          system: drug
            ? 'https://sen.health.vn/fhir/CodeSystem/drug'
            : 'https://sen.health.vn/fhir/CodeSystem/bhyt-service',
          code: id,
        },
      ],
    },
    subject: { reference: 'Patient/p' },
    quantity: { value: s.qty ?? 1 },
    priceOverride: money(s.unit),
    extension: [
      {
        url: SHARE,
        extension: [
          ...['amount', 'bhyt', 'copay', 'outOfScope', 'patient'].map((k) => ({
            url: k,
            valueMoney: money(s[k] ?? 0),
          })),
          { url: 'percent', valueDecimal: s.percent ?? 0 },
        ],
      },
    ],
  },
});

describe('cashier logic', () => {
  it('reads what the search box holds: CCCD, queue number or a name', () => {
    assert.deepEqual(parseVisitQuery(' 001085012345 '), { kind: 'cccd', value: '001085012345' });
    assert.deepEqual(parseVisitQuery('pk01-20261203-5'), { kind: 'queue', value: 'PK01-20261203-5' });
    assert.deepEqual(parseVisitQuery('Nguyễn Văn An'), { kind: 'name', value: 'Nguyễn Văn An' });
    assert.deepEqual(parseVisitQuery('   '), { kind: 'none' });
    assert.equal(parseVisitQuery('00108501234').kind, 'name'); // 11 digits is no CCCD
  });

  it('writes đồng the Vietnamese way', () => {
    assert.equal(formatVnd(119280, 'vi'), '119.280 đ');
    assert.equal(formatVnd('1020000', 'en'), '1,020,000 VND');
    assert.equal(formatVnd(0, 'vi'), '0 đ');
  });

  it('builds the bill from $charges: services first, then drugs, totals as the server gave them', () => {
    const p: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'visitType', valueCode: 'bhyt' },
        { name: 'route', valueCode: 'right-route' },
        { name: 'benefitLevel', valueInteger: 4 },
        { name: 'percent', valueDecimal: 80 },
        { name: 'smallAmount', valueBoolean: false },
        {
          name: 'totals',
          part: [
            { name: 'amount', valueMoney: money(596400) },
            { name: 'bhyt', valueMoney: money(477120) },
            { name: 'copay', valueMoney: money(119280) },
            { name: 'outOfScope', valueMoney: money(0) },
            { name: 'patient', valueMoney: money(119280) },
          ],
        },
        charge('d', 'Paracetamol 500 mg', true, {
          unit: 450,
          qty: 20,
          amount: 9000,
          bhyt: 7200,
          copay: 1800,
          patient: 1800,
          percent: 80,
        }),
        charge(
          'x',
          'Chụp X-quang ngực thẳng',
          false,
          { unit: 65400, amount: 65400, bhyt: 52320, copay: 13080, patient: 13080, percent: 80 },
          'billed',
        ),
        charge('c', 'Chụp cắt lớp vi tính sọ não', false, {
          unit: 522000,
          amount: 522000,
          bhyt: 417600,
          copay: 104400,
          patient: 104400,
          percent: 80,
        }),
      ] as Parameters['parameter'],
    };
    const bill = billOf(p);
    assert.deepEqual(
      bill.lines.map((l) => l.id),
      ['c', 'x', 'd'],
    );
    assert.equal(bill.lines[2].kind, 'drug');
    assert.equal(bill.lines[2].quantity, 20);
    assert.equal(bill.totals.patient, 119280);
    assert.equal(bill.benefitLevel, 4);
    assert.equal(bill.unbilled, 2);
    // the lines add up to the totals
    assert.equal(
      bill.lines.reduce((s, l) => s + l.patient, 0),
      bill.totals.patient,
    );
    assert.equal(billOf(undefined).lines.length, 0);
  });

  it('computes change for cash and picks the visit invoices newest first', () => {
    assert.equal(changeDue('120.000', 119280), 720);
    assert.equal(changeDue('119280', 119280), 0);
    assert.equal(changeDue('100000', 119280), undefined);
    assert.equal(changeDue('abc', 1), undefined);
    const inv = (id: string, enc: string, date: string): Invoice => ({
      resourceType: 'Invoice',
      id,
      status: 'issued',
      date,
      extension: [
        {
          url: 'https://sen.health.vn/fhir/StructureDefinition/invoice-visit',
          valueReference: { reference: `Encounter/${enc}` },
        },
      ],
    });
    assert.deepEqual(
      visitInvoices(
        [
          inv('a', 'e1', '2026-12-03T01:00:00Z'),
          inv('b', 'e2', '2026-12-03T02:00:00Z'),
          inv('c', 'e1', '2026-12-03T03:00:00Z'),
        ],
        'e1',
      ).map((i) => i.id),
      ['c', 'a'],
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Parameters } from '@medplum/fhirtypes';
import {
  canFix,
  invalidBarcodes,
  parseMessageDetail,
  parseMessageList,
  replayBody,
  segmentsOf,
} from './analyzer.logic.ts';

const list: Parameters = {
  resourceType: 'Parameters',
  parameter: [
    {
      name: 'counts',
      part: [
        { name: 'quarantined', valueInteger: 2 },
        { name: 'processed', valueInteger: 5 },
      ],
    },
    {
      name: 'message',
      part: [
        { name: 'id', valueString: '12' },
        { name: 'receivedAt', valueInstant: '2026-12-03T02:30:00.000Z' },
        { name: 'status', valueCode: 'quarantined' },
        { name: 'ack', valueCode: 'AE' },
        { name: 'reasonCode', valueCode: 'unknown-specimen' },
        { name: 'reason', valueString: 'Không có mẫu mã vạch 123 / No specimen with barcode 123' },
        { name: 'analyzer', valueString: 'XN-550/K06' },
        { name: 'barcode', valueString: '123' },
        { name: 'barcode', valueString: '456' },
        { name: 'attempts', valueInteger: 1 },
        { name: 'report', valueReference: { reference: 'DiagnosticReport/r1' } },
      ],
    },
  ],
};

describe('analyzer quarantine screen logic', () => {
  it('reads the list: counts and messages with their barcodes and reports', () => {
    const { counts, rows } = parseMessageList(list);
    assert.deepEqual(counts, { quarantined: 2, processed: 5 });
    assert.equal(rows.length, 1);
    assert.deepEqual(rows[0].barcodes, ['123', '456']);
    assert.equal(rows[0].attempts, 1);
    assert.deepEqual(rows[0].reports, ['DiagnosticReport/r1']);
    assert.ok(canFix(rows[0]));
    assert.ok(!canFix({ ...rows[0], status: 'processed' }));
    assert.deepEqual(parseMessageList(undefined), { counts: {}, rows: [] });
  });

  it('reads one message with its groups and earlier fixes', () => {
    const d = parseMessageDetail({
      resourceType: 'Parameters',
      parameter: [
        ...(list.parameter?.slice(1) ?? []),
        { name: 'raw', valueString: '\uFEFFMSH|^~\\&|A\rOBR|1||123' },
        {
          name: 'barcodeFix',
          part: [
            { name: 'from', valueString: '123' },
            { name: 'to', valueString: '2612030001' },
          ],
        },
        {
          name: 'group',
          part: [
            { name: 'obr', valueInteger: 1 },
            { name: 'barcode', valueString: '123' },
            { name: 'barcodeField', valueString: 'OBR-3.1' },
            {
              name: 'result',
              part: [
                { name: 'code', valueString: 'HGB' },
                { name: 'value', valueString: '13.5' },
              ],
            },
          ],
        },
      ],
    });
    assert.ok(d);
    assert.equal(d.barcodeFixes['123'], '2612030001');
    assert.equal(d.groups[0].results[0].code, 'HGB');
    assert.equal(segmentsOf(d.raw), 'MSH|^~\\&|A\nOBR|1||123');
  });

  it('builds the replay body from what was changed only, and refuses a barcode that is not digits', () => {
    const body = replayBody(
      '12',
      {
        barcodes: { '123': '2612030001', '456': '' },
        codes: { HGB: { to: '718-7', system: 'http://loinc.org', remember: true }, WBC: { to: '', remember: false } },
        corrected: 'MSH|^~\\&|A\nOBR|1||123',
      },
      '\uFEFFMSH|^~\\&|A\rOBR|1||123',
    );
    assert.deepEqual(
      body.parameter?.map((p) => p.name),
      ['id', 'barcode', 'code'],
      'an unchanged text is not sent as a correction',
    );
    assert.equal(body.parameter?.[2].part?.find((x) => x.name === 'remember')?.valueBoolean, true);
    const withText = replayBody('12', { barcodes: {}, codes: {}, corrected: 'MSH|x\nOBX|1' }, 'MSH|y');
    assert.equal(withText.parameter?.[1].valueString, 'MSH|x\rOBX|1');
    assert.deepEqual(invalidBarcodes({ barcodes: { a: '12x', b: '99', c: '' }, codes: {} }), ['a']);
  });
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Hl7Message } from '@medplum/core';
import { sharedPath } from '../../../test/shared-data.ts';
import {
  buildAck,
  escapeHl7,
  Hl7Problem,
  hl7Time,
  LOINC,
  normalizeHl7,
  parseHl7,
  queryBarcode,
  resultGroups,
  unescapeHl7,
} from './hl7.ts';
import { MllpFrames } from './mllp.ts';

const sample = (name: string): string => readFileSync(sharedPath('testdata', 'hl7v2', name), 'utf8');

function problemOf(fn: () => unknown): Hl7Problem {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof Hl7Problem, `expected an Hl7Problem, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a problem');
}

describe('analyzer HL7 v2 reading', () => {
  it('normalizes a shared sample with a byte-order mark and LF line ends to CR-separated segments', () => {
    const raw = sample('microsoft-fhir-converter/LAB-ORU-1.hl7');
    assert.equal(raw.charCodeAt(0), 0xfeff, 'the sample starts with a BOM');
    const t = normalizeHl7(raw);
    assert.ok(t.startsWith('MSH|^~\\&|'));
    assert.ok(!t.includes('\n'));
    assert.equal(t.split('\r').length, 16);
    const { header } = parseHl7(raw);
    assert.deepEqual(header, { type: 'ORU^R01', controlId: '182', version: '2.5', analyzer: 'SomeSystem' });
  });

  it('groups the results of an ORU^R01 per OBR with the barcode and LOINC codes, skipping pending values', () => {
    const { message } = parseHl7(sample('microsoft-fhir-converter/LAB-ORU-1.hl7'));
    const groups = resultGroups(message);
    assert.equal(groups.length, 2);
    // SPM-2 'SpecimenID' is not digits: OBR-3.1 (filler order number) is the barcode
    assert.equal(groups[0].barcode, '82503246');
    assert.equal(groups[0].barcodeField, 'OBR-3.1');
    // OBX 1 and 3 have no value (status I): not results
    assert.deepEqual(
      groups[0].results.map((r) => r.code),
      ['11273-0', '20570-8', '11125-2'],
    );
    assert.deepEqual(groups[0].results[0], {
      code: '11273-0',
      system: LOINC,
      display: 'ERYTHROCYTES',
      value: '4.06',
      unit: 'tera.l-1',
      abnormalFlag: 'N',
      observedAt: '2014-10-06T06:27:00+07:00',
    });
    assert.equal(groups[1].barcode, '890775544');
    assert.equal(groups[1].results.length, 5);
  });

  it('reads SN values, local codes and a time without offset as Vietnam time', () => {
    const { message } = parseHl7(sample('microsoft-fhir-converter/ORU-R01-RMGEAD.hl7'));
    const [g] = resultGroups(message);
    assert.equal(g.barcode, '1045813');
    assert.deepEqual(g.results[0], {
      code: '1554-5',
      display: 'GLUCOSE',
      value: '182',
      unit: 'mg/dl',
      abnormalFlag: 'H',
      observedAt: '2002-02-15T07:30:00+06:00',
    });
    assert.equal(hl7Time('20261203143000'), '2026-12-03T14:30:00+07:00');
    assert.equal(hl7Time('20261203'), '2026-12-03');
    assert.equal(hl7Time('not a time'), undefined);
  });

  it('leaves out the OBX that describe the specimen (after SPM)', () => {
    const { message } = parseHl7(sample('microsoft-fhir-converter/ORU-R01-01.hl7'));
    const groups = resultGroups(message);
    assert.equal(groups.length, 1);
    assert.equal(groups[0].barcode, '2012545', 'SPM-2.1 placer specimen id, digits only');
    assert.ok(
      groups[0].results.every((r) => r.code !== '1063-7'),
      'the specimen OBX is no result',
    );
  });

  it('calls text without MSH, or without a type or control id, malformed', () => {
    assert.equal(problemOf(() => parseHl7('PID|1||x')).code, 'malformed');
    assert.equal(problemOf(() => parseHl7('')).ack, 'AR');
    const cut = normalizeHl7(sample('microsoft-fhir-converter/LAB-ORU-1.hl7')).slice(0, 40);
    const p = problemOf(() => parseHl7(cut));
    assert.equal(p.code, 'missing-field');
    assert.equal(p.location?.field, 9);
  });

  it('finds no results in a message whose OBX carry none, and no barcode where no field names one', () => {
    const noValue = 'MSH|^~\\&|XN|K06|SEN||20261203||ORU^R01|A1|P|2.3.1\rOBR|1|||CBC\rOBX|1|NM|718-7^Hb^LN||||||||I';
    const p = problemOf(() => resultGroups(parseHl7(noValue).message));
    assert.equal(p.code, 'missing-barcode');
    const noResult =
      'MSH|^~\\&|XN|K06|SEN||20261203||ORU^R01|A1|P|2.3.1\rOBR|1||123|CBC\rOBX|1|NM|718-7^Hb^LN||||||||I';
    assert.equal(problemOf(() => resultGroups(parseHl7(noResult).message)).code, 'no-results');
    const orphan = 'MSH|^~\\&|XN|K06|SEN||20261203||ORU^R01|A1|P|2.3.1\rOBX|1|NM|718-7^Hb^LN||12|g/dL';
    // an OBX before any OBR is about the patient: without an OBR there is no result group
    assert.equal(problemOf(() => resultGroups(parseHl7(orphan).message)).code, 'malformed');
  });

  it('reads the barcode of QRY^Q02 (QRD-8) and QBP^Q11 (QPD-3)', () => {
    const qry = parseHl7('MSH|^~\\&|BC|K06|SEN||20261203||QRY^Q02|Q1|P|2.3.1\rQRD|20261203|R|D|Q1|||RD|0123456789|OTH');
    assert.equal(queryBarcode(qry.message, qry.header.type), '0123456789');
    const qbp = parseHl7('MSH|^~\\&|BC|K06|SEN||20261203||QBP^Q11|Q2|P|2.5.1\rQPD|WOS^Work Order|Q2|555');
    assert.equal(queryBarcode(qbp.message, qbp.header.type), '555');
  });

  it('builds an error ACK with MSA, the reason, and ERR for old and new HL7 versions', () => {
    const { message } = parseHl7(sample('microsoft-fhir-converter/LAB-ORU-1.hl7'));
    const reason = 'Không có mẫu mã vạch 82503246 / No specimen with barcode 82503246';
    const ack = buildAck({
      message,
      ack: 'AE',
      facility: 'bv-sen',
      problem: { code: 'unknown-specimen', reason, location: { segment: 'OBR', sequence: 1, field: 3 } },
    });
    const parsed = Hl7Message.parse(ack.toString());
    const msh = parsed.getSegment('MSH');
    assert.equal(msh?.getField(9)?.toString(), 'ACK^R01^ACK');
    assert.equal(msh?.getField(5)?.toString(), 'SomeSystem', 'answered to the sender');
    assert.equal(msh?.getField(12)?.toString(), '2.5');
    const msa = parsed.getSegment('MSA');
    assert.equal(msa?.getField(1)?.toString(), 'AE');
    assert.equal(msa?.getField(2)?.toString(), '182');
    assert.equal(unescapeHl7(msa?.getField(3)?.toString() ?? ''), reason);
    const err = parsed.getSegment('ERR');
    assert.equal(err?.getField(2)?.toString(), 'OBR^1^3');
    assert.equal(err?.getField(3)?.getComponent(1), '204');
    assert.equal(err?.getField(4)?.toString(), 'E');
    assert.equal(unescapeHl7(err?.getField(8)?.toString() ?? ''), reason);
    assert.equal(err?.getField(1)?.getComponent(4), '204&Unknown key identifier&HL70357');
    const ok = buildAck({ message, ack: 'AA', facility: 'bv-sen' });
    assert.equal(ok.getSegment('ERR'), undefined);
    assert.equal(ok.getSegment('MSA')?.getField(1)?.toString(), 'AA');
    const none = buildAck({ ack: 'AR', facility: 'bv-sen', problem: { code: 'malformed', reason: 'x' } });
    assert.equal(none.getSegment('MSH')?.getField(3)?.toString(), 'SEN');
    assert.equal(escapeHl7('a|b^c&d~e\\f'), 'a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f');
    assert.equal(unescapeHl7(escapeHl7('a|b^c&d~e\\f')), 'a|b^c&d~e\\f');
  });
});

describe('MLLP framing', () => {
  const frame = (s: string): Buffer => Buffer.concat([Buffer.from([0x0b]), Buffer.from(s), Buffer.from([0x1c, 0x0d])]);

  it('cuts frames split across chunks, several in one chunk, and drops bytes outside a frame', () => {
    const f = new MllpFrames();
    const a = frame('MSH|a');
    const b = frame('MSH|b');
    const c = frame('MSH|c');
    assert.deepEqual(f.push(a.subarray(0, 3)), []);
    assert.deepEqual(
      f.push(Buffer.concat([a.subarray(3), Buffer.from('noise'), b, c.subarray(0, c.length - 1)])).map(String),
      ['MSH|a', 'MSH|b'],
    );
    assert.deepEqual(f.push(c.subarray(c.length - 1)).map(String), ['MSH|c']);
  });

  it('refuses a frame larger than its limit', () => {
    const f = new MllpFrames(10);
    assert.throws(() => f.push(Buffer.concat([Buffer.from([0x0b]), Buffer.alloc(20, 0x41)])), /larger than/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Bundle, Parameters } from '@medplum/fhirtypes';
import en from '../../i18n/lab.en.json' with { type: 'json' };
import vi from '../../i18n/lab.vi.json' with { type: 'json' };
import {
  AWAITING_PAYMENT_URL,
  changedResults,
  countByStatus,
  flagFor,
  formOf,
  LAB_STATUS_URL,
  labelLines,
  labWorklistOf,
  nextAction,
  parseValue,
  rangeLabel,
  roomOf,
  roomsOf,
} from './lab.logic.ts';

const sr = (id: string, status?: string, held = false): any => ({
  resourceType: 'ServiceRequest',
  id,
  status: 'active',
  intent: 'order',
  subject: { reference: 'Patient/p1' },
  encounter: { reference: 'Encounter/e1' },
  specimen: status && status !== 'ordered' ? [{ reference: `Specimen/s-${id}` }] : undefined,
  code: { text: 'Tổng phân tích tế bào máu' },
  extension: [
    ...(status ? [{ url: LAB_STATUS_URL, valueCode: status }] : []),
    ...(held ? [{ url: AWAITING_PAYMENT_URL, valueBoolean: true }] : []),
  ],
});

describe('lab: worklist rows', () => {
  it('joins orders with their patient, specimen and report, keeps the server order, counts statuses', () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: [
        { resource: sr('a', undefined, true), search: { mode: 'match' } },
        { resource: sr('b', 'resulted'), search: { mode: 'match' } },
        {
          resource: { resourceType: 'Patient', id: 'p1', name: [{ family: 'Lê', given: ['Văn Bình'] }] },
          search: { mode: 'include' },
        },
        {
          resource: { resourceType: 'Specimen', id: 's-b', accessionIdentifier: { value: '26120300017' } },
          search: { mode: 'include' },
        },
        {
          resource: {
            resourceType: 'DiagnosticReport',
            id: 'r1',
            status: 'preliminary',
            code: {},
            basedOn: [{ reference: 'ServiceRequest/b' }],
          },
          search: { mode: 'include' },
        },
      ],
    };
    const items = labWorklistOf(bundle);
    assert.deepEqual(
      items.map((i) => i.order.id),
      ['a', 'b'],
    );
    assert.equal(items[0].status, 'ordered');
    assert.equal(items[0].held, true);
    assert.equal(nextAction(items[0]), 'pay');
    assert.equal(items[1].specimen?.id, 's-b');
    assert.equal(items[1].report?.id, 'r1');
    assert.equal(items[1].patient?.id, 'p1');
    assert.equal(nextAction(items[1]), 'verify');
    const counts = countByStatus(items);
    assert.equal(counts.ordered, 1);
    assert.equal(counts.resulted, 1);
    assert.equal(counts.signed, 0);
    assert.deepEqual(labWorklistOf(undefined), []);
  });
});

describe('lab: values and flags', () => {
  it('reads Vietnamese decimal commas and refuses words', () => {
    assert.equal(parseValue('1,5'), 1.5);
    assert.equal(parseValue(' 12.25 '), 12.25);
    assert.equal(parseValue('nhiều'), undefined);
    assert.equal(parseValue('1.2.3'), undefined);
  });
  it('flags critical limits before the range, and nothing without a range', () => {
    const hb = { low: 130, high: 170, criticalLow: 70, criticalHigh: 200 };
    assert.equal(flagFor(65, hb), 'LL');
    assert.equal(flagFor(125, hb), 'L');
    assert.equal(flagFor(150, hb), 'N');
    assert.equal(flagFor(180, hb), 'H');
    assert.equal(flagFor(210, hb), 'HH');
    assert.equal(flagFor(5, {}), undefined);
    assert.equal(flagFor(6, { high: 5.2 }), 'H');
    assert.equal(rangeLabel({ low: 3.9, high: 6.4 }), '3.9–6.4');
    assert.equal(rangeLabel({ high: 5.2 }), '≤ 5.2');
    assert.equal(rangeLabel({ rangeText: 'Âm tính' }), 'Âm tính');
  });
  it('reads the form and sends only changed values', () => {
    const p: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        {
          name: 'indicator',
          part: [
            { name: 'code', valueCode: '9900019' },
            { name: 'display', valueString: 'Số lượng bạch cầu (WBC)' },
            { name: 'unit', valueString: 'G/L' },
            { name: 'low', valueDecimal: 4 },
            { name: 'high', valueDecimal: 10 },
            { name: 'criticalLow', valueDecimal: 2 },
            {
              name: 'observation',
              resource: { resourceType: 'Observation', status: 'preliminary', code: {}, valueQuantity: { value: 5 } },
            },
          ],
        },
        {
          name: 'indicator',
          part: [
            { name: 'code', valueCode: '9900023' },
            { name: 'display', valueString: 'PLT' },
          ],
        },
      ],
    };
    const f = formOf(p);
    assert.equal(f.rows.length, 2);
    assert.equal(f.rows[0].criticalLow, 2);
    assert.equal(f.rows[0].unit, 'G/L');
    assert.deepEqual(changedResults(f.rows, { '9900019': '5', '9900023': '250' }), [{ code: '9900023', value: '250' }]);
    assert.deepEqual(changedResults(f.rows, { '9900019': '1,5' }), [{ code: '9900019', value: '1,5' }]);
    assert.deepEqual(changedResults(f.rows, {}), []);
  });
});

describe('lab: label and words', () => {
  it('prints the patient in capitals with sex and birth year, the test and the tube', () => {
    const lines = labelLines({
      patient: {
        resourceType: 'Patient',
        name: [{ family: 'Lê', given: ['Văn Bình'] }],
        gender: 'male',
        birthDate: '1980-03-01',
      },
      order: sr('a'),
      specimen: {
        resourceType: 'Specimen',
        container: [{ description: 'Ống EDTA (nắp tím) / EDTA tube (lavender)' }],
        collection: { collectedDateTime: '2026-12-03T01:05:00Z' },
      },
    });
    assert.equal(lines[0], 'LÊ VĂN BÌNH — Nam 1980');
    assert.equal(lines[1], 'Tổng phân tích tế bào máu');
    assert.match(lines[2], /^Ống EDTA \(nắp tím\) · .*08:05/);
  });
  it('has every Vietnamese word in English too, with the same placeholders, in NFC', () => {
    const keys = (o: object, prefix = ''): string[] =>
      Object.entries(o).flatMap(([k, v]) =>
        typeof v === 'object' && v !== null ? keys(v as object, `${prefix}${k}.`) : [`${prefix}${k}`],
      );
    const leaf = (o: object, key: string): string =>
      key.split('.').reduce<unknown>((x, k) => (x as Record<string, unknown>)[k], o) as string;
    assert.deepEqual(keys(en).sort(), keys(vi).sort());
    for (const k of keys(vi)) {
      const vars = (s: string): string[] => (s.match(/\{\{\w+\}\}/g) ?? []).sort();
      assert.deepEqual(vars(leaf(en, k)), vars(leaf(vi, k)), k);
      assert.equal(leaf(vi, k), leaf(vi, k).normalize('NFC'), k);
    }
  });
});

describe('lab: rooms', () => {
  it('lists the rooms of the visits once, by name', () => {
    const enc = (id: string, name: string): any => ({
      encounter: {
        resourceType: 'Encounter',
        location: [{ location: { reference: `Location/${id}`, display: name } }],
      },
    });
    const rooms = roomsOf([
      enc('n2', 'Phòng khám Nội 2'),
      enc('n1', 'Phòng khám Nội 1'),
      enc('n2', 'Phòng khám Nội 2'),
      {},
    ]);
    assert.deepEqual(rooms, [
      { id: 'n1', name: 'Phòng khám Nội 1' },
      { id: 'n2', name: 'Phòng khám Nội 2' },
    ]);
    assert.equal(roomOf({}), undefined);
  });
});

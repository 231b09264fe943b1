import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadCriticalLimits, parseCriticalLimits } from './catalog.ts';
import {
  ageInYears,
  barcodeOf,
  barcodeValid,
  checkDigit,
  flagOf,
  parseNumber,
  pickRange,
  type ReferenceRange,
} from './model.ts';

const HB: ReferenceRange[] = [
  { sex: 'male', ageFrom: 16, low: 130, high: 170 },
  { sex: 'female', ageFrom: 16, low: 120, high: 150 },
  { ageFrom: 6, ageTo: 16, low: 115, high: 155 },
];

describe('lab model', () => {
  it('picks the range for sex and age, the most specific first; none outside every range', () => {
    assert.equal(pickRange(HB, 'male', 40)?.low, 130);
    assert.equal(pickRange(HB, 'female', 40)?.low, 120);
    assert.equal(pickRange(HB, 'female', 10)?.low, 115);
    assert.equal(pickRange(HB, 'male', 16)?.low, 130, 'age_to is exclusive, age_from inclusive');
    assert.equal(pickRange(HB, 'male', 3), undefined);
    assert.equal(pickRange(HB, undefined, undefined), undefined);
    const both = [
      { low: 1, high: 2 },
      { sex: 'female' as const, low: 3, high: 4 },
    ];
    assert.equal(pickRange(both, 'female', 30)?.low, 3);
    assert.equal(pickRange(both, 'male', 30)?.low, 1);
  });
  it('flags critical limits before the range', () => {
    const range = { low: 130, high: 170 };
    const crit = { low: 70, high: 200 };
    assert.equal(flagOf(69.9, range, crit), 'LL');
    assert.equal(flagOf(70, range, crit), 'L');
    assert.equal(flagOf(130, range, crit), 'N');
    assert.equal(flagOf(171, range, crit), 'H');
    assert.equal(flagOf(201, range, crit), 'HH');
    assert.equal(flagOf(5, undefined, undefined), undefined);
    assert.equal(flagOf(1, undefined, { low: 2 }), 'LL');
  });
  it('computes ages on the day', () => {
    assert.equal(ageInYears('2010-12-04', '2026-12-03'), 15);
    assert.equal(ageInYears('2010-12-03', '2026-12-03'), 16);
    assert.equal(ageInYears('1980', '2026-01-01'), 46);
    assert.equal(ageInYears(undefined, '2026-01-01'), undefined);
  });
  it('parses numbers with a dot or a Vietnamese comma only', () => {
    assert.equal(parseNumber('7,1'), 7.1);
    assert.equal(parseNumber('-2'), -2);
    assert.equal(parseNumber('1e3'), undefined);
    assert.equal(parseNumber('> 5'), undefined);
  });
  it('makes day barcodes with a check digit that catches a mistyped digit', () => {
    const b = barcodeOf('2026-12-03', 17);
    assert.equal(b.slice(0, 10), '2612030017');
    assert.equal(b.length, 11);
    assert.ok(barcodeValid(b));
    const typo = `${b.slice(0, 4)}${(Number(b[4]) + 1) % 10}${b.slice(5)}`;
    assert.equal(barcodeValid(typo), false);
    assert.equal(checkDigit('7992739871'), '3', 'the Luhn example');
    assert.equal(barcodeValid('abc'), false);
  });
  it('reads the critical limits file and refuses a bad row', () => {
    const limits = loadCriticalLimits();
    assert.deepEqual(limits.get('9900016'), { low: 2.8, high: 6.2 });
    assert.deepEqual(limits.get('9900004'), { low: undefined, high: 700 });
    assert.throws(() => parseCriticalLimits('indicator_code,critical_low,critical_high\n9900016,6,3\n'), /below/);
    assert.throws(() => parseCriticalLimits('indicator_code,critical_low,critical_high\nK,1,3\n'), /7 digits/);
    assert.throws(
      () => parseCriticalLimits('indicator_code,critical_low,critical_high\n9900016,x,3\n'),
      /not a number/,
    );
  });
});

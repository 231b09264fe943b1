import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CCCD_PROVINCE_CODES, makeCccd, normalizeCccd, validateCccd } from './cccd.ts';

const asOf = new Date('2026-07-01T00:00:00Z');

describe('CCCD_PROVINCE_CODES', () => {
  it('lists the 63 old provinces with 3-digit codes from 001 to 096', () => {
    const codes = Object.keys(CCCD_PROVINCE_CODES);
    assert.equal(codes.length, 63);
    for (const code of codes) {
      assert.match(code, /^0\d\d$/);
    }
    assert.equal(CCCD_PROVINCE_CODES['001'], 'Hà Nội');
    assert.equal(CCCD_PROVINCE_CODES['079'], 'Hồ Chí Minh');
    assert.equal(CCCD_PROVINCE_CODES['096'], 'Cà Mau');
    assert.equal(CCCD_PROVINCE_CODES['003'], undefined);
  });
});

describe('validateCccd', () => {
  it('decodes a valid number', () => {
    const r = validateCccd('001090123456', { asOf });
    assert.deepEqual(r, {
      ok: true,
      value: '001090123456',
      provinceCode: '001',
      provinceName: 'Hà Nội',
      sex: 'male',
      birthYear: 1990,
    });
  });

  it('decodes every century/sex digit', () => {
    const cases: [string, 'male' | 'female', number][] = [
      ['0', 'male', 1905],
      ['1', 'female', 1905],
      ['2', 'male', 2005],
      ['3', 'female', 2005],
      ['4', 'male', 2105],
      ['5', 'female', 2105],
      ['6', 'male', 2205],
      ['7', 'female', 2205],
      ['8', 'male', 2305],
      ['9', 'female', 2305],
    ];
    for (const [digit, sex, birthYear] of cases) {
      const r = validateCccd(`079${digit}05000001`, { asOf: null });
      assert.ok(r.ok, digit);
      assert.equal(r.sex, sex);
      assert.equal(r.birthYear, birthYear);
    }
  });

  it('tolerates spaces, dots and hyphens', () => {
    const r = validateCccd(' 079 3 05-000.001 ', { asOf });
    assert.ok(r.ok);
    assert.equal(r.value, '079305000001');
    assert.equal(normalizeCccd('001 090 123456'), '001090123456');
  });

  it('rejects malformed input with a reason', () => {
    const reasons: [string, string][] = [
      ['', 'empty'],
      ['   ', 'empty'],
      ['00109012345A', 'not-digits'],
      ['０01090123456', 'not-digits'], // full-width zero
      ['00109012345', 'wrong-length'],
      ['0010901234567', 'wrong-length'],
      ['123456789', 'wrong-length'],
      ['003090123456', 'unknown-province'],
      ['097090123456', 'unknown-province'],
      ['000090123456', 'unknown-province'],
      ['001499123456', 'birth-year-in-future'],
      ['001227123456', 'birth-year-in-future'],
    ];
    for (const [input, reason] of reasons) {
      const r = validateCccd(input, { asOf });
      assert.equal(r.ok, false, input);
      if (!r.ok) {
        assert.equal(r.reason, reason, input);
        assert.ok(r.message.length > 0);
      }
    }
  });

  it('hints at CMND for 9 digits', () => {
    const r = validateCccd('123456789', { asOf });
    assert.ok(!r.ok && r.message.includes('CMND'));
  });

  it('does not throw on non-string input at runtime', () => {
    const r = validateCccd(undefined as unknown as string, { asOf });
    assert.equal(r.ok, false);
  });

  it('accepts a birth year equal to the reference year', () => {
    assert.ok(validateCccd('001226123456', { asOf }).ok);
  });
});

describe('makeCccd', () => {
  it('builds numbers that validate back to the same parts', () => {
    for (const code of Object.keys(CCCD_PROVINCE_CODES)) {
      for (const [sex, year] of [
        ['male', 1900],
        ['female', 1999],
        ['male', 2000],
        ['female', 2026],
      ] as const) {
        const id = makeCccd(code, sex, year, 42);
        assert.equal(id.length, 12);
        const r = validateCccd(id, { asOf });
        assert.ok(r.ok, id);
        assert.equal(r.provinceCode, code);
        assert.equal(r.sex, sex);
        assert.equal(r.birthYear, year);
        assert.equal(id.slice(6), '000042');
      }
    }
  });

  it('accepts numeric and short province codes and string serials', () => {
    assert.equal(makeCccd(1, 'female', 1985, '123456'), '001185123456');
    assert.equal(makeCccd('79', 'male', 2010, 7), '079210000007');
    assert.equal(makeCccd('096', 'female', 2150, 999999), '096550999999');
  });

  it('throws on bad parts', () => {
    assert.throws(() => makeCccd('003', 'male', 1990, 1), RangeError);
    assert.throws(() => makeCccd('001', 'male', 1899, 1), RangeError);
    assert.throws(() => makeCccd('001', 'male', 2400, 1), RangeError);
    assert.throws(() => makeCccd('001', 'male', 1990.5, 1), RangeError);
    assert.throws(() => makeCccd('001', 'male', 1990, 1_000_000), RangeError);
    assert.throws(() => makeCccd('001', 'male', 1990, -1), RangeError);
    assert.throws(() => makeCccd('001', 'male', 1990, '12345'), RangeError);
    assert.throws(() => makeCccd('001', 'male', 1990, '12345a'), RangeError);
    assert.throws(() => makeCccd('001', 'other' as 'male', 1990, 1), RangeError);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BHYT_BENEFIT_LEVELS,
  BHYT_GROUPS,
  BHYT_PROVINCE_CODES,
  bhytGroup,
  formatBhytCode,
  isBhxhNumber,
  makeBhytCode,
  normalizeBhytCode,
  validateBhytCode,
} from './bhyt.ts';

describe('BHYT data', () => {
  it('has unique 2-letter group codes with a valid default level', () => {
    const codes = BHYT_GROUPS.map((group) => group.code);
    assert.equal(new Set(codes).size, codes.length);
    assert.ok(codes.length >= 40);
    for (const group of BHYT_GROUPS) {
      assert.match(group.code, /^[A-Z]{2}$/);
      assert.ok(group.defaultLevel in BHYT_BENEFIT_LEVELS);
      assert.ok(group.name.length > 0);
    }
    for (const code of ['DN', 'HC', 'HT', 'TE', 'HN', 'GD', 'HS', 'CN', 'QN', 'CA', 'CC']) {
      assert.ok(bhytGroup(code), code);
    }
    assert.equal(bhytGroup('TE')?.defaultLevel, 1);
    assert.equal(bhytGroup('QN')?.defaultLevel, 5);
    assert.equal(bhytGroup('ZZ'), undefined);
  });

  it('has 2-digit province codes including the 34 current provinces', () => {
    assert.equal(Object.keys(BHYT_PROVINCE_CODES).length, 65);
    for (const code of ['01', '04', '08', '46', '48', '75', '79', '92', '96']) {
      assert.ok(BHYT_PROVINCE_CODES[code], code);
    }
    assert.equal(BHYT_PROVINCE_CODES['03'], undefined);
  });
});

describe('validateBhytCode', () => {
  it('splits a valid code', () => {
    const r = validateBhytCode('DN4797931234567');
    assert.ok(r.ok);
    assert.equal(r.value, 'DN4797931234567');
    assert.equal(r.groupCode, 'DN');
    assert.equal(r.group?.payer, 'employer-employee');
    assert.equal(r.benefitLevel, 4);
    assert.equal(r.provinceCode, '79');
    assert.equal(r.provinceName, 'Hồ Chí Minh');
    assert.equal(r.socialInsuranceNumber, '7931234567');
  });

  it('normalises case and separators', () => {
    assert.equal(normalizeBhytCode(' te 1 01-0120878811 '), 'TE1010120878811');
    const r = validateBhytCode('te 1 01 0120878811');
    assert.ok(r.ok);
    assert.equal(r.value, 'TE1010120878811');
  });

  it('rejects malformed codes with a reason', () => {
    const cases: [string, string][] = [
      ['', 'empty'],
      [' ', 'empty'],
      ['DN479793123456', 'wrong-length'],
      ['DN47979312345678', 'wrong-length'],
      ['7931234567', 'wrong-length'],
      ['D14797931234567', 'bad-group'],
      ['Đ N4797931234567', 'bad-group'],
      ['ZZ4797931234567', 'unknown-group'],
      ['DN0797931234567', 'bad-benefit-level'],
      ['DN6797931234567', 'bad-benefit-level'],
      ['DNX797931234567', 'bad-benefit-level'],
      ['DN47A7931234567', 'bad-province'],
      ['DN4037931234567', 'unknown-province'],
      ['DN4007931234567', 'unknown-province'],
      ['DN479793123456X', 'bad-social-insurance-number'],
    ];
    for (const [input, reason] of cases) {
      const r = validateBhytCode(input);
      assert.equal(r.ok, false, input);
      if (!r.ok) {
        assert.equal(r.reason, reason, input);
        assert.ok(r.message.length > 0);
      }
    }
  });

  it('explains 10- and 12-digit inputs', () => {
    const a = validateBhytCode('7931234567');
    assert.ok(!a.ok && a.message.includes('social-insurance'));
    const b = validateBhytCode('079090123456');
    assert.ok(!b.ok && b.message.includes('personal ID'));
  });

  it('can let unknown groups and provinces through', () => {
    const r = validateBhytCode('ZZ4037931234567', { allowUnknownGroup: true, allowUnknownProvince: true });
    assert.ok(r.ok);
    assert.equal(r.group, undefined);
    assert.equal(r.provinceName, undefined);
  });

  it('accepts the BHXH of defence and police province codes', () => {
    assert.ok(validateBhytCode('QN5970123456789').ok);
    assert.ok(validateBhytCode('CA5980123456789').ok);
  });
});

describe('makeBhytCode', () => {
  it('round-trips through validation for every group', () => {
    for (const group of BHYT_GROUPS) {
      const code = makeBhytCode(group.code, group.defaultLevel, '01', '0123456789');
      const r = validateBhytCode(code);
      assert.ok(r.ok, code);
      assert.equal(r.groupCode, group.code);
      assert.equal(r.benefitLevel, group.defaultLevel);
    }
  });

  it('pads numeric province codes', () => {
    assert.equal(makeBhytCode('HS', 4, 1, '0120878811'), 'HS4010120878811');
  });

  it('throws on bad parts', () => {
    assert.throws(() => makeBhytCode('ZZ', 4, '01', '0123456789'), RangeError);
    assert.throws(() => makeBhytCode('dn', 4, '01', '0123456789'), RangeError);
    assert.throws(() => makeBhytCode('DN', 0, '01', '0123456789'), RangeError);
    assert.throws(() => makeBhytCode('DN', 6, '01', '0123456789'), RangeError);
    assert.throws(() => makeBhytCode('DN', 4, '03', '0123456789'), RangeError);
    assert.throws(() => makeBhytCode('DN', 4, '01', '012345678'), RangeError);
    assert.throws(() => makeBhytCode('DN', 4, '01', '012345678a'), RangeError);
  });
});

describe('helpers', () => {
  it('isBhxhNumber', () => {
    assert.equal(isBhxhNumber('0123456789'), true);
    assert.equal(isBhxhNumber('012345678'), false);
    assert.equal(isBhxhNumber('01234567890'), false);
    assert.equal(isBhxhNumber('012345678a'), false);
  });

  it('formatBhytCode', () => {
    assert.equal(formatBhytCode('DN4797931234567'), 'DN 4 79 7931234567');
    assert.equal(formatBhytCode('dn4797931234567'), 'DN 4 79 7931234567');
    assert.equal(formatBhytCode('abc'), 'abc');
  });
});

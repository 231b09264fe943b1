import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fold } from './fold.ts';

describe('fold', () => {
  it('strips Vietnamese diacritics and lower-cases', () => {
    assert.equal(fold('Nguyễn Văn Đức'), 'nguyen van duc');
    assert.equal(fold('Trần Thị Ánh Tuyết'), 'tran thi anh tuyet');
    assert.equal(fold('Phạm Hữu Lộc'), 'pham huu loc');
    assert.equal(fold('Thành phố Hồ Chí Minh'), 'thanh pho ho chi minh');
    assert.equal(fold('ĐẶNG THUỲ DƯƠNG'), 'dang thuy duong');
  });

  it('folds every Vietnamese vowel with every tone to its base letter', () => {
    const vowels = 'aăâeêioôơuưy';
    const tones = ['', '\u0300', '\u0301', '\u0303', '\u0309', '\u0323'];
    for (const v of vowels) {
      for (const t of tones) {
        const nfc = `${v}${t}`.normalize('NFC');
        const base = v.normalize('NFD')[0];
        assert.equal(fold(nfc), base, `${nfc}`);
        assert.equal(fold(nfc.toUpperCase()), base, `${nfc.toUpperCase()}`);
      }
    }
    assert.equal(fold('đĐ'), 'dd');
  });

  it('gives the same result for NFC and NFD input', () => {
    const s = 'Huỳnh Thị Ngọc Hường';
    assert.equal(fold(s.normalize('NFC')), fold(s.normalize('NFD')));
    assert.equal(fold(s.normalize('NFD')), 'huynh thi ngoc huong');
  });

  it('maps the legacy look-alike Ð/ð (U+00D0/U+00F0) to d', () => {
    assert.equal(fold('\u00d0ặng'), 'dang');
    assert.equal(fold('\u00f0ức'), 'duc');
  });

  it('collapses and trims whitespace of every kind', () => {
    assert.equal(fold('  Lê   Văn\tAn \n'), 'le van an');
    assert.equal(fold('\u00a0Hà\u3000Nội\u2003'), 'ha noi');
    assert.equal(fold('a \u0301 b'), 'a b');
    assert.equal(fold('   '), '');
    assert.equal(fold(''), '');
  });

  it('returns plain lower-case ASCII unchanged (same string)', () => {
    const s = 'nguyen van a 123-45/6';
    assert.equal(fold(s), s);
    assert.equal(fold('abc'), 'abc');
  });

  it('handles ASCII that needs work without normalising', () => {
    assert.equal(fold('ABC'), 'abc');
    assert.equal(fold(' abc'), 'abc');
    assert.equal(fold('abc '), 'abc');
    assert.equal(fold('a  b'), 'a b');
    assert.equal(fold('A\tB'), 'a b');
  });

  it('keeps digits, punctuation and non-Latin characters', () => {
    assert.equal(fold('Số 12/3, Đường Lê Lợi'), 'so 12/3, duong le loi');
    assert.equal(fold('Bệnh viện 115'), 'benh vien 115');
    assert.equal(fold('患者 Ái'), '患者 ai');
    assert.equal(fold('😀 Ơ'), '😀 o');
  });

  it('is idempotent', () => {
    for (const s of ['Nguyễn Văn Đức', '  ĐỖ  thị  ', 'abc', 'Ð', '患者']) {
      assert.equal(fold(fold(s)), fold(s));
    }
  });

  it('folds many names the same way every time (speed is measured by the bench, not here)', () => {
    const names = ['Nguyễn Văn Đức', 'Trần Thị Ánh', 'le van an', 'PHẠM MINH HOÀNG', 'Võ  Thị   Sáu'];
    const expected = names.map((n) => fold(n));
    for (let i = 0; i < 10_000; i++) {
      assert.equal(fold(names[i % names.length]), expected[i % names.length]);
    }
    assert.deepEqual(expected.slice(0, 2), [fold('nguyen van duc'), fold('tran thi anh')]);
  });
});

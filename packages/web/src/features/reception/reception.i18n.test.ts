import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import en from '../../i18n/reception.en.json' with { type: 'json' };
import vi from '../../i18n/reception.vi.json' with { type: 'json' };

function keys(o: object, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    typeof v === 'object' && v !== null ? keys(v as object, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

function leaf(o: object, key: string): string {
  return key.split('.').reduce<unknown>((x, k) => (x as Record<string, unknown>)[k], o) as string;
}

describe('reception: words', () => {
  it('has every Vietnamese word in English too, and the same placeholders in both', () => {
    assert.deepEqual(keys(en).sort(), keys(vi).sort());
    for (const k of keys(vi)) {
      const vars = (s: string): string[] => (s.match(/\{\{\w+\}\}/g) ?? []).sort();
      assert.deepEqual(vars(leaf(en, k)), vars(leaf(vi, k)), k);
    }
  });

  it('writes Vietnamese with its diacritics (NFC), not folded to ASCII', () => {
    assert.equal(leaf(vi, 'reception.scan.camera'), 'Quét bằng camera');
    assert.equal(leaf(vi, 'reception.match.create'), 'Tạo hồ sơ mới');
    for (const k of keys(vi)) {
      assert.equal(leaf(vi, k), leaf(vi, k).normalize('NFC'), `${k} is NFC`);
    }
  });
});

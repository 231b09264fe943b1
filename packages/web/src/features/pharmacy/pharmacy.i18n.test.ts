import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import en from '../../i18n/pharmacy.en.json' with { type: 'json' };
import vi from '../../i18n/pharmacy.vi.json' with { type: 'json' };

function keys(o: object, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    typeof v === 'object' && v !== null ? keys(v as object, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

function leaf(o: object, key: string): string {
  return key.split('.').reduce<unknown>((x, k) => (x as Record<string, unknown>)[k], o) as string;
}

describe('pharmacy: words', () => {
  it('has every Vietnamese word in English too, with the same placeholders, in NFC', () => {
    assert.deepEqual(keys(en).sort(), keys(vi).sort());
    const vars = (s: string): string[] => (s.match(/\{\{\w+\}\}/g) ?? []).sort();
    for (const k of keys(vi)) {
      assert.deepEqual(vars(leaf(en, k)), vars(leaf(vi, k)), k);
      assert.equal(leaf(vi, k), leaf(vi, k).normalize('NFC'), `${k} is NFC`);
    }
  });
});

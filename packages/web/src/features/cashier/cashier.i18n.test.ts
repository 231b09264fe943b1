import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import en from '../../i18n/cashier.en.json' with { type: 'json' };
import vi from '../../i18n/cashier.vi.json' with { type: 'json' };
import { ROUTES } from './cashier.logic.ts';

function keys(o: object, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    typeof v === 'object' && v !== null ? keys(v as object, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

function leaf(o: object, key: string): string | undefined {
  return key.split('.').reduce<unknown>((x, k) => (x as Record<string, unknown> | undefined)?.[k], o) as
    string | undefined;
}

describe('cashier: words', () => {
  it('has every Vietnamese word in English too, with the same placeholders, in NFC with diacritics', () => {
    assert.deepEqual(keys(en).sort(), keys(vi).sort());
    const vars = (s: string | undefined): string[] => (s?.match(/\{\{\w+\}\}/g) ?? []).sort();
    for (const k of keys(vi)) {
      assert.deepEqual(vars(leaf(en, k)), vars(leaf(vi, k)), k);
      assert.equal(leaf(vi, k), leaf(vi, k)?.normalize('NFC'), `${k} is NFC`);
    }
    assert.equal(leaf(vi, 'cashier.copay'), 'Cùng chi trả');
    assert.equal(leaf(vi, 'cashier.receipt.title'), 'PHIẾU THU TIỀN');
  });

  it('names every route the server knows', () => {
    for (const r of ROUTES) {
      assert.ok(leaf(vi, `cashier.routes.${r}`), r);
      assert.ok(leaf(en, `cashier.routes.${r}`), r);
    }
  });
});

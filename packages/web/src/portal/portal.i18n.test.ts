import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import en from '../i18n/portal.en.json' with { type: 'json' };
import vi from '../i18n/portal.vi.json' with { type: 'json' };

function keys(o: object, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    typeof v === 'object' && v !== null ? keys(v as object, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

function leaf(o: object, key: string): string | undefined {
  return key.split('.').reduce<unknown>((x, k) => (x as Record<string, unknown> | undefined)?.[k], o) as
    string | undefined;
}

describe('portal: words', () => {
  it('has every Vietnamese word in English too, with the same placeholders', () => {
    assert.deepEqual(keys(en).sort(), keys(vi).sort());
    for (const k of keys(vi)) {
      const vars = (s: string | undefined): string[] => (s?.match(/\{\{\w+\}\}/g) ?? []).sort();
      assert.deepEqual(vars(leaf(en, k)), vars(leaf(vi, k)), k);
    }
  });

  it('has a word for every fixed key the screens use', () => {
    const dir = new URL('.', import.meta.url).pathname;
    const used = new Set<string>();
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.tsx'))) {
      for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/t\('(portal\.[A-Za-z.]+)'/g)) {
        used.add(m[1]);
      }
    }
    assert.ok(used.size > 50);
    for (const k of used) {
      const plural = leaf(vi, `${k}_other`);
      assert.ok(leaf(vi, k) ?? plural, `portal.vi.json has ${k}`);
    }
  });

  it('writes Vietnamese with its diacritics (NFC)', () => {
    assert.equal(leaf(vi, 'portal.health.title'), 'Sức khỏe của tôi');
    for (const k of keys(vi)) {
      assert.equal(leaf(vi, k), leaf(vi, k)?.normalize('NFC'), `${k} is NFC`);
    }
  });
});

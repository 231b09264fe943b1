import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { erxKindOf, generateErxCode, isFacilityCode, parseErxCode } from './erx-code.ts';

describe('national e-prescription code (TT 26/2025 App. I)', () => {
  it('is 14 characters: facility code, 7 random [0-9a-z], dash, type letter', () => {
    const code = generateErxCode('79999', 'other');
    assert.equal(code.length, 14);
    assert.match(code, /^79999[0-9a-z]{7}-C$/);
    assert.deepEqual(parseErxCode(code), { facilityCode: '79999', serial: code.slice(5, 12), type: 'C' });
  });

  it('puts the type letter of the content: N narcotic, H psychotropic, C other, T herbal', () => {
    assert.match(generateErxCode('01001', 'narcotic'), /-N$/);
    assert.match(generateErxCode('01001', 'psychotropic'), /-H$/);
    assert.match(generateErxCode('01001', 'herbal'), /-T$/);
    assert.equal(erxKindOf([{ kind: 'other' }, { kind: 'narcotic' }, { kind: 'psychotropic' }]), 'narcotic');
    assert.equal(erxKindOf([{}, { kind: 'psychotropic' }]), 'psychotropic');
    assert.equal(erxKindOf([{ kind: 'herbal' }, { kind: 'herbal' }]), 'herbal');
    assert.equal(erxKindOf([{ kind: 'herbal' }, {}]), 'other');
    assert.equal(erxKindOf([{}]), 'other');
  });

  it('draws each character from the random source over the whole alphabet', () => {
    const draws: number[] = [];
    const seq = [0, 9, 10, 35, 1, 2, 3];
    const code = generateErxCode('79999', 'other', (max) => {
      draws.push(max);
      return seq[draws.length - 1];
    });
    assert.equal(code, '7999909az123-C');
    assert.deepEqual(draws, [36, 36, 36, 36, 36, 36, 36]);
    assert.throws(() => generateErxCode('79999', 'other', () => 36), /out of range/);
  });

  it('is not sequential: many codes are distinct and use the whole alphabet', () => {
    const codes = new Set<string>();
    const chars = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const c = generateErxCode('79999', 'other');
      codes.add(c);
      for (const ch of c.slice(5, 12)) {
        chars.add(ch);
      }
    }
    assert.equal(codes.size, 2000);
    assert.equal(chars.size, 36);
  });

  it('refuses a facility code that is not 5 letters or digits, and parses only well-formed codes', () => {
    assert.throws(() => generateErxCode('7999', 'other'), /5/);
    assert.throws(() => generateErxCode('79-99', 'other'), /5/);
    assert.equal(isFacilityCode('01AB9'), true);
    assert.equal(parseErxCode('79999abcdefg-X'), undefined);
    assert.equal(parseErxCode('79999ABCDEFG-C'), undefined);
    assert.equal(parseErxCode('79999abcdef-C'), undefined);
    assert.equal(parseErxCode('79999abcdefgC'), undefined);
  });
});

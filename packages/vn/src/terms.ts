/**
 * Folding and tokenising for catalog look-ups (typeahead over ICD-10, drugs, services, lab tests, places).
 *
 * Names are folded with `fold` (case and Vietnamese diacritics) and cut into words at anything that is not a letter
 * or a digit, so `Tăng huyết áp vô căn (nguyên phát)` gives the words `tang huyet ap vo can nguyen phat` and a user
 * typing `tang huyet ap`, `HUYẾT ÁP tăng` or `huyet tang` finds it (each typed word is a word prefix, any order).
 * Codes are folded apart: lower case without dots, spaces, daggers and asterisks (`J06.9` and `j069` are one code).
 */
import { fold } from './fold.ts';

const NOT_WORD = /[^\p{L}\p{N}]+/u;
const CODE_NOISE = /[\s.†*+\u2020-]+/g;

/** The folded words of a name, in order, without empty strings: `searchWords('Đái tháo đường, typ 2')`. */
export function searchWords(text: string): string[] {
  return fold(text)
    .split(NOT_WORD)
    .filter((w) => w.length > 0);
}

/** A code folded for comparison and prefix search: `foldCode('J06.9') === foldCode('j069') === 'j069'`. */
export function foldCode(code: string): string {
  return fold(code).replace(CODE_NOISE, '');
}

/**
 * The text stored for word-prefix matching of one concept: every word of its names and its code, each preceded by
 * a space (so `LIKE '% ' || word || '%'` is a word-prefix test), words deduplicated.
 */
export function searchText(code: string, names: readonly string[]): string {
  const words = new Set<string>([foldCode(code)]);
  for (const n of names) {
    for (const w of searchWords(n)) {
      words.add(w);
    }
  }
  return ` ${[...words].join(' ')}`;
}

/** What a typeahead filter asks for: a folded code prefix and the folded words, each a word prefix. */
export interface TypeaheadQuery {
  /** The whole filter folded as a code (`J06.9` → `j069`); empty when it cannot be a code. */
  code: string;
  /** The typed words, folded, longest first (the most selective test first), at most 8. */
  words: string[];
}

/** Parses a typeahead filter: `typeaheadQuery('Tăng HUYET áp')` → `{ code: 'tanghuyetap', words: [...] }`. */
export function typeaheadQuery(filter: string): TypeaheadQuery {
  const code = foldCode(filter);
  const words = [...new Set(searchWords(filter))].sort((a, b) => b.length - a.length).slice(0, 8);
  return { code: /^[\p{L}\p{N}]{1,20}$/u.test(code) ? code : '', words };
}

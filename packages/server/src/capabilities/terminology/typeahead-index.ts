/**
 * The in-memory typeahead index of one catalog version. A version never changes once imported, so its index is
 * loaded once from `terminology_concept` (the folded words were computed by the importer) and kept while it is used;
 * a filter is then answered without a database round trip. Matching and ranking:
 *
 * - a concept matches when its folded code starts with the folded filter (`j06.` → J06, J06.9), or when every typed
 *   word is a prefix of one of its words (names in any language, any order, diacritics and case ignored);
 * - ranked by: exact code, code prefix, the typed words as one phrase, other word matches; then the catalog's
 *   priority (higher first), shorter codes (a category before its subcodes), shorter names, the code.
 */
import { searchWords, typeaheadQuery } from '@sen/vn';

export interface IndexedConcept {
  code: string;
  codeFold: string;
  /** ' ' + folded words, as stored by the importer. */
  words: string;
  priority: number;
  display: string;
  /** The FHIR concept as JSON text, parsed only for the concepts returned. */
  concept: string;
}

export interface TypeaheadPage {
  total: number;
  items: IndexedConcept[];
}

export class TypeaheadIndex {
  readonly concepts: readonly IndexedConcept[];
  /** All concepts in the unfiltered order (code length, then code). */
  private readonly ordered: readonly IndexedConcept[];

  constructor(concepts: IndexedConcept[]) {
    this.concepts = concepts;
    this.ordered = [...concepts].sort(byDefault);
  }

  search(filter: string, count: number, offset: number): TypeaheadPage {
    const f = filter.trim();
    if (f === '') {
      return { total: this.ordered.length, items: this.ordered.slice(offset, offset + count) };
    }
    const q = typeaheadQuery(f);
    if (q.code === '' && q.words.length === 0) {
      return { total: 0, items: [] };
    }
    const tests = q.words.map((w) => ` ${w}`);
    const phrase = ` ${searchWords(f).join(' ')}`;
    const hits: { c: IndexedConcept; rank: number }[] = [];
    for (const c of this.concepts) {
      let rank = -1;
      if (q.code !== '' && c.codeFold.startsWith(q.code)) {
        rank = c.codeFold.length === q.code.length ? 0 : 1;
      } else if (tests.length > 0 && tests.every((t) => c.words.includes(t))) {
        rank = c.words.includes(phrase) ? 2 : 3;
      }
      if (rank >= 0) {
        hits.push({ c, rank });
      }
    }
    hits.sort((a, b) => a.rank - b.rank || byDefault(a.c, b.c));
    return { total: hits.length, items: hits.slice(offset, offset + count).map((h) => h.c) };
  }
}

function byDefault(a: IndexedConcept, b: IndexedConcept): number {
  return (
    b.priority - a.priority ||
    a.codeFold.length - b.codeFold.length ||
    a.display.length - b.display.length ||
    (a.code < b.code ? -1 : a.code > b.code ? 1 : 0)
  );
}

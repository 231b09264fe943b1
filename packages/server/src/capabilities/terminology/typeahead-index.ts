/**
 * The in-memory typeahead index of one catalog version. A version never changes once imported, so its index is
 * loaded once from `terminology_concept` (the folded words were computed by the importer) and kept while it is used;
 * a filter is then answered without a database round trip. Matching and ranking:
 *
 * - a concept matches when its folded code starts with the folded filter (`j06.` → J06, J06.9), or when every typed
 *   word is a prefix of one of its words (names in any language, any order, diacritics and case ignored);
 * - ranked by: exact code, code prefix (in code order: a category, then its subcodes), the typed words as one
 *   phrase, other word matches; word matches then by the catalog's priority (higher first), shorter codes (a
 *   category before its subcodes), shorter names, the code.
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
  /** Concept numbers in the unfiltered order (priority, code length, name length, code). */
  private readonly ordered: Int32Array;
  /** The position of each concept in that order (the tie-breaker of every ranking). */
  private readonly position: Int32Array;
  /** Concept numbers sorted by folded code, for code-prefix ranges. */
  private readonly byCode: Int32Array;
  /** Distinct folded words, sorted, and the concepts holding each. */
  private readonly words: string[];
  private readonly postings: Int32Array[];
  /** Scratch marks for one search (searches are synchronous, so one buffer serves all). */
  private readonly seen: Uint32Array;
  private stamp = 0;

  constructor(concepts: IndexedConcept[]) {
    this.concepts = concepts;
    const n = concepts.length;
    const ids = Array.from({ length: n }, (_, i) => i);
    this.ordered = Int32Array.from([...ids].sort((a, b) => byDefault(concepts[a], concepts[b])));
    this.position = new Int32Array(n);
    this.ordered.forEach((c, pos) => {
      this.position[c] = pos;
    });
    this.byCode = Int32Array.from(
      [...ids].sort((a, b) =>
        concepts[a].codeFold < concepts[b].codeFold ? -1 : concepts[a].codeFold > concepts[b].codeFold ? 1 : 0,
      ),
    );
    const lists = new Map<string, number[]>();
    concepts.forEach((c, i) => {
      for (const w of c.words.split(' ')) {
        if (w !== '') {
          const list = lists.get(w);
          if (list) {
            list.push(i);
          } else {
            lists.set(w, [i]);
          }
        }
      }
    });
    this.words = [...lists.keys()].sort();
    this.postings = this.words.map((w) => Int32Array.from(lists.get(w) ?? []));
    this.seen = new Uint32Array(n);
  }

  search(filter: string, count: number, offset: number): TypeaheadPage {
    const f = filter.trim();
    if (f === '') {
      return {
        total: this.ordered.length,
        items: [...this.ordered.subarray(offset, offset + count)].map((i) => this.concepts[i]),
      };
    }
    const q = typeaheadQuery(f);
    if (q.code === '' && q.words.length === 0) {
      return { total: 0, items: [] };
    }
    const n = this.concepts.length;
    const stamp = this.nextStamp();
    // sort keys: rank * n + position (code matches: in code order; word matches: in the default order)
    const keys: number[] = [];
    if (q.code !== '') {
      for (let j = lowerBound(this.byCode.length, (k) => this.concepts[this.byCode[k]].codeFold < q.code); j < n; j++) {
        const i = this.byCode[j];
        const cf = this.concepts[i].codeFold;
        if (!cf.startsWith(q.code)) {
          break;
        }
        this.seen[i] = stamp;
        // code matches keep the code order (a category, then its subcodes)
        keys.push((cf.length === q.code.length ? 0 : 1) * n + j);
      }
    }
    if (q.words.length > 0) {
      // walk the postings of the most selective typed word; test the others on its concepts
      const ranges = q.words.map((w) => this.wordRange(w));
      let best = 0;
      ranges.forEach((r, k) => {
        if (r.size < ranges[best].size) {
          best = k;
        }
      });
      const tests = q.words.filter((_, k) => k !== best).map((w) => ` ${w}`);
      const phrase = ` ${searchWords(f).join(' ')}`;
      for (let j = ranges[best].from; j < ranges[best].to; j++) {
        for (const i of this.postings[j]) {
          if (this.seen[i] === stamp) {
            continue;
          }
          this.seen[i] = stamp;
          const w = this.concepts[i].words;
          if (tests.every((t) => w.includes(t))) {
            keys.push((w.includes(phrase) ? 2 : 3) * n + this.position[i]);
          }
        }
      }
    }
    const sorted = Float64Array.from(keys).sort();
    const items: IndexedConcept[] = [];
    for (let k = offset; k < Math.min(sorted.length, offset + count); k++) {
      const rank = Math.floor(sorted[k] / n);
      const p = sorted[k] % n;
      items.push(this.concepts[rank <= 1 ? this.byCode[p] : this.ordered[p]]);
    }
    return { total: sorted.length, items };
  }

  /** The words starting with a prefix (indexes from..to) and how many postings they hold. */
  private wordRange(prefix: string): { from: number; to: number; size: number } {
    const from = lowerBound(this.words.length, (k) => this.words[k] < prefix);
    let to = from;
    let size = 0;
    while (to < this.words.length && this.words[to].startsWith(prefix)) {
      size += this.postings[to].length;
      to++;
    }
    return { from, to, size };
  }

  private nextStamp(): number {
    this.stamp = (this.stamp + 1) >>> 0;
    if (this.stamp === 0) {
      this.seen.fill(0);
      this.stamp = 1;
    }
    return this.stamp;
  }
}

/** The first k in [0, n) for which below(k) is false (below is true on a prefix of the range). */
function lowerBound(n: number, below: (k: number) => boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (below(mid)) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

function byDefault(a: IndexedConcept, b: IndexedConcept): number {
  return (
    b.priority - a.priority ||
    a.codeFold.length - b.codeFold.length ||
    a.display.length - b.display.length ||
    (a.code < b.code ? -1 : a.code > b.code ? 1 : 0)
  );
}

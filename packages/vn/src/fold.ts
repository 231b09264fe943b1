/**
 * Diacritic- and case-insensitive folding for Vietnamese text.
 *
 * The same function is used when indexing and when querying, so `fold(stored)` and `fold(typed)` compare equal
 * whatever the user typed: `fold('Nguyễn Văn Đức') === fold('NGUYEN  van duc') === 'nguyen van duc'`.
 *
 * Steps: NFD normalisation, removal of the combining marks U+0300–U+036F (all Vietnamese tone marks and the
 * circumflex, breve and horn), Đ/đ → d (Đ does not decompose under NFD; the look-alike Ð/ð U+00D0/U+00F0, often
 * produced by legacy VNI/TCVN3 conversions, is folded to d as well), lower-casing, whitespace runs collapsed to a
 * single space, leading and trailing whitespace removed.
 */

const MARK_FIRST = 0x0300;
const MARK_LAST = 0x036f;
const D_STROKE_LOWER = 0x0111; // đ (Đ lower-cases to it)
const ETH_LOWER = 0x00f0; // ð (Ð lower-cases to it)

/** Same set as the JavaScript `\s` class. */
function isSpace(c: number): boolean {
  if (c <= 0x20) {
    return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  }
  if (c < 0xa0) {
    return false;
  }
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/**
 * Folds `s` for search: `fold('  Trần  THỊ Ánh ') === 'tran thi anh'`.
 * Plain lower-case ASCII with single inner spaces is returned unchanged without allocating.
 */
export function fold(s: string): string {
  const n = s.length;
  let plain = true;
  let ascii = true;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      ascii = false;
      plain = false;
      break;
    }
    if (plain) {
      if (c <= 0x20) {
        // control characters and spaces: a space is fine only between two non-space characters
        if (c !== 0x20 || i === 0 || i === n - 1 || s.charCodeAt(i - 1) === 0x20) {
          plain = false;
        }
      } else if (c >= 0x41 && c <= 0x5a) {
        plain = false;
      }
    }
  }
  if (plain) {
    return s;
  }
  // NFD is the identity on ASCII, so skip it there.
  return foldSlow(ascii ? s.toLowerCase() : s.normalize('NFD').toLowerCase());
}

/** Strips marks, maps đ/ð to d and collapses whitespace of an already lower-cased NFD string. */
function foldSlow(t: string): string {
  const n = t.length;
  let out = '';
  let run = -1; // start of the current run of characters kept verbatim, -1 if none
  let pendingSpace = false;
  for (let i = 0; i < n; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x80 && c > 0x20) {
      // the common case: a visible ASCII character
      if (run < 0) {
        if (pendingSpace) {
          out += ' ';
          pendingSpace = false;
        }
        run = i;
      }
      continue;
    }
    const isMark = c >= MARK_FIRST && c <= MARK_LAST;
    const isD = c === D_STROKE_LOWER || c === ETH_LOWER;
    const space = !isMark && !isD && isSpace(c);
    if (!isMark && !isD && !space) {
      // any other character is kept
      if (run < 0) {
        if (pendingSpace) {
          out += ' ';
          pendingSpace = false;
        }
        run = i;
      }
      continue;
    }
    if (run >= 0) {
      out += t.slice(run, i);
      run = -1;
    }
    if (isD) {
      if (pendingSpace) {
        out += ' ';
        pendingSpace = false;
      }
      out += 'd';
    } else if (space && out.length > 0) {
      pendingSpace = true;
    }
  }
  if (run >= 0) {
    out += run === 0 ? t : t.slice(run);
  }
  return out;
}

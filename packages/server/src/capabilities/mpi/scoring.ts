/**
 * Candidate scoring of the master patient index: how alike two Patient resources are, from 0 to 1, on the
 * diacritic-insensitive name (@sen/vn fold), the birth date, the sex and the address. Identifier matches are decided
 * before this (an exact personal ID number is a certain match); here a different current ID number on both sides
 * halves the score, since two people with different numbers are different people however alike their names, and a
 * birth date in another year (not a one-digit typo) takes 40% off.
 */
import type { Address, HumanName, Identifier, Patient } from '@medplum/fhirtypes';
import { fold, VN_CORE_SID } from '@sen/vn';

export type MatchGrade = 'certain' | 'probable' | 'possible' | 'certainly-not';

/** Standard extension on Bundle.entry.search for the grade of a $match result. */
export const MATCH_GRADE_URL = 'http://hl7.org/fhir/StructureDefinition/match-grade';

const WEIGHTS = { name: 0.45, birthDate: 0.3, gender: 0.1, address: 0.15 } as const;

/** Lowest score returned by $match, and the lowest graded probable. */
export const POSSIBLE_THRESHOLD = 0.6;
export const PROBABLE_THRESHOLD = 0.85;

export function gradeOf(score: number, certain = false): MatchGrade {
  if (certain) {
    return 'certain';
  }
  if (score >= PROBABLE_THRESHOLD) {
    return 'probable';
  }
  if (score >= POSSIBLE_THRESHOLD) {
    return 'possible';
  }
  return 'certainly-not';
}

/** The folded full name of the first usable HumanName ("nguyen thi lan anh"). */
export function foldedName(names: readonly HumanName[] | undefined): string {
  const n = names?.find((x) => x.use === 'official') ?? names?.[0];
  if (!n) {
    return '';
  }
  const parts = [n.family ?? '', ...(n.given ?? [])].filter((s) => s.trim() !== '');
  const built = parts.length > 0 ? parts.join(' ') : (n.text ?? '');
  return fold(built);
}

export function foldedAddress(addresses: readonly Address[] | undefined): string {
  const a = addresses?.find((x) => x.use === 'home') ?? addresses?.[0];
  if (!a) {
    return '';
  }
  const parts = a.text ? [a.text] : [...(a.line ?? []), a.district ?? '', a.city ?? '', a.state ?? ''];
  return fold(parts.join(' ').replace(/[,.;]/g, ' '));
}

/** Levenshtein distance (two rows). */
export function editDistance(a: string, b: string): number {
  if (a === b) {
    return 0;
  }
  if (a.length === 0) {
    return b.length;
  }
  if (b.length === 0) {
    return a.length;
  }
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) {
    prev[j] = j;
  }
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const cost = ca === b.charCodeAt(j - 1) ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

/** 1 for the same folded name, 0.95 for the same words in another order, else edit-distance similarity. */
export function nameSimilarity(a: string, b: string): number {
  if (a === '' || b === '') {
    return 0;
  }
  if (a === b) {
    return 1;
  }
  const ta = a.split(' ').sort().join(' ');
  const tb = b.split(' ').sort().join(' ');
  if (ta === tb) {
    return 0.95;
  }
  const sim = 1 - editDistance(a, b) / Math.max(a.length, b.length);
  return Math.max(0, sim);
}

/** 1 same day; 0.7 day and month swapped; 0.6 one digit off; 0.3 same year; else 0. */
export function birthDateSimilarity(a: string, b: string): number {
  if (a === b) {
    return 1;
  }
  if (a.length < 10 || b.length < 10) {
    return a.slice(0, 4) === b.slice(0, 4) ? 0.5 : 0;
  }
  const [ya, ma, da] = a.split('-');
  const [yb, mb, db] = b.split('-');
  if (ya === yb && ma === db && da === mb) {
    return 0.7;
  }
  if (editDistance(a, b) === 1) {
    return 0.6;
  }
  return ya === yb ? 0.3 : 0;
}

/** Share of the address words the two have in common (Jaccard). */
export function addressSimilarity(a: string, b: string): number {
  if (a === '' || b === '') {
    return 0;
  }
  if (a === b) {
    return 1;
  }
  const wa = new Set(a.split(' '));
  const wb = new Set(b.split(' '));
  let both = 0;
  for (const w of wa) {
    if (wb.has(w)) {
      both++;
    }
  }
  return both / (wa.size + wb.size - both);
}

/** The current (not old, not ended) personal ID numbers of a patient. */
export function currentCccds(identifiers: readonly Identifier[] | undefined, today: string): string[] {
  return (identifiers ?? [])
    .filter(
      (i) =>
        i.system === VN_CORE_SID.cccd &&
        i.value &&
        i.use !== 'old' &&
        !(i.period?.end !== undefined && i.period.end.slice(0, 10) < today),
    )
    .map((i) => i.value as string);
}

/** What $match compares on one side, computed once per patient. */
export interface MatchKey {
  name: string;
  birthDate?: string;
  gender?: string;
  address: string;
  cccds: string[];
}

export function matchKey(p: Patient, today: string): MatchKey {
  return {
    name: foldedName(p.name),
    birthDate: p.birthDate,
    gender: p.gender === 'male' || p.gender === 'female' ? p.gender : undefined,
    address: foldedAddress(p.address),
    cccds: currentCccds(p.identifier, today),
  };
}

/** Weighted similarity of the features both sides have (a feature missing on either side does not count). */
export function scoreCandidate(query: MatchKey, candidate: MatchKey): number {
  let total = 0;
  let weight = 0;
  if (query.name !== '') {
    total += WEIGHTS.name * nameSimilarity(query.name, candidate.name);
    weight += WEIGHTS.name;
  }
  if (query.birthDate) {
    total += WEIGHTS.birthDate * (candidate.birthDate ? birthDateSimilarity(query.birthDate, candidate.birthDate) : 0);
    weight += WEIGHTS.birthDate;
  }
  if (query.gender && candidate.gender) {
    total += WEIGHTS.gender * (query.gender === candidate.gender ? 1 : 0);
    weight += WEIGHTS.gender;
  }
  if (query.address !== '' && candidate.address !== '') {
    total += WEIGHTS.address * addressSimilarity(query.address, candidate.address);
    weight += WEIGHTS.address;
  }
  // name and birth date must both be given for a score to mean anything
  const minimum = WEIGHTS.name + WEIGHTS.birthDate;
  let score = total / Math.max(weight, minimum);
  if (query.birthDate && candidate.birthDate && birthDateSimilarity(query.birthDate, candidate.birthDate) === 0) {
    score *= 0.6; // a namesake born in another year is someone else
  }
  if (query.cccds.length > 0 && candidate.cccds.length > 0 && !query.cccds.some((c) => candidate.cccds.includes(c))) {
    score *= 0.5;
  }
  // only an identifier makes a match certain (score 1)
  return Math.min(0.99, Math.round(score * 1000) / 1000);
}

/**
 * The national e-prescription code (mã đơn thuốc, TT 26/2025/TT-BYT Appendix I note 1; VIETNAM.md §4, R20):
 * `xxxxxyyyyyyy-z`, 14 characters — the 5-character facility code, 7 random characters [0-9a-z] unique within the
 * facility (not sequential), a dash, and the prescription type: N narcotic, H psychotropic or precursor, C other,
 * T herbal decoction (TT 55/2025). The random part comes from the operating system's CSPRNG; uniqueness within the
 * facility is the caller's store's job (a unique key, retried on collision).
 *
 * Server-only: it imports node:crypto, so it is not re-exported from the package index (the web app imports that).
 */
import { randomInt } from 'node:crypto';

export const ERX_TYPES = {
  narcotic: 'N',
  psychotropic: 'H',
  other: 'C',
  herbal: 'T',
} as const;

export type ErxKind = keyof typeof ERX_TYPES;
export type ErxTypeLetter = (typeof ERX_TYPES)[ErxKind];

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
const FACILITY = /^[0-9A-Za-z]{5}$/;
const CODE = /^([0-9A-Za-z]{5})([0-9a-z]{7})-([NHCT])$/;

/** A random integer in [0, max): node:crypto randomInt by default; tests pass their own. */
export type RandomInt = (max: number) => number;

export interface ErxCodeParts {
  facilityCode: string;
  /** The 7 random characters (unique within the facility). */
  serial: string;
  type: ErxTypeLetter;
}

export function isFacilityCode(code: string): boolean {
  return FACILITY.test(code);
}

/** A new code for the facility; throws on a facility code that is not 5 letters or digits. */
export function generateErxCode(facilityCode: string, kind: ErxKind, random: RandomInt = randomInt): string {
  if (!isFacilityCode(facilityCode)) {
    throw new Error(
      `Mã cơ sở '${facilityCode}' phải gồm đúng 5 chữ hoặc số / the facility code must be 5 letters or digits`,
    );
  }
  let serial = '';
  for (let i = 0; i < 7; i++) {
    const k = random(ALPHABET.length);
    if (!Number.isInteger(k) || k < 0 || k >= ALPHABET.length) {
      throw new Error('random source out of range');
    }
    serial += ALPHABET[k];
  }
  return `${facilityCode}${serial}-${ERX_TYPES[kind]}`;
}

/** The parts of a well-formed code, or undefined. */
export function parseErxCode(code: string): ErxCodeParts | undefined {
  const m = CODE.exec(code);
  if (!m) {
    return undefined;
  }
  return { facilityCode: m[1], serial: m[2], type: m[3] as ErxTypeLetter };
}

/**
 * The type of a prescription from what it holds: any narcotic → N, else any psychotropic/precursor → H, else an
 * herbal decoction → T, else C. (N and H drugs go on their own prescriptions; the caller splits them.)
 */
export function erxKindOf(items: readonly { kind?: ErxKind }[]): ErxKind {
  const kinds = new Set(items.map((i) => i.kind ?? 'other'));
  if (kinds.has('narcotic')) {
    return 'narcotic';
  }
  if (kinds.has('psychotropic')) {
    return 'psychotropic';
  }
  if (kinds.size > 0 && [...kinds].every((k) => k === 'herbal')) {
    return 'herbal';
  }
  return 'other';
}

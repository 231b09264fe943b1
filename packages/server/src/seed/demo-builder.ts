/** Shared helpers of the demo-data generator: ids, dates, entries and references, names, addresses. */

import type { Address, BundleEntry, Coding, HumanName, Reference, Resource } from '@medplum/fhirtypes';
import { makeCccd, type Sex } from '@sen/vn';
import type { AdminProvince } from './admin-units.ts';
import { FAMILY_NAMES, GIVEN_NAMES_FEMALE, GIVEN_NAMES_MALE, MIDDLE_NAMES_FEMALE, MIDDLE_NAMES_MALE } from './names.ts';
import { createRng, type Rng } from './prng.ts';

export const DEMO_ID_PREFIX = 'sen-demo';
export const DEMO_FACILITY_CODE = '79999';
export const DEMO_TAG: Coding = {
  system: 'https://sen.health.vn/fhir/CodeSystem/tag',
  code: 'demo',
  display: 'Demo data',
};
const TZ = '+07:00';

/** Resource id `sen-demo-<parts>`. */
export const demoId = (...parts: string[]): string => [DEMO_ID_PREFIX, ...parts].join('-').toLowerCase();

// Dates (civil dates as YYYY-MM-DD strings, times in Vietnam time, UTC+7)

export function parseDay(day: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) {
    throw new RangeError(`Expected YYYY-MM-DD, got '${day}'`);
  }
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

export function addDays(day: string, days: number): string {
  return new Date(parseDay(day) + days * 86_400_000).toISOString().slice(0, 10);
}

export function addYears(day: string, years: number): string {
  const d = new Date(parseDay(day));
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d.toISOString().slice(0, 10);
}

/** Date-time of `day` at `minutes` after midnight, local time (minutes < 24 h). */
export function at(day: string, minutes: number): string {
  const hh = String(Math.floor(minutes / 60)).padStart(2, '0');
  const mm = String(minutes % 60).padStart(2, '0');
  return `${day}T${hh}:${mm}:00${TZ}`;
}

export function ageOn(birthDate: string, day: string): number {
  const b = birthDate.split('-').map(Number);
  const d = day.split('-').map(Number);
  const beforeBirthday = d[1] < b[1] || (d[1] === b[1] && d[2] < b[2]);
  return d[0] - b[0] - (beforeBirthday ? 1 : 0);
}

// Builder

export interface PersonName {
  family: string;
  middle: string;
  given: string;
  text: string;
}

export class DemoBuilder {
  readonly entries: BundleEntry[] = [];
  private readonly usedCccd = new Set<string>();
  private readonly usedBhxh = new Set<string>();

  constructor(
    readonly seed: number,
    readonly asOf: string,
  ) {}

  rng(key: string): Rng {
    return createRng(`${this.seed}:${key}`);
  }

  fullUrl(type: string, resourceId: string): string {
    return `urn:uuid:${this.rng(`uuid:${type}/${resourceId}`).uuid()}`;
  }

  /** Reference to the entry of `type/resourceId` by its fullUrl (the target type is inferred from the context). */
  ref<T extends Resource = Resource>(type: T['resourceType'], resourceId: string, display?: string): Reference<T> {
    return display === undefined
      ? { reference: this.fullUrl(type, resourceId) }
      : { reference: this.fullUrl(type, resourceId), display };
  }

  /** Adds a PUT entry; the resource is copied (with the demo tag) so entries never share objects. */
  add<T extends Resource & { id?: string }>(resource: T): void {
    const { resourceType, id, ...rest } = resource;
    if (id === undefined) {
      throw new Error(`demo ${resourceType} without id`);
    }
    this.entries.push({
      fullUrl: this.fullUrl(resourceType, id),
      resource: structuredClone({ resourceType, id, meta: { tag: [DEMO_TAG] }, ...rest }) as Resource,
      request: { method: 'PUT', url: `${resourceType}/${id}` },
    });
  }

  name(rng: Rng, sex: Sex): PersonName {
    const family = rng.weighted(FAMILY_NAMES);
    const middle = rng.pick(sex === 'male' ? MIDDLE_NAMES_MALE : MIDDLE_NAMES_FEMALE);
    let given = rng.pick(sex === 'male' ? GIVEN_NAMES_MALE : GIVEN_NAMES_FEMALE);
    while (given === middle) {
      given = rng.pick(sex === 'male' ? GIVEN_NAMES_MALE : GIVEN_NAMES_FEMALE);
    }
    return { family, middle, given, text: `${family} ${middle} ${given}` };
  }

  uniqueCccd(rng: Rng, provinceCode: string, sex: Sex, birthYear: number): string {
    let serial = rng.int(0, 999_999);
    let value = makeCccd(provinceCode, sex, birthYear, serial);
    while (this.usedCccd.has(value)) {
      serial = (serial + 1) % 1_000_000;
      value = makeCccd(provinceCode, sex, birthYear, serial);
    }
    this.usedCccd.add(value);
    return value;
  }

  /** 10-digit social-insurance number; by convention the first two digits are the issuing province. */
  uniqueBhxh(rng: Rng, provinceCode: string): string {
    let n = rng.int(0, 99_999_999);
    let value = `${provinceCode}${String(n).padStart(8, '0')}`;
    while (this.usedBhxh.has(value)) {
      n = (n + 1) % 100_000_000;
      value = `${provinceCode}${String(n).padStart(8, '0')}`;
    }
    this.usedBhxh.add(value);
    return value;
  }
}

export function humanName(name: PersonName, prefix?: string): HumanName[] {
  return [
    {
      use: 'official',
      text: name.text,
      family: name.family,
      given: [name.middle, name.given],
      ...(prefix ? { prefix: [prefix] } : {}),
    },
  ];
}

export function address(line: string, province: AdminProvince, wardIndex: number): Address {
  const ward = province.wards[wardIndex];
  return {
    use: 'home',
    type: 'physical',
    text: `${line}, ${ward.name}, ${province.name}`,
    line: [line],
    city: ward.name,
    state: province.name,
    country: 'VN',
  };
}

export function mobile(rng: Rng): string {
  return `09${rng.pick(['0', '1', '3', '4', '6', '7', '8'])}${String(rng.int(0, 9_999_999)).padStart(7, '0')}`;
}

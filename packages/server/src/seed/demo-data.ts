/**
 * Deterministic demo data: a FHIR R4 transaction Bundle with one hospital, its departments, rooms and staff, and
 * N patients with outpatient encounters, vital signs and a few lab results.
 *
 * Pure: the output depends only on the options (own seeded PRNG, fixed reference date, no clock, no Math.random).
 * Every entry is a `PUT` of a fixed id (`Patient/sen-demo-p001`, …) so loading the bundle again updates instead of
 * duplicating. `fullUrl`s are `urn:uuid:` values derived from the seed and the resource id, so patient k's data and
 * fullUrl do not depend on how many patients are generated.
 */

import type { Bundle, Encounter, Patient } from '@medplum/fhirtypes';
import { bhytGroup, CCCD_PROVINCE_CODES, makeBhytCode, SEN_SID, type Sex, VN_CORE_SID } from '@sen/vn';
import type { AdminProvince, AdminUnits } from './admin-units.ts';
import {
  addDays,
  address,
  addYears,
  ageOn,
  at,
  DEMO_FACILITY_CODE,
  DemoBuilder,
  demoId,
  humanName,
  mobile,
  parseDay,
} from './demo-builder.ts';
import { addLabs, addVitals, type VisitContext } from './demo-clinical.ts';
import { buildHospital, buildStaff, HOSPITAL_ID, HOSPITAL_NAME, type StaffMember } from './demo-facility.ts';
import { STREET_NAMES, VISIT_REASONS_ADULT, VISIT_REASONS_CHILD, VISIT_REASONS_PREGNANCY } from './names.ts';
import type { Rng } from './prng.ts';

export { DEMO_FACILITY_CODE, DEMO_ID_PREFIX, DEMO_TAG } from './demo-builder.ts';
export { SEN_STAFF_ROLE_SYSTEM } from './demo-facility.ts';
export { createRng, type Rng } from './prng.ts';

export interface DemoBundleOptions {
  /** Number of patients, default 50. */
  patients?: number;
  /** PRNG seed, default 1. */
  seed?: number;
  adminUnits: AdminUnits;
  /** Reference date (YYYY-MM-DD): encounters fall in the year before it. Default '2026-06-30'. */
  asOf?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Patients

const ELDERLY_GROUPS = [
  ['HT', 6],
  ['GD', 2],
  ['CN', 1],
  ['HN', 1],
] as const;
const ADULT_GROUPS = [
  ['DN', 8],
  ['HC', 3],
  ['GD', 5],
  ['HX', 1],
  ['CN', 1],
  ['HN', 1],
] as const;

/** BHYT beneficiary group typical for the age: children under 6, pupils, students, retirees, workers. */
function bhytGroupFor(rng: Rng, age: number): string {
  if (age < 6) {
    return 'TE';
  }
  if (age < 18) {
    return 'HS';
  }
  if (age <= 22 && rng.chance(0.6)) {
    return 'SV';
  }
  return rng.weighted(age >= 60 ? ELDERLY_GROUPS : ADULT_GROUPS);
}

function pickProvince(rng: Rng, units: AdminUnits): AdminProvince {
  const withWards = units.provinces.filter((p) => p.wards.length > 0);
  const preferred = rng.weighted([
    ['79', 5],
    ['01', 1],
    ['', 4],
  ] as const);
  return withWards.find((p) => p.code === preferred) ?? rng.pick(withWards);
}

function buildPatient(
  b: DemoBuilder,
  n: number,
  units: AdminUnits,
  staff: StaffMember[],
  clinicRooms: Map<string, string[]>,
): void {
  const rng = b.rng(`patient:${n}`);
  const num = String(n).padStart(3, '0');
  const patientId = demoId(`p${num}`);
  const sex: Sex = rng.chance(0.5) ? 'male' : 'female';
  const [minAge, maxAge] = rng.weighted([
    [[0, 5], 15],
    [[6, 17], 10],
    [[18, 59], 50],
    [[60, 90], 25],
  ] as const);
  const age = rng.int(minAge, maxAge);
  const birthDate = addDays(b.asOf, -(age * 365 + Math.floor(age / 4) + rng.int(1, 364)));
  const birthYear = Number(birthDate.slice(0, 4));
  const name = b.name(rng, sex);
  const province = pickProvince(rng, units);
  const wardIndex = rng.int(0, province.wards.length - 1);
  const street = rng.pick(STREET_NAMES);
  const line = rng.chance(0.7) ? `${rng.int(1, 350)} ${street}` : `${rng.int(1, 200)}/${rng.int(1, 60)} ${street}`;

  const oldProvince = `0${province.code}`;
  const birthProvince =
    rng.chance(0.7) && CCCD_PROVINCE_CODES[oldProvince] ? oldProvince : rng.pick(Object.keys(CCCD_PROVINCE_CODES));
  const cccd = b.uniqueCccd(rng, birthProvince, sex, birthYear);

  const groupCode = bhytGroupFor(rng, ageOn(birthDate, b.asOf));
  const level = bhytGroup(groupCode)?.defaultLevel ?? 4;
  const bhyt = makeBhytCode(groupCode, level, province.code, b.uniqueBhxh(rng, province.code));
  const year = b.asOf.slice(0, 4);
  let cardStart = `${year}-01-01`;
  let cardEnd = `${year}-12-31`;
  if (groupCode === 'TE') {
    cardStart = birthDate > cardStart ? birthDate : cardStart;
    const sixth = addDays(addYears(birthDate, 6), -1);
    cardEnd = sixth < cardEnd ? sixth : cardEnd;
  }

  b.add<Patient>({
    resourceType: 'Patient',
    id: patientId,
    identifier: [
      { use: 'official', system: VN_CORE_SID.cccd, value: cccd },
      {
        use: 'secondary',
        system: VN_CORE_SID.bhyt,
        value: bhyt,
        period: { start: cardStart, end: cardEnd },
        assigner: { display: 'Bảo hiểm xã hội Việt Nam' },
      },
      { use: 'usual', system: SEN_SID.patient, value: `BN${String(n).padStart(6, '0')}` },
    ],
    active: true,
    name: humanName(name),
    telecom: [{ system: 'phone', value: mobile(rng), use: 'mobile' }],
    gender: sex,
    birthDate,
    address: [address(line, province, wardIndex)],
    communication: [
      { language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'vi', display: 'Tiếng Việt' }] }, preferred: true },
    ],
    managingOrganization: b.ref('Organization', HOSPITAL_ID, HOSPITAL_NAME),
  });

  const diabetic = age >= 40 && rng.chance(0.2);
  const hypertensive = age >= 45 && rng.chance(0.3);
  const visits = rng.int(1, 3);
  const days = new Set<string>();
  while (days.size < visits) {
    days.add(addDays(b.asOf, -rng.int(0, 364)));
  }
  const nurses = staff.filter((s) => s.role === 'nurse');
  const tech = staff.find((s) => s.role === 'lab-technician') as StaffMember;
  [...days].sort().forEach((day, k) => {
    const visitAge = ageOn(birthDate, day);
    let dept = 'K01';
    let reasons = VISIT_REASONS_ADULT;
    if (visitAge < 16) {
      dept = 'K04';
      reasons = VISIT_REASONS_CHILD;
    } else if (sex === 'female' && visitAge >= 18 && visitAge <= 42 && rng.chance(0.35)) {
      dept = 'K05';
      reasons = VISIT_REASONS_PREGNANCY;
    } else {
      dept = rng.weighted([
        ['K01', 6],
        ['K02', 3],
        ['K03', 1],
      ] as const);
    }
    let reason = rng.pick(reasons);
    if (dept !== 'K04' && dept !== 'K05' && (diabetic || hypertensive) && rng.chance(0.6)) {
      reason = diabetic ? 'Tái khám đái tháo đường' : 'Tái khám tăng huyết áp';
    }
    const doctor = rng.pick(staff.filter((s) => s.role === 'doctor' && s.dept === dept));
    const nurse = nurses.find((s) => s.dept === dept) ?? rng.pick(nurses);
    const room = rng.pick(clinicRooms.get(dept) ?? []);
    const minutes = rng.int(7 * 12, 15 * 12) * 5; // 07:00–15:00 in 5-minute steps
    const duration = rng.int(12, 24) * 5;
    const encounterId = `${patientId}-e${k + 1}`;
    const period = { start: at(day, minutes), end: at(day, minutes + duration) };
    b.add<Encounter>({
      resourceType: 'Encounter',
      id: encounterId,
      identifier: [
        { system: VN_CORE_SID.maLk, value: `${DEMO_FACILITY_CODE}${day.replaceAll('-', '')}${num}${k + 1}` },
      ],
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
      type: [{ text: 'Khám bệnh ngoại trú' }],
      subject: b.ref('Patient', patientId, name.text),
      participant: [
        {
          type: [
            {
              coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PPRF' }],
            },
          ],
          individual: b.ref('Practitioner', doctor.id, doctor.name),
          period,
        },
      ],
      period,
      reasonCode: [{ text: reason }],
      location: [{ location: b.ref('Location', room), status: 'completed', period }],
      serviceProvider: b.ref('Organization', HOSPITAL_ID, HOSPITAL_NAME),
    });
    const visit: VisitContext = {
      patientId,
      patientName: name.text,
      encounterId,
      sex,
      age: visitAge,
      start: minutes,
      day,
      reason,
      diabetic,
    };
    addVitals(b, rng, visit, nurse);
    if (visitAge >= 18 && (diabetic || rng.chance(0.5))) {
      addLabs(b, rng, visit, tech);
    }
  });
}

/** Builds the demo transaction Bundle. */
export function buildDemoBundle(options: DemoBundleOptions): Bundle {
  const patients = options.patients ?? 50;
  if (!Number.isInteger(patients) || patients < 0 || patients > 999) {
    throw new RangeError(`patients must be an integer in 0..999, got ${patients}`);
  }
  const asOf = options.asOf ?? '2026-06-30';
  parseDay(asOf);
  if (options.adminUnits.provinces.every((p) => p.wards.length === 0)) {
    throw new Error('adminUnits has no wards');
  }
  const b = new DemoBuilder(options.seed ?? 1, asOf);
  const clinicRooms = buildHospital(b, options.adminUnits);
  const staff = buildStaff(b);
  for (let n = 1; n <= patients; n++) {
    buildPatient(b, n, options.adminUnits, staff, clinicRooms);
  }
  return { resourceType: 'Bundle', type: 'transaction', entry: b.entries };
}

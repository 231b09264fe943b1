import type {
  Appointment,
  Address,
  Bundle,
  Encounter,
  HumanName,
  Location,
  Parameters,
  ParametersParameter,
  Patient,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import { isBhxhNumber, normalizeBhytCode, validateBhytCode } from '@sen/vn/bhyt.ts';
import { VN_CORE_SID } from '@sen/vn/identifiers.ts';

/** What the reception screen needs from a scanned card (the shape `parseCccdQr` of @sen/vn returns). */
export interface ScannedCard {
  idNumber: string;
  oldIdNumber?: string;
  name: string;
  /** YYYY-MM-DD */
  birthDate: string;
  sex: 'male' | 'female';
  address: string;
  issueDate?: string;
}

export const MATCH_GRADE_URL = 'http://hl7.org/fhir/StructureDefinition/match-grade';
export const QUEUE_NUMBER_URL = 'https://sen.health.vn/fhir/StructureDefinition/queue-number';
export const QUEUE_NUMBER_SID = 'https://sen.health.vn/fhir/sid/queue-number';

export type MatchGrade = 'certain' | 'probable' | 'possible' | 'certainly-not';

// ---------------------------------------------------------------------------------------------------------------
// Parameters

/** The first parameter of that name. */
export function paramOf(p: Parameters | undefined, name: string): ParametersParameter | undefined {
  return p?.parameter?.find((x) => x.name === name);
}

function partOf(p: ParametersParameter, name: string): ParametersParameter | undefined {
  return p.part?.find((x) => x.name === name);
}

function text(p: ParametersParameter | undefined): string | undefined {
  return p?.valueString ?? p?.valueCode ?? p?.valueDate;
}

// ---------------------------------------------------------------------------------------------------------------
// The card → a Patient

/** Vietnamese names are written family name first: "Nguyễn Thị Mai" → family Nguyễn, given [Thị, Mai]. */
export function humanNameOf(full: string): HumanName {
  const words = full.trim().split(/\s+/).filter(Boolean);
  return { use: 'official', text: words.join(' '), family: words[0], given: words.slice(1) };
}

/**
 * A card's address line ("Số 12 Lê Lợi, Phường Bến Thành, Thành phố Hồ Chí Minh") as a FHIR Address: the last part
 * is the province, the one before the ward/commune (two-level administration), the rest the street lines.
 */
export function addressOf(line: string): Address | undefined {
  const full = line.trim().replace(/\s+/g, ' ');
  if (!full) {
    return undefined;
  }
  const parts = full
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const address: Address = { use: 'home', type: 'physical', text: full, country: 'VN' };
  if (parts.length >= 3) {
    address.state = parts[parts.length - 1];
    address.city = parts[parts.length - 2];
    address.line = parts.slice(0, -2);
  } else if (parts.length === 2) {
    address.state = parts[1];
    address.line = [parts[0]];
  } else {
    address.line = parts;
  }
  return address;
}

/** The new Patient made from a scanned card: CCCD identifier (and the old number), name, sex, birth date, address. */
export function patientFromCard(card: ScannedCard): Patient {
  const identifier: Patient['identifier'] = [{ use: 'official', system: VN_CORE_SID.cccd, value: card.idNumber }];
  if (card.oldIdNumber && card.oldIdNumber !== card.idNumber) {
    identifier.push({ use: 'old', system: VN_CORE_SID.cmnd, value: card.oldIdNumber });
  }
  const address = addressOf(card.address);
  return {
    resourceType: 'Patient',
    active: true,
    identifier,
    name: [humanNameOf(card.name)],
    gender: card.sex,
    birthDate: card.birthDate,
    ...(address ? { address: [address] } : {}),
  };
}

/** `Patient/$match` input for a scanned card. */
export function matchParameters(card: ScannedCard, count = 5): Parameters {
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'resource', resource: patientFromCard(card) },
      { name: 'count', valueInteger: count },
    ],
  };
}

export interface MatchCandidate {
  patient: Patient;
  score: number;
  grade?: MatchGrade;
}

/** The candidates of a `$match` answer, best first. */
export function candidatesOf(bundle: Bundle | undefined): MatchCandidate[] {
  const out: MatchCandidate[] = [];
  for (const e of bundle?.entry ?? []) {
    if (e.resource?.resourceType !== 'Patient') {
      continue;
    }
    const grade = e.search?.extension?.find((x) => x.url === MATCH_GRADE_URL)?.valueCode as MatchGrade | undefined;
    out.push({ patient: e.resource, score: e.search?.score ?? 0, grade });
  }
  return out.sort((a, b) => b.score - a.score);
}

/** The candidate to select without asking: the one certain match (same CCCD number), if there is exactly one. */
export function exactMatchOf(candidates: MatchCandidate[]): MatchCandidate | undefined {
  const certain = candidates.filter((c) => c.grade === 'certain' || c.score >= 1);
  return certain.length === 1 ? certain[0] : undefined;
}

/** A score as a whole percentage ("87 %"). */
export function scorePercent(score: number): string {
  return `${Math.round(Math.max(0, Math.min(1, score)) * 100)} %`;
}

// ---------------------------------------------------------------------------------------------------------------
// BHYT

export type BhytStatus = 'verified' | 'unverified' | 'expired' | 'not-found' | 'invalid';

/** What the receptionist typed, checked before asking the server: a 15-character card code or a 10-digit number. */
export function bhytInput(raw: string): { ok: true; value: string; kind: 'card' | 'bhxh' } | { ok: false } {
  const value = normalizeBhytCode(raw);
  if (isBhxhNumber(value)) {
    return { ok: true, value, kind: 'bhxh' };
  }
  const v = validateBhytCode(value, { allowUnknownGroup: true });
  return v.ok ? { ok: true, value: v.value, kind: 'card' } : { ok: false };
}

export function bhytCheckParameters(input: {
  cardNumber: string;
  name?: string;
  birthDate?: string;
  patient?: string;
}): Parameters {
  const parameter: ParametersParameter[] = [{ name: 'cardNumber', valueString: input.cardNumber }];
  if (input.name) {
    parameter.push({ name: 'name', valueString: input.name });
  }
  if (input.birthDate) {
    parameter.push({ name: 'birthDate', valueDate: input.birthDate });
  }
  if (input.patient) {
    parameter.push({ name: 'patient', valueReference: { reference: input.patient } });
  }
  return { resourceType: 'Parameters', parameter };
}

export interface BhytResult {
  status: BhytStatus;
  message?: string;
  benefitLevel?: number;
  validFrom?: string;
  validTo?: string;
  /** `Coverage/<id>`, when the server wrote one. */
  coverage?: string;
}

const BHYT_STATUSES: readonly string[] = ['verified', 'unverified', 'expired', 'not-found', 'invalid'];

export function bhytResultOf(p: Parameters): BhytResult {
  const raw = paramOf(p, 'status')?.valueCode;
  const status = (raw && BHYT_STATUSES.includes(raw) ? raw : 'invalid') as BhytStatus;
  const coverage = paramOf(p, 'coverage')?.resource;
  return {
    status,
    message: paramOf(p, 'message')?.valueString,
    benefitLevel: paramOf(p, 'benefitLevel')?.valueInteger,
    validFrom: paramOf(p, 'validFrom')?.valueDate,
    validTo: paramOf(p, 'validTo')?.valueDate,
    coverage: coverage?.resourceType === 'Coverage' && coverage.id ? `Coverage/${coverage.id}` : undefined,
  };
}

/** Colour of the status badge: green verified, yellow not yet verified (gateway down), red otherwise. */
export function bhytStatusColor(status: BhytStatus): string {
  return status === 'verified' ? 'green' : status === 'unverified' ? 'yellow' : 'red';
}

/** A BHYT visit needs a card that is verified, or unverified only because the gateway is down (not a refusal). */
export function bhytUsable(result: BhytResult | undefined): boolean {
  return !!result && (result.status === 'verified' || result.status === 'unverified');
}

// ---------------------------------------------------------------------------------------------------------------
// Rooms and visits

export type VisitType = 'bhyt' | 'fee' | 'emergency';
export const VISIT_TYPES: readonly VisitType[] = ['bhyt', 'fee', 'emergency'];

export interface RoomQueue {
  /** `Location/<id>` */
  location: string;
  name: string;
  departmentName?: string;
  waiting: number;
  current?: number;
  /** Numbers called recently, newest first. */
  recentCalled: number[];
}

/** The rooms of a `Location/$queue-summary` answer, in its order. */
export function roomsOf(p: Parameters | undefined): RoomQueue[] {
  const out: RoomQueue[] = [];
  for (const room of p?.parameter ?? []) {
    if (room.name !== 'room') {
      continue;
    }
    const location = partOf(room, 'location')?.valueReference?.reference;
    if (!location) {
      continue;
    }
    out.push({
      location,
      name: text(partOf(room, 'name')) ?? partOf(room, 'location')?.valueReference?.display ?? location,
      departmentName: text(partOf(room, 'departmentName')),
      waiting: partOf(room, 'waiting')?.valueInteger ?? 0,
      current: partOf(room, 'current')?.valueInteger,
      recentCalled: (room.part ?? [])
        .filter((x) => x.name === 'recentCalled' && typeof x.valueInteger === 'number')
        .map((x) => x.valueInteger as number),
    });
  }
  return out;
}

export function registerVisitParameters(input: {
  patient: string;
  visitType: VisitType;
  reason: string;
  location: string;
  coverage?: string;
}): Parameters {
  const parameter: ParametersParameter[] = [
    { name: 'patient', valueReference: { reference: input.patient } },
    { name: 'visitType', valueCode: input.visitType },
    { name: 'location', valueReference: { reference: input.location } },
  ];
  if (input.reason.trim()) {
    parameter.push({ name: 'reason', valueString: input.reason.trim() });
  }
  if (input.coverage && input.visitType === 'bhyt') {
    parameter.push({ name: 'coverage', valueReference: { reference: input.coverage } });
  }
  return { resourceType: 'Parameters', parameter };
}

/** The Encounter id of a `$register-visit` answer. */
export function registeredEncounterId(p: Parameters): string | undefined {
  const r = paramOf(p, 'encounter')?.resource;
  return r?.resourceType === 'Encounter' ? r.id : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// The ticket

/** The queue number of an Encounter: the extension, else the last part of the `<room>-<yyyymmdd>-<n>` identifier. */
export function queueNumberOf(e: Encounter | undefined): number | undefined {
  const ext = e?.extension?.find((x) => x.url === QUEUE_NUMBER_URL)?.valueInteger;
  if (typeof ext === 'number') {
    return ext;
  }
  const id = e?.identifier?.find((i) => i.system === QUEUE_NUMBER_SID)?.value;
  const n = id ? Number(id.split('-').pop()) : NaN;
  return Number.isInteger(n) ? n : undefined;
}

/** The room reference of an Encounter (the first location). */
export function roomOf(e: Encounter | undefined): Reference | undefined {
  return e?.location?.[0]?.location;
}

export interface TicketView {
  number?: number;
  roomName?: string;
  departmentName?: string;
  /** ISO date-time of the visit start. */
  start?: string;
  patientName: string;
  birthYear?: string;
  emergency: boolean;
}

function referenceName(r: Reference | undefined, resource: Resource | undefined): string | undefined {
  const named = resource as { name?: unknown } | undefined;
  return typeof named?.name === 'string' ? named.name : r?.display;
}

/** Everything the ticket prints, from the Encounter and (when read) its patient, room and department. */
export function ticketView(input: {
  encounter: Encounter;
  patient?: Patient;
  room?: Resource;
  department?: Resource;
}): TicketView {
  const { encounter, patient, room, department } = input;
  const name = patient?.name?.[0];
  return {
    number: queueNumberOf(encounter),
    roomName: referenceName(roomOf(encounter), room),
    departmentName: referenceName(encounter.serviceProvider, department),
    start: encounter.period?.start,
    patientName: name?.text ?? [name?.family, ...(name?.given ?? [])].filter(Boolean).join(' '),
    birthYear: patient?.birthDate?.slice(0, 4),
    emergency: encounter.class?.code === 'EMER',
  };
}

/** The printed number: at least three digits ("007"), so a number is read the same way on paper and on screen. */
export function formatQueueNumber(n: number | undefined): string {
  return n === undefined ? '—' : String(n).padStart(3, '0');
}

export type PaperSize = '80mm' | 'a5';

/** The page rule of the printed ticket: an 80 mm thermal roll (height follows the content) or an A5 sheet. */
export function pageRule(size: PaperSize): string {
  return size === '80mm' ? '@page { size: 80mm auto; margin: 3mm; }' : '@page { size: A5 portrait; margin: 10mm; }';
}

const ROOM_TYPE = 'ro';
const CLINIC_PREFIX = 'phòng khám';

/**
 * The rooms a visit can be registered in, with their queues: the active rooms (physical type `ro`) among the
 * facility's Locations, the outpatient clinics ("Phòng khám …") only when there are any, merged with today's
 * `$queue-summary` (which lists only rooms that already have numbers today). Ordered by room code.
 */
export function clinicRoomsOf(locations: Location[], queues: RoomQueue[]): RoomQueue[] {
  const rooms = locations.filter(
    (l) =>
      !!l.id &&
      l.status !== 'inactive' &&
      l.status !== 'suspended' &&
      (l.physicalType?.coding ?? []).some((c) => c.code === ROOM_TYPE),
  );
  const clinics = rooms.filter((l) => (l.name ?? '').toLocaleLowerCase('vi').startsWith(CLINIC_PREFIX));
  const chosen = clinics.length > 0 ? clinics : rooms;
  const byRef = new Map(queues.map((q) => [q.location, q]));
  const listed = new Set(locations.map((l) => `Location/${l.id}`));
  const code = (l: Location): string => l.identifier?.[0]?.value ?? l.name ?? '';
  const out: RoomQueue[] = [...chosen]
    .sort((a, b) => code(a).localeCompare(code(b)))
    .map((l) => {
      const ref = `Location/${l.id}`;
      const q = byRef.get(ref);
      return {
        location: ref,
        name: l.name ?? q?.name ?? ref,
        departmentName: q?.departmentName ?? l.managingOrganization?.display,
        waiting: q?.waiting ?? 0,
        current: q?.current,
        recentCalled: q?.recentCalled ?? [],
      };
    });
  // a room with numbers today that the directory did not list (beyond its first page): still shown
  return [...out, ...queues.filter((q) => !listed.has(q.location))];
}

// ---------------------------------------------------------------- appointments booked in the portal

/** The check-in QR of a portal booking: `SEN-HEN:<8-character code>` (capabilities/portal/booking.ts). */
export const CHECKIN_QR_PREFIX = 'SEN-HEN:';

/**
 * The booking code in a scanned or typed text: the check-in QR, or the 8-character code itself (letters and digits,
 * spaces and dashes ignored); undefined for anything else, such as the ID card's QR.
 */
export function checkInCodeOf(raw: string): string | undefined {
  const text = raw.trim().toUpperCase();
  const body = text.startsWith(CHECKIN_QR_PREFIX) ? text.slice(CHECKIN_QR_PREFIX.length) : text;
  const code = body.replace(/[\s-]/g, '');
  return /^[A-Z0-9]{8}$/.test(code) ? code : undefined;
}

export interface CheckedIn {
  appointmentId: string;
  code: string;
  patientId?: string;
  /** The room of the booked schedule (`Location/<id>`), to register the visit there. */
  room?: string;
  start?: string;
  reason?: string;
}

/** What `Appointment/$check-in` answered. */
export function checkedInOf(p: Parameters): CheckedIn | undefined {
  const appt = paramOf(p, 'appointment')?.resource as Appointment | undefined;
  const code = paramOf(p, 'code')?.valueString;
  if (!appt?.id || !code) {
    return undefined;
  }
  const actor = (type: string): string | undefined =>
    appt.participant?.map((x) => x.actor?.reference).find((r) => r?.startsWith(`${type}/`));
  return {
    appointmentId: appt.id,
    code,
    patientId: actor('Patient')?.slice('Patient/'.length),
    room: actor('Location'),
    start: appt.start,
    reason: appt.description ?? appt.comment,
  };
}

/**
 * Pure functions of the patient portal: what the My health screen shows from the record the server returns
 * (Patient/{id}/$portal-record — already only what a patient may see: final results, sent prescriptions).
 */
import type {
  AllergyIntolerance,
  Appointment,
  Bundle,
  CarePlan,
  Condition,
  DiagnosticReport,
  Encounter,
  Immunization,
  MedicationRequest,
  Observation,
  Parameters,
  ParametersParameter,
  Patient,
  Resource,
  ServiceRequest,
} from '@medplum/fhirtypes';
import { type Trend, trendsOf } from '../features/clinic/clinic.logic.ts';

export const ERX_CODE_SYSTEM = 'https://sen.health.vn/sid/e-prescription';
export const FOLLOW_UP_URL = 'https://sen.health.vn/fhir/StructureDefinition/encounter-follow-up';
export const BOOKING_CODE_SYSTEM = 'https://sen.health.vn/fhir/sid/booking-code';
export const CHECKIN_QR_PREFIX = 'SEN-HEN:';

export interface PortalRecord {
  patient?: Patient;
  allergies: AllergyIntolerance[];
  conditions: Condition[];
  encounters: Encounter[];
  reports: DiagnosticReport[];
  observations: Observation[];
  prescriptions: MedicationRequest[];
  immunizations: Immunization[];
  appointments: Appointment[];
  orders: ServiceRequest[];
  carePlans: CarePlan[];
}

export function splitRecord(bundle: Bundle | undefined): PortalRecord {
  const of = <T extends Resource>(type: T['resourceType']): T[] =>
    (bundle?.entry ?? []).map((e) => e.resource).filter((r): r is T => r?.resourceType === type);
  return {
    patient: of<Patient>('Patient')[0],
    allergies: of<AllergyIntolerance>('AllergyIntolerance'),
    conditions: of<Condition>('Condition'),
    encounters: of<Encounter>('Encounter'),
    reports: of<DiagnosticReport>('DiagnosticReport'),
    observations: of<Observation>('Observation'),
    prescriptions: of<MedicationRequest>('MedicationRequest'),
    immunizations: of<Immunization>('Immunization'),
    appointments: of<Appointment>('Appointment'),
    orders: of<ServiceRequest>('ServiceRequest'),
    carePlans: of<CarePlan>('CarePlan'),
  };
}

export function textOf(c: { text?: string; coding?: { display?: string; code?: string }[] } | undefined): string {
  return c?.text ?? c?.coding?.find((x) => x.display)?.display ?? c?.coding?.[0]?.code ?? '';
}

export function nameOf(p: Patient | undefined): string {
  const n = p?.name?.[0];
  return n?.text ?? [n?.family, ...(n?.given ?? [])].filter(Boolean).join(' ');
}

const idOf = (ref: string | undefined): string | undefined => ref?.split('/').pop();

export interface VisitEntry {
  encounter: Encounter;
  date?: string;
  place?: string;
  diagnoses: { code?: string; text: string; main: boolean }[];
  followUp?: string;
  reports: DiagnosticReport[];
}

/** Visits, newest first, each with its diagnoses (main first), its final reports and its follow-up date. */
export function visitTimeline(record: PortalRecord): VisitEntry[] {
  const conditions = new Map(record.conditions.map((c) => [c.id, c]));
  return [...record.encounters]
    .sort((a, b) => (b.period?.start ?? '').localeCompare(a.period?.start ?? ''))
    .map((e) => {
      const ranked = (e.diagnosis ?? [])
        .slice()
        .sort((a, b) => (a.rank ?? 99) - (b.rank ?? 99))
        .map((d) => conditions.get(idOf(d.condition?.reference)))
        .filter((c): c is Condition => !!c);
      const linked = record.conditions.filter((c) => idOf(c.encounter?.reference) === e.id && !ranked.includes(c));
      const diagnoses = [...ranked, ...linked].map((c, i) => ({
        code: c.code?.coding?.[0]?.code,
        text: textOf(c.code),
        main: i === 0 && ranked.length > 0,
      }));
      return {
        encounter: e,
        date: e.period?.start,
        place: e.serviceProvider?.display ?? e.location?.[0]?.location?.display,
        diagnoses,
        followUp: e.extension?.find((x) => x.url === FOLLOW_UP_URL)?.valueDate,
        reports: record.reports.filter((r) => idOf(r.encounter?.reference) === e.id),
      };
    });
}

const isCategory = (r: DiagnosticReport, code: string): boolean =>
  (r.category ?? []).some((c) => (c.coding ?? []).some((x) => x.code === code));

export function labReports(record: PortalRecord): DiagnosticReport[] {
  return record.reports.filter((r) => !isCategory(r, 'RAD'));
}

export function imagingReports(record: PortalRecord): DiagnosticReport[] {
  return record.reports.filter((r) => isCategory(r, 'RAD'));
}

/** The Observations of a report, in its order. */
export function reportResults(record: PortalRecord, report: DiagnosticReport): Observation[] {
  const byId = new Map(record.observations.map((o) => [o.id, o]));
  return (report.result ?? []).map((r) => byId.get(idOf(r.reference))).filter((o): o is Observation => !!o);
}

/** Tests measured more than once (glucose, HbA1c, blood pressure…): a trend chart each. */
export function repeatedTrends(record: PortalRecord): Trend[] {
  return trendsOf(record.observations).filter((t) => t.points.length >= 2);
}

export interface PrescriptionGroup {
  code?: string;
  date?: string;
  items: { name: string; instruction: string; quantity?: string }[];
}

/** Prescriptions grouped by their national e-prescription code, newest first. */
export function prescriptionGroups(record: PortalRecord): PrescriptionGroup[] {
  const groups = new Map<string, PrescriptionGroup>();
  for (const m of record.prescriptions) {
    const code = m.groupIdentifier?.system === ERX_CODE_SYSTEM ? m.groupIdentifier.value : undefined;
    const key = code ?? `single:${m.id}`;
    let g = groups.get(key);
    if (!g) {
      g = { code, date: m.authoredOn, items: [] };
      groups.set(key, g);
    }
    const q = m.dispenseRequest?.quantity;
    g.items.push({
      name: textOf(m.medicationCodeableConcept),
      instruction: (m.dosageInstruction ?? [])
        .map((d) => d.text ?? d.patientInstruction ?? '')
        .filter(Boolean)
        .join('; '),
      quantity: q?.value !== undefined ? `${q.value}${q.unit ? ` ${q.unit}` : ''}` : undefined,
    });
  }
  return [...groups.values()].sort((a, b) => (b.date ?? '').localeCompare(a.date ?? ''));
}

export interface UpcomingItem {
  kind: 'follow-up' | 'appointment';
  date: string;
  appointment?: Appointment;
  code?: string;
}

/** Follow-up dates from visits and booked appointments, from today on, soonest first. */
export function upcoming(record: PortalRecord, today: string): UpcomingItem[] {
  const items: UpcomingItem[] = [];
  for (const e of record.encounters) {
    const d = e.extension?.find((x) => x.url === FOLLOW_UP_URL)?.valueDate;
    if (d && d >= today) {
      items.push({ kind: 'follow-up', date: d });
    }
  }
  for (const a of record.appointments) {
    if ((a.status === 'booked' || a.status === 'arrived') && a.start && a.start.slice(0, 10) >= today) {
      items.push({ kind: 'appointment', date: a.start, appointment: a, code: bookingCodeOf(a) });
    }
  }
  return items.sort((a, b) => a.date.localeCompare(b.date));
}

export function bookingCodeOf(a: Appointment): string | undefined {
  return a.identifier?.find((i) => i.system === BOOKING_CODE_SYSTEM)?.value;
}

/** A date as Vietnamese readers write it: 03/12/2026 (Vietnam time for instants). */
export function viDate(iso: string | undefined): string {
  if (!iso) {
    return '';
  }
  const day = iso.length > 10 ? new Date(Date.parse(iso) + 7 * 3_600_000).toISOString().slice(0, 10) : iso;
  const [y, m, d] = day.split('-');
  return d && m ? `${d}/${m}/${y}` : iso;
}

/** A time of day in Vietnam time: 07:30. */
export function viTime(iso: string | undefined): string {
  if (!iso) {
    return '';
  }
  return new Date(Date.parse(iso) + 7 * 3_600_000).toISOString().slice(11, 16);
}

/** The Vietnam civil day of an instant (YYYY-MM-DD). */
export function vnDay(d: Date): string {
  return new Date(d.getTime() + 7 * 3_600_000).toISOString().slice(0, 10);
}

export function param(p: Parameters | undefined, name: string): ParametersParameter | undefined {
  return p?.parameter?.find((x) => x.name === name);
}

export function part(p: ParametersParameter | undefined, name: string): ParametersParameter | undefined {
  return p?.part?.find((x) => x.name === name);
}

/** Chart geometry for a trend: points scaled into width×height with padding; min and max for the axis. */
export function chartPoints(
  values: number[],
  width: number,
  height: number,
  pad = 12,
): { points: [number, number][]; min: number; max: number } {
  if (values.length === 0) {
    return { points: [], min: 0, max: 0 };
  }
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  const step = values.length > 1 ? (width - 2 * pad) / (values.length - 1) : 0;
  const points = values.map((v, i): [number, number] => [
    Math.round((pad + i * step) * 10) / 10,
    Math.round((max === min ? height / 2 : height - pad - ((v - min) / span) * (height - 2 * pad)) * 10) / 10,
  ]);
  return { points, min, max };
}

/** A personal ID number shown with only its last 4 digits. */
export function maskId(value: string | undefined): string {
  return value ? `${'•'.repeat(Math.max(0, value.length - 4))}${value.slice(-4)}` : '';
}

export interface CurrentCare {
  encounter: Encounter;
  inpatient: boolean;
  /** Orders of the stay for today (authored or due today), and those still open. */
  orders: ServiceRequest[];
  medications: MedicationRequest[];
  plans: { title: string; activities: string[] }[];
}

const INPATIENT_CLASSES = new Set(['IMP', 'ACUTE', 'NONAC', 'SS']);

/** The stay or visit in progress: today's orders, its active medicines and care plan. */
export function currentCare(record: PortalRecord, today: string): CurrentCare | undefined {
  const e = record.encounters.find((x) => x.status === 'in-progress');
  if (!e) {
    return undefined;
  }
  const ref = `Encounter/${e.id}`;
  const on = (iso: string | undefined): boolean => !!iso && (iso.length > 10 ? vnDay(new Date(iso)) : iso) === today;
  return {
    encounter: e,
    inpatient: INPATIENT_CLASSES.has(e.class?.code ?? ''),
    orders: record.orders.filter(
      (o) =>
        o.encounter?.reference === ref &&
        (o.status === 'active' || on(o.authoredOn) || on(o.occurrenceDateTime) || on(o.occurrencePeriod?.start)),
    ),
    medications: record.prescriptions.filter((m) => m.encounter?.reference === ref && m.status === 'active'),
    plans: record.carePlans.map((c) => ({
      title: c.title ?? c.description ?? '',
      activities: (c.activity ?? [])
        .map((a) => a.detail?.description ?? textOf(a.detail?.code))
        .filter((x): x is string => !!x),
    })),
  };
}

/**
 * What a patient sees of their record, and the International Patient Summary (IPS) document built from it.
 *
 * `patientRecord` reads the patient's compartment through the caller's access policy (the gate's SQL filter), or,
 * for a share link, with no caller and without sensitive-labelled resources. Only what is finished is shown:
 * DiagnosticReports and Observations that are final (or amended/corrected/appended), prescriptions that were sent
 * (active/completed), never drafts, preliminary results or entries in error.
 *
 * `ipsDocument` turns it into a FHIR document Bundle (Composition first, LOINC 60591-5) with the IPS sections
 * (allergies, medications, problems, immunizations, results, procedures, vital signs, plan of care / follow-up).
 */
import { randomUUID } from 'node:crypto';
import type {
  AllergyIntolerance,
  Appointment,
  CarePlan,
  Bundle,
  CompositionSection,
  Condition,
  DiagnosticReport,
  Encounter,
  Immunization,
  MedicationRequest,
  Observation,
  Organization,
  Patient,
  Procedure,
  Resource,
  ServiceRequest,
} from '@medplum/fhirtypes';
import type { Queryable } from '@sen/db';
import { parseSearchRequest } from '@sen/fhir';
import { type AccessPolicy, type FhirStore, searchRows } from '@sen/store';
import { isSensitive } from '../../platform/gate/gate.ts';

export const FOLLOW_UP_URL = 'https://sen.health.vn/fhir/StructureDefinition/encounter-follow-up';
const LOINC = 'http://loinc.org';
const FINAL_REPORT = new Set(['final', 'amended', 'corrected', 'appended']);
const FINAL_OBSERVATION = new Set(['final', 'amended', 'corrected']);
const SHOWN_PRESCRIPTION = new Set(['active', 'completed', 'on-hold']);

export interface PatientRecord {
  patient: Patient;
  allergies: AllergyIntolerance[];
  conditions: Condition[];
  encounters: Encounter[];
  reports: DiagnosticReport[];
  observations: Observation[];
  prescriptions: MedicationRequest[];
  immunizations: Immunization[];
  procedures: Procedure[];
  appointments: Appointment[];
  /** For an inpatient: the orders and care plans of the current (in-progress) stay. */
  orders: ServiceRequest[];
  carePlans: CarePlan[];
}

async function all<T extends Resource>(
  store: FhirStore,
  type: string,
  query: [string, string][],
  q: Queryable,
  policy: AccessPolicy | undefined,
): Promise<T[]> {
  const req = parseSearchRequest(type, [...query, ['_count', '1000']]);
  const res = await searchRows(store, req, q, policy);
  return res.rows.map((r) => JSON.parse(r.content as string) as T);
}

/**
 * The patient's record as the portal shows it. `policy` is the caller's access policy (undefined for a share link:
 * then sensitive-labelled resources are left out).
 */
export async function patientRecord(
  store: FhirStore,
  patientId: string,
  q: Queryable,
  policy: AccessPolicy | undefined,
): Promise<PatientRecord> {
  const patient = JSON.parse((await store.read('Patient', patientId, q)).content as string) as Patient;
  const by: [string, string][] = [['patient', `Patient/${patientId}`]];
  const [allergies, conditions, encounters, reports, observations, prescriptions, immunizations, procedures, appts] =
    await Promise.all([
      all<AllergyIntolerance>(store, 'AllergyIntolerance', by, q, policy),
      all<Condition>(store, 'Condition', by, q, policy),
      all<Encounter>(store, 'Encounter', by, q, policy),
      all<DiagnosticReport>(store, 'DiagnosticReport', by, q, policy),
      all<Observation>(store, 'Observation', by, q, policy),
      all<MedicationRequest>(store, 'MedicationRequest', by, q, policy),
      all<Immunization>(store, 'Immunization', by, q, policy),
      all<Procedure>(store, 'Procedure', by, q, policy),
      all<Appointment>(store, 'Appointment', [['actor', `Patient/${patientId}`]], q, policy),
    ]);
  const current = new Set(encounters.filter((e) => e.status === 'in-progress').map((e) => `Encounter/${e.id}`));
  const [orders, carePlans] =
    current.size > 0
      ? await Promise.all([
          all<ServiceRequest>(store, 'ServiceRequest', by, q, policy),
          all<CarePlan>(store, 'CarePlan', by, q, policy),
        ])
      : [[], []];
  const shown = <T extends Resource>(list: T[]): T[] => (policy ? list : list.filter((r) => !isSensitive(r)));
  const finalReports = shown(reports).filter((r) => FINAL_REPORT.has(r.status));
  // an Observation of a report is shown only when its report is final; one without a report when it is final itself
  const inReport = new Set(reports.flatMap((r) => (r.result ?? []).map((x) => x.reference?.split('/').pop())));
  const inFinalReport = new Set(
    finalReports.flatMap((r) => (r.result ?? []).map((x) => x.reference?.split('/').pop())),
  );
  return {
    patient,
    allergies: shown(allergies).filter((a) => a.verificationStatus?.coding?.[0]?.code !== 'entered-in-error'),
    conditions: shown(conditions).filter((c) => c.verificationStatus?.coding?.[0]?.code !== 'entered-in-error'),
    encounters: shown(encounters)
      .filter((e) => e.status !== 'entered-in-error' && e.status !== 'cancelled')
      .sort((a, b) => (b.period?.start ?? '').localeCompare(a.period?.start ?? '')),
    reports: finalReports.sort((a, b) => (b.issued ?? '').localeCompare(a.issued ?? '')),
    observations: shown(observations).filter(
      (o) => FINAL_OBSERVATION.has(o.status) && (!inReport.has(o.id) || inFinalReport.has(o.id)),
    ),
    prescriptions: shown(prescriptions).filter((m) => SHOWN_PRESCRIPTION.has(m.status)),
    immunizations: shown(immunizations).filter((i) => i.status === 'completed'),
    procedures: shown(procedures).filter((p) => p.status === 'completed' || p.status === 'in-progress'),
    appointments: shown(appts).sort((a, b) => (a.start ?? '').localeCompare(b.start ?? '')),
    orders: shown(orders).filter(
      (o) => current.has(o.encounter?.reference ?? '') && ['active', 'completed', 'on-hold'].includes(o.status),
    ),
    carePlans: shown(carePlans).filter(
      (c) => c.status === 'active' && (!c.encounter || current.has(c.encounter.reference ?? '')),
    ),
  };
}

/** Follow-up dates: from the signed visit conclusions (the encounter-follow-up extension), newest visit first. */
export function followUps(record: PatientRecord): { date: string; encounterId?: string }[] {
  return record.encounters.flatMap((e) => {
    const d = e.extension?.find((x) => x.url === FOLLOW_UP_URL)?.valueDate;
    return d ? [{ date: d, encounterId: e.id }] : [];
  });
}

/** The portal's record as one collection Bundle (what the My health screen reads). */
export function recordBundle(record: PatientRecord, baseUrl: string): Bundle {
  const list: Resource[] = [
    record.patient,
    ...record.allergies,
    ...record.conditions,
    ...record.encounters,
    ...record.reports,
    ...record.observations,
    ...record.prescriptions,
    ...record.immunizations,
    ...record.procedures,
    ...record.appointments,
    ...record.orders,
    ...record.carePlans,
  ];
  return {
    resourceType: 'Bundle',
    type: 'collection',
    timestamp: new Date().toISOString(),
    entry: list.map((r) => ({ fullUrl: `${baseUrl}/${r.resourceType}/${r.id}`, resource: r })),
  };
}

function escapeXml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

function narrative(lines: string[], empty: string): { status: 'generated'; div: string } {
  const body = lines.length
    ? `<ul>${lines.map((l) => `<li>${escapeXml(l)}</li>`).join('')}</ul>`
    : `<p>${escapeXml(empty)}</p>`;
  return { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${body}</div>` };
}

export function textOf(c: { text?: string; coding?: { display?: string; code?: string }[] } | undefined): string {
  return c?.text ?? c?.coding?.[0]?.display ?? c?.coding?.[0]?.code ?? '';
}

export function observationValue(o: Observation): string {
  if (o.valueQuantity?.value !== undefined) {
    return `${o.valueQuantity.value}${o.valueQuantity.unit ? ` ${o.valueQuantity.unit}` : ''}`;
  }
  if (o.component?.length) {
    return o.component
      .map((c) => (c.valueQuantity?.value !== undefined ? String(c.valueQuantity.value) : ''))
      .filter(Boolean)
      .join('/')
      .concat(o.component[0]?.valueQuantity?.unit ? ` ${o.component[0].valueQuantity.unit}` : '');
  }
  return o.valueString ?? textOf(o.valueCodeableConcept);
}

export function dosageText(m: MedicationRequest): string {
  return (m.dosageInstruction ?? [])
    .map((d) => d.text ?? d.patientInstruction ?? '')
    .filter(Boolean)
    .join('; ');
}

/** The IPS document (Bundle type document; Composition first; every referenced resource inside). */
export function ipsDocument(record: PatientRecord, author?: Organization): Bundle {
  const now = new Date().toISOString();
  const ref = (r: Resource): { reference: string } => ({ reference: `urn:uuid:${uuidOf.get(r) as string}` });
  const uuidOf = new Map<Resource, string>();
  const entries: Resource[] = [];
  const include = (r: Resource): void => {
    if (!uuidOf.has(r)) {
      uuidOf.set(r, randomUUID());
      entries.push(r);
    }
  };
  include(record.patient);
  if (author) {
    include(author);
  }
  const vitals = record.observations.filter((o) =>
    o.category?.some((c) => c.coding?.some((x) => x.code === 'vital-signs')),
  );
  const results = record.observations.filter((o) => !vitals.includes(o));
  const section = (
    code: string,
    title: string,
    items: Resource[],
    line: (r: Resource) => string,
    empty: string,
  ): CompositionSection => {
    items.forEach(include);
    return {
      title,
      code: { coding: [{ system: LOINC, code }] },
      text: narrative(items.map(line), empty),
      ...(items.length
        ? { entry: items.map(ref) }
        : {
            emptyReason: {
              coding: [{ system: 'http://terminology.hl7.org/CodeSystem/list-empty-reason', code: 'unavailable' }],
            },
          }),
    };
  };
  const follow = followUps(record);
  const upcoming = record.appointments.filter((a) => a.status === 'booked' && (a.start ?? '') >= now);
  const sections: CompositionSection[] = [
    section(
      '48765-2',
      'Dị ứng / Allergies and intolerances',
      record.allergies,
      (r) => textOf((r as AllergyIntolerance).code),
      'Không ghi nhận dị ứng / No known allergies',
    ),
    section(
      '10160-0',
      'Thuốc / Medication summary',
      record.prescriptions,
      (r) => {
        const m = r as MedicationRequest;
        return `${textOf(m.medicationCodeableConcept)}${dosageText(m) ? ` — ${dosageText(m)}` : ''}`;
      },
      'Không có đơn thuốc / No prescriptions',
    ),
    section(
      '11450-4',
      'Bệnh / Problem list',
      record.conditions,
      (r) => {
        const c = r as Condition;
        const code = c.code?.coding?.[0]?.code;
        return `${code ? `${code} ` : ''}${textOf(c.code)}`;
      },
      'Không ghi nhận bệnh / No problems recorded',
    ),
    section(
      '11369-6',
      'Tiêm chủng / Immunizations',
      record.immunizations,
      (r) => {
        const i = r as Immunization;
        return `${textOf(i.vaccineCode)}${i.occurrenceDateTime ? ` (${i.occurrenceDateTime.slice(0, 10)})` : ''}`;
      },
      'Không có dữ liệu tiêm chủng / No immunizations recorded',
    ),
    section(
      '30954-2',
      'Kết quả cận lâm sàng / Results',
      [...record.reports, ...results],
      (r) =>
        r.resourceType === 'DiagnosticReport'
          ? `${textOf((r as DiagnosticReport).code)}${(r as DiagnosticReport).conclusion ? `: ${(r as DiagnosticReport).conclusion}` : ''}`
          : `${textOf((r as Observation).code)}: ${observationValue(r as Observation)}`,
      'Chưa có kết quả / No results',
    ),
    section(
      '47519-4',
      'Thủ thuật / Procedures',
      record.procedures,
      (r) => textOf((r as Procedure).code),
      'Không có thủ thuật / No procedures',
    ),
    section(
      '8716-3',
      'Dấu hiệu sinh tồn / Vital signs',
      vitals,
      (r) => `${textOf((r as Observation).code)}: ${observationValue(r as Observation)}`,
      'Chưa có dấu hiệu sinh tồn / No vital signs',
    ),
    {
      ...section(
        '18776-5',
        'Kế hoạch theo dõi / Plan of care',
        upcoming,
        (r) => `Lịch hẹn / Appointment ${(r as Appointment).start ?? ''}`,
        'Không có lịch hẹn / No upcoming appointments',
      ),
      ...(follow.length
        ? {
            text: narrative(
              [
                ...follow.map((f) => `Ngày tái khám / Follow-up: ${f.date}`),
                ...upcoming.map((a) => `Lịch hẹn / Appointment ${a.start ?? ''}`),
              ],
              '',
            ),
          }
        : {}),
    },
  ];
  const composition: Resource = {
    resourceType: 'Composition',
    status: 'final',
    type: { coding: [{ system: LOINC, code: '60591-5', display: 'Patient summary Document' }] },
    subject: ref(record.patient),
    date: now,
    author: [author ? ref(author) : ref(record.patient)],
    title: 'Tóm tắt hồ sơ sức khỏe / International Patient Summary',
    confidentiality: 'N',
    ...(author ? { custodian: ref(author) } : {}),
    section: sections,
  };
  const compositionUuid = randomUUID();
  return {
    resourceType: 'Bundle',
    identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${randomUUID()}` },
    type: 'document',
    timestamp: now,
    entry: [
      { fullUrl: `urn:uuid:${compositionUuid}`, resource: composition },
      ...entries.map((r) => ({ fullUrl: `urn:uuid:${uuidOf.get(r) as string}`, resource: r })),
    ],
    meta: { profile: ['http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips'] },
  };
}

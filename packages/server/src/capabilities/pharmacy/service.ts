/**
 * What the pharmacy operations share: the caller, the prescription of a code, the warehouse, and searches run
 * server-side after the gate has been asked about what they return.
 */
import type { Coding, Location, MedicationRequest, Organization, Patient, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '@sen/db';
import { outcomes, referenceId } from '@sen/fhir';
import { searchResources } from '@sen/store';
import { vietnamDay } from '@sen/vn';
import type { OperationCall } from '../../fhir/operations.ts';
import type { FhirRouter } from '../../fhir/router.ts';
import { principalOf } from '../../platform/gate/context.ts';
import { FACILITY_TAG_SYSTEM, type Principal } from '../../platform/gate/gate.ts';
import { ERX_CODE_SYSTEM, REPLACED_BY_URL } from '../clinical/guard.ts';
import { dispensedSoFar } from './stock.ts';

export const SD = 'https://sen.health.vn/fhir/StructureDefinition';
/** Extension on MedicationDispense: the lot handed out (lotNumber, expirationDate, the stock lot id). */
export const DISPENSE_LOT_URL = `${SD}/dispense-lot`;

export type StaffPrincipal = Extract<Principal, { kind: 'staff' }>;

export function staffOf(call: OperationCall): StaffPrincipal | undefined {
  const p = principalOf(call.req.access);
  return p?.kind === 'staff' ? p : undefined;
}

/** `Practitioner/{id}` of the signed-in staff member, or the client id (for the movement log). */
export function actorOf(call: OperationCall): string | undefined {
  const p = principalOf(call.req.access);
  if (p?.kind === 'staff') {
    return p.practitionerId ? `Practitioner/${p.practitionerId}` : `account:${p.accountId}`;
  }
  return p?.kind === 'system' ? `client:${p.clientId}` : undefined;
}

export async function findAll<T extends Resource>(
  router: FhirRouter,
  type: string,
  query: [string, string][],
  q: Queryable,
): Promise<T[]> {
  return searchResources<T>(router.store, type, query, q);
}

export async function readResource<T extends Resource>(
  router: FhirRouter,
  type: string,
  id: string,
  q: Queryable,
): Promise<T | undefined> {
  try {
    return JSON.parse((await router.store.read(type, id, q)).content as string) as T;
  } catch (err) {
    if ((err as { status?: number }).status === 404 || (err as { status?: number }).status === 410) {
      return undefined;
    }
    throw err;
  }
}

export function facilityTags(r: Resource): Coding[] {
  return (r.meta?.tag ?? []).filter((t) => t.system === FACILITY_TAG_SYSTEM);
}

export function today(now: Date = new Date()): string {
  return vietnamDay(now);
}

export function erxCodeOf(m: MedicationRequest): string | undefined {
  return m.groupIdentifier?.system === ERX_CODE_SYSTEM ? m.groupIdentifier.value : undefined;
}

export interface Prescription {
  code: string;
  encounterId: string;
  patientId: string;
  lines: MedicationRequest[];
  patient?: Patient;
}

/** The MedicationRequests of a prescription code (the caller may read each), or undefined when there is none. */
export async function loadPrescription(
  router: FhirRouter,
  call: OperationCall,
  code: string,
  q: Queryable,
): Promise<Prescription | undefined> {
  // a typed code may differ in case (the printed code is facility code + lower-case serial + '-' + type letter)
  const { rows } = await q.query<{ code: string; encounter_id: string; patient_id: string }>(
    'SELECT code, encounter_id, patient_id FROM erx_code WHERE lower(code) = lower($1) LIMIT 1',
    [code.trim()],
  );
  const row = rows[0];
  if (!row) {
    return undefined;
  }
  code = row.code;
  const lines = (
    await findAll<MedicationRequest>(router, 'MedicationRequest', [['encounter', `Encounter/${row.encounter_id}`]], q)
  ).filter((m) => erxCodeOf(m) === code);
  if (lines.length === 0) {
    return undefined;
  }
  for (const m of lines) {
    call.req.access?.check('read', 'MedicationRequest', m, [referenceId(m.subject, 'Patient') ?? row.patient_id]);
  }
  lines.sort((a, b) => lineNo(a) - lineNo(b));
  const patient = await readResource<Patient>(router, 'Patient', row.patient_id, q);
  if (patient) {
    call.req.access?.check('read', 'Patient', patient, [row.patient_id]);
  }
  return { code, encounterId: row.encounter_id, patientId: row.patient_id, lines, patient };
}

/** The line number of a prescription item (identifier `{code}/{n}`). */
export function lineNo(m: MedicationRequest): number {
  const id = m.identifier?.find((i) => i.system === `${ERX_CODE_SYSTEM}/item`)?.value ?? '';
  return Number(id.split('/')[1] ?? 0);
}

export type PrescriptionState = 'ready' | 'partial' | 'complete' | 'replaced' | 'stopped' | 'expired';

export interface LineState {
  request: MedicationRequest;
  prescribed: string;
  dispensed: string;
  remaining: string;
  unit: string;
}

/** Exact decimal difference of two non-negative decimals with up to 3 places (as text). */
export function minus(a: string, b: string): string {
  const r = toMilli(a) - toMilli(b);
  return fromMilli(r);
}

export function toMilli(s: string): bigint {
  const [int, frac = ''] = s.split('.');
  return BigInt(int || '0') * 1000n + BigInt((frac + '000').slice(0, 3));
}

export function fromMilli(n: bigint): string {
  const neg = n < 0n;
  const v = neg ? -n : n;
  const int = v / 1000n;
  const frac = (v % 1000n).toString().padStart(3, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

export function prescribedOf(m: MedicationRequest): string {
  const v = m.dispenseRequest?.quantity?.value;
  return fromMilli(BigInt(Math.round((v ?? 0) * 1000)));
}

export async function lineStates(q: Queryable, p: Prescription): Promise<LineState[]> {
  const done = await dispensedSoFar(
    q,
    p.lines.map((m) => m.id as string),
  );
  return p.lines.map((m) => {
    const prescribed = prescribedOf(m);
    const dispensed = done.get(m.id as string) ?? '0';
    const remaining = minus(prescribed, dispensed);
    return {
      request: m,
      prescribed,
      dispensed,
      remaining: toMilli(remaining) < 0n ? '0' : remaining,
      unit: m.dispenseRequest?.quantity?.unit ?? '',
    };
  });
}

export function prescriptionState(
  p: Prescription,
  lines: readonly LineState[],
  now: Date = new Date(),
): {
  state: PrescriptionState;
  replacedBy?: string;
  validUntil?: string;
} {
  const validUntil = p.lines
    .map((m) => m.dispenseRequest?.validityPeriod?.end)
    .filter((x): x is string => !!x)
    .sort()[0];
  const stopped = p.lines.find((m) => m.status !== 'active');
  if (stopped) {
    const replacedBy = stopped.extension?.find((e) => e.url === REPLACED_BY_URL)?.valueString;
    return { state: replacedBy ? 'replaced' : 'stopped', replacedBy, validUntil };
  }
  const anyDispensed = lines.some((l) => toMilli(l.dispensed) > 0n);
  if (lines.every((l) => toMilli(l.remaining) === 0n)) {
    return { state: 'complete', validUntil };
  }
  if (validUntil && Date.parse(validUntil) < now.getTime()) {
    return { state: 'expired', validUntil };
  }
  return { state: anyDispensed ? 'partial' : 'ready', validUntil };
}

/** The warehouse Location and the facility whose stock it holds; the caller must work in its department. */
export async function loadWarehouse(
  router: FhirRouter,
  call: OperationCall,
  id: string,
  q: Queryable,
): Promise<{ location: Location; facilityId: string }> {
  const location = await readResource<Location>(router, 'Location', id, q);
  if (!location || location.status === 'inactive') {
    throw outcomes.unprocessable(`Không có kho ${id} / no warehouse Location/${id}`, ['warehouse']);
  }
  call.req.access?.check('read', 'Location', location);
  const deptId = referenceId(location.managingOrganization, 'Organization');
  const dept = deptId ? await readResource<Organization>(router, 'Organization', deptId, q) : undefined;
  const staff = staffOf(call);
  const tagFacility = facilityTags(location)[0]?.code;
  const facilityId = staff?.facilityId ?? tagFacility ?? referenceId(dept?.partOf, 'Organization') ?? deptId;
  if (!facilityId) {
    throw outcomes.unprocessable(
      `Kho ${location.name ?? id} chưa gắn với khoa nào / the warehouse has no managing department`,
      ['warehouse'],
    );
  }
  if (staff && staff.departmentIds.length > 0 && deptId && !staff.departmentIds.includes(deptId)) {
    throw outcomes.forbidden(
      `${location.name ?? id} không phải kho của khoa mình / ${location.name ?? id} is not a warehouse of your department`,
    );
  }
  return { location, facilityId };
}

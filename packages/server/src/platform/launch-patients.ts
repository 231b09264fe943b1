/**
 * The patient picker's data side (oauth/patient-picker.ts draws the page): a clinician's search for the patient of a
 * standalone SMART launch, run as that clinician through the FHIR router, so the access gate decides (role, facility,
 * sensitivity) and an audit record is written for every search and every check, like any API call.
 */
import type { Bundle, Patient } from '@medplum/fhirtypes';
import type { AuditLog } from '@sen/store';
import type { FhirRouter } from '../fhir/router.ts';
import type { FhirRequest } from '../fhir/types.ts';
import type { StaffAccounts } from './auth/index.ts';
import { createAccessContext } from './gate/context.ts';
import type { Principal } from './gate/gate.ts';
import { parseScopes } from './gate/scopes.ts';
import type { PatientChoice, PatientPicker } from './oauth/patient-picker.ts';

export interface PatientPickerDeps {
  router: FhirRouter;
  accounts: StaffAccounts;
  audit: AuditLog;
  /** The patients a practitioner treats (security.ts keeps a short cache). */
  treatedBy(practitionerId: string): Promise<Set<string>>;
}

const PAGE = 10;

function choice(p: Patient): PatientChoice {
  const name = p.name?.[0];
  const text = name?.text ?? [name?.family, ...(name?.given ?? [])].filter(Boolean).join(' ');
  return { id: String(p.id), name: text || String(p.id), birthDate: p.birthDate, gender: p.gender };
}

/** A router answer as plain JSON (bodies may be JSON text, and bundle entries raw-JSON wrappers). */
function parseBody<T>(body: unknown): T | undefined {
  if (body === undefined) {
    return undefined;
  }
  return JSON.parse(typeof body === 'string' ? body : JSON.stringify(body)) as T;
}

export function createPatientPicker(deps: PatientPickerDeps): PatientPicker {
  const principalOf = async (accountId: string): Promise<Extract<Principal, { kind: 'staff' }> | undefined> => {
    const a = await deps.accounts.findAccount(accountId);
    if (!a || a.disabled) {
      return undefined;
    }
    return {
      kind: 'staff',
      accountId: a.id,
      practitionerId: a.practitionerId,
      roles: a.roles,
      facilityId: a.facilityId,
      departmentIds: a.departmentIds,
      // the picker acts with the user's own permission to look patients up, nothing more
      scopes: parseScopes('user/Patient.rs'),
      careTeamPatientIds: await deps.treatedBy(a.practitionerId),
    };
  };

  /** One FHIR request as the clinician, with its audit record (written before the answer is used). */
  const run = async (
    principal: Extract<Principal, { kind: 'staff' }>,
    fr: Omit<FhirRequest, 'access'>,
    ip: string,
  ): Promise<{ status: number; body?: unknown }> => {
    const access = createAccessContext(principal);
    let status = 500;
    let body: unknown;
    try {
      const res = await deps.router.handle({ ...fr, access });
      status = res.status;
      body = res.body;
    } catch (err) {
      status = (err as { status?: number }).status ?? 500;
    }
    const segs = fr.path.split('/');
    const patients = access.notes.patientIds;
    await deps.audit.record({
      action: segs.length === 2 ? 'read' : 'search',
      outcome: status < 400 ? 'success' : status === 403 || status === 404 ? 'denied' : 'failure',
      who: `Practitioner/${principal.practitionerId}`,
      role: principal.roles.join(' '),
      sourceIp: ip,
      patient: patients.length === 1 ? patients[0] : undefined,
      resourceType: 'Patient',
      resourceId: segs[1],
      query: fr.query.length > 0 ? new URLSearchParams(fr.query).toString() : undefined,
      purpose: access.notes.purposeOfUse ?? 'TREAT',
      detail: { status, via: 'smart-launch-patient-picker' },
    });
    return { status, body };
  };

  const search = async (
    principal: Extract<Principal, { kind: 'staff' }>,
    param: string,
    value: string,
    ip: string,
  ): Promise<PatientChoice[]> => {
    const res = await run(
      principal,
      {
        method: 'GET',
        path: 'Patient',
        query: [
          [param, value],
          ['_count', String(PAGE)],
        ],
      },
      ip,
    );
    if (res.status !== 200) {
      return [];
    }
    const bundle = parseBody<Bundle<Patient>>(res.body);
    return (bundle?.entry ?? [])
      .map((e) => e.resource)
      .filter((p): p is Patient => !!p)
      .map(choice);
  };

  return {
    async applies(accountId) {
      return (await deps.accounts.findAccount(accountId)) !== undefined;
    },
    async search(accountId, query, ctx) {
      const principal = await principalOf(accountId);
      const q = query.trim();
      if (!principal || q.length < 2) {
        return [];
      }
      // digits: an identifier (CCCD, BHYT, MRN); otherwise a name (diacritics optional); then the resource id
      const found = await search(principal, /^\d+$/.test(q) ? 'identifier' : 'name', q, ctx.ip);
      if (found.length > 0 || /\s/.test(q) || !/^[A-Za-z0-9.-]{1,64}$/.test(q)) {
        return found;
      }
      return search(principal, '_id', q, ctx.ip);
    },
    async check(accountId, patientId, ctx) {
      const principal = await principalOf(accountId);
      if (!principal || !/^[A-Za-z0-9.-]{1,64}$/.test(patientId)) {
        return undefined;
      }
      const res = await run(principal, { method: 'GET', path: `Patient/${patientId}`, query: [] }, ctx.ip);
      const patient = res.status === 200 ? parseBody<Patient>(res.body) : undefined;
      return patient?.resourceType === 'Patient' ? choice(patient) : undefined;
    },
  };
}

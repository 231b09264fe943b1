import type { Resource } from '@medplum/fhirtypes';
import { type Interaction, roleAllows } from './matrix.ts';
import type { StaffRole } from './roles.ts';
import type { ConsentPurpose } from './consent.ts';
import { type ResourceScope, scopesAllow } from './scopes.ts';

/** Who is asking: a staff member, a patient (or guardian), or another system. */
export type Principal =
  | {
      kind: 'staff';
      accountId: string;
      practitionerId?: string;
      roles: readonly StaffRole[];
      facilityId: string;
      departmentIds: readonly string[];
      scopes: readonly ResourceScope[];
      /** Patients this clinician is treating (care team, current encounters of their department). */
      careTeamPatientIds: ReadonlySet<string>;
      /** Emergency access grants given by break-the-glass. */
      breakGlass?: readonly BreakGlassGrant[];
      /**
       * The patient in context of a SMART launch (`launch/patient`): the app's `patient/` scopes reach this
       * patient's compartment only (the user's `user/` scopes are not narrowed).
       */
      launchPatientId?: string;
    }
  | {
      kind: 'patient';
      accountId: string;
      patientId: string;
      /** Children and others this person is guardian of, or has been granted access to. */
      guardianOf: readonly string[];
      scopes: readonly ResourceScope[];
    }
  | {
      kind: 'system';
      clientId: string;
      /** The facility the client belongs to (an own-facility client sees only that facility's resources). */
      facilityId?: string;
      scopes: readonly ResourceScope[];
      /**
       * Set for a client of another facility ('treatment-sharing') or a research client ('research'): it sees a
       * patient's data only with that patient's active consent for this purpose.
       */
      consentPurpose?: ConsentPurpose;
      /** The patients who consent to `consentPurpose` now (loaded per request from the Consent resources). */
      consentedPatientIds?: ReadonlySet<string>;
    };

export interface BreakGlassGrant {
  patientId: string;
  reason: string;
  grantedAt: Date;
  expiresAt: Date;
}

export type Action =
  'create' | 'read' | 'vread' | 'history' | 'update' | 'patch' | 'delete' | 'search' | 'export' | 'print';

export interface AccessRequest {
  action: Action;
  resourceType: string;
  /** The resource read or written, when there is one (for labels and facility). */
  resource?: Resource;
  /** The patients whose compartment the resource is in (from the store's compartment index). */
  patientIds?: readonly string[];
  /** Time of the request (tests pass a fixed clock). */
  now?: Date;
}

/** How a search must be narrowed in the database query so counts, paging and includes cannot leak. */
export interface SearchFilter {
  /** Only resources in the compartment of one of these patients (undefined: no compartment limit). */
  patientIds?: readonly string[];
  /** Leave out resources with a sensitivity label unless in one of these patients' compartments. */
  sensitiveOnlyFor?: readonly string[];
}

export type Decision =
  | {
      allow: true;
      filter?: SearchFilter;
      breakGlass?: boolean;
      purposeOfUse: 'TREAT' | 'ETREAT' | 'PATRQT' | 'SYSADMIN' | 'HOPERAT' | 'HRESCH';
    }
  | { allow: false; status: 403 | 404; reason: string };

/** Security labels (meta.security, v3 ActCode / Confidentiality) that restrict a resource to the treating team. */
export const SENSITIVE_LABELS: ReadonlySet<string> = new Set([
  'HIV',
  'PSY',
  'SDV',
  'ETH',
  'STD',
  'SUD',
  'SICKLE',
  'TBOO',
  'R',
  'V',
]);

/** Facility tag system: resources of a multi-facility node carry their facility here. */
export const FACILITY_TAG_SYSTEM = 'https://sen.health.vn/fhir/CodeSystem/facility';

const INTERACTION: Record<Action, Interaction> = {
  create: 'c',
  read: 'r',
  vread: 'r',
  history: 'r',
  export: 'r',
  print: 'r',
  update: 'u',
  patch: 'u',
  delete: 'd',
  search: 's',
};

/** What a patient (or guardian) may write in their own record through the portal. */
const PATIENT_WRITABLE: Record<string, string> = {
  Appointment: 'cu',
  Consent: 'cu',
  QuestionnaireResponse: 'c',
  Communication: 'c',
};

/** Types a patient may read outside their compartment: the facility's directory and catalogs. */
const PUBLIC_TYPES = new Set([
  'Organization',
  'Location',
  'Practitioner',
  'PractitionerRole',
  'HealthcareService',
  'Schedule',
  'Slot',
  'CodeSystem',
  'ValueSet',
  'Medication',
]);

export function isSensitive(resource: Resource | undefined): boolean {
  return !!resource?.meta?.security?.some((c) => c.code !== undefined && SENSITIVE_LABELS.has(c.code));
}

function deny(status: 403 | 404, reason: string): Decision {
  return { allow: false, status, reason };
}

function activeGrant(p: Extract<Principal, { kind: 'staff' }>, patientIds: readonly string[], now: Date): boolean {
  return (p.breakGlass ?? []).some((g) => patientIds.includes(g.patientId) && g.grantedAt <= now && now < g.expiresAt);
}

/**
 * The one access gate: may this principal do this action on this resource type (and this resource)?
 * Every FHIR interaction and workflow operation asks it; searches get a filter to apply in SQL.
 */
export function decide(principal: Principal, req: AccessRequest): Decision {
  const interaction = INTERACTION[req.action];
  const now = req.now ?? new Date();
  const patientIds = req.patientIds ?? [];
  if (req.resourceType === 'AuditEvent' && interaction !== 'r' && interaction !== 's') {
    return deny(403, 'The audit trail is written only by the server');
  }
  switch (principal.kind) {
    case 'system': {
      if (!scopesAllow(principal.scopes, 'system', req.resourceType, interaction)) {
        return deny(403, `The client's scopes do not allow ${req.action} on ${req.resourceType}`);
      }
      if (principal.consentPurpose) {
        return consentBound(principal, req, patientIds);
      }
      if (principal.facilityId && !sameFacility(req.resource, principal.facilityId)) {
        return deny(404, 'Not found');
      }
      return { allow: true, purposeOfUse: 'HOPERAT' };
    }
    case 'patient': {
      const own = [principal.patientId, ...principal.guardianOf];
      if (!scopesAllow(principal.scopes, 'patient', req.resourceType, interaction)) {
        return deny(403, `The app's scopes do not allow ${req.action} on ${req.resourceType}`);
      }
      const isWrite = interaction === 'c' || interaction === 'u' || interaction === 'd';
      if (isWrite && !(PATIENT_WRITABLE[req.resourceType] ?? '').includes(interaction)) {
        return deny(403, `Patients cannot ${req.action} ${req.resourceType}`);
      }
      if (PUBLIC_TYPES.has(req.resourceType) && !isWrite) {
        return { allow: true, purposeOfUse: 'PATRQT' };
      }
      if (interaction === 's') {
        return { allow: true, filter: { patientIds: own, sensitiveOnlyFor: own }, purposeOfUse: 'PATRQT' };
      }
      // a single resource: it must be in the compartment of the patient or someone they are guardian of;
      // otherwise its very existence must not leak
      if (req.resourceType === 'Patient' && req.resource?.id && own.includes(req.resource.id)) {
        return { allow: true, purposeOfUse: 'PATRQT' };
      }
      if (!patientIds.some((id) => own.includes(id))) {
        return deny(404, 'Not found');
      }
      return { allow: true, purposeOfUse: 'PATRQT' };
    }
    case 'staff': {
      if (!principal.roles.some((r) => roleAllows(r, req.resourceType, interaction))) {
        return deny(403, `No role of this account may ${req.action} ${req.resourceType}`);
      }
      const byUserScope = scopesAllow(principal.scopes, 'user', req.resourceType, interaction);
      const launchPatient = principal.launchPatientId;
      if (!byUserScope && !(launchPatient && scopesAllow(principal.scopes, 'patient', req.resourceType, interaction))) {
        return deny(403, `The app's scopes do not allow ${req.action} on ${req.resourceType}`);
      }
      if (!sameFacility(req.resource, principal.facilityId)) {
        return deny(404, 'Not found');
      }
      if (!byUserScope && launchPatient) {
        // SMART patient/ scopes of a clinician: the launch patient's compartment only
        const inContext =
          interaction === 's' ||
          (req.resourceType === 'Patient' && req.resource?.id === launchPatient) ||
          patientIds.includes(launchPatient);
        if (!inContext) {
          return deny(404, 'Not found');
        }
        if (interaction === 's') {
          const opened = (principal.breakGlass ?? []).some(
            (g) => g.patientId === launchPatient && g.grantedAt <= now && now < g.expiresAt,
          );
          const treating = principal.careTeamPatientIds.has(launchPatient) || opened;
          return {
            allow: true,
            filter: { patientIds: [launchPatient], sensitiveOnlyFor: treating ? [launchPatient] : [] },
            purposeOfUse: 'TREAT',
          };
        }
      }
      if (interaction === 's') {
        // sensitive resources only of the patients this clinician treats (or opened by break-the-glass)
        const opened = (principal.breakGlass ?? [])
          .filter((g) => g.grantedAt <= now && now < g.expiresAt)
          .map((g) => g.patientId);
        return {
          allow: true,
          filter: { sensitiveOnlyFor: [...principal.careTeamPatientIds, ...opened] },
          purposeOfUse: 'TREAT',
        };
      }
      if (isSensitive(req.resource)) {
        const treating = patientIds.some((id) => principal.careTeamPatientIds.has(id));
        if (!treating) {
          if (activeGrant(principal, patientIds, now)) {
            return { allow: true, breakGlass: true, purposeOfUse: 'ETREAT' };
          }
          return deny(
            403,
            'This record is restricted to the treating team; use emergency access (break-the-glass) with a reason',
          );
        }
      }
      return { allow: true, purposeOfUse: 'TREAT' };
    }
    default:
      return deny(403, 'Unknown principal');
  }
}

/**
 * A client of another facility, or a research client: the directory is open (as to patients), everything else only
 * for patients who consent to the client's purpose, never sensitive records, and searches filtered to those patients.
 */
function consentBound(
  principal: Extract<Principal, { kind: 'system' }>,
  req: AccessRequest,
  patientIds: readonly string[],
): Decision {
  const purposeOfUse = principal.consentPurpose === 'research' ? 'HRESCH' : 'TREAT';
  const consented = principal.consentedPatientIds ?? new Set<string>();
  const interaction = INTERACTION[req.action];
  const isWrite = interaction === 'c' || interaction === 'u' || interaction === 'd';
  if (PUBLIC_TYPES.has(req.resourceType) && !isWrite) {
    return { allow: true, purposeOfUse };
  }
  if (isWrite && req.resourceType === 'Consent') {
    return deny(403, 'Consents are recorded by the facility that holds the record, not by the client they open it to');
  }
  if (interaction === 's') {
    const ids = [...consented];
    return { allow: true, filter: { patientIds: ids, sensitiveOnlyFor: [] }, purposeOfUse };
  }
  const own = req.resourceType === 'Patient' && req.resource?.id !== undefined ? [req.resource.id] : [];
  const about = [...own, ...patientIds];
  if (about.length === 0 || !about.every((id) => consented.has(id))) {
    const what = principal.consentPurpose === 'research' ? 'research' : 'treatment-sharing';
    return deny(
      403,
      `Người bệnh chưa đồng ý (${what}). / The patient has not given an active ${what} consent for this client`,
    );
  }
  if (isSensitive(req.resource)) {
    return deny(403, 'This record is restricted to the treating team');
  }
  return { allow: true, purposeOfUse };
}

function sameFacility(resource: Resource | undefined, facilityId: string): boolean {
  const tag = resource?.meta?.tag?.find((t) => t.system === FACILITY_TAG_SYSTEM);
  return !tag?.code || tag.code === facilityId;
}

/** Break-the-glass: time-limited emergency access to one patient, with a reason that is audited and reviewed. */
export function breakGlass(patientId: string, reason: string, now: Date, minutes = 240): BreakGlassGrant {
  const trimmed = reason.trim();
  if (trimmed.length < 10) {
    throw new Error(
      'Hãy nêu lý do truy cập khẩn cấp (ít nhất 10 ký tự) / Give a reason for emergency access (10+ characters)',
    );
  }
  return { patientId, reason: trimmed, grantedAt: now, expiresAt: new Date(now.getTime() + minutes * 60_000) };
}

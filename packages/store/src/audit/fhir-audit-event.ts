import type { AuditEvent, AuditEventAgent, AuditEventEntity, Coding } from '@medplum/fhirtypes';
import type { AuditAction, AuditOutcome, AuditRow } from './types.ts';

export const AUDIT_EVENT_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
export const RESTFUL_INTERACTION_SYSTEM = 'http://hl7.org/fhir/restful-interaction';
export const DICOM_SYSTEM = 'http://dicom.nema.org/resources/ontology/DCM';
/** Sen's own action codes (the AuditAction values), added to every event's subtype for exact searching. */
export const SEN_AUDIT_ACTION_SYSTEM = 'https://sen.health.vn/fhir/CodeSystem/audit-action';
export const SEN_STAFF_ROLE_SYSTEM = 'https://sen.health.vn/fhir/CodeSystem/staff-role';
const PURPOSE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const ENTITY_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/object-role';

export interface FhirAuditEventOptions {
  /** AuditEvent.source.observer (default: display "Sen"). */
  observer?: AuditEvent['source']['observer'];
  /** AuditEvent.source.site, e.g. the facility code. */
  site?: string;
  /** The CodeSystem of agent roles (default Sen's staff roles). */
  roleSystem?: string;
}

type Verb = NonNullable<AuditEvent['action']>;

const REST = { system: AUDIT_EVENT_TYPE_SYSTEM, code: 'rest', display: 'RESTful Operation' };
const dcm = (code: string, display: string): Coding => ({ system: DICOM_SYSTEM, code, display });

/** type, subtype (without Sen's code) and action (C R U D E) of each audited action. */
function classify(row: AuditRow): { type: Coding; subtype?: Coding; verb: Verb } {
  const rest = (code: string, verb: Verb) => ({
    type: REST,
    subtype: { system: RESTFUL_INTERACTION_SYSTEM, code, display: code },
    verb,
  });
  const scope = row.resourceId ? 'instance' : row.resourceType ? 'type' : 'system';
  switch (row.action as AuditAction) {
    case 'read':
    case 'vread':
    case 'create':
    case 'patch':
    case 'update':
    case 'delete': {
      const verbs: Record<string, Verb> = { read: 'R', vread: 'R', create: 'C', patch: 'U', update: 'U', delete: 'D' };
      return rest(row.action, verbs[row.action]);
    }
    case 'history':
      return rest(`history-${scope}`, 'R');
    case 'search':
      return rest(row.resourceType ? 'search-type' : 'search-system', 'E');
    case 'operation':
    case 'transaction':
    case 'batch':
      return rest(row.action, 'E');
    case 'export':
      return { type: dcm('110106', 'Export'), verb: 'R' };
    case 'print':
      return { type: dcm('110106', 'Export'), verb: 'R' };
    case 'login':
    case 'login-failed':
      return { type: dcm('110114', 'User Authentication'), subtype: dcm('110122', 'Login'), verb: 'E' };
    case 'logout':
      return { type: dcm('110114', 'User Authentication'), subtype: dcm('110123', 'Logout'), verb: 'E' };
    case 'break-glass':
    case 'break-glass-review':
      return { type: dcm('110113', 'Security Alert'), verb: 'E' };
    default:
      return { type: REST, verb: 'E' };
  }
}

const OUTCOME: Record<AuditOutcome, NonNullable<AuditEvent['outcome']>> = { success: '0', denied: '4', failure: '8' };

/** A FHIR reference when `who` is one (`Practitioner/123`), else an identifier (an account or client id). */
function whoOf(who: string): NonNullable<AuditEventAgent['who']> {
  return /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(who) ? { reference: who } : { identifier: { value: who } };
}

/** A v3 PurposeOfUse code as a coding, anything else as text. */
function purposeOf(code: string | undefined, text: string | undefined) {
  if (!code && !text) {
    return undefined;
  }
  return [
    {
      ...(code && /^[A-Z][A-Z0-9]*$/.test(code) ? { coding: [{ system: PURPOSE_SYSTEM, code }] } : {}),
      ...(text || (code && !/^[A-Z][A-Z0-9]*$/.test(code)) ? { text: text ?? code } : {}),
    },
  ];
}

function detailItems(detail: Record<string, unknown> | undefined): AuditEventEntity['detail'] {
  if (!detail) {
    return undefined;
  }
  const items = Object.entries(detail)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => ({ type: k, valueString: typeof v === 'string' ? v : JSON.stringify(v) }));
  return items.length > 0 ? items : undefined;
}

/**
 * Maps an audit row to an R4 AuditEvent: RESTful interactions as type `rest` with a restful-interaction subtype,
 * sign-in, export, print and break-the-glass with the DICOM codes of the AuditEvent type value set, Sen's own action
 * code as an extra subtype; the user (and the client application) as agents; the patient, the resource and the
 * search query as entities; outcome 0 (success), 4 (denied) or 8 (failure).
 */
export function toFhirAuditEvent(row: AuditRow, options: FhirAuditEventOptions = {}): AuditEvent {
  const { type, subtype, verb } = classify(row);
  const breakGlass = row.action === 'break-glass';
  const purpose = purposeOf(row.purpose ?? (breakGlass ? 'ETREAT' : undefined), row.breakGlassReason);

  const user: AuditEventAgent = {
    ...(row.role
      ? { role: [{ coding: [{ system: options.roleSystem ?? SEN_STAFF_ROLE_SYSTEM, code: row.role }] }] }
      : {}),
    ...(row.who ? { who: whoOf(row.who) } : {}),
    requestor: true,
    ...(row.sourceIp ? { network: { address: row.sourceIp, type: '2' as const } } : {}),
    ...(purpose ? { purposeOfUse: purpose } : {}),
  };
  const agents: AuditEventAgent[] = [user];
  if (row.client) {
    agents.push({
      type: { coding: [dcm('110150', 'Application')] },
      who: { identifier: { value: row.client } },
      requestor: false,
    });
  }

  const entities: AuditEventEntity[] = [];
  const versioned = (t: string, id: string) =>
    row.resourceVersion && row.resourceType === t && row.resourceId === id
      ? `${t}/${id}/_history/${row.resourceVersion}`
      : `${t}/${id}`;
  if (row.patient) {
    entities.push({
      what: { reference: versioned('Patient', row.patient) },
      type: { system: ENTITY_TYPE_SYSTEM, code: '1', display: 'Person' },
      role: { system: OBJECT_ROLE_SYSTEM, code: '1', display: 'Patient' },
    });
  }
  if (row.resourceType && row.resourceId && !(row.resourceType === 'Patient' && row.resourceId === row.patient)) {
    entities.push({
      what: { reference: versioned(row.resourceType, row.resourceId) },
      type: { system: ENTITY_TYPE_SYSTEM, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE_SYSTEM, code: '4', display: 'Domain Resource' },
    });
  }
  if (row.query) {
    entities.push({
      type: { system: ENTITY_TYPE_SYSTEM, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE_SYSTEM, code: '24', display: 'Query' },
      ...(row.resourceType && !row.resourceId ? { description: row.resourceType } : {}),
      query: Buffer.from(row.query, 'utf8').toString('base64'),
    });
  }
  const details = detailItems(row.detail);
  if (details) {
    const main = entities.at(-1);
    if (main) {
      main.detail = details;
    } else {
      entities.push({ detail: details });
    }
  }

  const senAction: Coding = { system: SEN_AUDIT_ACTION_SYSTEM, code: row.action };
  const event: AuditEvent = {
    resourceType: 'AuditEvent',
    id: row.seq,
    type,
    subtype: subtype ? [subtype, senAction] : [senAction],
    action: verb,
    recorded: row.recordedAt,
    outcome: OUTCOME[row.outcome] ?? '8',
    ...(purpose ? { purposeOfEvent: purpose } : {}),
    agent: agents,
    source: {
      ...(options.site ? { site: options.site } : {}),
      observer: options.observer ?? { display: 'Sen' },
      type: [
        {
          system: 'http://terminology.hl7.org/CodeSystem/security-source-type',
          code: '4',
          display: 'Application Server',
        },
      ],
    },
    ...(entities.length > 0 ? { entity: entities } : {}),
  };
  return event;
}

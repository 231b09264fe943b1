/**
 * The Encounter of a queued visit: built at registration, and its status, queue-status extension and participants
 * moved in step with the queue row on every call, skip and recall.
 */
import type { Encounter, EncounterParticipant, Extension } from '@medplum/fhirtypes';
import { FACILITY_TAG_SYSTEM } from '../../platform/gate/gate.ts';
import type { Room } from './room.ts';

export const QUEUE_NUMBER_SID = 'https://sen.health.vn/fhir/sid/queue-number';
export const QUEUE_NUMBER_EXT = 'https://sen.health.vn/fhir/StructureDefinition/queue-number';
export const QUEUE_STATUS_EXT = 'https://sen.health.vn/fhir/StructureDefinition/queue-status';
export const VISIT_COVERAGE_EXT = 'https://sen.health.vn/fhir/StructureDefinition/visit-coverage';
export const VISIT_TYPE_SYSTEM = 'https://sen.health.vn/fhir/CodeSystem/visit-type';
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const ACT_PRIORITY = 'http://terminology.hl7.org/CodeSystem/v3-ActPriority';
const PARTICIPATION_TYPE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';

export const QUEUE_STATUSES = ['waiting', 'called', 'in-progress', 'skipped', 'done'] as const;
export type QueueStatus = (typeof QUEUE_STATUSES)[number];

export const VISIT_TYPES = {
  bhyt: { vi: 'Khám bảo hiểm y tế', en: 'Health-insurance visit' },
  fee: { vi: 'Khám dịch vụ', en: 'Fee-paying visit' },
  emergency: { vi: 'Cấp cứu', en: 'Emergency' },
} as const;
export type VisitType = keyof typeof VISIT_TYPES;

/** Encounter states that end the visit: its queue row is done whatever it said. */
export const CLOSED_ENCOUNTER: ReadonlySet<string> = new Set(['finished', 'cancelled', 'entered-in-error']);

/** The Encounter status that goes with each queue status. */
export const ENCOUNTER_STATUS: Record<QueueStatus, Encounter['status']> = {
  waiting: 'arrived',
  skipped: 'arrived',
  called: 'in-progress',
  'in-progress': 'in-progress',
  done: 'in-progress',
};

/** `<room-code>-<yyyymmdd>-<n>`, the queue number's identifier value. */
export function queueIdentifier(roomCode: string, day: string, n: number): string {
  return `${roomCode}-${day.replaceAll('-', '')}-${n}`;
}

export function buildEncounter(v: {
  patientId: string;
  visitType: VisitType;
  reason?: string;
  room: Room;
  day: string;
  number: number;
  coverageId?: string;
  start: string;
}): Encounter {
  const emergency = v.visitType === 'emergency';
  const extension: Extension[] = [
    { url: QUEUE_NUMBER_EXT, valueInteger: v.number },
    { url: QUEUE_STATUS_EXT, valueCode: 'waiting' },
  ];
  if (v.coverageId) {
    extension.push({ url: VISIT_COVERAGE_EXT, valueReference: { reference: `Coverage/${v.coverageId}` } });
  }
  return {
    resourceType: 'Encounter',
    meta: { tag: [{ system: FACILITY_TAG_SYSTEM, code: v.room.facility }] },
    extension,
    identifier: [{ system: QUEUE_NUMBER_SID, value: queueIdentifier(v.room.code, v.day, v.number) }],
    status: 'arrived',
    class: emergency
      ? { system: ACT_CODE, code: 'EMER', display: 'emergency' }
      : { system: ACT_CODE, code: 'AMB', display: 'ambulatory' },
    type: [
      {
        coding: [{ system: VISIT_TYPE_SYSTEM, code: v.visitType, display: VISIT_TYPES[v.visitType].vi }],
        text: VISIT_TYPES[v.visitType].vi,
      },
    ],
    ...(emergency ? { priority: { coding: [{ system: ACT_PRIORITY, code: 'EM', display: 'emergency' }] } } : {}),
    subject: { reference: `Patient/${v.patientId}` },
    period: { start: v.start },
    ...(v.reason ? { reasonCode: [{ text: v.reason }] } : {}),
    location: [{ location: { reference: `Location/${v.room.id}`, display: v.room.name }, status: 'active' }],
    ...(v.room.departmentId
      ? {
          serviceProvider: {
            reference: `Organization/${v.room.departmentId}`,
            ...(v.room.departmentName ? { display: v.room.departmentName } : {}),
          },
        }
      : {}),
  };
}

/** Sets the queue status (extension and Encounter.status); a closed Encounter keeps its own status. */
export function setQueueStatus(e: Encounter, status: QueueStatus): void {
  const others = (e.extension ?? []).filter((x) => x.url !== QUEUE_STATUS_EXT);
  e.extension = [...others, { url: QUEUE_STATUS_EXT, valueCode: status }];
  if (!CLOSED_ENCOUNTER.has(e.status) && status !== 'done') {
    e.status = ENCOUNTER_STATUS[status];
  }
}

/** Names the practitioner who called the patient as attender (once). */
export function addAttender(e: Encounter, practitionerId: string | undefined): void {
  if (!practitionerId) {
    return;
  }
  const reference = `Practitioner/${practitionerId}`;
  if ((e.participant ?? []).some((p) => p.individual?.reference === reference)) {
    return;
  }
  const attender: EncounterParticipant = {
    type: [{ coding: [{ system: PARTICIPATION_TYPE, code: 'ATND', display: 'attender' }] }],
    individual: { reference },
  };
  e.participant = [...(e.participant ?? []), attender];
}

export function queueStatusOf(e: Encounter): QueueStatus | undefined {
  const v = e.extension?.find((x) => x.url === QUEUE_STATUS_EXT)?.valueCode;
  return (QUEUE_STATUSES as readonly string[]).includes(v ?? '') ? (v as QueueStatus) : undefined;
}

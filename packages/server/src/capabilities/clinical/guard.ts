/**
 * What may no longer change (VIETNAM.md R4, R22): a sent e-prescription (MedicationRequest carrying the national
 * prescription code as groupIdentifier) and a finished, signed encounter. The store asks this guard before every
 * update and deletion of those types, whatever path writes them (PUT, PATCH, DELETE, conditional writes, bundle
 * entries, other operations), so one rule holds everywhere. The only changes allowed are the clinical module's own,
 * made inside `amending(...)`: a replaced prescription's status (stopped / entered-in-error / completed) and the
 * amendment of a finished encounter as a new version linked by a new signature.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Encounter, MedicationRequest, Resource } from '@medplum/fhirtypes';
import { outcomes } from '@sen/fhir';
import type { WriteGuard } from '@sen/store';
import { isMergeRepoint } from '../../platform/merge-scope.ts';

/** Identifier system of the national e-prescription code (mã đơn thuốc, TT 26/2025). */
export const ERX_CODE_SYSTEM = 'https://sen.health.vn/sid/e-prescription';
export const REPLACED_BY_URL = 'https://sen.health.vn/fhir/StructureDefinition/replaced-by-prescription';

type Amendment = 'prescription-status' | 'encounter-amend';

const scope = new AsyncLocalStorage<Amendment>();

/** Runs fn as an amendment of the clinical module (the guard lets that kind of change through). */
export function amending<T>(kind: Amendment, fn: () => Promise<T>): Promise<T> {
  return scope.run(kind, fn);
}

export function erxCodeOf(r: Resource | undefined): string | undefined {
  if (r?.resourceType !== 'MedicationRequest') {
    return undefined;
  }
  const g = (r as MedicationRequest).groupIdentifier;
  return g?.system === ERX_CODE_SYSTEM ? g.value : undefined;
}

const FINAL_STATUSES = new Set(['stopped', 'entered-in-error', 'completed', 'cancelled']);

function withoutStatus(r: Resource): string {
  const { meta: _m, status: _s, statusReason: _r, extension, ...rest } = r as MedicationRequest;
  const kept = (extension ?? []).filter((e) => e.url !== REPLACED_BY_URL);
  return JSON.stringify({ ...rest, extension: kept });
}

function checkPrescription(current: MedicationRequest, next: Resource | undefined): void {
  const code = erxCodeOf(current);
  if (!code) {
    return;
  }
  const allowed =
    scope.getStore() === 'prescription-status' &&
    next !== undefined &&
    current.status === 'active' &&
    FINAL_STATUSES.has((next as MedicationRequest).status) &&
    withoutStatus(current) === withoutStatus(next);
  if (!allowed) {
    throw outcomes.conflict(
      `Đơn thuốc ${code} đã gửi, không được sửa hoặc xoá: hãy kê đơn thay thế (MedicationRequest/$replace-prescription) / ` +
        `prescription ${code} has been sent and cannot be changed or deleted: replace it instead`,
    );
  }
}

function checkEncounter(current: Encounter, next: Resource | undefined): void {
  if (current.status !== 'finished') {
    return;
  }
  const allowed =
    scope.getStore() === 'encounter-amend' && next !== undefined && (next as Encounter).status === 'finished';
  if (!allowed) {
    throw outcomes.conflict(
      'Lượt khám đã kết thúc và đã ký, không được sửa hoặc xoá: điều chỉnh bằng phiên bản mới (Encounter/$conclude với amendReason) / ' +
        'the encounter is finished and signed and cannot be changed or deleted: amend it with a new signed version',
    );
  }
}

export const clinicalWriteGuard: WriteGuard = {
  types: ['MedicationRequest', 'Encounter'],
  check(current, next) {
    if (isMergeRepoint(current, next)) {
      return; // a patient merge re-points the record's references, nothing else
    }
    if (current.resourceType === 'MedicationRequest') {
      checkPrescription(current as MedicationRequest, next);
    } else if (current.resourceType === 'Encounter') {
      checkEncounter(current as Encounter, next);
    }
  },
};

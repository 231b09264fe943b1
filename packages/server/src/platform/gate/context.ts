import type { Resource } from '@medplum/fhirtypes';
import { OutcomeError, outcome } from '@sen/fhir';
import type { AccessFilter } from '@sen/store';
import type { AccessAction, AccessContext } from '../../fhir/types.ts';
import { decide, type Principal, SENSITIVE_LABELS } from './gate.ts';

/** What the gate noticed while serving one request, for its audit record. */
export interface AccessNotes {
  breakGlass: boolean;
  purposeOfUse?: string;
  /** The patients whose records this request touched (from the single-resource checks). */
  patientIds: string[];
}

/** The gate bound to one caller: what the FHIR layer sees, plus the caller (for operations that act as them). */
export type BoundAccess = AccessContext & { notes: AccessNotes; readonly principal: Principal };

/** The caller of a request whose access was bound here (undefined for the server's own work). */
export function principalOf(access: AccessContext | undefined): Principal | undefined {
  return (access as Partial<BoundAccess> | undefined)?.principal;
}

/**
 * Binds the gate to one caller for one request: the FHIR layer calls `check` for every interaction and
 * applies `policy` inside its SQL. Refusals become OperationOutcomes (403, or 404 where existence must not leak).
 */
export function createAccessContext(principal: Principal, now: Date = new Date()): BoundAccess {
  const notes: AccessNotes = { breakGlass: false, patientIds: [] };
  const cache = new Map<string, AccessFilter | undefined | 'deny'>();
  const policy = (type: string): AccessFilter | undefined | 'deny' => {
    if (cache.has(type)) {
      return cache.get(type);
    }
    const d = decide(principal, { action: 'search', resourceType: type, now });
    let f: AccessFilter | undefined | 'deny';
    if (!d.allow) {
      f = 'deny';
    } else if (d.filter) {
      f = {
        patientIds: d.filter.patientIds,
        excludeLabels: d.filter.sensitiveOnlyFor
          ? { codes: [...SENSITIVE_LABELS], unlessPatientIn: d.filter.sensitiveOnlyFor }
          : undefined,
      };
    }
    cache.set(type, f);
    return f;
  };
  const consentBound = principal.kind === 'system' && principal.consentPurpose !== undefined;
  return {
    notes,
    principal,
    policy,
    unrestricted: principal.kind === 'system' && !consentBound,
    needsResource: !(principal.kind === 'system' && !principal.facilityId && !consentBound),
    check(action: AccessAction, resourceType: string, resource?: Resource, patientIds?: readonly string[]): void {
      for (const id of patientIds ?? []) {
        if (!notes.patientIds.includes(id)) {
          notes.patientIds.push(id); // recorded even when refused: the audit shows whose record was attempted
        }
      }
      const d = decide(principal, { action, resourceType, resource, patientIds, now });
      if (!d.allow) {
        const code = d.status === 404 ? 'not-found' : 'forbidden';
        const text = d.status === 404 ? `${resourceType}${resource?.id ? `/${resource.id}` : ''} not found` : d.reason;
        throw new OutcomeError(d.status, outcome('error', code, text));
      }
      notes.purposeOfUse = d.purposeOfUse;
      if (d.breakGlass) {
        notes.breakGlass = true;
      }
    },
  };
}

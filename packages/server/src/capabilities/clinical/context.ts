/** What the clinical operations share: the encounter they act on, the caller, facility tags, writes in one transaction. */
import type {
  Bundle,
  Coding,
  Encounter,
  ParametersParameter,
  Practitioner,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import type { Queryable } from '@sen/db';
import { outcomes, referenceId } from '@sen/fhir';
import { searchResources } from '@sen/store';
import type { OperationCall } from '../../fhir/operations.ts';
import type { FhirRouter } from '../../fhir/router.ts';
import type { AccessAction } from '../../fhir/types.ts';
import { principalOf } from '../../platform/gate/context.ts';
import { FACILITY_TAG_SYSTEM, type Principal } from '../../platform/gate/gate.ts';
import type { TerminologyService } from '../terminology/service.ts';
import type { ClinicalData } from './data.ts';
import { vietnamDay } from '@sen/vn';

export interface ClinicalDeps {
  router: FhirRouter;
  terminology: TerminologyService;
  data: ClinicalData;
}

export type StaffPrincipal = Extract<Principal, { kind: 'staff' }>;

export interface EncounterContext {
  encounter: Encounter;
  version: number;
  patientId: string;
  /** The facility tags new resources of this encounter carry (so the gate scopes them to that facility). */
  tags: Coding[];
  /** The signed-in clinician, when the caller is one. */
  practitioner?: Reference<Practitioner>;
  staff?: StaffPrincipal;
}

/** Statuses of an encounter that takes no more entries. */
const CLOSED = new Set(['finished', 'cancelled', 'entered-in-error']);

export function staffOf(call: OperationCall): StaffPrincipal | undefined {
  const p = principalOf(call.req.access);
  return p?.kind === 'staff' ? p : undefined;
}

/** Runs fn in the caller's transaction (a bundle entry) or a new one. */
export function inTransaction<T>(
  deps: ClinicalDeps,
  call: OperationCall,
  fn: (q: Queryable) => Promise<T>,
): Promise<T> {
  return call.q ? fn(call.q) : deps.router.store.transaction(fn);
}

export function queryOf(deps: ClinicalDeps, call: OperationCall): Queryable {
  return call.q ?? deps.router.store.db;
}

/** Every resource of a search (server-side: the caller's access was checked on the encounter and patient). */
export async function findAll<T extends Resource>(
  deps: ClinicalDeps,
  type: string,
  query: [string, string][],
  q: Queryable,
): Promise<T[]> {
  return searchResources<T>(deps.router.store, type, query, q);
}

/** The encounter of an instance-level call (the router has checked the declared access on it). */
export async function loadEncounter(
  deps: ClinicalDeps,
  call: OperationCall,
  q: Queryable,
  opts: { open: boolean; id?: string },
): Promise<EncounterContext> {
  const id = opts.id ?? call.id;
  if (!id) {
    throw outcomes.badRequest('This operation is called on an Encounter: Encounter/{id}/$…');
  }
  const stored = await deps.router.store.read('Encounter', id, q);
  const encounter = JSON.parse(stored.content as string) as Encounter;
  const patientId = referenceId(encounter.subject, 'Patient');
  if (!patientId) {
    throw outcomes.unprocessable('Lượt khám chưa gắn với người bệnh / the encounter has no Patient subject');
  }
  if (opts.open && CLOSED.has(encounter.status)) {
    throw outcomes.conflict(
      encounter.status === 'finished'
        ? 'Lượt khám đã kết thúc và đã ký: không ghi thêm được / the encounter is finished and signed: nothing more can be recorded'
        : `Lượt khám ở trạng thái ${encounter.status}: không ghi thêm được / the encounter is ${encounter.status}`,
    );
  }
  const staff = staffOf(call);
  let tags = (encounter.meta?.tag ?? []).filter((t) => t.system === FACILITY_TAG_SYSTEM);
  if (tags.length === 0 && staff) {
    tags = [{ system: FACILITY_TAG_SYSTEM, code: staff.facilityId }];
  }
  return {
    encounter,
    version: stored.version,
    patientId,
    tags,
    staff,
    practitioner: staff?.practitionerId ? { reference: `Practitioner/${staff.practitionerId}` } : undefined,
  };
}

/** Asks the gate whether the caller may do this to a resource of the encounter's patient. */
export function allow(call: OperationCall, action: AccessAction, resource: Resource, patientId: string): void {
  call.req.access?.check(action, resource.resourceType, resource, [patientId]);
}

/** The resource with the encounter's facility tags (kept with its own other tags). */
export function tagged<T extends Resource>(r: T, ctx: { tags: Coding[] }): T {
  if (ctx.tags.length === 0) {
    return r;
  }
  const other = (r.meta?.tag ?? []).filter((t) => t.system !== FACILITY_TAG_SYSTEM);
  return { ...r, meta: { ...(r.meta ?? {}), tag: [...other, ...ctx.tags] } };
}

/** Reads, changes and writes the encounter, again if another writer got there in between. */
export async function updateEncounter(
  deps: ClinicalDeps,
  id: string,
  q: Queryable,
  change: (e: Encounter) => Encounter,
): Promise<Encounter> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const s = await deps.router.store.read('Encounter', id, q);
    const next = change(JSON.parse(s.content as string) as Encounter);
    try {
      return (await deps.router.store.update(next, { ifMatch: s.version }, q)).resource as Encounter;
    } catch (err) {
      if ((err as { status?: number }).status !== 412) {
        throw err;
      }
    }
  }
  throw outcomes.conflict('Lượt khám đang được cập nhật, hãy thử lại / the encounter is being updated; try again');
}

export function collection(deps: ClinicalDeps, resources: readonly Resource[]): Bundle {
  const base = deps.router.options.baseUrl;
  return {
    resourceType: 'Bundle',
    type: 'collection',
    timestamp: new Date().toISOString(),
    entry: resources.map((r) => ({ fullUrl: `${base}/${r.resourceType}/${r.id}`, resource: r })),
  };
}

export function parametersOf(parameter: ParametersParameter[]): {
  resourceType: 'Parameters';
  parameter: ParametersParameter[];
} {
  return { resourceType: 'Parameters', parameter };
}

/** A decimal input (valueDecimal, valueInteger or a query string number); 400 when it is not a number. */
export function decimalParam(p: ParametersParameter | undefined, name: string): number | undefined {
  if (!p) {
    return undefined;
  }
  const raw = p.valueDecimal ?? p.valueInteger ?? p.valueString;
  if (raw === undefined || raw === '') {
    return undefined;
  }
  const n = typeof raw === 'number' ? raw : Number(String(raw).replace(',', '.'));
  if (!Number.isFinite(n)) {
    throw outcomes.badRequest(`Tham số '${name}' phải là số / the parameter '${name}' must be a number, got '${raw}'`);
  }
  return n;
}

/** Today's date in Vietnam (UTC+7), YYYY-MM-DD. */
export function today(now: Date = new Date()): string {
  return vietnamDay(now);
}

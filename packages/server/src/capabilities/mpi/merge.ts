/**
 * `POST Patient/$merge`: folds a duplicate record (source) into the surviving one (target) without losing anything.
 *
 * - Every resource that refers to the source (search index or Patient compartment) gets a new version whose
 *   references point to the target; its earlier versions stay, still pointing to the source (vread, _history).
 * - The source gets a new version: `active: false` and `link` replaced-by the target. The target gets a new
 *   version with `link` replaces the source, and the source's identifiers it lacks, as `use: old` (so an old
 *   number still finds the surviving record).
 * - Everything is written through the store in one transaction (all or nothing), each write a version and a
 *   change event; the request is in the audit trail with both patients.
 * - `preview` (valueBoolean) runs every check and lists what would change, writing nothing.
 * - Refused: a patient into itself (400), a source or target already merged (409), a caller whose roles may not
 *   merge (403: RESTRICTED_OPERATIONS in the gate matrix), or who may not read a record it would touch.
 * The audit trail (AuditEvent) and Provenance (signatures over a version's content) are never rewritten.
 */
import type { Identifier, OperationOutcome, Parameters, Patient, Reference, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '@sen/db';
import { OutcomeError, outcome, outcomes } from '@sen/fhir';
import type { OperationInput } from '../../fhir/operations.ts';
import type { FhirOperation } from '../../fhir/operations.ts';
import type { FhirRouter } from '../../fhir/router.ts';
import type { AccessContext } from '../../fhir/types.ts';
import { principalOf } from '../../platform/gate/context.ts';
import { rolesMayRun } from '../../platform/gate/matrix.ts';
import { duringPatientMerge, repoint } from '../../platform/merge-scope.ts';

/** Types whose content is evidence of the past: never re-pointed. */
const NEVER_REWRITTEN = new Set(['AuditEvent', 'Provenance']);

function forbidden(vi: string, en: string): OutcomeError {
  return new OutcomeError(403, outcome('error', 'forbidden', `${vi} / ${en}`));
}

function conflict(vi: string, en: string): OutcomeError {
  return new OutcomeError(409, outcome('error', 'conflict', `${vi} / ${en}`));
}

function patientId(input: OperationInput, name: string): string {
  const p = input.first(name);
  const ref = p?.valueReference?.reference ?? input.string(name);
  if (!ref) {
    throw outcomes.badRequest(`Thiếu tham số '${name}' / The parameter '${name}' (a Patient reference) is required`);
  }
  const m = /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(ref);
  if (!m) {
    throw outcomes.badRequest(`'${name}' phải là tham chiếu Patient/<id> / '${name}' must reference Patient/<id>`);
  }
  return m[1];
}

function mergedInto(p: Patient): string | undefined {
  return p.link?.find((l) => l.type === 'replaced-by')?.other?.reference;
}

function sameIdentifier(a: Identifier, b: Identifier): boolean {
  return a.system === b.system && a.value === b.value;
}

/** The resources referring to a patient: through a search parameter or the Patient compartment. */
async function referrers(q: Queryable, id: string): Promise<{ type: string; id: string }[]> {
  const { rows } = await q.query<{ type: string; id: string }>(
    `SELECT r.type, r.id FROM idx_reference x JOIN resource r ON r.rid = x.rid
      WHERE x.target_type = 'Patient' AND x.target_id = $1 AND NOT r.deleted
     UNION
     SELECT r.type, r.id FROM compartment c JOIN resource r ON r.rid = c.rid
      WHERE c.ctype = 'Patient' AND c.cid = $1 AND NOT r.deleted
     ORDER BY 1, 2`,
    [id],
  );
  return rows.filter((r) => !(r.type === 'Patient' && r.id === id) && !NEVER_REWRITTEN.has(r.type));
}

function checkMayMerge(access: AccessContext | undefined): void {
  const principal = principalOf(access);
  if (principal?.kind === 'staff' && !rolesMayRun(principal.roles, 'Patient/$merge')) {
    throw forbidden('Chỉ trưởng khoa được gộp hồ sơ người bệnh', 'Only a department head may merge patient records');
  }
  if (principal?.kind === 'patient') {
    throw forbidden('Người bệnh không thể gộp hồ sơ', 'Patients cannot merge records');
  }
}

export interface MergeResult {
  target: Patient;
  source: Patient;
  updated: string[];
}

export async function mergePatients(
  router: FhirRouter,
  sourceId: string,
  targetId: string,
  access?: AccessContext,
  options: { preview?: boolean } = {},
): Promise<MergeResult> {
  if (sourceId === targetId) {
    throw outcomes.badRequest('Không thể gộp một người bệnh vào chính họ / A patient cannot be merged into itself');
  }
  const store = router.store;
  const base = router.options.baseUrl;
  return store.transaction(async (q) => {
    // one merge per pair of records at a time, whatever order they are named in
    for (const id of [sourceId, targetId].sort()) {
      await store.lockKey(`Patient/$merge/${id}`, q);
    }
    const load = async (id: string): Promise<{ patient: Patient; version: number }> => {
      const s = await store.readWithCompartment('Patient', id, q);
      const patient = JSON.parse(s.content as string) as Patient;
      access?.check('update', 'Patient', patient, s.patientIds);
      return { patient, version: s.version };
    };
    const source = await load(sourceId);
    const target = await load(targetId);
    if (mergedInto(source.patient)) {
      throw conflict(
        `Hồ sơ nguồn đã được gộp vào ${mergedInto(source.patient)}`,
        `The source patient is already merged into ${mergedInto(source.patient)}`,
      );
    }
    if (mergedInto(target.patient)) {
      throw conflict(
        `Hồ sơ đích đã được gộp vào ${mergedInto(target.patient)}; hãy gộp vào hồ sơ còn hiệu lực`,
        `The target patient is already merged into ${mergedInto(target.patient)}; merge into the surviving record`,
      );
    }

    // re-point every other resource: first read and check all of them, then write
    const touched: { resource: Resource; version: number }[] = [];
    for (const r of await referrers(q, sourceId)) {
      if (r.type === 'Patient' && r.id === targetId) {
        continue; // the target is written below
      }
      const s = await store.readWithCompartment(r.type, r.id, q);
      const resource = JSON.parse(s.content as string) as Resource;
      access?.check('read', r.type, resource, s.patientIds);
      if (repoint(resource, sourceId, targetId, base) > 0) {
        touched.push({ resource, version: s.version });
      }
    }
    const updated: string[] = [];
    if (options.preview) {
      return {
        source: source.patient,
        target: target.patient,
        updated: touched.map((t) => `${t.resource.resourceType}/${t.resource.id}`),
      };
    }
    // signed encounters and sent prescriptions let exactly this change through (platform/merge-scope.ts)
    await duringPatientMerge({ sourceId, targetId, base }, async () => {
      for (const t of touched) {
        const w = await store.update(t.resource, { ifMatch: t.version }, q);
        updated.push(`${w.stored.type}/${w.stored.id}`);
      }
    });

    const src: Patient = { ...source.patient, active: false };
    src.link = [
      ...(src.link ?? []).filter((l) => l.other?.reference !== `Patient/${targetId}`),
      { other: { reference: `Patient/${targetId}` } as Reference<Patient>, type: 'replaced-by' },
    ];
    const tgt: Patient = { ...target.patient };
    repoint(tgt, sourceId, targetId, base); // a link the target had to the source is now the replaces link
    tgt.link = [
      ...(tgt.link ?? []).filter((l) => l.other?.reference !== `Patient/${targetId}`),
      { other: { reference: `Patient/${sourceId}` } as Reference<Patient>, type: 'replaces' },
    ];
    const identifiers = [...(tgt.identifier ?? [])];
    for (const i of source.patient.identifier ?? []) {
      if (i.value && !identifiers.some((j) => sameIdentifier(i, j))) {
        identifiers.push({ ...i, use: 'old' });
      }
    }
    if (identifiers.length > 0) {
      tgt.identifier = identifiers;
    }
    const writtenSource = await store.update(src, { ifMatch: source.version }, q);
    const writtenTarget = await store.update(tgt, { ifMatch: target.version }, q);
    return {
      source: writtenSource.resource as Patient,
      target: writtenTarget.resource as Patient,
      updated,
    };
  });
}

export function mergeOperation(router: FhirRouter): FhirOperation {
  return {
    name: 'merge',
    resourceTypes: ['Patient'],
    levels: ['type'],
    methods: ['POST'],
    access: { action: 'update', resourceType: 'Patient' },
    definitionUrl: 'http://hl7.org/fhir/OperationDefinition/Patient-merge',
    async handler({ req, input }) {
      checkMayMerge(req.access);
      const sourceId = patientId(input, 'source-patient');
      const targetId = patientId(input, 'target-patient');
      const preview = input.boolean('preview') ?? false;
      const r = await mergePatients(router, sourceId, targetId, req.access, { preview });
      const oo: OperationOutcome = outcome(
        'information',
        'informational',
        preview
          ? `Xem trước: gộp sẽ trỏ lại ${r.updated.length} tài nguyên / ` +
              `Preview: the merge would re-point ${r.updated.length} resources`
          : `Đã gộp Patient/${sourceId} vào Patient/${targetId}; ${r.updated.length} tài nguyên được trỏ lại / ` +
              `Merged Patient/${sourceId} into Patient/${targetId}; ${r.updated.length} resources re-pointed`,
      );
      const body: Parameters = {
        resourceType: 'Parameters',
        parameter: [
          { name: 'outcome', resource: oo },
          { name: 'result', resource: r.target },
          { name: 'source', resource: r.source },
          { name: 'updatedCount', valueInteger: r.updated.length },
          ...r.updated.map((ref) => ({ name: 'updated', valueReference: { reference: ref } })),
        ],
      };
      return { status: 200, body };
    },
  };
}

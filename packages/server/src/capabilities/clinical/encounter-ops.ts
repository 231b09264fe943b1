/**
 * Operations on an outpatient encounter (M3): vital signs, history and examination, ICD-10 diagnoses, and the
 * conclusion that finishes and signs the encounter.
 */
import type {
  ClinicalImpression,
  Coding,
  Condition,
  Encounter,
  EncounterDiagnosis,
  Extension,
  Observation,
  OperationOutcomeIssue,
  Patient,
  Provenance,
  Resource,
} from '@medplum/fhirtypes';
import { OutcomeError, outcomes } from '@sen/fhir';
import type { DiagnosisEntry } from '@sen/vn';
import type { FhirOperation } from '../../fhir/operations.ts';
import { CATALOG_URLS } from '../terminology/kinds.ts';
import {
  allow,
  type ClinicalDeps,
  collection,
  decimalParam,
  findAll,
  inTransaction,
  loadEncounter,
  parametersOf,
  tagged,
  today,
  updateEncounter,
} from './context.ts';
import { amending } from './guard.ts';
import { contentHash, signatureProvenance, versionedReference } from './signature.ts';
import { bmiOf, BMI, checkVitals, interpret, VITALS, vitalObservations, UCUM } from './vitals.ts';

export const SD = 'https://sen.health.vn/fhir/StructureDefinition';
export const CODING_RULE_SYSTEM = 'https://sen.health.vn/fhir/CodeSystem/icd10-coding-rule';
export const OUTCOME_SYSTEM = 'https://sen.health.vn/fhir/CodeSystem/encounter-outcome';
export const HISTORY_URL = `${SD}/clinical-history`;
const CONDITION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/condition-category';

export const OUTCOMES: Record<string, { vi: string; en: string }> = {
  recovered: { vi: 'Khỏi', en: 'Recovered' },
  improved: { vi: 'Đỡ, giảm', en: 'Improved' },
  referred: { vi: 'Chuyển tuyến', en: 'Referred' },
  admitted: { vi: 'Nhập viện', en: 'Admitted' },
  other: { vi: 'Khác', en: 'Other' },
};

/** Roles that may conclude and sign an encounter. */
const SIGNING_ROLES = new Set(['doctor', 'department-head']);

function recordVitals(deps: ClinicalDeps): FhirOperation {
  return {
    name: 'record-vitals',
    resourceTypes: ['Encounter'],
    levels: ['instance'],
    methods: ['POST'],
    access: { action: 'read' },
    async handler(call) {
      const values: Record<string, number> = {};
      for (const param of Object.keys(VITALS)) {
        const v = decimalParam(call.input.first(param), param);
        if (v !== undefined) {
          values[param] = v;
        }
      }
      if (Object.keys(values).length === 0) {
        throw outcomes.badRequest(
          `Chưa nhập chỉ số sinh tồn nào / give at least one of ${Object.keys(VITALS).join(', ')}`,
        );
      }
      const problems = checkVitals(values);
      if (problems.length > 0) {
        throw new OutcomeError(400, {
          resourceType: 'OperationOutcome',
          issue: problems.map((p) => ({
            severity: 'error',
            code: 'value',
            details: { text: `${p.vi} / ${p.en}` },
            diagnostics: `${p.vi} / ${p.en}`,
            expression: [p.param],
          })),
        });
      }
      const written = await inTransaction(deps, call, async (q) => {
        const ctx = await loadEncounter(deps, call, q, { open: true });
        // BMI needs both: take the height measured earlier in this encounter when only the weight is new
        let earlierHeight: number | undefined;
        if (values.weight !== undefined && values.height === undefined) {
          const heights = await findAll<Observation>(
            deps,
            'Observation',
            [
              ['encounter', `Encounter/${ctx.encounter.id}`],
              ['code', `http://loinc.org|${VITALS.height.loinc}`],
              ['_sort', '-_lastUpdated'],
            ],
            q,
          );
          earlierHeight = heights.find((o) => o.status !== 'entered-in-error')?.valueQuantity?.value;
        }
        const bodies = vitalObservations(values);
        if (earlierHeight !== undefined && values.weight !== undefined) {
          const bmi = bmiOf(earlierHeight, values.weight);
          const flag = interpret(BMI, bmi);
          bodies.push({
            ...bodies[0],
            code: { coding: [{ system: 'http://loinc.org', code: BMI.loinc, display: BMI.display }], text: BMI.vi },
            valueQuantity: { value: bmi, unit: BMI.unit, system: UCUM, code: BMI.ucum },
            interpretation: flag
              ? [
                  {
                    coding: [
                      { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: flag },
                    ],
                  },
                ]
              : undefined,
            referenceRange: undefined,
            component: undefined,
          });
        }
        const now = new Date().toISOString();
        const out: Resource[] = [];
        for (const body of bodies) {
          const obs = tagged<Observation>(
            {
              ...body,
              subject: { reference: `Patient/${ctx.patientId}` },
              encounter: { reference: `Encounter/${ctx.encounter.id}` },
              effectiveDateTime: now,
              issued: now,
              ...(ctx.practitioner ? { performer: [ctx.practitioner] } : {}),
            },
            ctx,
          );
          allow(call, 'create', obs, ctx.patientId);
          out.push((await deps.router.store.create(obs, q)).resource);
        }
        return out;
      });
      return { status: 200, body: collection(deps, written) };
    },
  };
}

function codingParam(
  p: { valueCoding?: Coding; valueCode?: string; valueString?: string } | undefined,
): Coding | undefined {
  if (!p) {
    return undefined;
  }
  if (p.valueCoding) {
    return p.valueCoding;
  }
  const code = p.valueCode ?? p.valueString;
  return code ? { system: CATALOG_URLS.icd10, code } : undefined;
}

function setDiagnoses(deps: ClinicalDeps): FhirOperation {
  return {
    name: 'set-diagnoses',
    resourceTypes: ['Encounter'],
    levels: ['instance'],
    methods: ['POST'],
    access: { action: 'update' },
    async handler(call) {
      const main = codingParam(call.input.first('main'));
      if (!main?.code) {
        throw outcomes.badRequest("Cần chẩn đoán chính / the parameter 'main' (valueCoding, ICD-10) is required");
      }
      const secondary = call.input.all('secondary').map((p) => codingParam(p));
      const all = [main, ...secondary];
      for (const c of all) {
        if (!c?.code || (c.system && c.system !== CATALOG_URLS.icd10)) {
          throw outcomes.badRequest(
            `Chẩn đoán phải là mã ICD-10 (${CATALOG_URLS.icd10}) / diagnoses must be ICD-10 codings, got ${c?.system ?? 'no code'}`,
          );
        }
      }
      const codes = all.map((c) => (c as Coding).code?.trim().toUpperCase() as string);
      const q0 = call.q ?? deps.router.store.db;
      const pre = await loadEncounter(deps, call, q0, { open: true });
      const patient = JSON.parse(
        (await deps.router.store.read('Patient', pre.patientId, q0)).content as string,
      ) as Patient;
      const entries: DiagnosisEntry[] = codes.map((code, i) => ({ code, role: i === 0 ? 'main' : 'secondary' }));
      const check = await deps.terminology.checkCoding({ diagnoses: entries, sex: patient.gender, purpose: 'record' });
      const errors = check.issues.filter((i) => i.severity === 'error');
      if (errors.length > 0) {
        throw new OutcomeError(422, {
          resourceType: 'OperationOutcome',
          issue: errors.map((i): OperationOutcomeIssue => ({
            severity: 'error',
            code: 'business-rule',
            details: { coding: [{ system: CODING_RULE_SYSTEM, code: i.rule }], text: `${i.vi} / ${i.en}` },
            diagnostics: `${i.vi} / ${i.en}`,
            expression: [i.index === 0 ? 'main' : `secondary[${(i.index ?? 1) - 1}]`],
          })),
        });
      }
      const displays = new Map<string, Coding>();
      for (const code of new Set(codes)) {
        const { version, concept } = await deps.terminology.lookup(CATALOG_URLS.icd10, code);
        displays.set(code, {
          system: CATALOG_URLS.icd10,
          version: version.version,
          code: concept.code,
          display: concept.display,
        });
      }
      const result = await inTransaction(deps, call, async (q) => {
        const ctx = await loadEncounter(deps, call, q, { open: true });
        const encRef = `Encounter/${ctx.encounter.id}`;
        const existing = (
          await findAll<Condition>(
            deps,
            'Condition',
            [
              ['encounter', encRef],
              ['category', `${CONDITION_CATEGORY}|encounter-diagnosis`],
            ],
            q,
          )
        ).filter((c) => c.verificationStatus?.coding?.[0]?.code !== 'entered-in-error');
        const now = new Date().toISOString();
        const conditions: Condition[] = [];
        const wanted = [...new Set(codes)];
        for (const code of wanted) {
          const found = existing.find((c) =>
            c.code?.coding?.some((x) => x.system === CATALOG_URLS.icd10 && x.code === code),
          );
          if (found) {
            conditions.push(found);
            continue;
          }
          const coding = displays.get(code) as Coding;
          const condition = tagged<Condition>(
            {
              resourceType: 'Condition',
              clinicalStatus: {
                coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
              },
              verificationStatus: {
                coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }],
              },
              category: [
                {
                  coding: [{ system: CONDITION_CATEGORY, code: 'encounter-diagnosis', display: 'Encounter Diagnosis' }],
                },
              ],
              code: { coding: [coding], text: coding.display },
              subject: { reference: `Patient/${ctx.patientId}` },
              encounter: { reference: encRef },
              recordedDate: now,
              ...(ctx.practitioner ? { recorder: ctx.practitioner, asserter: ctx.practitioner } : {}),
            },
            ctx,
          );
          allow(call, 'create', condition, ctx.patientId);
          conditions.push((await deps.router.store.create(condition, q)).resource as Condition);
        }
        for (const old of existing) {
          if (!conditions.some((c) => c.id === old.id)) {
            const { clinicalStatus: _cs, ...rest } = old;
            const withdrawn: Condition = {
              ...rest,
              verificationStatus: {
                coding: [
                  { system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'entered-in-error' },
                ],
              },
            };
            allow(call, 'update', old, ctx.patientId);
            await deps.router.store.update(withdrawn, {}, q);
          }
        }
        const diagnosis: EncounterDiagnosis[] = conditions.map((c, i) => ({
          condition: { reference: `Condition/${c.id}`, display: c.code?.text },
          rank: i + 1,
        }));
        const encounter = await updateEncounter(deps, ctx.encounter.id as string, q, (e) => ({ ...e, diagnosis }));
        return { encounter, conditions };
      });
      const warnings = check.issues.filter((i) => i.severity === 'warning');
      return {
        status: 200,
        body: parametersOf([
          { name: 'encounter', resource: result.encounter },
          ...result.conditions.map((c) => ({ name: 'condition', resource: c })),
          ...(warnings.length > 0
            ? [
                {
                  name: 'warnings',
                  resource: {
                    resourceType: 'OperationOutcome' as const,
                    issue: warnings.map((i): OperationOutcomeIssue => ({
                      severity: 'warning',
                      code: 'business-rule',
                      details: { coding: [{ system: CODING_RULE_SYSTEM, code: i.rule }], text: `${i.vi} / ${i.en}` },
                      diagnostics: `${i.vi} / ${i.en}`,
                    })),
                  },
                },
              ]
            : []),
        ]),
      };
    },
  };
}

const HISTORY_FIELDS = ['chiefComplaint', 'historyOfPresentIllness', 'pastHistory', 'examination'] as const;

function history(deps: ClinicalDeps): FhirOperation {
  return {
    name: 'history',
    resourceTypes: ['Encounter'],
    levels: ['instance'],
    methods: ['POST'],
    access: { action: 'read' },
    async handler(call) {
      const given = new Map<string, string>();
      for (const f of HISTORY_FIELDS) {
        const v = call.input.string(f);
        if (v !== undefined) {
          if (v.length > 20_000) {
            throw outcomes.badRequest(`'${f}' dài quá 20.000 ký tự / '${f}' is longer than 20,000 characters`);
          }
          given.set(f, v);
        }
      }
      if (given.size === 0) {
        throw outcomes.badRequest(`Chưa nhập nội dung / give at least one of ${HISTORY_FIELDS.join(', ')}`);
      }
      const saved = await inTransaction(deps, call, async (q) => {
        const ctx = await loadEncounter(deps, call, q, { open: true });
        const encRef = `Encounter/${ctx.encounter.id}`;
        const [current] = await findAll<ClinicalImpression>(
          deps,
          'ClinicalImpression',
          [
            ['encounter', encRef],
            ['_sort', '_lastUpdated'],
          ],
          q,
        );
        const sections = new Map<string, string>();
        for (const e of current?.extension?.find((x) => x.url === HISTORY_URL)?.extension ?? []) {
          if (e.valueString !== undefined) {
            sections.set(e.url, e.valueString);
          }
        }
        for (const [k, v] of given) {
          sections.set(k, v);
        }
        const parts: Extension[] = HISTORY_FIELDS.filter((f) => sections.get(f)).map((f) => ({
          url: f,
          valueString: sections.get(f),
        }));
        const body = tagged<ClinicalImpression>(
          {
            ...(current ?? {}),
            resourceType: 'ClinicalImpression',
            status: 'completed',
            subject: { reference: `Patient/${ctx.patientId}` },
            encounter: { reference: encRef },
            date: new Date().toISOString(),
            ...(ctx.practitioner ? { assessor: ctx.practitioner } : {}),
            description: sections.get('chiefComplaint'),
            summary: sections.get('examination'),
            extension: [
              ...(current?.extension ?? []).filter((x) => x.url !== HISTORY_URL),
              { url: HISTORY_URL, extension: parts },
            ],
          },
          ctx,
        );
        if (current) {
          allow(call, 'update', current, ctx.patientId);
          return (await deps.router.store.update(body, {}, q)).resource;
        }
        allow(call, 'create', body, ctx.patientId);
        return (await deps.router.store.create(body, q)).resource;
      });
      return { status: 200, body: saved };
    },
  };
}

/** The resources a conclusion signs: the encounter and what was recorded in it (current versions). */
async function signedContent(
  deps: ClinicalDeps,
  encounter: Encounter,
  q: Parameters<typeof findAll>[3],
): Promise<Resource[]> {
  const encRef = `Encounter/${encounter.id}`;
  const out: Resource[] = [encounter];
  for (const type of ['Condition', 'ClinicalImpression', 'Observation', 'ServiceRequest', 'MedicationRequest']) {
    out.push(...(await findAll(deps, type, [['encounter', encRef]], q)));
  }
  return out;
}

function conclude(deps: ClinicalDeps): FhirOperation {
  return {
    name: 'conclude',
    resourceTypes: ['Encounter'],
    levels: ['instance'],
    methods: ['POST'],
    access: { action: 'update' },
    async handler(call) {
      const outcome = call.input.string('outcome');
      if (!outcome || !(outcome in OUTCOMES)) {
        throw outcomes.badRequest(
          `Kết quả khám phải là một trong ${Object.keys(OUTCOMES).join(', ')} / 'outcome' must be one of ${Object.keys(OUTCOMES).join(', ')}`,
        );
      }
      const followUp = call.input.string('followUp');
      if (followUp !== undefined && (!/^\d{4}-\d{2}-\d{2}$/.test(followUp) || Number.isNaN(Date.parse(followUp)))) {
        throw outcomes.badRequest(
          `Ngày tái khám không hợp lệ / 'followUp' must be a date (YYYY-MM-DD), got '${followUp}'`,
        );
      }
      if (followUp !== undefined && followUp < today()) {
        throw outcomes.badRequest(`Ngày tái khám ${followUp} đã qua / the follow-up date is in the past`);
      }
      const advice = call.input.string('advice');
      const amendReason = call.input.string('amendReason')?.trim();
      const result = await inTransaction(deps, call, async (q) => {
        const ctx = await loadEncounter(deps, call, q, { open: false });
        const staff = ctx.staff;
        if (call.req.access && !(staff && staff.practitionerId && staff.roles.some((r) => SIGNING_ROLES.has(r)))) {
          throw outcomes.forbidden(
            'Chỉ bác sĩ điều trị mới được kết thúc và ký lượt khám / only a doctor may conclude and sign',
          );
        }
        const finished = ctx.encounter.status === 'finished';
        if (finished && !amendReason) {
          throw outcomes.conflict(
            'Lượt khám đã kết thúc và đã ký: muốn điều chỉnh, hãy ghi lý do (amendReason) / already finished and signed: give amendReason to amend it',
          );
        }
        if (!finished && ['cancelled', 'entered-in-error'].includes(ctx.encounter.status)) {
          throw outcomes.conflict(
            `Lượt khám ở trạng thái ${ctx.encounter.status} / the encounter is ${ctx.encounter.status}`,
          );
        }
        const mainRef = ctx.encounter.diagnosis?.find((d) => d.rank === 1)?.condition;
        if (!mainRef) {
          throw outcomes.unprocessable(
            'Chưa có chẩn đoán chính: không kết thúc được lượt khám (Encounter/$set-diagnoses) / no main diagnosis yet',
          );
        }
        const now = new Date().toISOString();
        const previous = versionedReference({ ...ctx.encounter, meta: { versionId: String(ctx.version) } });
        const ext: Extension[] = [
          ...(ctx.encounter.extension ?? []).filter((e) => !e.url.startsWith(`${SD}/encounter-`)),
          {
            url: `${SD}/encounter-outcome`,
            valueCoding: { system: OUTCOME_SYSTEM, code: outcome, display: OUTCOMES[outcome].vi },
          },
          ...(followUp ? [{ url: `${SD}/encounter-follow-up`, valueDate: followUp }] : []),
          ...(advice ? [{ url: `${SD}/encounter-advice`, valueString: advice }] : []),
        ];
        const write = (): Promise<Encounter> =>
          updateEncounter(deps, ctx.encounter.id as string, q, (e) => ({
            ...e,
            status: 'finished',
            period: { ...(e.period ?? {}), start: e.period?.start ?? now, end: finished ? e.period?.end : now },
            extension: ext,
          }));
        const encounter = finished ? await amending('encounter-amend', write) : await write();
        const content = await signedContent(deps, encounter, q);
        const hash = contentHash(content);
        const role = staff?.roles.find((r) => SIGNING_ROLES.has(r)) ?? 'doctor';
        const signer = ctx.practitioner ?? { display: 'Sen' };
        let priorSignature: string | undefined;
        if (finished) {
          const [last] = await findAll<Provenance>(
            deps,
            'Provenance',
            [
              ['target', `Encounter/${encounter.id}`],
              ['_sort', '-_lastUpdated'],
            ],
            q,
          );
          priorSignature = last?.id;
        }
        const provenance = tagged<Provenance>(
          signatureProvenance({
            signed: content,
            hash,
            signer,
            role,
            activity: finished ? 'Điều chỉnh và ký lại lượt khám' : 'Kết thúc và ký lượt khám',
            now,
            reason: finished ? amendReason : undefined,
            entity: finished
              ? [
                  { role: 'revision', what: { reference: previous } },
                  ...(priorSignature
                    ? [{ role: 'revision' as const, what: { reference: `Provenance/${priorSignature}` } }]
                    : []),
                ]
              : undefined,
          }),
          ctx,
        );
        allow(call, 'create', provenance, ctx.patientId);
        const saved = (await deps.router.store.create(provenance, q)).resource as Provenance;
        return { encounter, provenance: saved, hash };
      });
      return {
        status: 200,
        body: parametersOf([
          { name: 'encounter', resource: result.encounter },
          { name: 'provenance', resource: result.provenance },
          { name: 'contentHash', valueString: `sha256:${result.hash}` },
        ]),
      };
    },
  };
}

export function encounterOperations(deps: ClinicalDeps): FhirOperation[] {
  return [recordVitals(deps), setDiagnoses(deps), history(deps), conclude(deps)];
}

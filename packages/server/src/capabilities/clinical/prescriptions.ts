/**
 * Prescribing (M7): drug search over the drug catalog, Encounter/$prescribe with the safety checks of
 * prescribing.ts and the national prescription code, and MedicationRequest/$replace-prescription (a sent
 * prescription never changes: a new one replaces it, the old one is kept, stopped and linked).
 */
import type {
  AllergyIntolerance,
  CodeSystemConcept,
  Condition,
  DetectedIssue,
  Extension,
  MedicationRequest,
  Observation,
  Organization,
  OperationOutcomeIssue,
  ParametersParameter,
  Patient,
} from '@medplum/fhirtypes';
import type { Queryable } from '@sen/db';
import { OutcomeError, outcomes, referenceId } from '@sen/fhir';
import { SEN_SID } from '@sen/vn';
import { type ErxKind, erxKindOf, generateErxCode, isFacilityCode } from '@sen/vn/erx-code.ts';
import type { FhirOperation, OperationCall } from '../../fhir/operations.ts';
import { CATALOG_URLS } from '../terminology/kinds.ts';
import {
  allow,
  type ClinicalDeps,
  decimalParam,
  type EncounterContext,
  findAll,
  inTransaction,
  loadEncounter,
  parametersOf,
  tagged,
  today,
} from './context.ts';
import { isChronic } from './data.ts';
import { SD } from './encounter-ops.ts';
import { amending, ERX_CODE_SYSTEM, erxCodeOf, REPLACED_BY_URL } from './guard.ts';
import {
  ageInMonths,
  blocking,
  CHECK_SYSTEM,
  checkAllergies,
  checkChild,
  checkDayLimits,
  checkDuplicates,
  checkInteractions,
  type Finding,
  ingredientsOf,
  type KnownAllergy,
  type PrescribedDrug,
  quantityOf,
} from './prescribing.ts';
import { UCUM, VITALS } from './vitals.ts';

function prop(c: CodeSystemConcept, code: string): string | number | undefined {
  const p = c.property?.find((x) => x.code === code);
  return p?.valueString ?? p?.valueDecimal ?? p?.valueInteger ?? p?.valueCode;
}

function drugSearch(deps: ClinicalDeps): FhirOperation {
  return {
    name: 'drug-search',
    resourceTypes: ['MedicationRequest'],
    levels: ['type'],
    methods: ['GET', 'POST'],
    access: { action: 'read', resourceType: 'CodeSystem' },
    async handler(call) {
      const q = (call.input.string('q') ?? '').trim();
      const count = Math.min(call.input.integer('count') ?? call.input.integer('_count') ?? 20, 100);
      const e = await deps.terminology.expand(CATALOG_URLS.drugs, { filter: q, count });
      const out: ParametersParameter[] = e.items.map((i) => {
        const c = i.concept;
        const rate = prop(c, 'bhytRate');
        const price = prop(c, 'price');
        const text = (k: string): ParametersParameter[] => {
          const v = prop(c, k);
          return v === undefined ? [] : [{ name: k === 'inn' ? 'ingredient' : k, valueString: String(v) }];
        };
        return {
          name: 'drug',
          part: [
            {
              name: 'code',
              valueCoding: { system: CATALOG_URLS.drugs, version: e.version.version, code: c.code, display: c.display },
            },
            { name: 'name', valueString: c.display ?? c.code },
            ...text('inn'),
            ...text('strength'),
            ...text('form'),
            ...text('unit'),
            ...text('route'),
            ...(typeof price === 'number' ? [{ name: 'price', valueDecimal: price }] : []),
            { name: 'bhytCovered', valueBoolean: typeof rate === 'number' && rate > 0 },
            ...(typeof rate === 'number' ? [{ name: 'bhytRate', valueDecimal: rate }] : []),
          ],
        };
      });
      return { status: 200, body: parametersOf(out) };
    },
  };
}

interface Item extends PrescribedDrug {
  version: string;
  dosePerTime: number;
  timesPerDay: number;
  route: string;
  unit: string;
  instructions?: string;
  quantity: number;
  kind: ErxKind;
}

function part(p: ParametersParameter, name: string): ParametersParameter | undefined {
  return p.part?.find((x) => x.name === name);
}

function wholeNumber(p: ParametersParameter | undefined, name: string, index: number, max: number): number {
  const v = decimalParam(p, name);
  if (v === undefined || !Number.isInteger(v) || v < 1 || v > max) {
    throw outcomes.badRequest(
      `Thuốc thứ ${index + 1}: '${name}' phải là số nguyên từ 1 đến ${max} / item ${index + 1}: '${name}' must be a whole number 1–${max}`,
      [`item[${index}].${name}`],
    );
  }
  return v;
}

/** The items of a request, checked for form and looked up in the drug catalog. */
async function readItems(deps: ClinicalDeps, call: OperationCall): Promise<Item[]> {
  const params = call.input.all('item');
  if (params.length === 0) {
    throw outcomes.badRequest("Đơn thuốc chưa có thuốc / give at least one 'item'");
  }
  if (params.length > 50) {
    throw outcomes.badRequest('Tối đa 50 thuốc một đơn / at most 50 items per prescription');
  }
  const version = await deps.terminology.resolve(CATALOG_URLS.drugs);
  const items: Item[] = [];
  for (const [index, p] of params.entries()) {
    const coding = part(p, 'drug')?.valueCoding;
    if (!coding?.code || (coding.system && coding.system !== CATALOG_URLS.drugs)) {
      throw outcomes.badRequest(
        `Thuốc thứ ${index + 1}: cần mã thuốc của danh mục ${CATALOG_URLS.drugs} / item ${index + 1}: 'drug' must be a coding of the drug catalog`,
        [`item[${index}].drug`],
      );
    }
    const concept = await deps.terminology.concept(version, coding.code);
    if (!concept) {
      throw outcomes.badRequest(
        `Mã thuốc '${coding.code}' không có trong danh mục / drug '${coding.code}' is not in the catalog`,
        [`item[${index}].drug`],
      );
    }
    const dose = decimalParam(part(p, 'dosePerTime'), 'dosePerTime');
    if (dose === undefined || dose <= 0 || dose > 1000) {
      throw outcomes.badRequest(
        `Thuốc thứ ${index + 1}: liều mỗi lần phải lớn hơn 0 / item ${index + 1}: 'dosePerTime' must be above 0`,
        [`item[${index}].dosePerTime`],
      );
    }
    const timesPerDay = wholeNumber(part(p, 'timesPerDay'), 'timesPerDay', index, 24);
    const days = wholeNumber(part(p, 'days'), 'days', index, 365);
    const routeParam = part(p, 'route');
    const route = (routeParam?.valueCode ?? routeParam?.valueString ?? String(prop(concept, 'route') ?? '')).trim();
    if (!route) {
      throw outcomes.badRequest(`Thuốc thứ ${index + 1}: cần đường dùng / item ${index + 1}: 'route' is required`, [
        `item[${index}].route`,
      ]);
    }
    const inn = String(prop(concept, 'inn') ?? concept.display ?? concept.code);
    const klass = prop(concept, 'controlClass');
    items.push({
      index,
      code: concept.code,
      name: concept.display ?? concept.code,
      ingredients: ingredientsOf(inn),
      activeCode: prop(concept, 'activeCode') as string | undefined,
      days,
      version: version.version,
      dosePerTime: dose,
      timesPerDay,
      route,
      unit: String(prop(concept, 'unit') ?? 'đơn vị'),
      instructions: part(p, 'instructions')?.valueString?.trim() || undefined,
      quantity: quantityOf(dose, timesPerDay, days),
      kind: klass === 'narcotic' || klass === 'psychotropic' || klass === 'herbal' ? klass : 'other',
    });
  }
  return items;
}

interface PatientFacts {
  patient: Patient;
  allergies: KnownAllergy[];
  diagnoses: string[];
  mainConditions: string[];
  weight?: number;
  guardian?: string;
  ageMonths?: number;
}

async function patientFacts(
  deps: ClinicalDeps,
  call: OperationCall,
  ctx: EncounterContext,
  q: Queryable,
): Promise<PatientFacts> {
  const patient = JSON.parse((await deps.router.store.read('Patient', ctx.patientId, q)).content as string) as Patient;
  const allergies = (
    await findAll<AllergyIntolerance>(deps, 'AllergyIntolerance', [['patient', `Patient/${ctx.patientId}`]], q)
  )
    .filter((a) => {
      const v = a.verificationStatus?.coding?.[0]?.code;
      const c = a.clinicalStatus?.coding?.[0]?.code;
      return v !== 'entered-in-error' && v !== 'refuted' && c !== 'inactive' && c !== 'resolved';
    })
    .map((a) => ({
      codes: (a.code?.coding ?? []).map((c) => c.code ?? '').filter(Boolean),
      texts: [a.code?.text ?? '', ...(a.code?.coding ?? []).map((c) => c.display ?? '')].filter(Boolean),
    }));
  const conditions = (
    await findAll<Condition>(deps, 'Condition', [['encounter', `Encounter/${ctx.encounter.id}`]], q)
  ).filter((c) => c.verificationStatus?.coding?.[0]?.code !== 'entered-in-error');
  const diagnoses = conditions.flatMap((c) =>
    (c.code?.coding ?? []).filter((x) => x.system === CATALOG_URLS.icd10).map((x) => x.code ?? ''),
  );
  const weightParam = decimalParam(call.input.first('weight'), 'weight');
  let weight = weightParam;
  if (weight === undefined) {
    const measured = await findAll<Observation>(
      deps,
      'Observation',
      [
        ['encounter', `Encounter/${ctx.encounter.id}`],
        ['code', `http://loinc.org|${VITALS.weight.loinc}`],
        ['_sort', '-_lastUpdated'],
      ],
      q,
    );
    weight = measured.find((o) => o.status !== 'entered-in-error')?.valueQuantity?.value;
  }
  const guardianParam = call.input.string('guardian')?.trim();
  const contact = patient.contact?.find((c) => c.name)?.name;
  const contactName = contact
    ? (contact.text ?? [contact.family, ...(contact.given ?? [])].filter(Boolean).join(' '))
    : undefined;
  const guardian = guardianParam || contactName || undefined;
  const ageMonths =
    patient.birthDate && patient.birthDate.length >= 7 ? ageInMonths(patient.birthDate, today()) : undefined;
  return {
    patient,
    allergies,
    diagnoses,
    mainConditions: (ctx.encounter.diagnosis ?? []).map((d) => d.condition?.reference ?? '').filter(Boolean),
    weight,
    guardian,
    ageMonths,
  };
}

function findingsOutcome(list: readonly Finding[]): OutcomeError {
  return new OutcomeError(422, {
    resourceType: 'OperationOutcome',
    issue: list.map((f): OperationOutcomeIssue => ({
      severity: f.severity,
      code: f.severity === 'error' ? 'business-rule' : 'informational',
      details: { coding: [{ system: CHECK_SYSTEM, code: f.code }], text: `${f.vi} / ${f.en}` },
      diagnostics: `${f.vi} / ${f.en}`,
      ...(f.index !== undefined ? { expression: [`item[${f.index}]`] } : {}),
    })),
  });
}

/** The facility's 5-character code (Organization identifier SEN_SID.facility) for the prescription code. */
async function facilityCode(deps: ClinicalDeps, ctx: EncounterContext, q: Queryable): Promise<string> {
  const orgId = ctx.tags[0]?.code ?? ctx.staff?.facilityId;
  let org: Organization | undefined;
  if (orgId) {
    try {
      org = JSON.parse((await deps.router.store.read('Organization', orgId, q)).content as string) as Organization;
    } catch {
      org = undefined;
    }
  }
  const code = org?.identifier?.find((i) => i.system === SEN_SID.facility)?.value;
  if (!code || !isFacilityCode(code)) {
    throw outcomes.unprocessable(
      'Cơ sở chưa có mã cơ sở 5 ký tự (định danh cơ sở khám chữa bệnh) nên chưa cấp được mã đơn thuốc / ' +
        'the facility has no 5-character facility code, so no prescription code can be issued',
    );
  }
  return code;
}

/** Draws codes until one is new for the facility (the table's key decides), and records it. */
async function issueCode(
  q: Queryable,
  facility: string,
  kind: ErxKind,
  ctx: EncounterContext,
  replaces: string | undefined,
): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const code = generateErxCode(facility, kind);
    const { rows } = await q.query<{ code: string }>(
      `INSERT INTO erx_code (facility_code, serial, code, encounter_id, patient_id, replaces)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING code`,
      [facility, code.slice(5, 12), code, ctx.encounter.id, ctx.patientId, replaces ?? null],
    );
    if (rows.length > 0) {
      return code;
    }
  }
  throw outcomes.conflict(
    'Không cấp được mã đơn thuốc mới, hãy thử lại / could not issue a new prescription code; try again',
  );
}

const DETECTED_SEVERITY: Record<string, DetectedIssue['severity']> = {
  contraindicated: 'high',
  major: 'high',
  moderate: 'moderate',
};

/** Checks, then writes the prescription: the code, the accepted warnings (DetectedIssue) and the MedicationRequests. */
async function writePrescription(
  deps: ClinicalDeps,
  call: OperationCall,
  opts: { encounterId?: string; open: boolean; replacing?: { code: string; requests: MedicationRequest[] } },
): Promise<{ code: string; requests: MedicationRequest[] }> {
  const items = await readItems(deps, call);
  const acknowledged = call.input.all('acknowledge').map((p) => p.valueString ?? p.valueCode ?? '');
  const db = call.q ?? deps.router.store.db;
  const pre = await loadEncounter(deps, call, db, { open: opts.open, id: opts.encounterId });
  const facts = await patientFacts(deps, call, pre, db);
  const chronic = facts.diagnoses.some((d) => isChronic(deps.data, d));
  const findings: Finding[] = [
    ...checkDayLimits(items, chronic),
    ...checkChild(facts.ageMonths, { weight: facts.weight, guardian: facts.guardian }),
    ...checkAllergies(items, facts.allergies),
    ...checkDuplicates(items),
    ...checkInteractions(items, deps.data),
  ];
  const blocked = blocking(findings, acknowledged);
  if (blocked.length > 0) {
    throw findingsOutcome(blocked);
  }
  const accepted = findings.filter((f) => f.severity === 'warning');
  return inTransaction(deps, call, async (q) => {
    const ctx = await loadEncounter(deps, call, q, { open: opts.open, id: opts.encounterId });
    const facility = await facilityCode(deps, ctx, q);
    const kind = erxKindOf(items);
    const code = await issueCode(q, facility, kind, ctx, opts.replacing?.code);
    const now = new Date();
    const nowIso = now.toISOString();
    const issues: DetectedIssue[] = [];
    for (const f of accepted) {
      const di = tagged<DetectedIssue>(
        {
          resourceType: 'DetectedIssue',
          status: 'final',
          code: { coding: [{ system: CHECK_SYSTEM, code: f.code }], text: f.vi },
          severity: f.interaction
            ? DETECTED_SEVERITY[f.interaction]
            : f.code.startsWith('allergy:')
              ? 'high'
              : 'moderate',
          patient: { reference: `Patient/${ctx.patientId}` },
          identifiedDateTime: nowIso,
          ...(ctx.practitioner ? { author: ctx.practitioner } : {}),
          detail: `${f.vi} / ${f.en}`,
          mitigation: [
            {
              action: { text: 'Bác sĩ đã xem cảnh báo và vẫn kê đơn / the prescriber acknowledged the warning' },
              date: nowIso,
              ...(ctx.practitioner ? { author: ctx.practitioner } : {}),
            },
          ],
        },
        ctx,
      );
      allow(call, 'create', di, ctx.patientId);
      issues.push((await deps.router.store.create(di, q)).resource as DetectedIssue);
    }
    const child: Extension[] =
      facts.ageMonths !== undefined && facts.ageMonths < 72
        ? [
            {
              url: `${SD}/erx-child`,
              extension: [
                { url: 'ageMonths', valueInteger: facts.ageMonths },
                ...(facts.weight
                  ? [{ url: 'weight', valueQuantity: { value: facts.weight, unit: 'kg', system: UCUM, code: 'kg' } }]
                  : []),
                ...(facts.guardian ? [{ url: 'guardian', valueString: facts.guardian }] : []),
              ],
            },
          ]
        : [];
    const validTo = new Date(now.getTime() + 5 * 86_400_000).toISOString();
    const written: MedicationRequest[] = [];
    for (const item of items) {
      const prior = opts.replacing?.requests.find((r) =>
        r.medicationCodeableConcept?.coding?.some((c) => c.code === item.code),
      );
      const text =
        `${item.dosePerTime} ${item.unit}/lần × ${item.timesPerDay} lần/ngày × ${item.days} ngày, ${item.route}` +
        (item.instructions ? `. ${item.instructions}` : '');
      const mr = tagged<MedicationRequest>(
        {
          resourceType: 'MedicationRequest',
          extension: [{ url: `${SD}/erx-type`, valueCode: code.slice(-1) }, ...child],
          identifier: [{ system: `${ERX_CODE_SYSTEM}/item`, value: `${code}/${item.index + 1}` }],
          status: 'active',
          intent: 'order',
          category: [
            {
              coding: [
                { system: 'http://terminology.hl7.org/CodeSystem/medicationrequest-category', code: 'outpatient' },
              ],
            },
          ],
          medicationCodeableConcept: {
            coding: [{ system: CATALOG_URLS.drugs, version: item.version, code: item.code, display: item.name }],
            text: `${item.name} (${item.ingredients.join(' + ')})`,
          },
          subject: { reference: `Patient/${ctx.patientId}` },
          encounter: { reference: `Encounter/${ctx.encounter.id}` },
          authoredOn: nowIso,
          ...(ctx.practitioner ? { requester: ctx.practitioner } : {}),
          ...(facts.mainConditions.length > 0
            ? { reasonReference: facts.mainConditions.map((reference) => ({ reference })) }
            : {}),
          groupIdentifier: { system: ERX_CODE_SYSTEM, value: code },
          dosageInstruction: [
            {
              sequence: 1,
              text,
              ...(item.instructions ? { patientInstruction: item.instructions } : {}),
              timing: {
                repeat: {
                  frequency: item.timesPerDay,
                  period: 1,
                  periodUnit: 'd',
                  boundsDuration: { value: item.days, unit: 'ngày', system: UCUM, code: 'd' },
                },
              },
              route: { text: item.route },
              doseAndRate: [{ doseQuantity: { value: item.dosePerTime, unit: item.unit } }],
            },
          ],
          dispenseRequest: {
            validityPeriod: { start: nowIso, end: validTo },
            quantity: { value: item.quantity, unit: item.unit },
            expectedSupplyDuration: { value: item.days, unit: 'ngày', system: UCUM, code: 'd' },
          },
          ...((prior ?? opts.replacing?.requests[0])
            ? { priorPrescription: { reference: `MedicationRequest/${(prior ?? opts.replacing?.requests[0])?.id}` } }
            : {}),
          ...(issues.length > 0 ? { detectedIssue: issues.map((d) => ({ reference: `DetectedIssue/${d.id}` })) } : {}),
        },
        ctx,
      );
      allow(call, 'create', mr, ctx.patientId);
      written.push((await deps.router.store.create(mr, q)).resource as MedicationRequest);
    }
    if (opts.replacing) {
      for (const old of opts.replacing.requests) {
        const stopped: MedicationRequest = {
          ...old,
          status: 'stopped',
          statusReason: { text: `Thay thế bởi đơn ${code} / replaced by prescription ${code}` },
          extension: [...(old.extension ?? []), { url: REPLACED_BY_URL, valueString: code }],
        };
        await amending('prescription-status', () => deps.router.store.update(stopped, {}, q));
      }
    }
    return { code, requests: written };
  });
}

function prescribe(deps: ClinicalDeps): FhirOperation {
  return {
    name: 'prescribe',
    resourceTypes: ['Encounter'],
    levels: ['instance'],
    methods: ['POST'],
    access: { action: 'read' },
    async handler(call) {
      const r = await writePrescription(deps, call, { open: true });
      return {
        status: 200,
        body: parametersOf([
          { name: 'prescriptionCode', valueString: r.code },
          ...r.requests.map((m) => ({ name: 'medicationRequest', resource: m })),
        ]),
      };
    },
  };
}

function replacePrescription(deps: ClinicalDeps): FhirOperation {
  return {
    name: 'replace-prescription',
    resourceTypes: ['MedicationRequest'],
    levels: ['type'],
    methods: ['POST'],
    access: { action: 'update' },
    async handler(call) {
      const old = call.input.string('prescriptionCode')?.trim();
      if (!old) {
        throw outcomes.badRequest("Cần mã đơn thuốc cần thay thế / the parameter 'prescriptionCode' is required");
      }
      const db = call.q ?? deps.router.store.db;
      const { rows } = await db.query<{ encounter_id: string; patient_id: string }>(
        'SELECT encounter_id, patient_id FROM erx_code WHERE code = $1',
        [old],
      );
      const row = rows[0];
      const requests = row
        ? (
            await findAll<MedicationRequest>(
              deps,
              'MedicationRequest',
              [['encounter', `Encounter/${row.encounter_id}`]],
              db,
            )
          ).filter((m) => erxCodeOf(m) === old)
        : [];
      if (!row || requests.length === 0) {
        throw outcomes.notFound(`Không có đơn thuốc mã ${old} / no prescription ${old}`);
      }
      for (const m of requests) {
        allow(call, 'update', m, referenceId(m.subject, 'Patient') ?? row.patient_id);
      }
      if (requests.some((m) => m.status !== 'active')) {
        throw outcomes.conflict(
          `Đơn thuốc ${old} đã được thay thế hoặc ngưng / prescription ${old} was already replaced or stopped`,
        );
      }
      const r = await writePrescription(deps, call, {
        encounterId: row.encounter_id,
        open: false,
        replacing: { code: old, requests },
      });
      return {
        status: 200,
        body: parametersOf([
          { name: 'prescriptionCode', valueString: r.code },
          { name: 'replaces', valueString: old },
          ...r.requests.map((m) => ({ name: 'medicationRequest', resource: m })),
        ]),
      };
    },
  };
}

export function prescriptionOperations(deps: ClinicalDeps): FhirOperation[] {
  return [drugSearch(deps), prescribe(deps), replacePrescription(deps)];
}

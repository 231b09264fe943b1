/**
 * Imaging, first part (M6): the worklist of imaging orders (ServiceRequest/$imaging-worklist), the technician marks
 * the exam done (ServiceRequest/{id}/$imaging-done → ImagingStudy), the radiologist writes the findings and the
 * conclusion and signs (ServiceRequest/{id}/$imaging-report → DiagnosticReport, final when signed, with a signature
 * Provenance over its content hash). Orders held by the pay-first rule are refused with 409.
 */
import type {
  Coding,
  DiagnosticReport,
  ImagingStudy,
  Parameters,
  ParametersParameter,
  Patient,
  Practitioner,
  Provenance,
  Reference,
  Resource,
  ServiceRequest,
} from '@medplum/fhirtypes';
import type { Queryable } from '@sen/db';
import { outcomes, referenceId } from '@sen/fhir';
import { searchResources } from '@sen/store';
import type { FhirOperation, OperationCall } from '../../fhir/operations.ts';
import type { FhirRouter } from '../../fhir/router.ts';
import { principalOf } from '../../platform/gate/context.ts';
import { FACILITY_TAG_SYSTEM, type Principal } from '../../platform/gate/gate.ts';
import { awaitingPayment } from '../billing/hold.ts';
import { contentHash, signatureProvenance } from '../clinical/signature.ts';

const SD = 'https://sen.health.vn/fhir/StructureDefinition';
export const ORDER_CATEGORY_SYSTEM = 'https://sen.health.vn/fhir/CodeSystem/order-category';
export const FINDINGS_URL = `${SD}/imaging-findings`;
const V2_0074 = 'http://terminology.hl7.org/CodeSystem/v2-0074';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';

export const AWAITING_PAYMENT = 'Chờ thanh toán / Awaiting payment';

/** Who may mark an exam done, and who may write and sign the report. */
const PERFORMERS = new Set(['radiology-technician', 'radiologist']);
const REPORTERS = new Set(['radiologist']);

export type WorklistState = 'awaiting-payment' | 'scheduled' | 'done' | 'preliminary' | 'final' | 'cancelled';
const STATES: readonly WorklistState[] = ['awaiting-payment', 'scheduled', 'done', 'preliminary', 'final', 'cancelled'];
const PRIORITY_RANK: Record<string, number> = { stat: 0, asap: 1, urgent: 2, routine: 3 };

type Staff = Extract<Principal, { kind: 'staff' }>;

function staffOf(call: OperationCall): Staff | undefined {
  const p = principalOf(call.req.access);
  return p?.kind === 'staff' ? p : undefined;
}

async function findAll<T extends Resource>(
  router: FhirRouter,
  type: string,
  query: [string, string][],
  q: Queryable,
): Promise<T[]> {
  return searchResources<T>(router.store, type, query, q);
}

function isImaging(sr: ServiceRequest): boolean {
  return (sr.category ?? []).some((c) =>
    (c.coding ?? []).some(
      (x) =>
        (x.system === ORDER_CATEGORY_SYSTEM && x.code === 'imaging') ||
        (x.system === 'http://snomed.info/sct' && x.code === '363679005'),
    ),
  );
}

function facilityTags(r: Resource): Coding[] {
  return (r.meta?.tag ?? []).filter((t) => t.system === FACILITY_TAG_SYSTEM);
}

function withTags<T extends Resource>(r: T, from: Resource): T {
  const tags = facilityTags(from);
  return tags.length > 0 ? { ...r, meta: { ...(r.meta ?? {}), tag: tags } } : r;
}

/** The DICOM modality of an imaging service, from its name (the technician may give another). */
export function modalityOf(name: string): Coding {
  const n = name.toLowerCase();
  const m = /cắt lớp|\bct\b/.test(n)
    ? ['CT', 'Computed Tomography']
    : /cộng hưởng từ|\bmri?\b/.test(n)
      ? ['MR', 'Magnetic Resonance']
      : /siêu âm/.test(n)
        ? ['US', 'Ultrasound']
        : /nội soi/.test(n)
          ? ['ES', 'Endoscopy']
          : ['DX', 'Digital Radiography'];
  return { system: DCM, code: m[0], display: m[1] };
}

const MODALITIES = new Set(['CR', 'CT', 'DX', 'ES', 'MG', 'MR', 'NM', 'OT', 'PT', 'RF', 'US', 'XA']);

interface OrderFacts {
  order: ServiceRequest;
  patientId: string;
  study?: ImagingStudy;
  report?: DiagnosticReport;
}

async function factsOf(router: FhirRouter, order: ServiceRequest, q: Queryable): Promise<OrderFacts> {
  const ref = `ServiceRequest/${order.id}`;
  const studies = (await findAll<ImagingStudy>(router, 'ImagingStudy', [['basedon', ref]], q)).filter(
    (s) => s.status !== 'entered-in-error' && s.status !== 'cancelled',
  );
  const reports = (await findAll<DiagnosticReport>(router, 'DiagnosticReport', [['based-on', ref]], q)).filter(
    (r) => r.status !== 'entered-in-error' && r.status !== 'cancelled',
  );
  return { order, patientId: referenceId(order.subject, 'Patient') ?? '', study: studies[0], report: reports[0] };
}

export function stateOf(f: OrderFacts, held: boolean): WorklistState {
  if (f.order.status === 'revoked' || f.order.status === 'entered-in-error') {
    return 'cancelled';
  }
  if (f.report?.status === 'final' || f.report?.status === 'amended' || f.report?.status === 'corrected') {
    return 'final';
  }
  if (f.report) {
    return 'preliminary';
  }
  if (f.study) {
    return 'done';
  }
  return held ? 'awaiting-payment' : 'scheduled';
}

/** An instance-level call's order (the router has checked the declared access on it), imaging only. */
async function loadOrder(router: FhirRouter, call: OperationCall, q: Queryable): Promise<OrderFacts> {
  if (!call.id) {
    throw outcomes.badRequest('Gọi trên một chỉ định: ServiceRequest/{id}/$… / call this on a ServiceRequest');
  }
  const order = JSON.parse((await router.store.read('ServiceRequest', call.id, q)).content as string) as ServiceRequest;
  if (!isImaging(order)) {
    throw outcomes.unprocessable('Chỉ định này không phải chẩn đoán hình ảnh / this order is not an imaging order');
  }
  const facts = await factsOf(router, order, q);
  if (!facts.patientId) {
    throw outcomes.unprocessable('Chỉ định chưa gắn người bệnh / the order has no Patient subject');
  }
  return facts;
}

function requireRole(call: OperationCall, roles: Set<string>, text: string): Staff | undefined {
  const staff = staffOf(call);
  if (call.req.access && staff && !staff.roles.some((r) => roles.has(r))) {
    throw outcomes.forbidden(text);
  }
  return staff;
}

function inTransaction<T>(router: FhirRouter, call: OperationCall, fn: (q: Queryable) => Promise<T>): Promise<T> {
  return call.q ? fn(call.q) : router.store.transaction(fn);
}

function parametersOf(parameter: ParametersParameter[]): Parameters {
  return { resourceType: 'Parameters', parameter };
}

/** ServiceRequest/$imaging-worklist [state, performer, _count]: the imaging orders to my department. */
function worklist(router: FhirRouter): FhirOperation {
  return {
    name: 'imaging-worklist',
    resourceTypes: ['ServiceRequest'],
    levels: ['type'],
    methods: ['GET', 'POST'],
    access: { action: 'search' },
    async handler(call) {
      const q = call.q ?? router.store.db;
      const wanted = (call.input.string('state') ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      for (const s of wanted) {
        if (!(STATES as readonly string[]).includes(s)) {
          throw outcomes.badRequest(`'state' phải là ${STATES.join(' | ')} / must be one of ${STATES.join(', ')}`);
        }
      }
      const count = Math.min(call.input.integer('_count') ?? call.input.integer('count') ?? 100, 500);
      const staff = staffOf(call);
      const performer = call.input.string('performer')?.replace(/^Organization\//, '');
      const performers = performer ? [performer] : (staff?.departmentIds ?? []);
      const query: [string, string][] = [
        ['category', `${ORDER_CATEGORY_SYSTEM}|imaging`],
        ['status', 'active,completed'],
        ['_sort', 'authored'],
      ];
      if (performers.length > 0) {
        query.push(['performer', performers.map((p) => `Organization/${p}`).join(',')]);
      }
      const orders = await findAll<ServiceRequest>(router, 'ServiceRequest', query, q);
      const facts: OrderFacts[] = [];
      for (const o of orders) {
        const patientId = referenceId(o.subject, 'Patient');
        call.req.access?.check('read', 'ServiceRequest', o, patientId ? [patientId] : []);
        facts.push(await factsOf(router, o, q));
      }
      const open = facts.filter((f) => !f.study).map((f) => f.order);
      const held = await awaitingPayment(router, open, q);
      const items = facts
        .map((f) => ({ f, state: stateOf(f, held.has(f.order.id as string)) }))
        .filter((x) => wanted.length === 0 || wanted.includes(x.state))
        .sort(
          (a, b) =>
            Number(a.state === 'final') - Number(b.state === 'final') ||
            (PRIORITY_RANK[a.f.order.priority ?? 'routine'] ?? 3) -
              (PRIORITY_RANK[b.f.order.priority ?? 'routine'] ?? 3) ||
            (a.f.order.authoredOn ?? '').localeCompare(b.f.order.authoredOn ?? ''),
        )
        .slice(0, count);
      const patients = new Map<string, Patient>();
      const out: ParametersParameter[] = [];
      for (const { f, state } of items) {
        let patient = patients.get(f.patientId);
        if (!patient && f.patientId) {
          patient = JSON.parse((await router.store.read('Patient', f.patientId, q)).content as string) as Patient;
          call.req.access?.check('read', 'Patient', patient, [f.patientId]);
          patients.set(f.patientId, patient);
        }
        if (f.study) {
          call.req.access?.check('read', 'ImagingStudy', f.study, [f.patientId]);
        }
        if (f.report) {
          call.req.access?.check('read', 'DiagnosticReport', f.report, [f.patientId]);
        }
        out.push({
          name: 'item',
          part: [
            { name: 'order', resource: f.order },
            ...(patient ? [{ name: 'patient', resource: patient }] : []),
            { name: 'state', valueCode: state },
            { name: 'awaitingPayment', valueBoolean: state === 'awaiting-payment' },
            ...(f.study ? [{ name: 'study', resource: f.study }] : []),
            ...(f.report ? [{ name: 'report', resource: f.report }] : []),
          ],
        });
      }
      return { status: 200, body: parametersOf(out) };
    },
  };
}

/** ServiceRequest/{id}/$imaging-done [modality, note]: the exam was performed → ImagingStudy (available). */
function markDone(router: FhirRouter): FhirOperation {
  return {
    name: 'imaging-done',
    resourceTypes: ['ServiceRequest'],
    levels: ['instance'],
    methods: ['POST'],
    access: { action: 'read' },
    async handler(call) {
      const staff = requireRole(
        call,
        PERFORMERS,
        'Chỉ kỹ thuật viên hoặc bác sĩ chẩn đoán hình ảnh xác nhận đã chụp / only imaging staff may mark an exam done',
      );
      const modalityIn = call.input.string('modality')?.trim().toUpperCase();
      if (modalityIn && !MODALITIES.has(modalityIn)) {
        throw outcomes.badRequest(
          `'modality' phải là mã DICOM (${[...MODALITIES].join(', ')}) / must be a DICOM modality`,
        );
      }
      const note = call.input.string('note')?.trim();
      const study = await inTransaction(router, call, async (q) => {
        const f = await loadOrder(router, call, q);
        if (f.order.status !== 'active') {
          throw outcomes.conflict(
            `Chỉ định ở trạng thái ${f.order.status}: không thực hiện được / the order is ${f.order.status}`,
          );
        }
        if (f.study) {
          throw outcomes.conflict('Ca chụp này đã được xác nhận thực hiện / the exam is already marked done');
        }
        if ((await awaitingPayment(router, [f.order], q)).has(f.order.id as string)) {
          throw outcomes.conflict(
            `${AWAITING_PAYMENT}: người bệnh chưa thanh toán chỉ định này / the patient has not paid for this order yet`,
          );
        }
        const name = f.order.code?.text ?? f.order.code?.coding?.[0]?.display ?? '';
        const modality = modalityIn ? { system: DCM, code: modalityIn } : modalityOf(name);
        const now = new Date().toISOString();
        const s = withTags<ImagingStudy>(
          {
            resourceType: 'ImagingStudy',
            status: 'available',
            modality: [modality],
            subject: { reference: `Patient/${f.patientId}` },
            ...(f.order.encounter ? { encounter: f.order.encounter } : {}),
            started: now,
            basedOn: [{ reference: `ServiceRequest/${f.order.id}` }],
            ...(f.order.requester?.reference?.startsWith('Practitioner')
              ? { referrer: { reference: f.order.requester.reference } }
              : {}),
            ...(f.order.code?.coding ? { procedureCode: [{ coding: f.order.code.coding, text: name }] } : {}),
            description: name,
            ...(note
              ? {
                  note: [
                    {
                      text: note,
                      time: now,
                      ...(staff?.practitionerId
                        ? { authorReference: { reference: `Practitioner/${staff.practitionerId}` } }
                        : {}),
                    },
                  ],
                }
              : {}),
            numberOfSeries: 0,
            numberOfInstances: 0,
          },
          f.order,
        );
        call.req.access?.check('create', 'ImagingStudy', s, [f.patientId]);
        return (await router.store.create(s, q)).resource as ImagingStudy;
      });
      return { status: 200, body: study };
    },
  };
}

/** ServiceRequest/{id}/$imaging-report findings, conclusion [sign]: the radiologist's report, signed when sign=true. */
function report(router: FhirRouter): FhirOperation {
  return {
    name: 'imaging-report',
    resourceTypes: ['ServiceRequest'],
    levels: ['instance'],
    methods: ['POST'],
    access: { action: 'read' },
    async handler(call) {
      const staff = requireRole(
        call,
        REPORTERS,
        'Chỉ bác sĩ chẩn đoán hình ảnh được viết và ký kết quả / only a radiologist may write and sign the report',
      );
      const findings = call.input.string('findings')?.trim() ?? '';
      const conclusion = call.input.string('conclusion')?.trim() ?? '';
      const sign = call.input.boolean('sign') ?? false;
      if (!findings && !conclusion) {
        throw outcomes.badRequest("Chưa có mô tả hay kết luận / give 'findings' or 'conclusion'");
      }
      if (findings.length > 20_000 || conclusion.length > 5_000) {
        throw outcomes.badRequest('Kết quả quá dài / the report is too long');
      }
      if (sign && (!findings || !conclusion)) {
        throw outcomes.unprocessable(
          'Cần cả mô tả và kết luận trước khi ký / findings and conclusion are both needed to sign',
        );
      }
      const result = await inTransaction(router, call, async (q) => {
        const f = await loadOrder(router, call, q);
        if (!f.study) {
          throw outcomes.conflict(
            'Ca chụp chưa được thực hiện: chưa viết kết quả được / the exam has not been done yet',
          );
        }
        if (f.report && f.report.status !== 'preliminary' && f.report.status !== 'registered') {
          throw outcomes.conflict('Kết quả đã ký: không sửa được / the report is signed and cannot be changed');
        }
        const now = new Date().toISOString();
        const interpreter: Reference<Practitioner> | undefined = staff?.practitionerId
          ? { reference: `Practitioner/${staff.practitionerId}` }
          : undefined;
        const draft = withTags<DiagnosticReport>(
          {
            ...(f.report ?? {}),
            resourceType: 'DiagnosticReport',
            ...(findings ? { extension: [{ url: FINDINGS_URL, valueString: findings }] } : {}),
            basedOn: [{ reference: `ServiceRequest/${f.order.id}` }],
            status: sign ? 'final' : 'preliminary',
            category: [{ coding: [{ system: V2_0074, code: 'RAD', display: 'Radiology' }] }],
            code: f.order.code ?? { text: 'Chẩn đoán hình ảnh' },
            subject: { reference: `Patient/${f.patientId}` },
            ...(f.order.encounter ? { encounter: f.order.encounter } : {}),
            effectiveDateTime: f.study.started ?? now,
            ...(sign ? { issued: now } : {}),
            performer: (f.order.performer ?? [])
              .filter((r) => /^(Organization|Practitioner)\//.test(r.reference ?? ''))
              .map((r) => ({ reference: r.reference, display: r.display })),
            ...(interpreter ? { resultsInterpreter: [interpreter] } : {}),
            imagingStudy: [{ reference: `ImagingStudy/${f.study.id}` }],
            ...(conclusion ? { conclusion } : {}),
            ...(findings
              ? {
                  presentedForm: [
                    {
                      contentType: 'text/plain; charset=utf-8',
                      language: 'vi',
                      // the findings as text (the chart shows them above the conclusion)
                      title: 'Mô tả / Findings',
                      data: Buffer.from(findings, 'utf8').toString('base64'),
                      creation: now,
                    },
                  ],
                }
              : {}),
          },
          f.order,
        );
        if (!conclusion) {
          delete draft.conclusion;
        }
        if (!findings) {
          delete draft.presentedForm;
          delete draft.extension;
        }
        if (draft.performer?.length === 0) {
          delete draft.performer;
        }
        let saved: DiagnosticReport;
        if (f.report) {
          call.req.access?.check('update', 'DiagnosticReport', draft, [f.patientId]);
          saved = (await router.store.update(draft, {}, q)).resource as DiagnosticReport;
        } else {
          call.req.access?.check('create', 'DiagnosticReport', draft, [f.patientId]);
          saved = (await router.store.create(draft, q)).resource as DiagnosticReport;
        }
        if (!sign) {
          return { report: saved };
        }
        const done: ServiceRequest = { ...f.order, status: 'completed' };
        call.req.access?.check('update', 'ServiceRequest', done, [f.patientId]);
        const order = (await router.store.update(done, {}, q)).resource as ServiceRequest;
        const signed = [saved, f.study];
        const hash = contentHash(signed);
        const signer: Reference<Practitioner> = interpreter ?? { display: 'Sen' };
        const provenance = withTags<Provenance>(
          signatureProvenance({
            signed,
            hash,
            signer,
            role: 'radiologist',
            activity: 'Ký kết quả chẩn đoán hình ảnh',
            now,
          }),
          f.order,
        );
        call.req.access?.check('create', 'Provenance', provenance, [f.patientId]);
        const prov = (await router.store.create(provenance, q)).resource as Provenance;
        return { report: saved, provenance: prov, order, hash };
      });
      return {
        status: 200,
        body: parametersOf([
          { name: 'report', resource: result.report },
          ...(result.order ? [{ name: 'order', resource: result.order }] : []),
          ...(result.provenance ? [{ name: 'provenance', resource: result.provenance }] : []),
          ...(result.hash ? [{ name: 'contentHash', valueString: `sha256:${result.hash}` }] : []),
        ]),
      };
    },
  };
}

export function imagingOperations(router: FhirRouter): FhirOperation[] {
  return [worklist(router), markDone(router), report(router)];
}

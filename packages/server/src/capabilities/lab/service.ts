/**
 * The laboratory workflow (M5) on FHIR resources: the ServiceRequest carries the lab status (extension
 * `lab-status`), the Specimen its barcode and collection/receipt times, Observations the results and one
 * DiagnosticReport per order groups them (contract 5). A critical value sends a Communication (category `alert`) to
 * the ordering doctor; acknowledging it records who and when. Every resource read or written is checked with the
 * caller's access context; writes of one step happen in one transaction.
 */
import { randomUUID } from 'node:crypto';
import type {
  Bundle,
  BundleEntry,
  Communication,
  DiagnosticReport,
  Encounter,
  Observation,
  Patient,
  Practitioner,
  Reference,
  Resource,
  ServiceRequest,
  Specimen,
} from '@medplum/fhirtypes';
import type { Queryable } from '@sen/db';
import { outcomes, parseSearchRequest, referenceId } from '@sen/fhir';
import { searchRows } from '@sen/store';
import { vietnamDay } from '@sen/vn';
import type { FhirRouter } from '../../fhir/router.ts';
import type { AccessAction, AccessContext } from '../../fhir/types.ts';
import type { StaffRole } from '../../platform/auth/roles.ts';
import { principalOf } from '../../platform/gate/context.ts';
import { FACILITY_TAG_SYSTEM } from '../../platform/gate/gate.ts';
import { awaitingPayment } from '../billing/hold.ts';
import { CATALOG_URLS } from '../terminology/kinds.ts';
import { TerminologyService } from '../terminology/service.ts';
import type { Indicator, LabCatalog } from './catalog.ts';
import {
  ageInYears,
  ALERT_ACK_URL,
  AWAITING_PAYMENT_URL,
  barcodeOf,
  barcodeValid,
  COMMUNICATION_CATEGORY,
  CRITICAL_REASON,
  ext,
  type Flag,
  flagOf,
  interpretationOf,
  isCritical,
  LAB_STATUS_VI,
  LAB_VERIFIED_URL,
  type LabStatus,
  labStatusOf,
  LOINC,
  parseNumber,
  pickRange,
  priorityRank,
  SPECIMEN_BARCODE_SYSTEM,
  ucumOf,
  V2_0074,
  withLabStatus,
} from './model.ts';

const LAB_CATEGORY = { system: 'http://snomed.info/sct', code: '108252007' };
const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';

/** Who verifies results (the technician; the department head stands in). */
export const VERIFIER_ROLES: readonly StaffRole[] = ['lab-technician', 'department-head'];
/** Who acknowledges a critical-value alert (the clinicians caring for the patient). */
export const ACK_ROLES: readonly StaffRole[] = ['doctor', 'nurse', 'department-head'];
/** Who signs the report off (an authorised doctor). */
export const SIGNER_ROLES: readonly StaffRole[] = ['doctor', 'department-head'];

/** A result as typed or sent by an analyzer. */
export interface ResultInput {
  code: string;
  system?: string;
  value: string;
  unit?: string;
  abnormalFlag?: string;
  observedAt?: string;
}

/** A result that does not fit the order (the operation answers 400, the analyzer import its own error code). */
export class LabInputError extends Error {
  constructor(
    readonly kind: 'unknown-test' | 'invalid-value',
    message: string,
  ) {
    super(message);
  }
}

export interface EnteredResults {
  report: DiagnosticReport;
  observations: Observation[];
  alerts: Communication[];
  critical: boolean;
  status: LabStatus;
}

export interface WorklistFilter {
  statuses?: readonly LabStatus[];
  priority?: string;
  /** The clinic room (Location id) of the visit the order was made in. */
  room?: string;
  /** Orders authored from … to (YYYY-MM-DD, Vietnam days, inclusive); default today. */
  from?: string;
  to?: string;
}

export interface FormRow {
  indicator: Indicator;
  range?: { low?: number; high?: number; text?: string };
  observation?: Observation;
}

interface OrderContext {
  sr: ServiceRequest;
  version: number;
  patientId: string;
  serviceCode: string;
}

const PAGE = 1000;

/** A refusal by the gate or a missing resource (a list leaves such rows out; other errors are real). */
function refused(err: unknown): boolean {
  const s = (err as { status?: number }).status;
  return s === 403 || s === 404 || s === 410;
}

function statusOf(err: unknown): number | undefined {
  return (err as { status?: number }).status;
}

function facilityTags(r: Resource): { system: string; code: string }[] {
  return (r.meta?.tag ?? [])
    .filter((t) => t.system === FACILITY_TAG_SYSTEM && t.code)
    .map((t) => ({ system: FACILITY_TAG_SYSTEM, code: t.code as string }));
}

function tagged<T extends Resource>(r: T, tags: { system: string; code: string }[]): T {
  return tags.length === 0 ? r : { ...r, meta: { ...(r.meta ?? {}), tag: tags } };
}

export function isLabOrder(sr: ServiceRequest): boolean {
  return (sr.category ?? []).some((c) =>
    (c.coding ?? []).some((x) => x.system === LAB_CATEGORY.system && x.code === LAB_CATEGORY.code),
  );
}

export function serviceCodeOf(sr: ServiceRequest): string | undefined {
  return sr.code?.coding?.find((c) => c.system === CATALOG_URLS.services)?.code;
}

/** The coded indicator of an Observation (catalog code). */
export function indicatorCodeOf(o: Observation): string | undefined {
  return o.code.coding?.find((c) => c.system === CATALOG_URLS.labIndicators)?.code;
}

export class LabService {
  private readonly now: () => Date;

  constructor(
    readonly router: FhirRouter,
    readonly catalog: LabCatalog,
    readonly terminology: TerminologyService,
    options: { now?: () => Date } = {},
  ) {
    this.now = options.now ?? ((): Date => new Date());
  }

  private get store(): FhirRouter['store'] {
    return this.router.store;
  }

  run<T>(q: Queryable | undefined, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return q ? fn(q) : this.store.transaction(fn);
  }

  /** A resource the caller may read; 404 with a readable text when unknown or deleted. */
  async readChecked<T extends Resource>(
    q: Queryable,
    type: string,
    id: string,
    access: AccessContext | undefined,
    what: string,
  ): Promise<{ resource: T; version: number; patientIds: string[] }> {
    try {
      const s = await this.store.readWithCompartment(type, id, q);
      const resource = JSON.parse(s.content as string) as T;
      access?.check('read', type, resource, s.patientIds);
      return { resource, version: s.version, patientIds: s.patientIds };
    } catch (err) {
      if (statusOf(err) === 404 || statusOf(err) === 410) {
        throw outcomes.notFound(`Không tìm thấy ${what} ${type}/${id} / ${type}/${id} not found`);
      }
      throw err;
    }
  }

  /** Every match of a search, server side (the caller's access is checked on each resource used). */
  async find<T extends Resource>(q: Queryable, type: string, query: [string, string][]): Promise<T[]> {
    const out: T[] = [];
    // pages of 1000 (a big hospital's lab takes more orders than that a day), at most 20 000
    for (let offset = 0; offset < 20_000; offset += PAGE) {
      const req = parseSearchRequest(type, [...query, ['_count', String(PAGE)], ['_offset', String(offset)]]);
      const res = await searchRows(this.store, req, q);
      out.push(...res.rows.map((r) => JSON.parse(r.content) as T));
      if (!res.next) {
        break;
      }
    }
    return out;
  }

  private check(access: AccessContext | undefined, action: AccessAction, r: Resource, patientId: string): void {
    access?.check(action, r.resourceType, r, [patientId]);
  }

  private async create<T extends Resource>(
    q: Queryable,
    r: T,
    access: AccessContext | undefined,
    patientId: string,
    id?: string,
  ): Promise<T> {
    this.check(access, 'create', r, patientId);
    return (await this.store.create(r, q, id)).resource as T;
  }

  private async update<T extends Resource>(
    q: Queryable,
    r: T,
    access: AccessContext | undefined,
    patientId: string,
    ifMatch?: number,
  ): Promise<T> {
    this.check(access, 'update', r, patientId);
    try {
      return (await this.store.update(r, ifMatch === undefined ? {} : { ifMatch }, q)).resource as T;
    } catch (err) {
      if (statusOf(err) === 412) {
        throw outcomes.conflict(
          'Chỉ định đang được người khác cập nhật, hãy tải lại / the order is being updated by someone else; reload',
        );
      }
      throw err;
    }
  }

  private who(access: AccessContext | undefined): {
    practitioner?: Reference<Practitioner>;
    roles: readonly StaffRole[];
  } {
    const p = principalOf(access);
    if (p?.kind === 'staff') {
      return {
        practitioner: p.practitionerId ? { reference: `Practitioner/${p.practitionerId}` } : undefined,
        roles: p.roles,
      };
    }
    return { roles: [] };
  }

  private requireRole(access: AccessContext | undefined, roles: readonly StaffRole[], what: string): void {
    const p = principalOf(access);
    if (p?.kind === 'patient' || (p?.kind === 'staff' && !p.roles.some((r) => roles.includes(r)))) {
      throw outcomes.forbidden(`${what}: chỉ ${roles.join(', ')} / only ${roles.join(', ')} may do this`);
    }
  }

  /** A lab order the caller may read. */
  async order(q: Queryable, id: string, access: AccessContext | undefined): Promise<OrderContext> {
    const { resource: sr, version } = await this.readChecked<ServiceRequest>(
      q,
      'ServiceRequest',
      id,
      access,
      'chỉ định',
    );
    if (!isLabOrder(sr)) {
      throw outcomes.unprocessable(
        `ServiceRequest/${id} không phải chỉ định xét nghiệm / ServiceRequest/${id} is not a laboratory order`,
      );
    }
    const patientId = referenceId(sr.subject, 'Patient');
    if (!patientId) {
      throw outcomes.unprocessable('Chỉ định chưa gắn với người bệnh / the order has no Patient subject');
    }
    const serviceCode = serviceCodeOf(sr);
    if (!serviceCode) {
      throw outcomes.unprocessable('Chỉ định không có mã dịch vụ của danh mục / the order has no catalog service code');
    }
    if (sr.status === 'revoked' || sr.status === 'entered-in-error') {
      throw outcomes.conflict(`Chỉ định đã huỷ (${sr.status}) / the order was cancelled (${sr.status})`);
    }
    return { sr, version, patientId, serviceCode };
  }

  /** The order's specimen (ServiceRequest.specimen, set at collection; R4 has no Specimen `request` search). */
  private async specimenOf(q: Queryable, sr: ServiceRequest): Promise<Specimen | undefined> {
    for (const ref of sr.specimen ?? []) {
      const id = referenceId(ref, 'Specimen');
      if (id) {
        try {
          const s = JSON.parse((await this.store.read('Specimen', id, q)).content as string) as Specimen;
          if (s.status !== 'entered-in-error') {
            return s;
          }
        } catch (err) {
          if (statusOf(err) !== 404 && statusOf(err) !== 410) {
            throw err;
          }
        }
      }
    }
    return undefined;
  }

  private async reportOf(
    q: Queryable,
    srId: string,
  ): Promise<{ report: DiagnosticReport; version: number } | undefined> {
    const list = await this.find<DiagnosticReport>(q, 'DiagnosticReport', [['based-on', `ServiceRequest/${srId}`]]);
    const report = list.find((r) => r.status !== 'entered-in-error' && r.status !== 'cancelled');
    if (!report?.id) {
      return undefined;
    }
    const s = await this.store.read('DiagnosticReport', report.id, q);
    return { report: JSON.parse(s.content as string) as DiagnosticReport, version: s.version };
  }

  private async setStatus(
    q: Queryable,
    ctx: OrderContext,
    status: LabStatus,
    access: AccessContext | undefined,
    change: (sr: ServiceRequest) => ServiceRequest = (sr): ServiceRequest => sr,
  ): Promise<ServiceRequest> {
    const next = change(withLabStatus(ctx.sr, status));
    const written = await this.update(q, next, access, ctx.patientId, ctx.version);
    ctx.sr = written;
    ctx.version = Number(written.meta?.versionId ?? ctx.version + 1);
    return written;
  }

  // ---------------------------------------------------------------- worklist

  async worklist(access: AccessContext | undefined, filter: WorklistFilter, q?: Queryable): Promise<Bundle> {
    const db = q ?? this.store.db;
    const principal = principalOf(access);
    const facility =
      principal?.kind === 'staff'
        ? principal.facilityId
        : principal?.kind === 'system'
          ? principal.facilityId
          : undefined;
    const from = filter.from ?? vietnamDay(this.now());
    const to = filter.to ?? from;
    // authoredOn is an instant; the Vietnam day runs from 00:00+07:00
    const query: [string, string][] = [
      ['category', `${LAB_CATEGORY.system}|${LAB_CATEGORY.code}`],
      ['status', 'active,completed'],
      ['authored', `ge${from}T00:00:00+07:00`],
      ['authored', `le${to}T23:59:59+07:00`],
    ];
    if (facility) {
      query.push(['_tag', `${FACILITY_TAG_SYSTEM}|${facility}`]);
    }
    if (filter.priority) {
      query.push(['priority', filter.priority]);
    }
    const allowed = (r: Resource, patientIds: string[]): boolean => {
      try {
        access?.check('read', r.resourceType, r, patientIds);
        return true;
      } catch (err) {
        if (refused(err)) {
          return false;
        }
        throw err;
      }
    };
    let orders = (await this.find<ServiceRequest>(db, 'ServiceRequest', query)).filter((sr) => {
      const pid = referenceId(sr.subject, 'Patient');
      return pid !== undefined && allowed(sr, [pid]);
    });
    if (filter.statuses && filter.statuses.length > 0) {
      const want = new Set(filter.statuses);
      orders = orders.filter((sr) => want.has(labStatusOf(sr)));
    }
    const encounterIds = [
      ...new Set(orders.map((sr) => referenceId(sr.encounter, 'Encounter')).filter((x) => x !== undefined)),
    ];
    const encounters = new Map<string, Encounter>();
    for (const id of encounterIds) {
      try {
        const e = await this.readChecked<Encounter>(db, 'Encounter', id, access, 'lượt khám');
        encounters.set(id, e.resource);
      } catch (err) {
        if (!refused(err)) {
          throw err;
        }
        // not visible to the caller: the row shows no room
      }
    }
    if (filter.room) {
      const room = filter.room;
      orders = orders.filter((sr) => {
        const e = encounters.get(referenceId(sr.encounter, 'Encounter') ?? '');
        return (e?.location ?? []).some((l) => referenceId(l.location, 'Location') === room);
      });
    }
    orders.sort(
      (a, b) =>
        priorityRank(a.priority) - priorityRank(b.priority) || (a.authoredOn ?? '').localeCompare(b.authoredOn ?? ''),
    );
    // only orders not started yet can be held (collection is where payment is checked)
    const waiting = orders.filter((sr) => labStatusOf(sr) === 'ordered');
    const held = waiting.length > 0 ? await awaitingPayment(this.router, waiting, q) : new Set<string>();
    const patients = new Map<string, Patient>();
    const included: Resource[] = [];
    for (const pid of new Set(orders.map((sr) => referenceId(sr.subject, 'Patient') as string))) {
      try {
        const p = await this.readChecked<Patient>(db, 'Patient', pid, access, 'người bệnh');
        patients.set(pid, p.resource);
        included.push(p.resource);
      } catch (err) {
        if (!refused(err)) {
          throw err;
        }
        // not visible: the row shows the reference only
      }
    }
    for (const sr of orders) {
      const s = await this.specimenOf(db, sr);
      if (s && allowed(s, [referenceId(s.subject, 'Patient') ?? ''])) {
        included.push(s);
      }
    }
    const ids = orders.map((sr) => `ServiceRequest/${sr.id ?? ''}`);
    for (let i = 0; i < ids.length; i += 50) {
      const chunk = ids.slice(i, i + 50).join(',');
      for (const r of await this.find<DiagnosticReport>(db, 'DiagnosticReport', [['based-on', chunk]])) {
        if (allowed(r, [referenceId(r.subject, 'Patient') ?? ''])) {
          included.push(r);
        }
      }
    }
    included.push(...encounters.values());
    const base = this.router.options.baseUrl;
    const entry: BundleEntry[] = [
      ...orders.map((sr) => ({
        fullUrl: `${base}/ServiceRequest/${sr.id ?? ''}`,
        resource: held.has(sr.id ?? '')
          ? { ...sr, extension: [...(sr.extension ?? []), { url: AWAITING_PAYMENT_URL, valueBoolean: true }] }
          : sr,
        search: { mode: 'match' as const },
      })),
      ...included.map((r) => ({
        fullUrl: `${base}/${r.resourceType}/${r.id ?? ''}`,
        resource: r,
        search: { mode: 'include' as const },
      })),
    ];
    return { resourceType: 'Bundle', type: 'searchset', total: orders.length, entry };
  }

  // ---------------------------------------------------------------- specimen

  private async nextBarcode(q: Queryable): Promise<string> {
    const day = vietnamDay(this.now());
    const { rows } = await q.query<{ last_number: number }>(
      `INSERT INTO lab_barcode_counter (day, last_number) VALUES ($1::date, 1)
       ON CONFLICT (day) DO UPDATE SET last_number = lab_barcode_counter.last_number + 1
       RETURNING last_number`,
      [day],
    );
    return barcodeOf(day, Number(rows[0].last_number));
  }

  private async specimenKind(
    serviceCode: string,
    q: Queryable,
  ): Promise<{ code: string; display: string; container: string }> {
    // the transaction's connection (PGlite has one)
    const terms = new TerminologyService(q, { cacheMs: 0 });
    const version = await terms.resolve(CATALOG_URLS.services);
    const concept = await terms.concept(version, serviceCode);
    const group = String(concept?.property?.find((p) => p.code === 'group')?.valueString ?? '');
    const name = (concept?.display ?? '').toLowerCase();
    if (name.includes('nước tiểu')) {
      return { code: '122575003', display: 'Urine specimen', container: 'Lọ nước tiểu / urine cup' };
    }
    if (/huyết học/i.test(group)) {
      return { code: '119297000', display: 'Blood specimen', container: 'Ống EDTA (nắp tím) / EDTA tube (lavender)' };
    }
    return { code: '119364003', display: 'Serum specimen', container: 'Ống serum (nắp đỏ) / serum tube (red)' };
  }

  /** Collects the specimen of an order: a new unique barcode, a Specimen, the order's status `collected`. */
  async collect(access: AccessContext | undefined, srId: string, q?: Queryable): Promise<Specimen> {
    return this.run(q, async (tx) => {
      const ctx = await this.order(tx, srId, access);
      const status = labStatusOf(ctx.sr);
      if (status !== 'ordered') {
        throw outcomes.conflict(
          `Đã lấy mẫu cho chỉ định này (${LAB_STATUS_VI[status]}) / the specimen was already collected (${status})`,
        );
      }
      if ((await awaitingPayment(this.router, [ctx.sr], tx)).has(srId)) {
        throw outcomes.conflict(
          'Chờ thanh toán: người bệnh cần đóng tiền trước khi lấy mẫu / Awaiting payment: the order is executed after payment',
        );
      }
      const kind = await this.specimenKind(ctx.serviceCode, tx);
      const barcode = await this.nextBarcode(tx);
      const { practitioner } = this.who(access);
      const now = this.now().toISOString();
      const specimen = await this.create<Specimen>(
        tx,
        tagged<Specimen>(
          {
            resourceType: 'Specimen',
            status: 'available',
            accessionIdentifier: { system: SPECIMEN_BARCODE_SYSTEM, value: barcode },
            type: { coding: [{ system: 'http://snomed.info/sct', code: kind.code, display: kind.display }] },
            subject: { reference: `Patient/${ctx.patientId}` },
            request: [{ reference: `ServiceRequest/${srId}` }],
            collection: { collectedDateTime: now, ...(practitioner ? { collector: practitioner } : {}) },
            container: [{ description: kind.container }],
          },
          facilityTags(ctx.sr),
        ),
        access,
        ctx.patientId,
      );
      await this.setStatus(tx, ctx, 'collected', access, (sr) => ({
        ...sr,
        specimen: [{ reference: `Specimen/${specimen.id ?? ''}` }],
      }));
      return specimen;
    });
  }

  /** The lab receives a specimen by its barcode: receivedTime set, its orders `received`. */
  async receive(
    access: AccessContext | undefined,
    barcode: string,
    q?: Queryable,
  ): Promise<{ specimen: Specimen; orders: ServiceRequest[] }> {
    const code = barcode.trim();
    if (!barcodeValid(code)) {
      throw outcomes.badRequest(
        `Mã vạch '${code}' không hợp lệ (sai định dạng hoặc số kiểm tra) / barcode '${code}' is not valid (format or check digit)`,
      );
    }
    return this.run(q, async (tx) => {
      const specimen = await this.specimenByBarcode(tx, code, access);
      if (!specimen) {
        throw outcomes.notFound(`Không có mẫu mã vạch ${code} / no specimen with barcode ${code}`);
      }
      if (specimen.receivedTime) {
        throw outcomes.conflict(
          `Mẫu ${code} đã được nhận lúc ${specimen.receivedTime} / specimen ${code} was received at ${specimen.receivedTime}`,
        );
      }
      const patientId = referenceId(specimen.subject, 'Patient') ?? '';
      const written = await this.update<Specimen>(
        tx,
        { ...specimen, receivedTime: this.now().toISOString() },
        access,
        patientId,
      );
      const orders: ServiceRequest[] = [];
      for (const r of specimen.request ?? []) {
        const id = referenceId(r, 'ServiceRequest');
        if (!id) {
          continue;
        }
        const ctx = await this.order(tx, id, access);
        if (labStatusOf(ctx.sr) === 'collected') {
          orders.push(await this.setStatus(tx, ctx, 'received', access));
        } else {
          orders.push(ctx.sr);
        }
      }
      return { specimen: written, orders };
    });
  }

  async specimenByBarcode(
    q: Queryable,
    barcode: string,
    access: AccessContext | undefined,
  ): Promise<Specimen | undefined> {
    const found = await this.find<Specimen>(q, 'Specimen', [['accession', `${SPECIMEN_BARCODE_SYSTEM}|${barcode}`]]);
    const s = found.find((x) => x.status !== 'entered-in-error');
    if (s) {
      access?.check('read', 'Specimen', s, [referenceId(s.subject, 'Patient') ?? '']);
    }
    return s;
  }

  // ---------------------------------------------------------------- results

  private async patientFacts(
    q: Queryable,
    patientId: string,
    access: AccessContext | undefined,
  ): Promise<{ sex?: string; age?: number }> {
    const { resource } = await this.readChecked<Patient>(q, 'Patient', patientId, access, 'người bệnh');
    return { sex: resource.gender, age: ageInYears(resource.birthDate, vietnamDay(this.now())) };
  }

  /** The result-entry form of an order: its indicators with unit, the range for this patient and current values. */
  async form(
    access: AccessContext | undefined,
    srId: string,
    q?: Queryable,
  ): Promise<{ order: ServiceRequest; specimen?: Specimen; report?: DiagnosticReport; rows: FormRow[] }> {
    const db = q ?? this.store.db;
    const ctx = await this.order(db, srId, access);
    const indicators = await this.catalog.forService(ctx.serviceCode, q);
    const facts = await this.patientFacts(db, ctx.patientId, access);
    const found = await this.reportOf(db, srId);
    if (found) {
      access?.check('read', 'DiagnosticReport', found.report, [ctx.patientId]);
    }
    const observations = found ? await this.observationsOf(db, found.report, access, ctx.patientId) : [];
    const specimen = await this.specimenOf(db, ctx.sr);
    if (specimen) {
      access?.check('read', 'Specimen', specimen, [ctx.patientId]);
    }
    const rows = indicators.map((indicator) => {
      const range = pickRange(indicator.ranges, facts.sex, facts.age);
      return {
        indicator,
        range: range ? { low: range.low, high: range.high, text: range.text } : undefined,
        observation: observations.find((o) => indicatorCodeOf(o) === indicator.code),
      };
    });
    return { order: ctx.sr, specimen, report: found?.report, rows };
  }

  private async observationsOf(
    q: Queryable,
    report: DiagnosticReport,
    access: AccessContext | undefined,
    patientId: string,
  ): Promise<Observation[]> {
    const out: Observation[] = [];
    for (const r of report.result ?? []) {
      const id = referenceId(r, 'Observation');
      if (id) {
        const s = await this.store.read('Observation', id, q);
        const o = JSON.parse(s.content as string) as Observation;
        access?.check('read', 'Observation', o, [patientId]);
        out.push(o);
      }
    }
    return out;
  }

  /** Matches a result to an indicator of the order (by catalog code or LOINC) and checks its value. */
  static resolve(
    indicators: readonly Indicator[],
    r: ResultInput,
  ): { indicator: Indicator; number?: number; text?: string; observedAt?: string; abnormal?: Flag } {
    const code = r.code.trim();
    const flagText = (r.abnormalFlag ?? '').trim().toUpperCase();
    const abnormal = (['LL', 'L', 'N', 'H', 'HH'] as const).find((f) => f === flagText);
    const system = r.system?.trim();
    const indicator = indicators.find((i) =>
      system === LOINC
        ? i.loinc === code
        : system === CATALOG_URLS.labIndicators
          ? i.code === code
          : !system && (i.code === code || i.loinc === code),
    );
    if (!indicator) {
      throw new LabInputError(
        'unknown-test',
        `Chỉ số '${code}'${system ? ` (${system})` : ''} không thuộc xét nghiệm được chỉ định / indicator '${code}' is not part of the ordered test`,
      );
    }
    const value = (r.value ?? '').trim();
    if (value === '') {
      throw new LabInputError(
        'invalid-value',
        `Chưa nhập giá trị ${indicator.display} / no value for ${indicator.display}`,
      );
    }
    if (r.unit !== undefined && r.unit.trim() !== '' && indicator.unit !== undefined) {
      const u = r.unit.trim();
      if (u !== indicator.unit && ucumOf(indicator.unit) !== u) {
        throw new LabInputError(
          'invalid-value',
          `Đơn vị '${u}' của ${indicator.display} khác đơn vị danh mục '${indicator.unit}' / unit '${u}' differs from the catalog unit '${indicator.unit}'`,
        );
      }
    }
    let observedAt: string | undefined;
    if (r.observedAt !== undefined && r.observedAt !== '') {
      if (!/^\d{4}-\d{2}-\d{2}T/.test(r.observedAt) || Number.isNaN(Date.parse(r.observedAt))) {
        throw new LabInputError(
          'invalid-value',
          `Thời điểm '${r.observedAt}' không hợp lệ / invalid time '${r.observedAt}'`,
        );
      }
      observedAt = new Date(r.observedAt).toISOString();
    }
    const numeric =
      indicator.unit !== undefined || indicator.ranges.some((x) => x.low !== undefined || x.high !== undefined);
    if (numeric) {
      const n = parseNumber(value);
      if (n === undefined) {
        throw new LabInputError(
          'invalid-value',
          `Giá trị '${value}' của ${indicator.display} phải là số / the value of ${indicator.display} must be a number, got '${value}'`,
        );
      }
      if (n < 0) {
        throw new LabInputError(
          'invalid-value',
          `Giá trị ${indicator.display} không được âm / ${indicator.display} cannot be negative`,
        );
      }
      return { indicator, number: n, observedAt, abnormal };
    }
    if (value.length > 200) {
      throw new LabInputError('invalid-value', `Kết quả ${indicator.display} quá dài / result too long`);
    }
    return { indicator, text: value, observedAt, abnormal };
  }

  /**
   * Enters results of an order (manual entry, or an analyzer with `source`): one Observation per indicator (a value
   * entered again replaces the unverified one), the DiagnosticReport (preliminary), flags from the catalog ranges for
   * the patient's sex and age and the critical limits, an alert for each new critical value, and the lab status
   * `in-progress` or `resulted` (every indicator has a value).
   */
  async enterResults(
    access: AccessContext | undefined,
    srId: string,
    results: readonly ResultInput[],
    q?: Queryable,
    source?: { analyzer: string; messageControlId: string },
  ): Promise<EnteredResults> {
    if (results.length === 0) {
      throw new LabInputError('invalid-value', 'Chưa có kết quả nào / no results given');
    }
    return this.run(q, async (tx) => {
      const ctx = await this.order(tx, srId, access);
      let status = labStatusOf(ctx.sr);
      if (status === 'ordered') {
        throw outcomes.conflict('Chưa lấy mẫu cho chỉ định này / no specimen has been collected for this order');
      }
      if (status === 'verified' || status === 'signed') {
        throw outcomes.conflict(
          `Kết quả đã ${status === 'signed' ? 'ký' : 'duyệt'}, không sửa được / the results are already ${status} and cannot be changed`,
        );
      }
      if (status === 'collected' && !source) {
        throw outcomes.conflict(
          'Mẫu chưa được nhận tại khoa xét nghiệm: hãy quét mã vạch nhận mẫu trước / the specimen has not been received in the lab yet',
        );
      }
      const indicators = await this.catalog.forService(ctx.serviceCode, tx);
      if (indicators.length === 0) {
        throw outcomes.unprocessable(
          `Dịch vụ ${ctx.serviceCode} chưa có chỉ số trong danh mục xét nghiệm / service ${ctx.serviceCode} has no indicators in the lab catalog`,
        );
      }
      const resolved = results.map((r) => LabService.resolve(indicators, r));
      const seen = new Set<string>();
      for (const r of resolved) {
        if (seen.has(r.indicator.code)) {
          throw new LabInputError(
            'invalid-value',
            `${r.indicator.display} có hai giá trị / two values for ${r.indicator.display}`,
          );
        }
        seen.add(r.indicator.code);
      }
      const facts = await this.patientFacts(tx, ctx.patientId, access);
      const specimen = await this.specimenOf(tx, ctx.sr);
      const existing = await this.reportOf(tx, srId);
      const before = existing ? await this.observationsOf(tx, existing.report, access, ctx.patientId) : [];
      const { practitioner } = this.who(access);
      const now = this.now().toISOString();
      const tags = facilityTags(ctx.sr);
      const reportId = existing?.report.id ?? randomUUID();
      const written: Observation[] = [];
      const alerts: Communication[] = [];
      let critical = false;
      for (const r of resolved) {
        const ind = r.indicator;
        const range = pickRange(ind.ranges, facts.sex, facts.age);
        let flag: Flag | undefined;
        if (r.number !== undefined) {
          flag = flagOf(r.number, range, ind.critical);
        }
        if (!flag && r.abnormal) {
          flag = r.abnormal;
        }
        const prior = before.find((o) => indicatorCodeOf(o) === ind.code);
        const unit = ind.unit;
        const ucum = ucumOf(unit);
        const obs: Observation = tagged<Observation>(
          {
            resourceType: 'Observation',
            ...(prior?.id ? { id: prior.id } : {}),
            status: 'preliminary',
            category: [{ coding: [{ system: OBS_CATEGORY, code: 'laboratory', display: 'Laboratory' }] }],
            code: {
              coding: [
                ...(ind.loinc ? [{ system: LOINC, code: ind.loinc, display: ind.displayEn }] : []),
                { system: CATALOG_URLS.labIndicators, version: ind.version, code: ind.code, display: ind.display },
              ],
              text: ind.display,
            },
            subject: { reference: `Patient/${ctx.patientId}` },
            ...(ctx.sr.encounter ? { encounter: ctx.sr.encounter } : {}),
            basedOn: [{ reference: `ServiceRequest/${srId}` }],
            ...(specimen?.id ? { specimen: { reference: `Specimen/${specimen.id}` } } : {}),
            effectiveDateTime: r.observedAt ?? now,
            issued: now,
            ...(practitioner ? { performer: [practitioner] } : {}),
            ...(source ? { device: { display: source.analyzer } } : {}),
            ...(r.number !== undefined
              ? {
                  valueQuantity: {
                    value: r.number,
                    ...(unit ? { unit } : {}),
                    ...(ucum ? { system: 'http://unitsofmeasure.org', code: ucum } : {}),
                  },
                }
              : { valueString: r.text }),
            ...(flag ? { interpretation: [interpretationOf(flag)] } : {}),
            ...(range
              ? {
                  referenceRange: [
                    {
                      ...(range.low !== undefined ? { low: { value: range.low, ...(unit ? { unit } : {}) } } : {}),
                      ...(range.high !== undefined ? { high: { value: range.high, ...(unit ? { unit } : {}) } } : {}),
                      ...(range.text ? { text: range.text } : {}),
                    },
                  ],
                }
              : {}),
            ...(source
              ? {
                  identifier: [
                    { system: 'https://sen.health.vn/fhir/sid/hl7v2-message', value: source.messageControlId },
                  ],
                }
              : {}),
          },
          tags,
        );
        const saved = prior?.id
          ? await this.update(tx, obs, access, ctx.patientId)
          : await this.create(tx, obs, access, ctx.patientId);
        written.push(saved);
        const priorValue = prior?.valueQuantity?.value ?? prior?.valueString;
        const changed = !prior || priorValue !== (r.number ?? r.text);
        if (isCritical(flag)) {
          critical = true;
          if (changed) {
            alerts.push(await this.alert(tx, ctx, saved, ind, flag as Flag, reportId, access));
          }
        }
      }
      const all = [...before.filter((o) => !written.some((w) => w.id === o.id)), ...written];
      const order = indicators.map((i) => i.code);
      all.sort((a, b) => order.indexOf(indicatorCodeOf(a) ?? '') - order.indexOf(indicatorCodeOf(b) ?? ''));
      const complete = indicators.every((i) => all.some((o) => indicatorCodeOf(o) === i.code));
      const report = tagged<DiagnosticReport>(
        {
          ...(existing?.report ?? {}),
          resourceType: 'DiagnosticReport',
          id: reportId,
          status: 'preliminary',
          category: [{ coding: [{ system: V2_0074, code: 'LAB', display: 'Laboratory' }] }],
          code: ctx.sr.code ?? { text: ctx.serviceCode },
          basedOn: [{ reference: `ServiceRequest/${srId}` }],
          subject: { reference: `Patient/${ctx.patientId}` },
          ...(ctx.sr.encounter ? { encounter: ctx.sr.encounter } : {}),
          ...(specimen?.id ? { specimen: [{ reference: `Specimen/${specimen.id}` }] } : {}),
          effectiveDateTime: specimen?.collection?.collectedDateTime ?? now,
          issued: now,
          ...(ctx.sr.performer?.[0]
            ? { performer: [{ reference: ctx.sr.performer[0].reference, display: ctx.sr.performer[0].display }] }
            : {}),
          result: all.map((o) => ({ reference: `Observation/${o.id ?? ''}`, display: o.code.text })),
        },
        tags,
      );
      const savedReport = existing
        ? await this.update(tx, report, access, ctx.patientId, existing.version)
        : await this.create(tx, report, access, ctx.patientId, reportId);
      status = complete ? 'resulted' : 'in-progress';
      if (labStatusOf(ctx.sr) === 'collected' && specimen && !specimen.receivedTime) {
        // an analyzer measured it: the specimen is in the lab
        await this.update(tx, { ...specimen, receivedTime: now }, access, ctx.patientId);
      }
      await this.setStatus(tx, ctx, status, access);
      return { report: savedReport, observations: all, alerts, critical, status };
    });
  }

  private async alert(
    tx: Queryable,
    ctx: OrderContext,
    obs: Observation,
    ind: Indicator,
    flag: Flag,
    reportId: string,
    access: AccessContext | undefined,
  ): Promise<Communication> {
    const { practitioner } = this.who(access);
    const q = obs.valueQuantity;
    const text =
      `Giá trị nguy hiểm: ${ind.display} = ${q?.value ?? obs.valueString ?? ''}${q?.unit ? ` ${q.unit}` : ''} (${flag}) / ` +
      `Critical value: ${ind.displayEn ?? ind.display} = ${q?.value ?? obs.valueString ?? ''}${q?.unit ? ` ${q.unit}` : ''} (${flag})`;
    return this.create<Communication>(
      tx,
      tagged<Communication>(
        {
          resourceType: 'Communication',
          status: 'in-progress',
          category: [{ coding: [{ system: COMMUNICATION_CATEGORY, code: 'alert', display: 'Alert' }] }],
          priority: 'stat',
          reasonCode: [CRITICAL_REASON],
          subject: { reference: `Patient/${ctx.patientId}` },
          ...(ctx.sr.encounter ? { encounter: ctx.sr.encounter } : {}),
          basedOn: [{ reference: `ServiceRequest/${ctx.sr.id ?? ''}` }],
          about: [{ reference: `Observation/${obs.id ?? ''}` }, { reference: `DiagnosticReport/${reportId}` }],
          ...(ctx.sr.requester ? { recipient: [ctx.sr.requester] } : {}),
          ...(practitioner ? { sender: practitioner } : {}),
          sent: this.now().toISOString(),
          payload: [{ contentString: text }],
        },
        facilityTags(ctx.sr),
      ),
      access,
      ctx.patientId,
    );
  }

  /** The technician verifies complete results: the report records who and when; the order becomes `verified`. */
  async verify(access: AccessContext | undefined, srId: string, q?: Queryable): Promise<DiagnosticReport> {
    this.requireRole(access, VERIFIER_ROLES, 'Duyệt kết quả / verifying results');
    return this.run(q, async (tx) => {
      const ctx = await this.order(tx, srId, access);
      const status = labStatusOf(ctx.sr);
      if (status !== 'resulted') {
        throw outcomes.conflict(
          status === 'verified' || status === 'signed'
            ? `Kết quả đã được duyệt / the results are already ${status}`
            : `Chưa đủ kết quả để duyệt (${LAB_STATUS_VI[status]}) / not every indicator has a result yet (${status})`,
        );
      }
      const found = await this.reportOf(tx, srId);
      if (!found) {
        throw outcomes.conflict('Chưa có phiếu kết quả / there is no report yet');
      }
      const { practitioner } = this.who(access);
      const now = this.now().toISOString();
      const report = await this.update<DiagnosticReport>(
        tx,
        {
          ...found.report,
          extension: [
            ...(found.report.extension ?? []).filter((e) => e.url !== LAB_VERIFIED_URL),
            ext(LAB_VERIFIED_URL, [
              ...(practitioner ? [{ url: 'by', valueReference: practitioner }] : []),
              { url: 'at', valueDateTime: now },
            ]),
          ],
        },
        access,
        ctx.patientId,
        found.version,
      );
      await this.setStatus(tx, ctx, 'verified', access);
      return report;
    });
  }

  /** An authorised doctor signs verified results off: the report and its Observations become final. */
  async signOff(access: AccessContext | undefined, srId: string, q?: Queryable): Promise<DiagnosticReport> {
    this.requireRole(access, SIGNER_ROLES, 'Ký kết quả / signing results off');
    return this.run(q, async (tx) => {
      const ctx = await this.order(tx, srId, access);
      const status = labStatusOf(ctx.sr);
      if (status !== 'verified') {
        throw outcomes.conflict(
          status === 'signed'
            ? 'Kết quả đã được ký / the results are already signed'
            : `Kết quả chưa được kỹ thuật viên duyệt (${LAB_STATUS_VI[status]}) / the technician has not verified the results (${status})`,
        );
      }
      const found = await this.reportOf(tx, srId);
      if (!found) {
        throw outcomes.conflict('Chưa có phiếu kết quả / there is no report yet');
      }
      const { practitioner } = this.who(access);
      const now = this.now().toISOString();
      for (const o of await this.observationsOf(tx, found.report, access, ctx.patientId)) {
        await this.update<Observation>(tx, { ...o, status: 'final' }, access, ctx.patientId);
      }
      const report = await this.update<DiagnosticReport>(
        tx,
        {
          ...found.report,
          status: 'final',
          issued: now,
          ...(practitioner ? { resultsInterpreter: [practitioner] } : {}),
        },
        access,
        ctx.patientId,
        found.version,
      );
      await this.setStatus(tx, ctx, 'signed', access, (sr) => ({ ...sr, status: 'completed' }));
      return report;
    });
  }

  /** The doctor (or a colleague) acknowledges a critical-value alert: who and when are recorded, once. */
  async acknowledge(access: AccessContext | undefined, id: string, q?: Queryable): Promise<Communication> {
    this.requireRole(access, ACK_ROLES, 'Xác nhận cảnh báo / acknowledging an alert');
    return this.run(q, async (tx) => {
      const {
        resource: c,
        version,
        patientIds,
      } = await this.readChecked<Communication>(tx, 'Communication', id, access, 'cảnh báo');
      const isAlert = (c.reasonCode ?? []).some((r) =>
        (r.coding ?? []).some((x) => x.code === CRITICAL_REASON.coding?.[0].code),
      );
      if (!isAlert) {
        throw outcomes.unprocessable(
          `Communication/${id} không phải cảnh báo giá trị nguy hiểm / Communication/${id} is not a critical-value alert`,
        );
      }
      const ack = c.extension?.find((e) => e.url === ALERT_ACK_URL);
      if (ack || c.status === 'completed') {
        const at = ack?.extension?.find((e) => e.url === 'at')?.valueDateTime ?? c.received ?? '';
        throw outcomes.conflict(`Cảnh báo đã được xác nhận lúc ${at} / the alert was already acknowledged at ${at}`);
      }
      const { practitioner } = this.who(access);
      const now = this.now().toISOString();
      return this.update<Communication>(
        tx,
        {
          ...c,
          status: 'completed',
          received: now,
          extension: [
            ...(c.extension ?? []),
            ext(ALERT_ACK_URL, [
              ...(practitioner ? [{ url: 'by', valueReference: practitioner }] : []),
              { url: 'at', valueDateTime: now },
            ]),
          ],
        },
        access,
        patientIds[0] ?? referenceId(c.subject, 'Patient') ?? '',
        version,
      );
    });
  }
}

/**
 * Charges (contract 4 of issue 6): one ChargeItem per billable order (ServiceRequest lab | imaging | procedure, not
 * revoked or entered in error) and per completed MedicationDispense of the visit, priced from the catalog version in
 * force on the day of the order or dispense, and split into the BHYT fund's share, the co-payment and the part outside
 * the BHYT scope (shares.ts). `Encounter/{id}/$charges` brings the visit's ChargeItems up to date and returns them
 * with the totals; it writes only what changed, so calling it again (or on every live refresh) is cheap and quiet.
 */
import type {
  ChargeItem,
  CodeSystemConcept,
  Coding,
  Coverage,
  Encounter,
  Extension,
  MedicationDispense,
  Money,
  ParametersParameter,
  ServiceRequest,
} from '@medplum/fhirtypes';
import type { Queryable } from '@sen/db';
import { outcomes, referenceId } from '@sen/fhir';
import { vietnamDay } from '@sen/vn';
import type { FhirOperation, OperationCall } from '../../fhir/operations.ts';
import type { FhirRouter } from '../../fhir/router.ts';
import { principalOf } from '../../platform/gate/context.ts';
import { FACILITY_TAG_SYSTEM } from '../../platform/gate/gate.ts';
import { ORDER_CATEGORY_SYSTEM } from '../clinical/orders.ts';
import { BHYT_EXT } from '../coverage/service.ts';
import { CATALOG_URLS } from '../terminology/kinds.ts';
import type { TerminologyService } from '../terminology/service.ts';
import { VISIT_COVERAGE_EXT } from '../visits/encounter.ts';
import { searchAll, visitTypeOf } from './hold.ts';
import {
  computeShares,
  type FacilityLevel,
  type LineShare,
  type Route,
  ROUTES,
  type ShareContext,
  type Totals,
} from './shares.ts';

export const SHARE_EXT = 'https://sen.health.vn/fhir/StructureDefinition/charge-share';
export const CHARGE_KIND_SYSTEM = 'https://sen.health.vn/fhir/CodeSystem/charge-kind';
const BILLABLE_CATEGORIES = new Set(['lab', 'imaging', 'procedure']);

export interface BillingDeps {
  router: FhirRouter;
  terminology: TerminologyService;
  facilityLevel: FacilityLevel;
  baseSalary: number;
}

const money = (v: string): Money => ({ value: Number(v), currency: 'VND' });

/** The share extension's parts as strings (whole đồng). */
export function shareOf(c: ChargeItem): (LineShare & { route?: Route; paymentRate: string }) | undefined {
  const e = c.extension?.find((x) => x.url === SHARE_EXT);
  if (!e) {
    return undefined;
  }
  const part = (k: string): Extension | undefined => e.extension?.find((x) => x.url === k);
  const m = (k: string): string => String(part(k)?.valueMoney?.value ?? 0);
  return {
    key: c.id ?? '',
    unitPrice: String(c.priceOverride?.value ?? 0),
    quantity: String(c.quantity?.value ?? 1),
    amount: m('amount'),
    inScope: m('inScope'),
    bhyt: m('bhyt'),
    copay: m('copay'),
    outOfScope: m('outOfScope'),
    patient: m('patient'),
    percent: String(part('percent')?.valueDecimal ?? 0),
    paymentRate: String(part('paymentRate')?.valueDecimal ?? 0),
    route: part('route')?.valueCode as Route | undefined,
  };
}

function shareExtension(s: LineShare, paymentRate: string, route: Route): Extension {
  return {
    url: SHARE_EXT,
    extension: [
      { url: 'amount', valueMoney: money(s.amount) },
      { url: 'inScope', valueMoney: money(s.inScope) },
      { url: 'bhyt', valueMoney: money(s.bhyt) },
      { url: 'copay', valueMoney: money(s.copay) },
      { url: 'outOfScope', valueMoney: money(s.outOfScope) },
      { url: 'patient', valueMoney: money(s.patient) },
      { url: 'percent', valueDecimal: Number(s.percent) },
      { url: 'paymentRate', valueDecimal: Number(paymentRate) },
      { url: 'route', valueCode: route },
    ],
  };
}

function prop(c: CodeSystemConcept, code: string): string | number | boolean | undefined {
  const p = c.property?.find((x) => x.code === code);
  return p?.valueDecimal ?? p?.valueInteger ?? p?.valueString ?? p?.valueCode ?? p?.valueBoolean ?? p?.valueDateTime;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

interface Priced {
  coding: Coding;
  unitPrice: number;
  paymentRate: number;
}

/** The catalog price of a service or drug on a day; 422 when the catalog has none valid that day. */
async function priceOn(deps: BillingDeps, url: string, code: string, day: string, bhyt: boolean): Promise<Priced> {
  let version;
  try {
    version = await deps.terminology.resolve(url, { date: day });
  } catch {
    throw outcomes.unprocessable(
      `Chưa có danh mục giá hiệu lực ngày ${day} / no price catalog in force on ${day} (${url})`,
    );
  }
  const concept = await deps.terminology.concept(version, code);
  if (!concept) {
    throw outcomes.unprocessable(
      `Mã ${code} không có trong danh mục hiệu lực ngày ${day} / ${code} is not in the catalog in force on ${day}`,
    );
  }
  const from = prop(concept, 'priceFrom');
  const to = prop(concept, 'priceTo');
  if ((typeof from === 'string' && from.slice(0, 10) > day) || (typeof to === 'string' && to.slice(0, 10) < day)) {
    throw outcomes.unprocessable(
      `Giá của ${code} không áp dụng ngày ${day} / the price of ${code} does not apply on ${day}`,
    );
  }
  const coding: Coding = { system: url, version: version.version, code, display: concept.display ?? code };
  if (url === CATALOG_URLS.drugs) {
    const price = num(prop(concept, 'price'));
    if (price === undefined) {
      throw outcomes.unprocessable(`Thuốc ${code} chưa có đơn giá / drug ${code} has no price`);
    }
    return { coding, unitPrice: price, paymentRate: bhyt ? (num(prop(concept, 'bhytRate')) ?? 0) : 0 };
  }
  const bhytPrice = num(prop(concept, 'bhytPrice'));
  const servicePrice = num(prop(concept, 'servicePrice'));
  if (bhyt && bhytPrice !== undefined) {
    return { coding, unitPrice: bhytPrice, paymentRate: num(prop(concept, 'bhytRate')) ?? 100 };
  }
  const price = servicePrice ?? bhytPrice;
  if (price === undefined) {
    throw outcomes.unprocessable(`Dịch vụ ${code} chưa có giá / service ${code} has no price`);
  }
  return { coding, unitPrice: price, paymentRate: 0 };
}

/**
 * Catalog prices of a visit's lines, looked up before its transaction opens (the terminology service reads through
 * its own connection, which an embedded single-session database cannot give while a transaction holds it).
 */
export interface PriceBook {
  /** true: this pass only looks prices up (and writes nothing). */
  collect: boolean;
  prices: Map<string, Priced>;
}

export interface VisitBilling {
  encounter: Encounter;
  patientId: string;
  visitType: string | undefined;
  coverage?: Coverage;
  benefitLevel?: number;
  route: Route;
  charges: ChargeItem[];
  totals: Totals;
  percent: string;
  smallAmount: boolean;
}

/** The card's benefit level when the Coverage can be used on that day (active, not refused by the gateway). */
function usableLevel(c: Coverage | undefined, day: string): number | undefined {
  if (!c || c.status !== 'active') {
    return undefined;
  }
  const check = c.extension?.find((e) => e.url === BHYT_EXT.verification)?.valueCode;
  if (check === 'expired' || check === 'not-found' || check === 'invalid') {
    return undefined;
  }
  if ((c.period?.start && c.period.start.slice(0, 10) > day) || (c.period?.end && c.period.end.slice(0, 10) < day)) {
    return undefined;
  }
  return c.extension?.find((e) => e.url === BHYT_EXT.benefitLevel)?.valueInteger;
}

function orderCategory(sr: ServiceRequest): string | undefined {
  for (const c of sr.category ?? []) {
    const code = c.coding?.find((x) => x.system === ORDER_CATEGORY_SYSTEM)?.code;
    if (code) {
      return code;
    }
  }
  return undefined;
}

/** A stable key of what a charge is for. */
function sourceOf(c: ChargeItem): string | undefined {
  const sr = (c.supportingInformation ?? []).find((r) => referenceId(r, 'ServiceRequest'));
  if (sr) {
    return `ServiceRequest/${referenceId(sr, 'ServiceRequest')}`;
  }
  const md = (c.service ?? []).find((r) => referenceId(r, 'MedicationDispense'));
  return md ? `MedicationDispense/${referenceId(md, 'MedicationDispense')}` : undefined;
}

const DEAD = new Set(['entered-in-error', 'aborted', 'not-billable']);

/**
 * Brings the visit's ChargeItems up to date (new orders and dispenses charged, revoked ones dropped while unpaid,
 * shares recomputed on the unpaid lines) and returns the visit's billing. Access: the caller's gate is asked for
 * every resource read and written.
 */
export async function syncCharges(
  deps: BillingDeps,
  call: OperationCall,
  encounterId: string,
  q: Queryable,
  routeInput: Route | undefined,
  book: PriceBook,
): Promise<VisitBilling> {
  const access = call.req.access;
  const store = deps.router.store;
  if (!book.collect) {
    // one writer of a visit's charges at a time: two cashiers on one visit never charge an order twice
    await store.lockKey(`billing:Encounter/${encounterId}`, q);
  }
  const encounter = JSON.parse((await store.read('Encounter', encounterId, q)).content as string) as Encounter;
  const patientId = referenceId(encounter.subject, 'Patient');
  if (!patientId) {
    throw outcomes.unprocessable('Lượt khám chưa gắn với người bệnh / the encounter has no Patient subject');
  }
  access?.check('read', 'Encounter', encounter, [patientId]);
  const visitType = visitTypeOf(encounter);
  const coverageId = referenceId(
    encounter.extension?.find((e) => e.url === VISIT_COVERAGE_EXT)?.valueReference,
    'Coverage',
  );
  let coverage: Coverage | undefined;
  if (coverageId && visitType !== 'fee') {
    try {
      coverage = JSON.parse((await store.read('Coverage', coverageId, q)).content as string) as Coverage;
      access?.check('read', 'Coverage', coverage, [patientId]);
    } catch (err) {
      if ((err as { status?: number }).status === 403) {
        throw err;
      }
      coverage = undefined;
    }
  }
  const orders = (
    await searchAll<ServiceRequest>(deps.router, 'ServiceRequest', [['encounter', `Encounter/${encounterId}`]], q)
  ).filter((o) => {
    access?.check('read', 'ServiceRequest', o, [patientId]);
    return BILLABLE_CATEGORIES.has(orderCategory(o) ?? '') && o.status !== 'revoked' && o.status !== 'entered-in-error';
  });
  const dispenses = (
    await searchAll<MedicationDispense>(deps.router, 'MedicationDispense', [['context', `Encounter/${encounterId}`]], q)
  ).filter((d) => {
    access?.check('read', 'MedicationDispense', d, [patientId]);
    return d.status === 'completed';
  });
  const existing = await searchAll<ChargeItem>(deps.router, 'ChargeItem', [['context', `Encounter/${encounterId}`]], q);
  for (const c of existing) {
    access?.check('read', 'ChargeItem', c, [patientId]);
  }
  const live = existing.filter((c) => !DEAD.has(c.status));
  const bySource = new Map(live.map((c) => [sourceOf(c), c] as const));
  const route: Route =
    routeInput ??
    live.map((c) => shareOf(c)?.route).find((r): r is Route => r !== undefined) ??
    (visitType === 'emergency' ? 'emergency' : 'right-route');
  const tags = (encounter.meta?.tag ?? []).filter((t) => t.system === FACILITY_TAG_SYSTEM);
  const principal = principalOf(access);
  const enterer =
    principal?.kind === 'staff' && principal.practitionerId
      ? { reference: `Practitioner/${principal.practitionerId}` }
      : undefined;
  const now = new Date();
  const created: ChargeItem[] = [];
  const changed = new Set<ChargeItem>();

  // what the visit now has to charge
  const wanted = new Set<string>();
  const addCharge = async (
    source: string,
    url: string,
    code: string | undefined,
    when: string | undefined,
    quantity: number,
    link: Pick<ChargeItem, 'supportingInformation' | 'service'>,
    kind: string,
  ): Promise<void> => {
    wanted.add(source);
    if (bySource.has(source)) {
      return;
    }
    if (!code) {
      throw outcomes.unprocessable(`${source} không có mã danh mục / ${source} has no catalog code`);
    }
    const day = vietnamDay(when ? new Date(when) : now);
    const level = usableLevel(coverage, day);
    const key = `${url}|${code}|${day}|${level !== undefined}`;
    let priced = book.prices.get(key);
    if (!priced) {
      if (!book.collect) {
        throw outcomes.conflict('Lượt khám vừa có thêm chỉ định, hãy thử lại / the visit just changed; try again');
      }
      priced = await priceOn(deps, url, code, day, level !== undefined);
      book.prices.set(key, priced);
    }
    const c: ChargeItem = {
      resourceType: 'ChargeItem',
      ...(tags.length ? { meta: { tag: tags } } : {}),
      status: 'billable',
      code: {
        coding: [priced.coding, { system: CHARGE_KIND_SYSTEM, code: kind }],
        text: priced.coding.display,
      },
      subject: { reference: `Patient/${patientId}` },
      context: { reference: `Encounter/${encounterId}` },
      occurrenceDateTime: when ?? now.toISOString(),
      quantity: { value: quantity },
      priceOverride: { value: priced.unitPrice, currency: 'VND' },
      enteredDate: now.toISOString(),
      ...(enterer ? { enterer } : {}),
      ...link,
      extension: [{ url: SHARE_EXT, extension: [{ url: 'paymentRate', valueDecimal: priced.paymentRate }] }],
    };
    created.push(c);
  };
  for (const o of orders) {
    const coding = o.code?.coding?.find((x) => x.system === CATALOG_URLS.services);
    await addCharge(
      `ServiceRequest/${o.id}`,
      CATALOG_URLS.services,
      coding?.code,
      o.authoredOn,
      1,
      { supportingInformation: [{ reference: `ServiceRequest/${o.id}` }] },
      orderCategory(o) ?? 'procedure',
    );
  }
  for (const d of dispenses) {
    const coding = d.medicationCodeableConcept?.coding?.find((x) => x.system === CATALOG_URLS.drugs);
    const qty = d.quantity?.value;
    if (qty === undefined || !(qty > 0)) {
      throw outcomes.unprocessable(`Lần cấp thuốc ${d.id} không có số lượng / the dispense ${d.id} has no quantity`);
    }
    await addCharge(
      `MedicationDispense/${d.id}`,
      CATALOG_URLS.drugs,
      coding?.code,
      d.whenHandedOver ?? d.whenPrepared,
      qty,
      {
        service: [{ reference: `MedicationDispense/${d.id}` }],
        ...(d.authorizingPrescription?.[0]?.reference
          ? { supportingInformation: [{ reference: d.authorizingPrescription[0].reference }] }
          : {}),
      },
      'drug',
    );
  }
  // unpaid charges whose order was revoked: dropped
  for (const c of live) {
    if (c.status === 'billable' && !wanted.has(sourceOf(c) ?? '')) {
      c.status = 'aborted';
      changed.add(c);
    }
  }
  const active = [...live.filter((c) => !DEAD.has(c.status)), ...created];
  const day = vietnamDay(now);
  const ctx: ShareContext = {
    benefitLevel: usableLevel(coverage, day),
    route,
    inpatient: encounter.class?.code === 'IMP',
    facilityLevel: deps.facilityLevel,
    baseSalary: deps.baseSalary,
  };
  const shares = computeShares(
    active.map((c, i) => ({
      key: String(i),
      unitPrice: c.priceOverride?.value ?? 0,
      quantity: c.quantity?.value ?? 1,
      paymentRate: shareOf(c)?.paymentRate ?? 0,
    })),
    ctx,
  );
  active.forEach((c, i) => {
    if (c.status !== 'billable') {
      return; // billed lines keep what they were billed at
    }
    const s = shares.lines[i];
    const next = shareExtension(s, shareOf(c)?.paymentRate ?? '0', route);
    const others = (c.extension ?? []).filter((x) => x.url !== SHARE_EXT);
    const before = JSON.stringify(c.extension?.find((x) => x.url === SHARE_EXT));
    if (before !== JSON.stringify(next)) {
      c.extension = [...others, next];
      if (c.id) {
        changed.add(c);
      }
    }
  });
  const written: ChargeItem[] = [];
  if (book.collect) {
    created.length = 0;
    changed.clear();
  }
  for (const c of created) {
    access?.check('create', 'ChargeItem', c, [patientId]);
    written.push((await store.create(c, q)).resource as ChargeItem);
  }
  for (const c of changed) {
    access?.check('update', 'ChargeItem', c, [patientId]);
    const updated = (await store.update(c, { ifMatch: c.meta?.versionId ? Number(c.meta.versionId) : undefined }, q))
      .resource as ChargeItem;
    Object.assign(c, updated);
  }
  const charges = [...active.filter((c) => c.id), ...written];
  const lines = charges.map((c) => shareOf(c)).filter((s): s is NonNullable<typeof s> => s !== undefined);
  const totals = {
    ...shares.totals,
  };
  // totals from what the lines now say (billed lines keep their own figures)
  const sum = (k: keyof Totals): string => String(lines.reduce((s, l) => s + Number(l[k]), 0));
  for (const k of Object.keys(totals) as (keyof Totals)[]) {
    totals[k] = sum(k);
  }
  return {
    encounter,
    patientId,
    visitType,
    coverage,
    benefitLevel: ctx.benefitLevel,
    route,
    charges,
    totals,
    percent: shares.percent,
    smallAmount: shares.smallAmount,
  };
}

export function billingParameters(v: VisitBilling): { resourceType: 'Parameters'; parameter: ParametersParameter[] } {
  const parameter: ParametersParameter[] = [
    { name: 'visitType', valueCode: v.visitType ?? 'unknown' },
    { name: 'route', valueCode: v.route },
    ...(v.benefitLevel !== undefined ? [{ name: 'benefitLevel', valueInteger: v.benefitLevel }] : []),
    { name: 'percent', valueDecimal: Number(v.percent) },
    { name: 'smallAmount', valueBoolean: v.smallAmount },
    ...(v.coverage?.id ? [{ name: 'coverage', valueReference: { reference: `Coverage/${v.coverage.id}` } }] : []),
    {
      name: 'totals',
      part: (Object.keys(v.totals) as (keyof Totals)[]).map((k) => ({ name: k, valueMoney: money(v.totals[k]) })),
    },
    ...v.charges.map((c) => ({ name: 'chargeItem', resource: c })),
  ];
  return { resourceType: 'Parameters', parameter };
}

/** Looks the visit's prices up first, then runs fn in one transaction (or the caller's) with them. */
export async function withPrices<T>(
  deps: BillingDeps,
  call: OperationCall,
  encounterId: string,
  route: Route | undefined,
  fn: (q: Queryable, book: PriceBook) => Promise<T>,
): Promise<T> {
  const book: PriceBook = { collect: true, prices: new Map() };
  if (call.q) {
    return fn(call.q, book); // inside a bundle: the caller's transaction is already open
  }
  await syncCharges(deps, call, encounterId, deps.router.store.db, route, book);
  book.collect = false;
  return deps.router.store.transaction((q) => fn(q, book));
}

export function parseRoute(v: string | undefined): Route | undefined {
  if (v === undefined || v === '') {
    return undefined;
  }
  if (!(ROUTES as readonly string[]).includes(v)) {
    throw outcomes.badRequest(
      `'route' phải là ${ROUTES.join(' | ')} (đúng tuyến, chuyển tuyến, cấp cứu, trái tuyến) / must be one of ${ROUTES.join(', ')}`,
    );
  }
  return v as Route;
}

export function chargesOperation(deps: BillingDeps): FhirOperation {
  return {
    name: 'charges',
    resourceTypes: ['Encounter'],
    levels: ['instance'],
    methods: ['POST'],
    access: { action: 'read' },
    async handler(call) {
      if (!call.id) {
        throw outcomes.badRequest('Gọi trên một lượt khám: Encounter/{id}/$charges / call it on Encounter/{id}');
      }
      const route = parseRoute(call.input.string('route'));
      const id = call.id;
      const v = await withPrices(deps, call, id, route, (q, book) => syncCharges(deps, call, id, q, route, book));
      return { status: 200, body: billingParameters(v) };
    },
  };
}

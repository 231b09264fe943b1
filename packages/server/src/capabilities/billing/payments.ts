/**
 * Invoices, payments and refunds. `Encounter/{id}/$invoice` issues an Invoice over the visit's unbilled charges
 * (lines with the BHYT share as a deduction and the patient's parts as informational components; totalGross = the
 * cost, totalNet = what the patient pays); `Invoice/{id}/$pay-cash` and the gateway's webhook (after
 * `Invoice/{id}/$vietqr`) record a PaymentReconciliation with a receipt number and make the invoice `balanced`;
 * `Invoice/{id}/$refund` (cashier, with a reason) records the refund and cancels the invoice.
 */
import { randomUUID } from 'node:crypto';
import type {
  ChargeItem,
  Coding,
  Invoice,
  InvoiceLineItem,
  InvoiceLineItemPriceComponent,
  Money,
  ParametersParameter,
  PaymentReconciliation,
  Practitioner,
  Reference,
} from '@medplum/fhirtypes';
import type { Queryable } from '@sen/db';
import { outcomes, referenceId } from '@sen/fhir';
import { vietnamDay } from '@sen/vn';
import Decimal from 'decimal.js';
import { BanksObject, QRPay } from 'vietnam-qr-pay';
import type { FhirOperation, OperationCall } from '../../fhir/operations.ts';
import type { AccessContext } from '../../fhir/types.ts';
import { principalOf } from '../../platform/gate/context.ts';
import { FACILITY_TAG_SYSTEM } from '../../platform/gate/gate.ts';
import {
  type BillingDeps,
  billingParameters,
  type PriceBook,
  parseRoute,
  shareOf,
  syncCharges,
  withPrices,
} from './charges.ts';
import { type PaymentGateway, PaymentGatewayError, WEBHOOK_PATH } from './gateway.ts';
import { searchAll } from './hold.ts';

export const INVOICE_SID = 'https://sen.health.vn/fhir/sid/invoice-number';
export const RECEIPT_SID = 'https://sen.health.vn/fhir/sid/receipt-number';
export const INVOICE_VISIT_EXT = 'https://sen.health.vn/fhir/StructureDefinition/invoice-visit';
export const INVOICE_PAYMENT_EXT = 'https://sen.health.vn/fhir/StructureDefinition/invoice-payment';
export const PAYMENT_METHOD_SYSTEM = 'https://sen.health.vn/fhir/CodeSystem/payment-method';
export const PRICE_COMPONENT_SYSTEM = 'https://sen.health.vn/fhir/CodeSystem/price-component';
const PAYMENT_TYPE = 'http://terminology.hl7.org/CodeSystem/payment-type';

export interface PaymentDeps extends BillingDeps {
  gateway: PaymentGateway;
  publicUrl: string;
  /** The hospital's account for VietQR transfers (NAPAS 247 bank BIN + account number). */
  bankBin: string;
  bankAccount: string;
}

const money = (v: Decimal.Value): Money => ({ value: new Decimal(v).toNumber(), currency: 'VND' });

const METHOD_VI: Record<string, string> = { cash: 'Tiền mặt', vietqr: 'Chuyển khoản VietQR' };

/** Takes the next number of a sequence (invoice | receipt) of a facility and year, in the caller's transaction. */
async function nextNumber(q: Queryable, kind: 'HD' | 'PT', facility: string, now: Date): Promise<string> {
  const year = Number(vietnamDay(now).slice(0, 4));
  const { rows } = await q.query<{ n: number }>(
    `INSERT INTO billing_receipt_counter (facility, year, last_number) VALUES ($1, $2, 1)
     ON CONFLICT (facility, year) DO UPDATE SET last_number = billing_receipt_counter.last_number + 1
     RETURNING last_number AS n`,
    [`${kind}:${facility}`, year],
  );
  return `${kind}${year}${String(rows[0].n).padStart(6, '0')}`;
}

function facilityOf(r: { meta?: { tag?: Coding[] } }): string {
  return r.meta?.tag?.find((t) => t.system === FACILITY_TAG_SYSTEM)?.code ?? 'sen';
}

function readInvoice(raw: string): Invoice {
  return JSON.parse(raw) as Invoice;
}

export function visitOfInvoice(inv: Invoice): string | undefined {
  return referenceId(inv.extension?.find((e) => e.url === INVOICE_VISIT_EXT)?.valueReference, 'Encounter');
}

/** The visit's invoices (any status). */
async function invoicesOfVisit(deps: BillingDeps, patientId: string, encounterId: string, q: Queryable) {
  const all = await searchAll<Invoice>(deps.router, 'Invoice', [['subject', `Patient/${patientId}`]], q);
  return all.filter((i) => visitOfInvoice(i) === encounterId);
}

function component(
  type: 'base' | 'deduction' | 'informational',
  code: string,
  display: string,
  amount: string,
): InvoiceLineItemPriceComponent {
  return {
    type,
    code: { coding: [{ system: PRICE_COMPONENT_SYSTEM, code, display }], text: display },
    amount: money(amount),
  };
}

function lineOf(c: ChargeItem, sequence: number): InvoiceLineItem {
  const s = shareOf(c);
  if (!s) {
    throw outcomes.unprocessable(`ChargeItem/${c.id} chưa được tính giá / has no price split`);
  }
  return {
    sequence,
    chargeItemReference: { reference: `ChargeItem/${c.id}`, display: c.code?.text },
    priceComponent: [
      component('base', 'amount', 'Thành tiền', s.amount),
      component('deduction', 'bhyt', 'BHYT chi trả', s.bhyt),
      component('informational', 'copay', 'Người bệnh cùng chi trả', s.copay),
      component('informational', 'out-of-scope', 'Người bệnh tự trả (ngoài phạm vi BHYT)', s.outOfScope),
    ],
  };
}

async function setChargeStatus(
  deps: BillingDeps,
  access: AccessContext | undefined,
  ids: string[],
  status: ChargeItem['status'],
  patientId: string,
  q: Queryable,
): Promise<void> {
  for (const id of ids) {
    const c = JSON.parse((await deps.router.store.read('ChargeItem', id, q)).content as string) as ChargeItem;
    if (c.status === status) {
      continue;
    }
    c.status = status;
    access?.check('update', 'ChargeItem', c, [patientId]);
    await deps.router.store.update(c, {}, q);
  }
}

const chargeIds = (inv: Invoice): string[] =>
  (inv.lineItem ?? []).map((l) => referenceId(l.chargeItemReference, 'ChargeItem')).filter((x): x is string => !!x);

/** Issues (or re-issues, when charges were added since) the visit's invoice for what is still unpaid. */
async function issueInvoice(
  deps: BillingDeps,
  call: OperationCall,
  encounterId: string,
  q: Queryable,
  book: PriceBook,
) {
  const access = call.req.access;
  const v = await syncCharges(deps, call, encounterId, q, parseRoute(call.input.string('route')), book);
  const open = (await invoicesOfVisit(deps, v.patientId, encounterId, q)).filter((i) => i.status === 'issued');
  const unbilled = v.charges.filter((c) => c.status === 'billable');
  if (unbilled.length === 0) {
    if (open[0]) {
      return { invoice: open[0], billing: v };
    }
    throw outcomes.unprocessable('Lượt khám không còn khoản nào chưa thanh toán / the visit has nothing left to pay');
  }
  const now = new Date();
  // charges added since the open invoice was issued: it is replaced by one over everything unpaid
  const lines: ChargeItem[] = [...unbilled];
  for (const inv of open) {
    for (const id of chargeIds(inv)) {
      const c = v.charges.find((x) => x.id === id);
      if (c && !lines.includes(c)) {
        lines.push(c);
      }
    }
    inv.status = 'cancelled';
    inv.cancelledReason = 'Thay bằng hóa đơn mới có thêm dịch vụ / replaced by a new invoice with more services';
    access?.check('update', 'Invoice', inv, [v.patientId]);
    await deps.router.store.update(inv, {}, q);
    await q.query(
      `UPDATE billing_payment_intent SET status = 'cancelled' WHERE invoice_id = $1 AND status = 'pending'`,
      [inv.id],
    );
  }
  const lineItem = lines.map((c, i) => lineOf(c, i + 1));
  const sum = (k: 'amount' | 'patient' | 'bhyt'): string =>
    lines.reduce((s, c) => s.plus(shareOf(c)?.[k] ?? 0), new Decimal(0)).toFixed(0);
  const tags = (v.encounter.meta?.tag ?? []).filter((t) => t.system === FACILITY_TAG_SYSTEM);
  const number = await nextNumber(q, 'HD', facilityOf(v.encounter), now);
  const patientTotal = sum('patient');
  const invoice: Invoice = {
    resourceType: 'Invoice',
    ...(tags.length ? { meta: { tag: tags } } : {}),
    extension: [{ url: INVOICE_VISIT_EXT, valueReference: { reference: `Encounter/${encounterId}` } }],
    identifier: [{ system: INVOICE_SID, value: number }],
    status: new Decimal(patientTotal).isZero() ? 'balanced' : 'issued',
    type: { text: 'Bảng kê chi phí khám bệnh / statement of charges' },
    subject: { reference: `Patient/${v.patientId}` },
    date: now.toISOString(),
    lineItem,
    totalPriceComponent: [
      component('base', 'amount', 'Tổng chi phí', sum('amount')),
      component('deduction', 'bhyt', 'BHYT chi trả', sum('bhyt')),
    ],
    totalGross: money(sum('amount')),
    totalNet: money(patientTotal),
    paymentTerms: 'Thanh toán tại quầy thu ngân: tiền mặt hoặc VietQR / pay at the cashier: cash or VietQR',
  };
  access?.check('create', 'Invoice', invoice, [v.patientId]);
  const created = (await deps.router.store.create(invoice, q)).resource as Invoice;
  await setChargeStatus(
    deps,
    access,
    lines.map((c) => c.id as string),
    'billed',
    v.patientId,
    q,
  );
  return { invoice: created, billing: await syncCharges(deps, call, encounterId, q, undefined, book) };
}

function invoiceOperation(deps: BillingDeps): FhirOperation {
  return {
    name: 'invoice',
    resourceTypes: ['Encounter'],
    levels: ['instance'],
    methods: ['POST'],
    access: { action: 'read' },
    async handler(call) {
      const id = call.id as string;
      const route = parseRoute(call.input.string('route'));
      const { invoice, billing } = await withPrices(deps, call, id, route, (q, book) =>
        issueInvoice(deps, call, id, q, book),
      );
      const p = billingParameters(billing);
      p.parameter.unshift({ name: 'invoice', resource: invoice });
      return { status: 200, body: p };
    },
  };
}

/** What a payment and a refund receipt share: the facility tag, the receipt number, when, and who took it. */
function receiptSkeleton(
  invoice: Invoice,
  receipt: string,
  now: Date,
  access: AccessContext | undefined,
): { base: Omit<PaymentReconciliation, 'paymentAmount'>; requestor?: Reference<Practitioner> } {
  const principal = principalOf(access);
  const requestor =
    principal?.kind === 'staff' && principal.practitionerId
      ? { reference: `Practitioner/${principal.practitionerId}` }
      : undefined;
  return {
    requestor,
    base: {
      resourceType: 'PaymentReconciliation',
      ...(invoice.meta?.tag ? { meta: { tag: invoice.meta.tag.filter((t) => t.system === FACILITY_TAG_SYSTEM) } } : {}),
      identifier: [{ system: RECEIPT_SID, value: receipt }],
      status: 'active',
      created: now.toISOString(),
      paymentDate: vietnamDay(now),
      ...(requestor ? { requestor } : {}),
    },
  };
}

/** Records a payment of an issued invoice: receipt number, PaymentReconciliation, invoice balanced. */
export async function recordPayment(
  deps: BillingDeps,
  access: AccessContext | undefined,
  invoice: Invoice,
  p: { method: 'cash' | 'vietqr'; amount: string; transactionId?: string; paidAt?: Date; received?: string },
  q: Queryable,
): Promise<{ invoice: Invoice; payment: PaymentReconciliation }> {
  const patientId = referenceId(invoice.subject, 'Patient') as string;
  const now = p.paidAt ?? new Date();
  const receipt = await nextNumber(q, 'PT', facilityOf(invoice), now);
  const { base, requestor } = receiptSkeleton(invoice, receipt, now, access);
  const payment: PaymentReconciliation = {
    ...base,
    paymentAmount: money(p.amount),
    paymentIdentifier: p.transactionId
      ? { system: `${PAYMENT_METHOD_SYSTEM}/vietqr`, value: p.transactionId }
      : { value: receipt },
    outcome: 'complete',
    disposition: `${METHOD_VI[p.method]} — phiếu thu ${receipt}`,
    formCode: { coding: [{ system: PAYMENT_METHOD_SYSTEM, code: p.method, display: METHOD_VI[p.method] }] },
    detail: [
      {
        type: { coding: [{ system: PAYMENT_TYPE, code: 'payment' }] },
        request: { reference: `Invoice/${invoice.id}` },
        ...(invoice.identifier?.[0] ? { identifier: invoice.identifier[0] } : {}),
        date: vietnamDay(now),
        amount: money(p.amount),
        ...(requestor ? { submitter: requestor } : {}),
      },
    ],
    ...(p.received
      ? {
          processNote: [
            {
              type: 'display',
              text: `Nhận ${p.received} đ, trả lại ${new Decimal(p.received).minus(p.amount).toFixed(0)} đ`,
            },
          ],
        }
      : {}),
  };
  access?.check('create', 'PaymentReconciliation', payment, [patientId]);
  const stored = (await deps.router.store.create(payment, q)).resource as PaymentReconciliation;
  const next: Invoice = {
    ...invoice,
    status: 'balanced',
    identifier: [
      ...(invoice.identifier ?? []).filter((i) => i.system !== RECEIPT_SID),
      { system: RECEIPT_SID, value: receipt },
    ],
    extension: [
      ...(invoice.extension ?? []).filter((e) => e.url !== INVOICE_PAYMENT_EXT),
      { url: INVOICE_PAYMENT_EXT, valueReference: { reference: `PaymentReconciliation/${stored.id}` } },
    ],
  };
  access?.check('update', 'Invoice', next, [patientId]);
  const updated = (await deps.router.store.update(next, { ifMatch: Number(invoice.meta?.versionId) }, q))
    .resource as Invoice;
  return { invoice: updated, payment: stored };
}

async function loadIssued(deps: BillingDeps, call: OperationCall, q: Queryable): Promise<Invoice> {
  const inv = readInvoice((await deps.router.store.read('Invoice', call.id as string, q)).content as string);
  if (inv.status === 'balanced') {
    throw outcomes.conflict('Hóa đơn đã được thanh toán / the invoice is already paid');
  }
  if (inv.status !== 'issued') {
    throw outcomes.conflict(`Hóa đơn ở trạng thái ${inv.status}: không thu tiền được / the invoice is ${inv.status}`);
  }
  return inv;
}

function payCashOperation(deps: BillingDeps): FhirOperation {
  return {
    name: 'pay-cash',
    resourceTypes: ['Invoice'],
    levels: ['instance'],
    methods: ['POST'],
    access: { action: 'update' },
    async handler(call) {
      const raw = call.input.first('received');
      const receivedText = String(
        raw?.valueMoney?.value ?? raw?.valueDecimal ?? raw?.valueInteger ?? raw?.valueString ?? '',
      );
      const run = async (q: Queryable) => {
        const inv = await loadIssued(deps, call, q);
        const due = new Decimal(inv.totalNet?.value ?? 0);
        let received = due;
        if (receivedText !== '') {
          if (!/^\d+(\.0+)?$/.test(receivedText)) {
            throw outcomes.badRequest(
              `Số tiền nhận 'received' phải là số đồng không âm / 'received' must be a whole number of đồng, got '${receivedText}'`,
            );
          }
          received = new Decimal(receivedText);
        }
        if (received.lessThan(due)) {
          throw outcomes.unprocessable(
            `Tiền nhận ${received.toFixed(0)} đ ít hơn số phải trả ${due.toFixed(0)} đ / received less than the amount due`,
          );
        }
        return recordPayment(
          deps,
          call.req.access,
          inv,
          { method: 'cash', amount: due.toFixed(0), received: received.toFixed(0) },
          q,
        );
      };
      const out = call.q ? await run(call.q) : await deps.router.store.transaction(run);
      return {
        status: 200,
        body: {
          resourceType: 'Parameters',
          parameter: [
            { name: 'invoice', resource: out.invoice },
            { name: 'payment', resource: out.payment },
          ],
        },
      };
    },
  };
}

/** The EMVCo (NAPAS 247 VietQR) payload for a transfer of `amount` đồng to the hospital's account, bill number set. */
export function vietQrPayload(
  deps: Pick<PaymentDeps, 'bankBin' | 'bankAccount'>,
  amount: string,
  billNumber: string,
): string {
  const qr = QRPay.initVietQR({
    bankBin: deps.bankBin,
    bankNumber: deps.bankAccount,
    amount,
    purpose: `Thanh toan ${billNumber}`,
  });
  qr.additionalData.billNumber = billNumber;
  return qr.build();
}

export const DEMO_BANK_BIN = BanksObject.vietcombank.bin;

function vietQrOperation(deps: PaymentDeps): FhirOperation {
  return {
    name: 'vietqr',
    resourceTypes: ['Invoice'],
    levels: ['instance'],
    methods: ['POST'],
    access: { action: 'update' },
    async handler(call) {
      const run = async (q: Queryable) => {
        const inv = await loadIssued(deps, call, q);
        const amount = new Decimal(inv.totalNet?.value ?? 0).toFixed(0);
        const billNumber = inv.identifier?.find((i) => i.system === INVOICE_SID)?.value ?? (inv.id as string);
        const pending = await q.query<{ id: string; bill_number: string; amount: string }>(
          `SELECT id, bill_number, amount::text AS amount FROM billing_payment_intent
           WHERE invoice_id = $1 AND status = 'pending' ORDER BY created_at DESC LIMIT 1`,
          [inv.id],
        );
        const found = pending.rows[0];
        if (found && new Decimal(found.amount).equals(amount)) {
          return { intentId: found.id, billNumber: found.bill_number, amount, invoice: inv };
        }
        const intentId = randomUUID();
        // one bill number per attempt (unique): the invoice number and the attempt's count
        const attempts = await q.query<{ n: string }>(
          `SELECT count(*)::text AS n FROM billing_payment_intent WHERE invoice_id = $1`,
          [inv.id],
        );
        const bill = Number(attempts.rows[0].n) === 0 ? billNumber : `${billNumber}X${attempts.rows[0].n}`;
        const qr = vietQrPayload(deps, amount, bill);
        let gatewayRef: string;
        try {
          ({ gatewayRef } = await deps.gateway.createPayment({
            intentId,
            billNumber: bill,
            amount,
            qr,
            callbackUrl: `${deps.publicUrl}${WEBHOOK_PATH}`,
          }));
        } catch (err) {
          if (err instanceof PaymentGatewayError) {
            throw outcomes.unavailable(
              'Cổng thanh toán không phản hồi, hãy thu tiền mặt hoặc thử lại / the payment gateway is unavailable',
            );
          }
          throw err;
        }
        await q.query(
          `INSERT INTO billing_payment_intent (id, invoice_id, amount, bill_number, gateway_ref) VALUES ($1, $2, $3, $4, $5)`,
          [intentId, inv.id, amount, bill, gatewayRef],
        );
        return { intentId, billNumber: bill, amount, invoice: inv };
      };
      // not one transaction: the gateway's answer is awaited without holding the database
      const out = await run(call.q ?? deps.router.store.db);
      const parameter: ParametersParameter[] = [
        { name: 'qr', valueString: vietQrPayload(deps, out.amount, out.billNumber) },
        { name: 'intent', valueString: out.intentId },
        { name: 'billNumber', valueString: out.billNumber },
        { name: 'amount', valueMoney: money(out.amount) },
        { name: 'bankBin', valueString: deps.bankBin },
        { name: 'bankAccount', valueString: deps.bankAccount },
        { name: 'invoice', resource: out.invoice },
      ];
      return { status: 200, body: { resourceType: 'Parameters', parameter } };
    },
  };
}

function refundOperation(deps: BillingDeps): FhirOperation {
  return {
    name: 'refund',
    resourceTypes: ['Invoice'],
    levels: ['instance'],
    methods: ['POST'],
    access: { action: 'update' },
    async handler(call) {
      const principal = principalOf(call.req.access);
      if (call.req.access && !(principal?.kind === 'staff' && principal.roles.includes('cashier'))) {
        throw outcomes.forbidden('Chỉ thu ngân được hoàn tiền / only a cashier may refund');
      }
      const reason = (call.input.string('reason') ?? '').trim();
      if (reason.length < 3) {
        throw outcomes.badRequest("Cần ghi lý do hoàn tiền 'reason' / a refund needs a 'reason'");
      }
      const run = async (q: Queryable) => {
        const inv = readInvoice((await deps.router.store.read('Invoice', call.id as string, q)).content as string);
        if (inv.status !== 'balanced') {
          throw outcomes.conflict('Chỉ hoàn tiền hóa đơn đã thanh toán / only a paid invoice can be refunded');
        }
        const patientId = referenceId(inv.subject, 'Patient') as string;
        const paid = new Decimal(inv.totalNet?.value ?? 0);
        const now = new Date();
        const number = await nextNumber(q, 'PT', facilityOf(inv), now);
        const refund: PaymentReconciliation = {
          ...receiptSkeleton(inv, number, now, call.req.access).base,
          paymentAmount: money(paid.negated()),
          outcome: 'complete',
          disposition: `Hoàn tiền: ${reason}`,
          formCode: { coding: [{ system: PAYMENT_METHOD_SYSTEM, code: 'refund', display: 'Hoàn tiền' }] },
          detail: [
            {
              type: { coding: [{ system: PAYMENT_TYPE, code: 'adjustment' }] },
              request: { reference: `Invoice/${inv.id}` },
              date: vietnamDay(now),
              amount: money(paid.negated()),
            },
          ],
        };
        call.req.access?.check('create', 'PaymentReconciliation', refund, [patientId]);
        const stored = (await deps.router.store.create(refund, q)).resource as PaymentReconciliation;
        const next: Invoice = { ...inv, status: 'cancelled', cancelledReason: `Hoàn tiền / refunded: ${reason}` };
        call.req.access?.check('update', 'Invoice', next, [patientId]);
        const updated = (await deps.router.store.update(next, { ifMatch: Number(inv.meta?.versionId) }, q))
          .resource as Invoice;
        await setChargeStatus(deps, call.req.access, chargeIds(inv), 'billable', patientId, q);
        return { invoice: updated, refund: stored };
      };
      const out = call.q ? await run(call.q) : await deps.router.store.transaction(run);
      return {
        status: 200,
        body: {
          resourceType: 'Parameters',
          parameter: [
            { name: 'invoice', resource: out.invoice },
            { name: 'refund', resource: out.refund },
          ],
        },
      };
    },
  };
}

export function paymentOperations(deps: PaymentDeps): FhirOperation[] {
  return [invoiceOperation(deps), payCashOperation(deps), vietQrOperation(deps), refundOperation(deps)];
}

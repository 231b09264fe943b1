/**
 * The cashier screen's pure parts: what the search box holds, the bill lines from `Encounter/$charges`, the invoice's
 * state, and money in đồng (the server sends whole đồng; nothing here does arithmetic on floats beyond summing
 * integers it was given, which is exact below 2^53).
 */
import type { ChargeItem, Invoice, Parameters, ParametersParameter } from '@medplum/fhirtypes';

export const CCCD_SID = 'http://fhir.hl7.org.vn/core/sid/cccd';
export const QUEUE_NUMBER_SID = 'https://sen.health.vn/fhir/sid/queue-number';
export const INVOICE_SID = 'https://sen.health.vn/fhir/sid/invoice-number';
export const RECEIPT_SID = 'https://sen.health.vn/fhir/sid/receipt-number';
export const INVOICE_VISIT_EXT = 'https://sen.health.vn/fhir/StructureDefinition/invoice-visit';
export const INVOICE_PAYMENT_EXT = 'https://sen.health.vn/fhir/StructureDefinition/invoice-payment';
const SHARE_EXT = 'https://sen.health.vn/fhir/StructureDefinition/charge-share';
const DRUG_SYSTEM = 'https://sen.health.vn/fhir/CodeSystem/drug';

export const ROUTES = ['right-route', 'referral', 'emergency', 'wrong-route'] as const;
export type Route = (typeof ROUTES)[number];

/** What the cashier typed: a 12-digit CCCD, a queue number (`PK01-20261203-5`), or a name. */
export type VisitQuery =
  | { kind: 'cccd'; value: string }
  | { kind: 'queue'; value: string }
  | { kind: 'name'; value: string }
  | { kind: 'none' };

export function parseVisitQuery(text: string): VisitQuery {
  const v = text.trim();
  if (v === '') {
    return { kind: 'none' };
  }
  if (/^\d{12}$/.test(v)) {
    return { kind: 'cccd', value: v };
  }
  if (/^[A-Za-z0-9.]+-\d{8}-\d+$/.test(v)) {
    return { kind: 'queue', value: v.toUpperCase() };
  }
  return { kind: 'name', value: v };
}

/** 119280 → "119.280 đ" (vi) / "119,280 VND" (en). */
export function formatVnd(value: number | string | undefined, lang: string): string {
  const n = typeof value === 'string' ? Number(value) : (value ?? 0);
  const text = new Intl.NumberFormat(lang === 'vi' ? 'vi-VN' : 'en-US', { maximumFractionDigits: 0 }).format(n);
  return lang === 'vi' ? `${text} đ` : `${text} VND`;
}

export interface BillLine {
  id: string;
  name: string;
  kind: 'drug' | 'service';
  quantity: number;
  unitPrice: number;
  amount: number;
  bhyt: number;
  copay: number;
  outOfScope: number;
  patient: number;
  percent: number;
  paymentRate: number;
  status: ChargeItem['status'];
}

export interface BillTotals {
  amount: number;
  bhyt: number;
  copay: number;
  outOfScope: number;
  patient: number;
}

export interface Bill {
  visitType: string;
  route: Route;
  benefitLevel?: number;
  percent: number;
  smallAmount: boolean;
  lines: BillLine[];
  totals: BillTotals;
  /** Lines not on an invoice yet. */
  unbilled: number;
}

function param(p: Parameters | undefined, name: string): ParametersParameter | undefined {
  return p?.parameter?.find((x) => x.name === name);
}

export function lineOf(c: ChargeItem): BillLine {
  const e = c.extension?.find((x) => x.url === SHARE_EXT)?.extension ?? [];
  const m = (k: string): number => e.find((x) => x.url === k)?.valueMoney?.value ?? 0;
  const d = (k: string): number => e.find((x) => x.url === k)?.valueDecimal ?? 0;
  return {
    id: c.id ?? '',
    name: c.code?.text ?? c.code?.coding?.[0]?.display ?? c.code?.coding?.[0]?.code ?? '',
    kind: c.code?.coding?.some((x) => x.system === DRUG_SYSTEM) ? 'drug' : 'service',
    quantity: c.quantity?.value ?? 1,
    unitPrice: c.priceOverride?.value ?? 0,
    amount: m('amount'),
    bhyt: m('bhyt'),
    copay: m('copay'),
    outOfScope: m('outOfScope'),
    patient: m('patient'),
    percent: d('percent'),
    paymentRate: d('paymentRate'),
    status: c.status,
  };
}

/** The bill of `Encounter/$charges` (or `$invoice`): lines in a stable order, totals as the server summed them. */
export function billOf(p: Parameters | undefined): Bill {
  const lines = (p?.parameter ?? [])
    .filter((x) => x.name === 'chargeItem' && x.resource?.resourceType === 'ChargeItem')
    .map((x) => lineOf(x.resource as ChargeItem))
    .sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name, 'vi') : a.kind === 'service' ? -1 : 1));
  const totalsPart = param(p, 'totals')?.part ?? [];
  const t = (k: string): number => totalsPart.find((x) => x.name === k)?.valueMoney?.value ?? 0;
  const route = param(p, 'route')?.valueCode;
  return {
    visitType: param(p, 'visitType')?.valueCode ?? 'unknown',
    route: (ROUTES as readonly string[]).includes(route ?? '') ? (route as Route) : 'right-route',
    benefitLevel: param(p, 'benefitLevel')?.valueInteger,
    percent: param(p, 'percent')?.valueDecimal ?? 0,
    smallAmount: param(p, 'smallAmount')?.valueBoolean ?? false,
    lines,
    totals: {
      amount: t('amount'),
      bhyt: t('bhyt'),
      copay: t('copay'),
      outOfScope: t('outOfScope'),
      patient: t('patient'),
    },
    unbilled: lines.filter((l) => l.status === 'billable').length,
  };
}

export function invoiceNumber(inv: Invoice | undefined): string | undefined {
  return inv?.identifier?.find((i) => i.system === INVOICE_SID)?.value;
}

export function receiptNumber(inv: Invoice | undefined): string | undefined {
  return inv?.identifier?.find((i) => i.system === RECEIPT_SID)?.value;
}

export function paymentOf(inv: Invoice | undefined): string | undefined {
  return inv?.extension?.find((e) => e.url === INVOICE_PAYMENT_EXT)?.valueReference?.reference;
}

export function visitOfInvoice(inv: Invoice): string | undefined {
  return inv.extension
    ?.find((e) => e.url === INVOICE_VISIT_EXT)
    ?.valueReference?.reference?.split('/')
    .pop();
}

/** The visit's invoices, newest first; the open (issued) one is what the cashier acts on. */
export function visitInvoices(all: readonly Invoice[], encounterId: string): Invoice[] {
  return all
    .filter((i) => visitOfInvoice(i) === encounterId)
    .sort((a, b) => (b.date ?? '').localeCompare(a.date ?? ''));
}

/** Change to give back for cash received (undefined while the amount is not enough or not a number). */
export function changeDue(received: string, due: number): number | undefined {
  const v = received.replace(/[.\s,đ]/g, '');
  if (!/^\d+$/.test(v)) {
    return undefined;
  }
  const n = Number(v);
  return n >= due ? n - due : undefined;
}

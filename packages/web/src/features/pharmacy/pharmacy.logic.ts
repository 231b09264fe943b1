/**
 * The pharmacy screen's pure parts: reading the server's Parameters ($dispensable, $stock-report), the first-expiring-
 * first plan shown before dispensing, the dispense and receipt requests, and exact decimal formatting (quantities and
 * prices are decimal text from the server; they are never turned into floating point for money).
 */
import type { MedicationRequest, Parameters, ParametersParameter } from '@medplum/fhirtypes';

export const DRUGS_SYSTEM = 'https://sen.health.vn/fhir/CodeSystem/drug';

type Part = ParametersParameter;

function parts(p: Part | Parameters | undefined, name: string): Part[] {
  const list =
    (p as Parameters | undefined)?.resourceType === 'Parameters'
      ? (p as Parameters).parameter
      : (p as Part | undefined)?.part;
  return (list ?? []).filter((x) => x.name === name);
}

function part(p: Part | Parameters | undefined, name: string): Part | undefined {
  return parts(p, name)[0];
}

export interface Lot {
  id: string;
  lotNumber: string;
  expiry: string;
  available: number;
}

export interface RxLine {
  request: MedicationRequest;
  drugCode: string;
  drugName: string;
  dosage: string;
  prescribed: number;
  dispensed: number;
  remaining: number;
  unit: string;
  /** dispensable lots of the chosen warehouse, first expiring first */
  lots: Lot[];
}

export type RxState = 'ready' | 'partial' | 'complete' | 'replaced' | 'stopped' | 'expired';

export interface Rx {
  code: string;
  state: RxState;
  replacedBy?: string;
  validUntil?: string;
  patientName: string;
  patientId: string;
  birthDate?: string;
  authoredOn?: string;
  lines: RxLine[];
}

export function prescriptionsOf(p: Parameters | undefined): Rx[] {
  return parts(p, 'prescription').map((x) => ({
    code: part(x, 'code')?.valueString ?? '',
    state: (part(x, 'status')?.valueCode ?? 'ready') as RxState,
    replacedBy: part(x, 'replacedBy')?.valueString,
    validUntil: part(x, 'validUntil')?.valueDateTime,
    patientName: part(x, 'patient')?.valueReference?.display ?? '',
    patientId: (part(x, 'patient')?.valueReference?.reference ?? '').split('/')[1] ?? '',
    birthDate: part(x, 'birthDate')?.valueDate,
    authoredOn: part(x, 'authoredOn')?.valueDateTime,
    lines: parts(x, 'line').map((l) => {
      const request = part(l, 'medicationRequest')?.resource as MedicationRequest;
      const coding = request.medicationCodeableConcept?.coding?.find((c) => c.system === DRUGS_SYSTEM);
      return {
        request,
        drugCode: coding?.code ?? '',
        drugName: request.medicationCodeableConcept?.text ?? coding?.display ?? '',
        dosage: request.dosageInstruction?.[0]?.text ?? '',
        prescribed: part(l, 'prescribed')?.valueDecimal ?? 0,
        dispensed: part(l, 'dispensed')?.valueDecimal ?? 0,
        remaining: part(l, 'remaining')?.valueDecimal ?? 0,
        unit: part(l, 'unit')?.valueString ?? '',
        lots: parts(l, 'lot').map((lot) => ({
          id: part(lot, 'id')?.valueString ?? '',
          lotNumber: part(lot, 'lotNumber')?.valueString ?? '',
          expiry: part(lot, 'expiry')?.valueDate ?? '',
          available: part(lot, 'available')?.valueDecimal ?? 0,
        })),
      };
    }),
  }));
}

/** Whether a typed or scanned text is an e-prescription code: 5-character facility code, 7 characters, -N|H|C|T. */
export function isPrescriptionCode(text: string): boolean {
  return /^[0-9A-Za-z]{5}[0-9a-zA-Z]{7}-[NHCTnhct]$/.test(text.trim());
}

const THOUSANDTHS = 1000;

function milli(n: number): number {
  return Math.round(n * THOUSANDTHS);
}

/** How a quantity would be taken from the lots, first expiring first (what the server does when no lot is chosen). */
export function fefoPlan(
  lots: readonly Lot[],
  quantity: number,
): { plan: { lot: Lot; quantity: number }[]; short: number } {
  let left = milli(quantity);
  const plan: { lot: Lot; quantity: number }[] = [];
  for (const lot of [...lots].sort((a, b) => a.expiry.localeCompare(b.expiry))) {
    if (left <= 0) {
      break;
    }
    const take = Math.min(milli(lot.available), left);
    if (take > 0) {
      plan.push({ lot, quantity: take / THOUSANDTHS });
      left -= take;
    }
  }
  return { plan, short: left / THOUSANDTHS };
}

export interface LineChoice {
  /** quantity to hand out now */
  quantity: number;
  /** a chosen lot id; undefined: first expiring first */
  lotId?: string;
}

/** The $dispense request for the choices (lines with quantity 0 are left out). */
export function dispenseRequest(
  code: string,
  warehouseId: string,
  rx: Rx,
  choices: Record<string, LineChoice>,
): Parameters {
  const lines: Part[] = [];
  for (const l of rx.lines) {
    const c = choices[l.request.id ?? ''];
    const quantity = c?.quantity ?? l.remaining;
    if (!(quantity > 0)) {
      continue;
    }
    lines.push({
      name: 'line',
      part: [
        { name: 'medicationRequest', valueReference: { reference: `MedicationRequest/${l.request.id}` } },
        { name: 'quantity', valueDecimal: quantity },
        ...(c?.lotId ? [{ name: 'lot', valueString: c.lotId }] : []),
      ],
    });
  }
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'prescriptionCode', valueString: code },
      { name: 'warehouse', valueString: warehouseId },
      ...lines,
    ],
  };
}

/** Problems the pharmacist can see before sending (the server checks the same again). */
export function choiceProblems(
  rx: Rx,
  choices: Record<string, LineChoice>,
): { lineId: string; kind: 'over' | 'short' | 'lot' }[] {
  const out: { lineId: string; kind: 'over' | 'short' | 'lot' }[] = [];
  for (const l of rx.lines) {
    const id = l.request.id ?? '';
    const c = choices[id];
    const quantity = c?.quantity ?? l.remaining;
    if (quantity > l.remaining) {
      out.push({ lineId: id, kind: 'over' });
    } else if (quantity > 0 && c?.lotId) {
      const lot = l.lots.find((x) => x.id === c.lotId);
      if (!lot || lot.available < quantity) {
        out.push({ lineId: id, kind: 'lot' });
      }
    } else if (quantity > 0 && fefoPlan(l.lots, quantity).short > 0) {
      out.push({ lineId: id, kind: 'short' });
    }
  }
  return out;
}

/** An exact decimal from the server (`1234567.5`) with Vietnamese (1.234.567,5) or English (1,234,567.5) separators. */
export function formatDecimal(value: string | number | undefined, lang: string): string {
  if (value === undefined || value === '') {
    return '';
  }
  const s = String(value);
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) {
    return s;
  }
  const [, sign, int, frac] = m;
  const group = lang === 'vi' ? '.' : ',';
  const point = lang === 'vi' ? ',' : '.';
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, group);
  return `${sign}${grouped}${frac ? `${point}${frac}` : ''}`;
}

/** Whether a typed price is an exact decimal the server accepts (≥ 0, at most 2 places; comma or point). */
export function isPrice(text: string): boolean {
  return /^\d{1,12}([.,]\d{1,2})?$/.test(text.trim());
}

/** A typed quantity as the server takes it (> 0, at most 3 places). */
export function isQuantity(text: string): boolean {
  return /^\d{1,9}([.,]\d{1,3})?$/.test(text.trim()) && Number(text.trim().replace(',', '.')) > 0;
}

export interface ReceiptRow {
  drug?: { code: string; display: string };
  lot: string;
  expiry: string;
  quantity: string;
  unitPrice: string;
}

export function receiptRowComplete(r: ReceiptRow): boolean {
  return (
    !!r.drug &&
    r.lot.trim() !== '' &&
    /^\d{4}-\d{2}-\d{2}$/.test(r.expiry) &&
    isQuantity(r.quantity) &&
    isPrice(r.unitPrice)
  );
}

/** The $receive-stock request; prices go as text so no digit is lost. */
export function receiptRequest(warehouseId: string, receiptNumber: string, rows: readonly ReceiptRow[]): Parameters {
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'warehouse', valueString: warehouseId },
      ...(receiptNumber.trim() ? [{ name: 'receiptNumber', valueString: receiptNumber.trim() }] : []),
      ...rows.map((r) => ({
        name: 'item',
        part: [
          { name: 'drug', valueCoding: { system: DRUGS_SYSTEM, code: r.drug?.code } },
          { name: 'lot', valueString: r.lot.trim() },
          { name: 'expiry', valueDate: r.expiry },
          { name: 'quantity', valueString: r.quantity.trim().replace(',', '.') },
          { name: 'unitPrice', valueString: r.unitPrice.trim().replace(',', '.') },
        ],
      })),
    ],
  };
}

export interface StockRow {
  drugCode: string;
  drugName: string;
  unit: string;
  warehouseId: string;
  lotId: string;
  lotNumber: string;
  expiry: string;
  daysLeft: number;
  quantity: number;
  unitPrice: string;
  value: string;
  state: 'ok' | 'near-expiry' | 'expired';
}

export function stockRowsOf(p: Parameters | undefined): { rows: StockRow[]; totalValue: string } {
  return {
    totalValue: part(p, 'totalValue')?.valueString ?? '0',
    rows: parts(p, 'row').map((r) => ({
      drugCode: part(r, 'drug')?.valueCoding?.code ?? '',
      drugName: part(r, 'drug')?.valueCoding?.display ?? '',
      unit: part(r, 'unit')?.valueString ?? '',
      warehouseId: (part(r, 'warehouse')?.valueReference?.reference ?? '').split('/')[1] ?? '',
      lotId: part(r, 'lotId')?.valueString ?? '',
      lotNumber: part(r, 'lotNumber')?.valueString ?? '',
      expiry: part(r, 'expiry')?.valueDate ?? '',
      daysLeft: part(r, 'daysLeft')?.valueInteger ?? 0,
      quantity: part(r, 'quantity')?.valueDecimal ?? 0,
      unitPrice: part(r, 'unitPrice')?.valueString ?? '',
      value: part(r, 'value')?.valueString ?? '',
      state: (part(r, 'state')?.valueCode ?? 'ok') as StockRow['state'],
    })),
  };
}

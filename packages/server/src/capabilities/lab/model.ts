/**
 * The laboratory's pure rules (no database): worklist statuses, the reference range that applies to a patient, the
 * flag of a value (L/H and critical LL/HH), value parsing, UCUM units and the specimen barcode with its check digit.
 */
import type { CodeableConcept, Extension, ServiceRequest } from '@medplum/fhirtypes';

export const SEN_SD = 'https://sen.health.vn/fhir/StructureDefinition';
/** ServiceRequest extension (valueCode): where the order is in the lab (see LAB_STATUSES). */
export const LAB_STATUS_URL = `${SEN_SD}/lab-status`;
/** DiagnosticReport extension: the technician's verification (parts `by` valueReference, `at` valueDateTime). */
export const LAB_VERIFIED_URL = `${SEN_SD}/lab-verification`;
/** Communication extension: who acknowledged a critical-value alert (parts `by`, `at`). */
export const ALERT_ACK_URL = `${SEN_SD}/alert-acknowledgement`;
/** Worklist rows only (never stored): the order waits for payment (contract 3). */
export const AWAITING_PAYMENT_URL = `${SEN_SD}/awaiting-payment`;
export const SPECIMEN_BARCODE_SYSTEM = 'https://sen.health.vn/fhir/sid/specimen-barcode';
export const INTERPRETATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
export const V2_0074 = 'http://terminology.hl7.org/CodeSystem/v2-0074';
export const COMMUNICATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/communication-category';
/** Communication.reasonCode of a critical-value alert. */
export const CRITICAL_REASON: CodeableConcept = {
  coding: [{ system: `https://sen.health.vn/fhir/CodeSystem/alert-reason`, code: 'critical-lab-value' }],
  text: 'Giá trị nguy hiểm / Critical value',
};

/** The lab's statuses of an order, in order. `signed`: an authorised doctor signed the report (final). */
export const LAB_STATUSES = [
  'ordered',
  'collected',
  'received',
  'in-progress',
  'resulted',
  'verified',
  'signed',
] as const;
export type LabStatus = (typeof LAB_STATUSES)[number];

export const LAB_STATUS_VI: Record<LabStatus, string> = {
  ordered: 'Chờ lấy mẫu',
  collected: 'Đã lấy mẫu',
  received: 'Đã nhận mẫu',
  'in-progress': 'Đang làm',
  resulted: 'Có kết quả',
  verified: 'Đã duyệt',
  signed: 'Đã ký',
};

export function isLabStatus(v: unknown): v is LabStatus {
  return typeof v === 'string' && (LAB_STATUSES as readonly string[]).includes(v);
}

export function labStatusOf(sr: ServiceRequest): LabStatus {
  const v = sr.extension?.find((e) => e.url === LAB_STATUS_URL)?.valueCode;
  return isLabStatus(v) ? v : 'ordered';
}

export function withLabStatus(sr: ServiceRequest, status: LabStatus): ServiceRequest {
  const rest = (sr.extension ?? []).filter((e) => e.url !== LAB_STATUS_URL);
  return { ...sr, extension: [...rest, { url: LAB_STATUS_URL, valueCode: status }] };
}

/** A reference range of the catalog (the terminology importer's `referenceRange` property, JSON). */
export interface ReferenceRange {
  sex?: 'male' | 'female';
  /** Age in years, from (inclusive) … to (exclusive). */
  ageFrom?: number;
  ageTo?: number;
  low?: number;
  high?: number;
  text?: string;
}

export interface CriticalLimits {
  low?: number;
  high?: number;
}

/** Age in whole years on a date (YYYY-MM-DD…); undefined without a birth date. */
export function ageInYears(birthDate: string | undefined, on: string): number | undefined {
  if (!birthDate || !/^\d{4}/.test(birthDate)) {
    return undefined;
  }
  const [by, bm = 1, bd = 1] = birthDate.split('-').map(Number);
  const [y, m, d] = on.slice(0, 10).split('-').map(Number);
  let age = y - by;
  if (m < bm || (m === bm && d < bd)) {
    age -= 1;
  }
  return age;
}

/**
 * The range that applies to a patient: ranges for another sex or age are out; of the rest, the most specific (sex
 * given, then age bounds given) wins. A range with age bounds does not apply when the age is unknown.
 */
export function pickRange(
  ranges: readonly ReferenceRange[],
  sex: string | undefined,
  age: number | undefined,
): ReferenceRange | undefined {
  const fits = ranges.filter((r) => {
    if (r.sex && r.sex !== sex) {
      return false;
    }
    if (r.ageFrom !== undefined && (age === undefined || age < r.ageFrom)) {
      return false;
    }
    if (r.ageTo !== undefined && (age === undefined || age >= r.ageTo)) {
      return false;
    }
    return true;
  });
  const score = (r: ReferenceRange): number =>
    (r.sex ? 2 : 0) + (r.ageFrom !== undefined || r.ageTo !== undefined ? 1 : 0);
  return [...fits].sort((a, b) => score(b) - score(a))[0];
}

export type Flag = 'LL' | 'L' | 'N' | 'H' | 'HH';

export const FLAG_DISPLAY: Record<Flag, string> = {
  LL: 'Critical low',
  L: 'Low',
  N: 'Normal',
  H: 'High',
  HH: 'Critical high',
};

/** The flag of a numeric value: critical limits first, then the reference range; undefined when nothing applies. */
export function flagOf(
  value: number,
  range: ReferenceRange | undefined,
  critical: CriticalLimits | undefined,
): Flag | undefined {
  if (critical?.low !== undefined && value < critical.low) {
    return 'LL';
  }
  if (critical?.high !== undefined && value > critical.high) {
    return 'HH';
  }
  if (range?.low !== undefined && value < range.low) {
    return 'L';
  }
  if (range?.high !== undefined && value > range.high) {
    return 'H';
  }
  if (range?.low !== undefined || range?.high !== undefined) {
    return 'N';
  }
  return undefined;
}

export function isCritical(flag: Flag | undefined): boolean {
  return flag === 'LL' || flag === 'HH';
}

export function interpretationOf(flag: Flag): CodeableConcept {
  return { coding: [{ system: INTERPRETATION_SYSTEM, code: flag, display: FLAG_DISPLAY[flag] }] };
}

/** A number as typed or sent by an analyzer: `12.5`, `12,5` (Vietnamese comma), `+1.2`, `-3`; undefined otherwise. */
export function parseNumber(text: string): number | undefined {
  const t = text.trim();
  if (!/^[-+]?\d+(?:[.,]\d+)?$/.test(t)) {
    return undefined;
  }
  return Number(t.replace(',', '.'));
}

/** The catalog's unit as UCUM (the catalog writes the units Vietnamese labs print). */
const UCUM_OF: Record<string, string> = {
  'G/L': '10*9/L',
  'T/L': '10*12/L',
  'g/L': 'g/L',
  'mmol/L': 'mmol/L',
  'µmol/L': 'umol/L',
  'umol/L': 'umol/L',
  'U/L': 'U/L',
  '%': '%',
  'L/L': 'L/L',
  'mg/L': 'mg/L',
  'mIU/L': 'm[IU]/L',
  'pmol/L': 'pmol/L',
};

export function ucumOf(unit: string | undefined): string | undefined {
  return unit === undefined ? undefined : UCUM_OF[unit];
}

/** Luhn-style mod-10 check digit over digits. */
export function checkDigit(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    const d = Number(digits[digits.length - 1 - i]);
    const x = i % 2 === 0 ? d * 2 : d;
    sum += x > 9 ? x - 9 : x;
  }
  return String((10 - (sum % 10)) % 10);
}

/** The barcode of the n-th specimen of a (Vietnam) day: YYMMDD + 4 digits (5 beyond 9999) + check digit. */
export function barcodeOf(day: string, n: number): string {
  const body = `${day.slice(2, 4)}${day.slice(5, 7)}${day.slice(8, 10)}${String(n).padStart(4, '0')}`;
  return body + checkDigit(body);
}

/** Whether a scanned barcode is well formed (digits, check digit right). */
export function barcodeValid(code: string): boolean {
  return /^\d{11,12}$/.test(code) && checkDigit(code.slice(0, -1)) === code.slice(-1);
}

export function ext(url: string, parts: Extension[]): Extension {
  return { url, extension: parts };
}

/** Priority order of the worklist: stat, then urgent, then routine (asap between). */
export function priorityRank(p: string | undefined): number {
  return p === 'stat' ? 0 : p === 'urgent' ? 1 : p === 'asap' ? 2 : 3;
}

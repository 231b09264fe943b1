/**
 * The doctor's screens' pure logic: quantities, age and BMI display, vital-sign flags, reading operation
 * Parameters, queue extensions, prescribing warnings from a 422 OperationOutcome, trends. No React, no fetch.
 */
import type {
  Coding,
  Encounter,
  Observation,
  OperationOutcome,
  Parameters,
  ParametersParameter,
  Patient,
} from '@medplum/fhirtypes';

// ---------------------------------------------------------------- systems (the shared contracts)

export const QUEUE_NUMBER_SID = 'https://sen.health.vn/fhir/sid/queue-number';
export const QUEUE_NUMBER_EXT = 'https://sen.health.vn/fhir/StructureDefinition/queue-number';
export const QUEUE_STATUS_EXT = 'https://sen.health.vn/fhir/StructureDefinition/queue-status';
/** The Vietnamese ICD-10 list (VN Core); the server's CATALOG_URLS.icd10. */
export const ICD10_SYSTEM = 'http://fhir.hl7.org.vn/core/CodeSystem/vn-icd10-cs';
export const SERVICES_SYSTEM = 'https://sen.health.vn/fhir/CodeSystem/bhyt-service';
export const DRUGS_SYSTEM = 'https://sen.health.vn/fhir/CodeSystem/drug';
export const CCCD_SID = 'http://fhir.hl7.org.vn/core/sid/cccd';
export const BHYT_SID = 'http://fhir.hl7.org.vn/core/sid/bhyt';

// ---------------------------------------------------------------- Parameters

export type ParamValue = Omit<ParametersParameter, 'name'>;

/** A Parameters resource from name → value pairs (undefined values and empty strings left out). */
export function parameters(entries: [string, ParamValue | undefined][]): Parameters {
  return {
    resourceType: 'Parameters',
    parameter: entries
      .filter((e): e is [string, ParamValue] => e[1] !== undefined && e[1].valueString !== '')
      .map(([name, value]) => ({ name, ...value })),
  };
}

export function paramsNamed(p: Parameters | ParametersParameter | undefined, name: string): ParametersParameter[] {
  const list = (p && 'resourceType' in p ? p.parameter : p?.part) ?? [];
  return list.filter((x) => x.name === name);
}

export function paramNamed(
  p: Parameters | ParametersParameter | undefined,
  name: string,
): ParametersParameter | undefined {
  return paramsNamed(p, name)[0];
}

/** The primitive value of a parameter, whatever its value[x] type. */
export function paramValue(p: ParametersParameter | undefined): string | number | boolean | undefined {
  if (!p) {
    return undefined;
  }
  for (const [k, v] of Object.entries(p)) {
    if (k.startsWith('value') && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) {
      return v;
    }
  }
  return undefined;
}

export function paramString(p: Parameters | ParametersParameter | undefined, name: string): string | undefined {
  const v = paramValue(paramNamed(p, name));
  return v === undefined ? undefined : String(v);
}

export function paramNumber(p: Parameters | ParametersParameter | undefined, name: string): number | undefined {
  const v = paramValue(paramNamed(p, name));
  return typeof v === 'number'
    ? v
    : typeof v === 'string' && v !== '' && !Number.isNaN(Number(v))
      ? Number(v)
      : undefined;
}

// ---------------------------------------------------------------- catalogs: orderable services, drugs

export interface Orderable {
  code: Coding;
  category?: string;
  price?: number;
  bhytCovered?: boolean;
  bhytRate?: number;
  department?: string;
}

export interface OrderSet {
  code: string;
  name: string;
  services: string[];
}

export function orderablesOf(p: Parameters | undefined): { services: Orderable[]; orderSets: OrderSet[] } {
  const services = paramsNamed(p, 'service').flatMap((s): Orderable[] => {
    const code = paramNamed(s, 'code')?.valueCoding;
    if (!code?.code) {
      return [];
    }
    const covered = paramValue(paramNamed(s, 'bhytCovered'));
    return [
      {
        code,
        category: paramString(s, 'category'),
        price: paramNumber(s, 'price'),
        bhytCovered: typeof covered === 'boolean' ? covered : undefined,
        bhytRate: paramNumber(s, 'bhytRate'),
        department: paramString(s, 'department'),
      },
    ];
  });
  const orderSets = paramsNamed(p, 'orderSet').flatMap((s): OrderSet[] => {
    const code = paramString(s, 'code');
    if (!code) {
      return [];
    }
    return [
      {
        code,
        name: paramString(s, 'name') ?? code,
        services: (paramString(s, 'services') ?? '')
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      },
    ];
  });
  return { services, orderSets };
}

export interface Drug {
  code: Coding;
  name: string;
  ingredient?: string;
  strength?: string;
  form?: string;
  unit?: string;
  route?: string;
  price?: number;
  bhytCovered?: boolean;
}

export function drugsOf(p: Parameters | undefined): Drug[] {
  return paramsNamed(p, 'drug').flatMap((d): Drug[] => {
    const code = paramNamed(d, 'code')?.valueCoding;
    if (!code?.code) {
      return [];
    }
    const covered = paramValue(paramNamed(d, 'bhytCovered'));
    return [
      {
        code,
        name: paramString(d, 'name') ?? code.display ?? code.code,
        ingredient: paramString(d, 'ingredient'),
        strength: paramString(d, 'strength'),
        form: paramString(d, 'form'),
        unit: paramString(d, 'unit'),
        route: paramString(d, 'route'),
        price: paramNumber(d, 'price'),
        bhytCovered: typeof covered === 'boolean' ? covered : undefined,
      },
    ];
  });
}

/** What BHYT pays and what the patient pays for a price at a coverage rate (%), in whole đồng. */
export function bhytShare(
  price: number,
  ratePercent: number | undefined,
  covered: boolean | undefined,
): {
  bhyt: number;
  patient: number;
} {
  const rate = covered ? Math.min(100, Math.max(0, ratePercent ?? 100)) : 0;
  const bhyt = Math.round((price * rate) / 100);
  return { bhyt, patient: price - bhyt };
}

export function formatVnd(value: number | undefined, lang: string): string {
  if (value === undefined) {
    return '';
  }
  return `${new Intl.NumberFormat(lang === 'vi' ? 'vi-VN' : 'en-US', { maximumFractionDigits: 0 }).format(value)} ₫`;
}

// ---------------------------------------------------------------- prescribing

/** Quantity to dispense: dose per time × times per day × days (the server computes the same); undefined if incomplete. */
export function prescribedQuantity(
  dosePerTime: number | undefined,
  timesPerDay: number | undefined,
  days: number | undefined,
): number | undefined {
  if (
    dosePerTime === undefined ||
    timesPerDay === undefined ||
    days === undefined ||
    !(dosePerTime > 0) ||
    !(timesPerDay > 0) ||
    !(days > 0) ||
    !Number.isInteger(timesPerDay) ||
    !Number.isInteger(days)
  ) {
    return undefined;
  }
  // decimal doses (½ tablet): round away binary noise, 0.1 × 3 × 7 is 2.1 not 2.1000000000000005
  return Math.round(dosePerTime * timesPerDay * days * 1000) / 1000;
}

/** Default instructions a doctor edits: "Ngày uống 2 lần, mỗi lần 1 Viên" / "2 times a day, 1 Viên each". */
export function defaultInstructions(
  lang: string,
  dosePerTime: number | undefined,
  timesPerDay: number | undefined,
  unit: string | undefined,
  route: string | undefined,
): string {
  if (!dosePerTime || !timesPerDay) {
    return '';
  }
  const u = unit ?? '';
  if (lang === 'vi') {
    const verb = !route || /u[ốo]ng/i.test(route) ? 'uống' : 'dùng';
    return `Ngày ${verb} ${timesPerDay} lần, mỗi lần ${dosePerTime} ${u}`.trim();
  }
  return `${timesPerDay} times a day, ${dosePerTime} ${u} each time`.trim();
}

export interface PrescribingWarning {
  /** The warning code the doctor acknowledges (`acknowledge` parameter). */
  code: string;
  message: string;
  /** error: refused outright (cannot be acknowledged); warning: can be acknowledged. */
  severity: 'error' | 'warning';
  /** Where in the items (FHIRPath-ish expression), when the server says. */
  expression?: string;
}

/**
 * The warnings of a $prescribe 422: one per issue, its code from `details.coding[0].code`, its words from
 * `details.text` or `diagnostics`. Issues without a code are plain errors (nothing to acknowledge).
 */
export function prescribingWarnings(outcome: OperationOutcome | undefined): PrescribingWarning[] {
  return (outcome?.issue ?? []).map((i, n) => {
    const code = i.details?.coding?.[0]?.code;
    const message = i.details?.text ?? i.diagnostics ?? code ?? '';
    const fatal = i.severity === 'fatal' || (i.severity === 'error' && !code);
    return {
      code: code ?? `issue-${n}`,
      message,
      severity: fatal || !code ? 'error' : 'warning',
      expression: i.expression?.[0],
    };
  });
}

/** Which warnings still block: those not acknowledged yet (errors always block). */
export function unacknowledged(warnings: PrescribingWarning[], acknowledged: readonly string[]): PrescribingWarning[] {
  return warnings.filter((w) => w.severity === 'error' || !acknowledged.includes(w.code));
}

/** Readable text of an OperationOutcome: each issue's words, one per line. */
export function outcomeMessages(outcome: OperationOutcome | undefined): string[] {
  return (outcome?.issue ?? []).map((i) => i.details?.text ?? i.diagnostics ?? i.code).filter(Boolean);
}

/** The national e-prescription code shape `xxxxxyyyyyyy-z` (5 facility + 7 random, type N/H/C/T). */
export function isPrescriptionCode(code: string): boolean {
  return /^[0-9A-Za-z]{5}[0-9a-z]{7}-[NHCTnhct]$/.test(code);
}

// ---------------------------------------------------------------- age, BMI, vital signs

/** Whole years and months between a birth date (YYYY-MM-DD) and a day. */
export function ageOn(birthDate: string, on: Date): { years: number; months: number } | undefined {
  const m = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(birthDate) ?? /^(\d{4})$/.exec(birthDate);
  if (!m) {
    return undefined;
  }
  const y = Number(m[1]);
  const mo = m[2] ? Number(m[2]) : 1;
  const d = m[3] ? Number(m[3]) : 1;
  let months = (on.getFullYear() - y) * 12 + (on.getMonth() + 1 - mo);
  if (on.getDate() < d) {
    months -= 1;
  }
  if (months < 0) {
    return undefined;
  }
  return { years: Math.floor(months / 12), months };
}

/** The age as a Vietnamese chart writes it: months under 72 months (e-prescription rule), years above. */
export function ageLabel(birthDate: string | undefined, on: Date, lang: string): string {
  const a = birthDate ? ageOn(birthDate, on) : undefined;
  if (!a) {
    return '';
  }
  if (a.months < 72) {
    return lang === 'vi' ? `${a.months} tháng` : `${a.months} months`;
  }
  return lang === 'vi' ? `${a.years} tuổi` : `${a.years} years`;
}

export function isChildUnder72Months(birthDate: string | undefined, on: Date): boolean {
  const a = birthDate ? ageOn(birthDate, on) : undefined;
  return !!a && a.months < 72;
}

/** BMI from height (cm) and weight (kg), one decimal; undefined when either is missing or impossible. */
export function bmiOf(heightCm: number | undefined, weightKg: number | undefined): number | undefined {
  if (!heightCm || !weightKg || heightCm < 30 || heightCm > 260 || weightKg <= 0 || weightKg > 400) {
    return undefined;
  }
  const m = heightCm / 100;
  return Math.round((weightKg / (m * m)) * 10) / 10;
}

/** Adult BMI class with the Asia-Pacific cut-offs used in Vietnam (WHO WPRO 2000). */
export type BmiClass = 'underweight' | 'normal' | 'overweight' | 'obese1' | 'obese2';

export function bmiClass(bmi: number): BmiClass {
  if (bmi < 18.5) {
    return 'underweight';
  }
  if (bmi < 23) {
    return 'normal';
  }
  if (bmi < 25) {
    return 'overweight';
  }
  if (bmi < 30) {
    return 'obese1';
  }
  return 'obese2';
}

export const VITALS = [
  'pulse',
  'systolic',
  'diastolic',
  'temperature',
  'respiratoryRate',
  'spo2',
  'height',
  'weight',
] as const;
export type VitalKey = (typeof VITALS)[number];

/** Adult reference ranges (flags preview; the server's interpretation is the record) and plausible limits. */
export const VITAL_RANGES: Record<
  VitalKey,
  { unit: string; low?: number; high?: number; critLow?: number; critHigh?: number; min: number; max: number }
> = {
  pulse: { unit: '/min', low: 60, high: 100, critLow: 40, critHigh: 130, min: 20, max: 250 },
  systolic: { unit: 'mmHg', low: 90, high: 139, critLow: 70, critHigh: 180, min: 40, max: 300 },
  diastolic: { unit: 'mmHg', low: 60, high: 89, critLow: 40, critHigh: 120, min: 20, max: 200 },
  temperature: { unit: '°C', low: 36, high: 37.5, critLow: 35, critHigh: 40, min: 30, max: 45 },
  respiratoryRate: { unit: '/min', low: 12, high: 20, critLow: 8, critHigh: 30, min: 4, max: 80 },
  spo2: { unit: '%', low: 95, critLow: 90, min: 50, max: 100 },
  height: { unit: 'cm', min: 30, max: 260 },
  weight: { unit: 'kg', min: 0.5, max: 400 },
};

export type Flag = 'LL' | 'L' | 'H' | 'HH';

/** The out-of-range flag of an adult vital sign, or undefined when in range or not applicable. */
export function vitalFlag(key: VitalKey, value: number | undefined): Flag | undefined {
  if (value === undefined || Number.isNaN(value)) {
    return undefined;
  }
  const r = VITAL_RANGES[key];
  if (r.critLow !== undefined && value < r.critLow) {
    return 'LL';
  }
  if (r.critHigh !== undefined && value >= r.critHigh) {
    return 'HH';
  }
  if (r.low !== undefined && value < r.low) {
    return 'L';
  }
  if (r.high !== undefined && value > r.high) {
    return 'H';
  }
  return undefined;
}

/** Values no person has: the form refuses them before sending (the server refuses them with 400 too). */
export function vitalImpossible(key: VitalKey, value: number | undefined): boolean {
  if (value === undefined) {
    return false;
  }
  const r = VITAL_RANGES[key];
  return Number.isNaN(value) || value < r.min || value > r.max;
}

/** The interpretation flag the server wrote on an Observation (H/L/HH/LL; N and others are no flag). */
export function observationFlag(o: Observation): Flag | undefined {
  for (const c of o.interpretation ?? []) {
    for (const coding of c.coding ?? []) {
      if (coding.code === 'H' || coding.code === 'L' || coding.code === 'HH' || coding.code === 'LL') {
        return coding.code;
      }
    }
  }
  return undefined;
}

// ---------------------------------------------------------------- queue

export type QueueStatus = 'waiting' | 'called' | 'in-progress' | 'skipped' | 'done';

export function queueStatus(e: Encounter): QueueStatus | undefined {
  const v = e.extension?.find((x) => x.url === QUEUE_STATUS_EXT)?.valueCode;
  return v === 'waiting' || v === 'called' || v === 'in-progress' || v === 'skipped' || v === 'done' ? v : undefined;
}

export function queueNumber(e: Encounter): number | undefined {
  const ext = e.extension?.find((x) => x.url === QUEUE_NUMBER_EXT)?.valueInteger;
  if (ext !== undefined) {
    return ext;
  }
  const id = e.identifier?.find((i) => i.system === QUEUE_NUMBER_SID)?.value;
  const n = id ? Number(id.split('-').pop()) : NaN;
  return Number.isInteger(n) ? n : undefined;
}

/** The room's queue in calling order: waiting first by number, then skipped, then those in the room and done. */
export function queueGroups(encounters: Encounter[]): Record<QueueStatus, Encounter[]> {
  const groups: Record<QueueStatus, Encounter[]> = {
    waiting: [],
    called: [],
    'in-progress': [],
    skipped: [],
    done: [],
  };
  for (const e of encounters) {
    const s =
      queueStatus(e) ?? (e.status === 'finished' ? 'done' : e.status === 'in-progress' ? 'in-progress' : 'waiting');
    groups[s].push(e);
  }
  for (const list of Object.values(groups)) {
    list.sort((a, b) => (queueNumber(a) ?? 0) - (queueNumber(b) ?? 0));
  }
  return groups;
}

// ---------------------------------------------------------------- patient

export function identifierValue(p: Patient | undefined, system: string): string | undefined {
  return (
    p?.identifier?.find((i) => i.system === system && i.period?.end === undefined)?.value ??
    p?.identifier?.find((i) => i.system === system)?.value
  );
}

// ---------------------------------------------------------------- results and trends

export interface TrendPoint {
  at: string;
  value: number;
  flag?: Flag;
}

export interface Trend {
  /** LOINC (or other) code; for blood pressure components the component's code. */
  code: string;
  label: string;
  unit?: string;
  points: TrendPoint[];
}

function codeOf(o: { code?: { coding?: Coding[]; text?: string } }): string | undefined {
  return o.code?.coding?.[0]?.code;
}

/** Observation history grouped by code, oldest first; blood pressure is split into its two components. */
export function trendsOf(observations: Observation[]): Trend[] {
  const byCode = new Map<string, Trend>();
  const add = (code: string, label: string, unit: string | undefined, p: TrendPoint): void => {
    let t = byCode.get(code);
    if (!t) {
      t = { code, label, unit, points: [] };
      byCode.set(code, t);
    }
    t.points.push(p);
  };
  for (const o of observations) {
    const at = o.effectiveDateTime ?? o.issued ?? o.meta?.lastUpdated;
    if (!at || o.status === 'entered-in-error' || o.status === 'cancelled') {
      continue;
    }
    const flag = observationFlag(o);
    if (o.valueQuantity?.value !== undefined) {
      const code = codeOf(o);
      if (code) {
        add(code, o.code.text ?? o.code.coding?.[0]?.display ?? code, o.valueQuantity.unit, {
          at,
          value: o.valueQuantity.value,
          flag,
        });
      }
    }
    for (const c of o.component ?? []) {
      const code = codeOf(c);
      if (code && c.valueQuantity?.value !== undefined) {
        add(code, c.code.text ?? c.code.coding?.[0]?.display ?? code, c.valueQuantity.unit, {
          at,
          value: c.valueQuantity.value,
          flag: observationFlag(c as Observation),
        });
      }
    }
  }
  const trends = [...byCode.values()];
  for (const t of trends) {
    t.points.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  }
  return trends.sort((a, b) => a.label.localeCompare(b.label, 'vi'));
}

/** Direction of the last change: up, down or flat (within 2 % of the previous value). */
export function trendDirection(points: TrendPoint[]): 'up' | 'down' | 'flat' | undefined {
  if (points.length < 2) {
    return undefined;
  }
  const last = points[points.length - 1].value;
  const prev = points[points.length - 2].value;
  const tolerance = Math.abs(prev) * 0.02;
  return last > prev + tolerance ? 'up' : last < prev - tolerance ? 'down' : 'flat';
}

/** SVG polyline points of a sparkline `width`×`height` (a flat series is drawn in the middle). */
export function sparklinePoints(values: number[], width: number, height: number, pad = 2): string {
  if (values.length === 0) {
    return '';
  }
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min;
  const step = values.length > 1 ? (width - 2 * pad) / (values.length - 1) : 0;
  return values
    .map((v, i) => {
      const x = values.length > 1 ? pad + i * step : width / 2;
      const y = span === 0 ? height / 2 : pad + (1 - (v - min) / span) * (height - 2 * pad);
      return `${Math.round(x * 10) / 10},${Math.round(y * 10) / 10}`;
    })
    .join(' ');
}

/** Today's day as YYYY-MM-DD in the browser's time zone. */
export function localDay(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

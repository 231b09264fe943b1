/**
 * The lab screens' pure rules: worklist rows from the `$lab-worklist` Bundle, counts per status, the flag a typed
 * value will get (the same rule as the server: critical limits, then the range), the rows of the result form from
 * `$lab-form`, and the lines of the specimen label.
 */
import type {
  Bundle,
  DiagnosticReport,
  Encounter,
  Observation,
  Parameters,
  ParametersParameter,
  Patient,
  ServiceRequest,
  Specimen,
} from '@medplum/fhirtypes';

export const LAB_STATUS_URL = 'https://sen.health.vn/fhir/StructureDefinition/lab-status';
export const AWAITING_PAYMENT_URL = 'https://sen.health.vn/fhir/StructureDefinition/awaiting-payment';
export const LAB_VERIFIED_URL = 'https://sen.health.vn/fhir/StructureDefinition/lab-verification';
export const BARCODE_SYSTEM = 'https://sen.health.vn/fhir/sid/specimen-barcode';

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

export type Flag = 'LL' | 'L' | 'N' | 'H' | 'HH';

export function labStatusOf(sr: ServiceRequest): LabStatus {
  const v = sr.extension?.find((e) => e.url === LAB_STATUS_URL)?.valueCode;
  return (LAB_STATUSES as readonly string[]).includes(v ?? '') ? (v as LabStatus) : 'ordered';
}

export interface LabItem {
  order: ServiceRequest;
  status: LabStatus;
  held: boolean;
  patient?: Patient;
  encounter?: Encounter;
  specimen?: Specimen;
  report?: DiagnosticReport;
}

const idOf = (ref: string | undefined, type: string): string | undefined =>
  ref?.startsWith(`${type}/`) ? ref.slice(type.length + 1) : undefined;

/** The rows of a `$lab-worklist` searchset, in the server's order (stat, urgent, routine; oldest first). */
export function labWorklistOf(bundle: Bundle | undefined): LabItem[] {
  const entries = bundle?.entry ?? [];
  const byKey = new Map<string, unknown>();
  for (const e of entries) {
    if (e.resource?.id) {
      byKey.set(`${e.resource.resourceType}/${e.resource.id}`, e.resource);
    }
  }
  const reports = entries
    .map((e) => e.resource)
    .filter((r): r is DiagnosticReport => r?.resourceType === 'DiagnosticReport');
  return entries
    .filter((e) => e.resource?.resourceType === 'ServiceRequest' && e.search?.mode !== 'include')
    .map((e) => {
      const order = e.resource as ServiceRequest;
      return {
        order,
        status: labStatusOf(order),
        held: (order.extension ?? []).some((x) => x.url === AWAITING_PAYMENT_URL && x.valueBoolean === true),
        patient: byKey.get(order.subject?.reference ?? '') as Patient | undefined,
        encounter: byKey.get(order.encounter?.reference ?? '') as Encounter | undefined,
        specimen: byKey.get(order.specimen?.[0]?.reference ?? '') as Specimen | undefined,
        report: reports.find((r) => (r.basedOn ?? []).some((b) => idOf(b.reference, 'ServiceRequest') === order.id)),
      };
    });
}

export function countByStatus(items: readonly LabItem[]): Record<LabStatus, number> {
  const out = Object.fromEntries(LAB_STATUSES.map((s) => [s, 0])) as Record<LabStatus, number>;
  for (const i of items) {
    out[i.status] += 1;
  }
  return out;
}

/** The clinic room of the order's visit (the Encounter's first location). */
export function roomOf(item: Pick<LabItem, 'encounter'>): { id: string; name: string } | undefined {
  const l = item.encounter?.location?.[0]?.location;
  const id = idOf(l?.reference, 'Location');
  return id ? { id, name: l?.display ?? id } : undefined;
}

/** The rooms of the worklist's visits, by name, once each (the room filter's choices). */
export function roomsOf(items: readonly Pick<LabItem, 'encounter'>[]): { id: string; name: string }[] {
  const byId = new Map<string, { id: string; name: string }>();
  for (const i of items) {
    const r = roomOf(i);
    if (r) {
      byId.set(r.id, r);
    }
  }
  return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name, 'vi'));
}

export function orderName(sr: ServiceRequest): string {
  return sr.code?.text ?? sr.code?.coding?.[0]?.display ?? sr.code?.coding?.[0]?.code ?? '';
}

export function barcodeOf(s: Specimen | undefined): string | undefined {
  return s?.accessionIdentifier?.system === BARCODE_SYSTEM ? s.accessionIdentifier.value : undefined;
}

/** What the technician can do next at this status (signing is the doctor's). */
export function nextAction(
  item: Pick<LabItem, 'status' | 'held'>,
): 'pay' | 'collect' | 'receive' | 'enter' | 'verify' | 'sign' | undefined {
  switch (item.status) {
    case 'ordered':
      return item.held ? 'pay' : 'collect';
    case 'collected':
      return 'receive';
    case 'received':
    case 'in-progress':
      return 'enter';
    case 'resulted':
      return 'verify';
    case 'verified':
      return 'sign';
    case 'signed':
      return undefined;
  }
}

/** A typed number: `12.5` or `12,5`; undefined when it is not one. */
export function parseValue(text: string): number | undefined {
  const t = text.trim();
  return /^[-+]?\d+(?:[.,]\d+)?$/.test(t) ? Number(t.replace(',', '.')) : undefined;
}

export interface FormRow {
  code: string;
  display: string;
  displayEn?: string;
  unit?: string;
  low?: number;
  high?: number;
  rangeText?: string;
  criticalLow?: number;
  criticalHigh?: number;
  observation?: Observation;
}

/** The flag a value gets: below/above the critical limits LL/HH, outside the range L/H, else N (no range: none). */
export function flagFor(
  value: number,
  row: Pick<FormRow, 'low' | 'high' | 'criticalLow' | 'criticalHigh'>,
): Flag | undefined {
  if (row.criticalLow !== undefined && value < row.criticalLow) {
    return 'LL';
  }
  if (row.criticalHigh !== undefined && value > row.criticalHigh) {
    return 'HH';
  }
  if (row.low !== undefined && value < row.low) {
    return 'L';
  }
  if (row.high !== undefined && value > row.high) {
    return 'H';
  }
  return row.low !== undefined || row.high !== undefined ? 'N' : undefined;
}

export function rangeLabel(row: Pick<FormRow, 'low' | 'high' | 'rangeText'>): string {
  if (row.low !== undefined && row.high !== undefined) {
    return `${row.low}–${row.high}`;
  }
  if (row.high !== undefined) {
    return `≤ ${row.high}`;
  }
  if (row.low !== undefined) {
    return `≥ ${row.low}`;
  }
  return row.rangeText ?? '';
}

export interface LabForm {
  order?: ServiceRequest;
  specimen?: Specimen;
  report?: DiagnosticReport;
  rows: FormRow[];
}

/** The `$lab-form` Parameters as rows. */
export function formOf(p: Parameters | undefined): LabForm {
  const params = p?.parameter ?? [];
  const res = <T>(name: string): T | undefined => params.find((x) => x.name === name)?.resource as T | undefined;
  const rows = params
    .filter((x) => x.name === 'indicator')
    .map((x): FormRow => {
      const part = (n: string): ParametersParameter | undefined => x.part?.find((y) => y.name === n);
      return {
        code: part('code')?.valueCode ?? '',
        display: part('display')?.valueString ?? '',
        displayEn: part('displayEn')?.valueString,
        unit: part('unit')?.valueString,
        low: part('low')?.valueDecimal,
        high: part('high')?.valueDecimal,
        rangeText: part('rangeText')?.valueString,
        criticalLow: part('criticalLow')?.valueDecimal,
        criticalHigh: part('criticalHigh')?.valueDecimal,
        observation: part('observation')?.resource as Observation | undefined,
      };
    });
  return { order: res('order'), specimen: res('specimen'), report: res('report'), rows };
}

/** The value of a stored result as the input shows it. */
export function storedValue(o: Observation | undefined): string {
  if (o?.valueQuantity?.value !== undefined) {
    return String(o.valueQuantity.value);
  }
  return o?.valueString ?? '';
}

/** The typed values that differ from what is stored (what "save" sends). */
export function changedResults(
  rows: readonly FormRow[],
  typed: Readonly<Record<string, string>>,
): { code: string; value: string }[] {
  return rows
    .filter((r) => {
      const v = (typed[r.code] ?? '').trim();
      return v !== '' && v !== storedValue(r.observation);
    })
    .map((r) => ({ code: r.code, value: (typed[r.code] ?? '').trim() }));
}

/** The lines printed on the tube label under the barcode. */
export function labelLines(input: { patient?: Patient; order?: ServiceRequest; specimen?: Specimen }): string[] {
  const p = input.patient;
  const n = p?.name?.[0];
  const name = n?.text ?? [n?.family, ...(n?.given ?? [])].filter(Boolean).join(' ');
  const sex = p?.gender === 'male' ? 'Nam' : p?.gender === 'female' ? 'Nữ' : '';
  const year = p?.birthDate?.slice(0, 4) ?? '';
  const collected = input.specimen?.collection?.collectedDateTime;
  const time = collected
    ? new Date(collected).toLocaleString('vi-VN', {
        timeZone: 'Asia/Ho_Chi_Minh',
        hour: '2-digit',
        minute: '2-digit',
        day: '2-digit',
        month: '2-digit',
      })
    : '';
  return [
    [name.toLocaleUpperCase('vi-VN'), [sex, year].filter(Boolean).join(' ')].filter(Boolean).join(' — '),
    input.order ? orderName(input.order) : '',
    [input.specimen?.container?.[0]?.description?.split(' / ')[0], time].filter(Boolean).join(' · '),
  ].filter((l) => l !== '');
}

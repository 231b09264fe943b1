/**
 * The departments' results on the doctor's chart: DiagnosticReports of the visit (lab with their Observations,
 * imaging with findings and conclusion), newest first, with each value's flag and reference range.
 */
import type {
  Bundle,
  Communication,
  DiagnosticReport,
  Observation,
  ObservationReferenceRange,
} from '@medplum/fhirtypes';
import { entriesOf } from '../../api/fhir.ts';
import { type Flag, observationFlag } from './clinic.logic.ts';

export type ReportKind = 'lab' | 'imaging' | 'other';

export interface ResultValue {
  id?: string;
  name: string;
  value: string;
  unit?: string;
  range?: string;
  flag?: Flag;
  status?: string;
}

export interface ReportView {
  id: string;
  kind: ReportKind;
  title: string;
  /** registered | partial | preliminary | final | amended | corrected | cancelled… */
  status: string;
  /** final, amended or corrected: signed off. */
  signed: boolean;
  issued?: string;
  performer?: string;
  orderIds: string[];
  values: ResultValue[];
  conclusion?: string;
  /** Imaging findings (presentedForm text or the report's text). */
  findings?: string;
  /** A value is critical (HH/LL). */
  critical: boolean;
}

const V2_0074 = 'http://terminology.hl7.org/CodeSystem/v2-0074';

function kindOf(r: DiagnosticReport): ReportKind {
  for (const c of r.category ?? []) {
    for (const x of c.coding ?? []) {
      const code = x.code?.toUpperCase();
      if ((x.system === V2_0074 || !x.system) && (code === 'LAB' || code === 'HM' || code === 'CH')) {
        return 'lab';
      }
      if ((x.system === V2_0074 || !x.system) && (code === 'RAD' || code === 'IMG')) {
        return 'imaging';
      }
      if (x.system === 'http://snomed.info/sct' && x.code === '108252007') {
        return 'lab';
      }
      if (x.system === 'http://snomed.info/sct' && x.code === '363679005') {
        return 'imaging';
      }
    }
  }
  return 'other';
}

const conceptText = (c: { text?: string; coding?: { display?: string; code?: string }[] } | undefined): string =>
  c?.text ?? c?.coding?.find((x) => x.display)?.display ?? c?.coding?.[0]?.code ?? '';

function decimalText(n: number): string {
  return String(n);
}

/** A reference range as text: "3.9–6.4", "< 5.2", "≥ 0.9" or its text. */
export function rangeText(ranges: ObservationReferenceRange[] | undefined): string | undefined {
  const r = ranges?.[0];
  if (!r) {
    return undefined;
  }
  const low = r.low?.value;
  const high = r.high?.value;
  if (low !== undefined && high !== undefined) {
    return `${decimalText(low)}–${decimalText(high)}`;
  }
  if (high !== undefined) {
    return `≤ ${decimalText(high)}`;
  }
  if (low !== undefined) {
    return `≥ ${decimalText(low)}`;
  }
  return r.text;
}

/** One Observation as a row: its value with unit, range and flag. */
export function resultValue(o: Observation): ResultValue {
  let value = '';
  let unit: string | undefined;
  if (o.valueQuantity?.value !== undefined) {
    value = decimalText(o.valueQuantity.value);
    unit = o.valueQuantity.unit ?? o.valueQuantity.code;
  } else if (o.valueString !== undefined) {
    value = o.valueString;
  } else if (o.valueCodeableConcept) {
    value = conceptText(o.valueCodeableConcept);
  } else if (o.valueBoolean !== undefined) {
    value = String(o.valueBoolean);
  } else if (o.valueInteger !== undefined) {
    value = String(o.valueInteger);
  } else if (o.dataAbsentReason) {
    value = conceptText(o.dataAbsentReason);
  }
  return {
    id: o.id,
    name: conceptText(o.code),
    value,
    unit,
    range: rangeText(o.referenceRange),
    flag: observationFlag(o),
    status: o.status,
  };
}

function decodeBase64Utf8(data: string): string | undefined {
  try {
    const bin = atob(data);
    const bytes = Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
    return new TextDecoder().decode(bytes);
  } catch {
    return undefined;
  }
}

/** The reports of a `DiagnosticReport?…&_include=DiagnosticReport:result` search, newest first. */
export function reportsOf(bundle: Bundle | undefined): ReportView[] {
  const observations = new Map<string, Observation>(
    entriesOf<Observation>(bundle, 'Observation').map((o) => [`Observation/${o.id ?? ''}`, o]),
  );
  const reports = entriesOf<DiagnosticReport>(bundle, 'DiagnosticReport').filter(
    (r) => r.status !== 'entered-in-error' && r.status !== 'cancelled',
  );
  const views = reports.map((r): ReportView => {
    const values = (r.result ?? [])
      .map((ref) => (ref.reference ? observations.get(ref.reference) : undefined))
      .filter((o): o is Observation => !!o && o.status !== 'entered-in-error' && o.status !== 'cancelled')
      .map(resultValue);
    const form = r.presentedForm?.find((a) => a.contentType?.startsWith('text/plain') && a.data);
    const findings = form?.data ? decodeBase64Utf8(form.data) : undefined;
    return {
      id: r.id ?? '',
      kind: kindOf(r),
      title: conceptText(r.code),
      status: r.status,
      signed: r.status === 'final' || r.status === 'amended' || r.status === 'corrected',
      issued: r.issued ?? r.effectiveDateTime,
      performer: r.resultsInterpreter?.[0]?.display ?? r.performer?.[0]?.display,
      orderIds: (r.basedOn ?? [])
        .map((b) => b.reference ?? '')
        .filter((x) => x.startsWith('ServiceRequest/'))
        .map((x) => x.slice('ServiceRequest/'.length)),
      values,
      conclusion: r.conclusion,
      findings,
      critical: values.some((v) => v.flag === 'HH' || v.flag === 'LL'),
    };
  });
  return views.sort((a, b) => (b.issued ?? '').localeCompare(a.issued ?? ''));
}

/** Communication.reasonCode code of the lab's critical-value alerts (capabilities/lab/model.ts). */
export const CRITICAL_ALERT_REASON = 'critical-lab-value';

/** An alert's text in the user's language: the payload is "Vietnamese / English". */
export function alertText(c: Communication, lang: string): string {
  const text = c.payload?.map((p) => p.contentString ?? '').join(' ') ?? '';
  const parts = text.split(' / ');
  if (parts.length === 2) {
    return lang === 'en' ? parts[1] : parts[0];
  }
  return text;
}

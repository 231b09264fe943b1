/** The imaging screens' pure parts: the worklist items from ServiceRequest/$imaging-worklist, and the report's text. */
import type {
  DiagnosticReport,
  ImagingStudy,
  Parameters,
  ParametersParameter,
  Patient,
  ServiceRequest,
} from '@medplum/fhirtypes';

export const FINDINGS_URL = 'https://sen.health.vn/fhir/StructureDefinition/imaging-findings';

export const WORKLIST_STATES = ['awaiting-payment', 'scheduled', 'done', 'preliminary', 'final', 'cancelled'] as const;
export type WorklistState = (typeof WORKLIST_STATES)[number];

export interface WorklistItem {
  order: ServiceRequest;
  patient?: Patient;
  state: WorklistState;
  awaitingPayment: boolean;
  study?: ImagingStudy;
  report?: DiagnosticReport;
}

function part(p: ParametersParameter, name: string): ParametersParameter | undefined {
  return p.part?.find((x) => x.name === name);
}

export function worklistOf(p: Parameters | undefined): WorklistItem[] {
  return (p?.parameter ?? [])
    .filter((x) => x.name === 'item')
    .map((x) => ({
      order: part(x, 'order')?.resource as ServiceRequest,
      patient: part(x, 'patient')?.resource as Patient | undefined,
      state: (part(x, 'state')?.valueCode ?? 'scheduled') as WorklistState,
      awaitingPayment: part(x, 'awaitingPayment')?.valueBoolean === true,
      study: part(x, 'study')?.resource as ImagingStudy | undefined,
      report: part(x, 'report')?.resource as DiagnosticReport | undefined,
    }));
}

/** How many items are in each state (for the filter's counts). */
export function countByState(items: readonly WorklistItem[]): Record<WorklistState, number> {
  const out = Object.fromEntries(WORKLIST_STATES.map((s) => [s, 0])) as Record<WorklistState, number>;
  for (const i of items) {
    out[i.state]++;
  }
  return out;
}

/** The findings and conclusion of a stored report (to continue a draft). */
export function reportTexts(r: DiagnosticReport | undefined): { findings: string; conclusion: string } {
  return {
    findings: r?.extension?.find((e) => e.url === FINDINGS_URL)?.valueString ?? '',
    conclusion: r?.conclusion ?? '',
  };
}

/** What the signed-in person may do with an item. */
export function actionsFor(item: WorklistItem, roles: readonly string[]): { markDone: boolean; writeReport: boolean } {
  const imaging = roles.includes('radiology-technician') || roles.includes('radiologist');
  return {
    markDone: imaging && item.state === 'scheduled',
    writeReport: roles.includes('radiologist') && (item.state === 'done' || item.state === 'preliminary'),
  };
}

export function orderName(o: ServiceRequest | undefined): string {
  return o?.code?.text ?? o?.code?.coding?.[0]?.display ?? '';
}

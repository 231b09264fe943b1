/**
 * Contract 2 of issue 6: results of a laboratory analyzer (the HL7 v2 listener decodes ORU^R01 and calls this) go to
 * the pending order of the specimen with that barcode, through the same checks, flags and critical-value alerts as
 * manual entry. Imported results are unverified (Observation.status `preliminary`); the technician verifies them.
 */
import type { Queryable } from '@sen/db';
import { OutcomeError, referenceId } from '@sen/fhir';
import type { FhirRouter } from '../../fhir/router.ts';
import type { AccessContext } from '../../fhir/types.ts';
import { CATALOG_URLS } from '../terminology/kinds.ts';
import { labServiceFor } from './plugin.ts';
import { LabInputError, LabService } from './service.ts';
import { labStatusOf, LOINC } from './model.ts';

export interface AnalyzerResult {
  code: string;
  system?: string;
  display?: string;
  value: string;
  unit?: string;
  abnormalFlag?: string;
  observedAt?: string;
}

export class AnalyzerImportError extends Error {
  constructor(
    readonly code: 'unknown-specimen' | 'no-pending-order' | 'unknown-test' | 'invalid-value',
    message: string,
  ) {
    super(message);
    this.name = 'AnalyzerImportError';
  }
}

/** Statuses of an order that still takes results. */
const PENDING = new Set(['collected', 'received', 'in-progress', 'resulted']);

function systemOf(r: AnalyzerResult): string | undefined {
  const s = r.system?.trim();
  if (!s) {
    return undefined;
  }
  // HL7 v2 names LOINC 'LN'
  if (s === 'LN' || s === LOINC) {
    return LOINC;
  }
  if (s === CATALOG_URLS.labIndicators) {
    return s;
  }
  // an analyzer's own coding system: match by the code alone
  return undefined;
}

export async function importAnalyzerResults(
  router: FhirRouter,
  access: AccessContext,
  input: { barcode: string; results: AnalyzerResult[]; analyzer: string; messageControlId: string },
  q?: Queryable,
): Promise<{ diagnosticReportId: string; observationIds: string[]; critical: boolean }> {
  const lab: LabService = labServiceFor(router);
  const barcode = input.barcode.trim();
  if (input.results.length === 0) {
    throw new AnalyzerImportError('invalid-value', 'Tin nhắn không có kết quả / the message has no results');
  }
  try {
    return await lab.run(q, async (tx) => {
      const specimen = /^\d+$/.test(barcode) ? await lab.specimenByBarcode(tx, barcode, access) : undefined;
      if (!specimen) {
        throw new AnalyzerImportError(
          'unknown-specimen',
          `Không có mẫu mã vạch '${barcode}' / no specimen with barcode '${barcode}'`,
        );
      }
      const pending = [];
      for (const r of specimen.request ?? []) {
        const id = referenceId(r, 'ServiceRequest');
        if (!id) {
          continue;
        }
        const ctx = await lab.order(tx, id, access);
        if (PENDING.has(labStatusOf(ctx.sr))) {
          pending.push(ctx);
        }
      }
      if (pending.length === 0) {
        throw new AnalyzerImportError(
          'no-pending-order',
          `Mẫu ${barcode} không còn chỉ định chờ kết quả (đã duyệt hoặc đã huỷ) / specimen ${barcode} has no order waiting for results`,
        );
      }
      // each result goes to the order whose service has that indicator
      const byOrder = new Map<string, AnalyzerResult[]>();
      for (const r of input.results) {
        const normal = { ...r, system: systemOf(r) };
        let target: string | undefined;
        for (const ctx of pending) {
          const indicators = await lab.catalog.forService(ctx.serviceCode, tx);
          try {
            LabService.resolve(indicators, normal);
            target = ctx.sr.id;
            break;
          } catch (err) {
            if (!(err instanceof LabInputError) || err.kind !== 'unknown-test') {
              throw err;
            }
          }
        }
        if (!target) {
          throw new AnalyzerImportError(
            'unknown-test',
            `Chỉ số '${r.code}' không thuộc xét nghiệm nào được chỉ định cho mẫu ${barcode} / test '${r.code}' is not ordered for specimen ${barcode}`,
          );
        }
        byOrder.set(target, [...(byOrder.get(target) ?? []), normal]);
      }
      let first: { diagnosticReportId: string; observationIds: string[]; critical: boolean } | undefined;
      let critical = false;
      const observationIds: string[] = [];
      for (const [srId, results] of byOrder) {
        const out = await lab.enterResults(access, srId, results, tx, {
          analyzer: input.analyzer,
          messageControlId: input.messageControlId,
        });
        critical ||= out.critical;
        observationIds.push(...out.observations.map((o) => o.id as string));
        first ??= { diagnosticReportId: out.report.id as string, observationIds: [], critical: false };
      }
      return { diagnosticReportId: first?.diagnosticReportId ?? '', observationIds, critical };
    });
  } catch (err) {
    if (err instanceof LabInputError) {
      throw new AnalyzerImportError(err.kind, err.message);
    }
    if (err instanceof OutcomeError && err.status === 409) {
      throw new AnalyzerImportError('no-pending-order', err.message);
    }
    throw err;
  }
}

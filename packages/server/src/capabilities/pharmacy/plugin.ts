/**
 * The pharmacy capability (M7): outpatient dispensing of sent prescriptions from the lots of a warehouse, stock
 * receipts and the stock report. The stock lives in the tables of migration 0018 (see README.md).
 */
import type { FhirRouter } from '../../fhir/router.ts';
import type { TerminologyService } from '../terminology/service.ts';
import { pharmacyOperations } from './operations.ts';

export interface PharmacyOptions {
  terminology: TerminologyService;
  /** Lots expiring within this many days show as near expiry (SEN_NEAR_EXPIRY_DAYS, default 90). */
  nearExpiryDays?: number;
}

/** Registers MedicationRequest/$dispensable, MedicationDispense/$dispense, Medication/$receive-stock and $stock-report. */
export function registerPharmacy(router: FhirRouter, options: PharmacyOptions): void {
  for (const op of pharmacyOperations({
    router,
    terminology: options.terminology,
    nearExpiryDays: options.nearExpiryDays ?? 90,
  })) {
    router.operations.register(op);
  }
}

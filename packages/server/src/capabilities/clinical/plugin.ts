/**
 * The clinical capability (M3 outpatient encounter, M4 orders, M7 prescribing): registers its FHIR operations with
 * the router. The store's write guard that keeps sent prescriptions and signed encounters unchanged is
 * `clinicalWriteGuard` (guard.ts), given to the FhirStore where the app builds it.
 */
import type { FhirRouter } from '../../fhir/router.ts';
import type { TerminologyService } from '../terminology/service.ts';
import type { ClinicalDeps } from './context.ts';
import { type ClinicalData, loadClinicalData } from './data.ts';
import { encounterOperations } from './encounter-ops.ts';
import { orderOperations } from './orders.ts';
import { prescriptionOperations } from './prescriptions.ts';

export { clinicalWriteGuard } from './guard.ts';

/**
 * Registers Encounter/$record-vitals, $set-diagnoses, $history, $order, $prescribe, $conclude,
 * ServiceRequest/$orderable, MedicationRequest/$drug-search and MedicationRequest/$replace-prescription.
 */
export function registerClinical(
  router: FhirRouter,
  options: { terminology: TerminologyService; data?: ClinicalData },
): void {
  const deps: ClinicalDeps = { router, terminology: options.terminology, data: options.data ?? loadClinicalData() };
  for (const op of [...encounterOperations(deps), ...orderOperations(deps), ...prescriptionOperations(deps)]) {
    router.operations.register(op);
  }
}

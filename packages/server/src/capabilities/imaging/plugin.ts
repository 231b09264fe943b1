/**
 * The imaging capability, first part (M6): worklist, exam done (ImagingStudy), report written and signed by the
 * radiologist (DiagnosticReport, category RAD). The DICOM archive, modality worklist and viewer come with PACS.
 */
import type { FhirRouter } from '../../fhir/router.ts';
import { imagingOperations } from './operations.ts';

/** Registers ServiceRequest/$imaging-worklist, ServiceRequest/{id}/$imaging-done and ServiceRequest/{id}/$imaging-report. */
export function registerImaging(router: FhirRouter): void {
  for (const op of imagingOperations(router)) {
    router.operations.register(op);
  }
}

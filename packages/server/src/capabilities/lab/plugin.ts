/**
 * The laboratory capability (M5): the lab worklist, specimen collection with a barcode, receipt in the lab, result
 * entry with flags and critical-value alerts, technician verification and the doctor's sign-off (see README.md).
 * The analyzer import (contract 2, analyzer-import.ts) uses the same service.
 */
import type { FhirRouter } from '../../fhir/router.ts';
import { TerminologyService } from '../terminology/service.ts';
import { LabCatalog } from './catalog.ts';
import { labOperations } from './operations.ts';
import { LabService } from './service.ts';

const services = new WeakMap<FhirRouter, LabService>();

/** The lab service of a router (registerLab made it; else one over the router's own database). */
export function labServiceFor(router: FhirRouter): LabService {
  let s = services.get(router);
  if (!s) {
    const terminology = new TerminologyService(router.store.db);
    s = new LabService(router, new LabCatalog(terminology), terminology);
    services.set(router, s);
  }
  return s;
}

/**
 * Registers ServiceRequest/$lab-worklist, $collect-specimen, $lab-form, $enter-results, $verify-results,
 * $sign-results, Specimen/$receive and Communication/$acknowledge.
 */
export function registerLab(router: FhirRouter, options: { terminology: TerminologyService }): LabService {
  const lab = new LabService(router, new LabCatalog(options.terminology), options.terminology);
  services.set(router, lab);
  for (const op of labOperations(lab)) {
    router.operations.register(op);
  }
  return lab;
}

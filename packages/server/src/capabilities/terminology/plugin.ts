/**
 * The terminology capability (M19): registers the FHIR terminology operations with the router. Called once from
 * buildApp after the router is created; the catalogs are written by the importer (CLI `npm run catalog`, demo seed).
 */
import type { FhirRouter } from '../../fhir/router.ts';
import { terminologyOperations } from './operations.ts';
import { TerminologyService } from './service.ts';

/** Registers $lookup, $expand, $validate-code (CodeSystem and ValueSet) and $translate; returns the service. */
export function registerTerminology(router: FhirRouter): TerminologyService {
  const service = new TerminologyService(router.store.db);
  for (const op of terminologyOperations(service)) {
    router.operations.register(op);
  }
  return service;
}

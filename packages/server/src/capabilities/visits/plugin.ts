/**
 * The visits capability (M2): registers the clinic-room queue operations with the router. Called once from buildApp
 * after the router is created; the queue rows live in `visit_queue` (migration 0013), the visits are Encounters.
 */
import type { FhirRouter } from '../../fhir/router.ts';
import { visitOperations } from './operations.ts';
import { VisitQueueService, type VisitServiceOptions } from './service.ts';

/** Registers $register-visit, $queue-summary, $queue, $call-next, $skip and $recall; returns the service. */
export function registerVisits(router: FhirRouter, options: VisitServiceOptions = {}): VisitQueueService {
  const service = new VisitQueueService(router.store, options);
  for (const op of visitOperations(service, router.options.baseUrl)) {
    router.operations.register(op);
  }
  return service;
}

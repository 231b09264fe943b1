/**
 * The coverage capability (M1): `Coverage/$bhyt-check` over a BHYT gateway adapter, and the recheck worker for the
 * checks the gateway could not answer. Called once from buildApp; the worker stops when the app closes.
 */
import type { FhirRouter } from '../../fhir/router.ts';
import { type BhytGateway, BhytGatewayUnavailable, HttpBhytGateway } from './gateway.ts';
import { bhytCheckOperation } from './operation.ts';
import { BhytRecheckWorker } from './recheck.ts';
import { BhytService } from './service.ts';

export interface CoverageOptions {
  /** SEN_BHYT_GATEWAY_URL; absent: every check is `unverified` and queued (no gateway configured). */
  gatewayUrl?: string;
  /** SEN_BHYT_GATEWAY_TIMEOUT_MS (default 5000). */
  timeoutMs?: number;
  /** SEN_BHYT_RECHECK_MS: how often the recheck queue is processed (default 60000; 0: never by itself). */
  recheckIntervalMs?: number;
  /** Another adapter (tests, a real-portal adapter); wins over gatewayUrl. */
  gateway?: BhytGateway;
}

export interface CoverageCapability {
  service: BhytService;
  worker: BhytRecheckWorker;
  stop(): Promise<void>;
}

/** No gateway configured: nothing can be verified now, so everything waits for a recheck. */
const NO_GATEWAY: BhytGateway = {
  lookup: () => Promise.reject(new BhytGatewayUnavailable('unreachable', 'No BHYT gateway is configured')),
};

const byRouter = new WeakMap<FhirRouter, CoverageCapability>();

/** The coverage capability registered on a router (tests drive its worker). */
export function coverageOf(router: FhirRouter): CoverageCapability | undefined {
  return byRouter.get(router);
}

export function registerCoverage(router: FhirRouter, options: CoverageOptions = {}): CoverageCapability {
  const gateway =
    options.gateway ??
    (options.gatewayUrl ? new HttpBhytGateway({ url: options.gatewayUrl, timeoutMs: options.timeoutMs }) : NO_GATEWAY);
  const service = new BhytService(router, gateway);
  const worker = new BhytRecheckWorker(service, { intervalMs: options.recheckIntervalMs ?? 60_000 });
  router.operations.register(bhytCheckOperation(service));
  worker.start();
  const capability: CoverageCapability = { service, worker, stop: () => worker.stop() };
  byRouter.set(router, capability);
  return capability;
}

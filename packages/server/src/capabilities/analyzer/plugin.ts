/**
 * The analyzer capability (M5, issue 6): an HL7 v2 listener over MLLP for the laboratory's analyzers (results
 * ORU^R01, order download QRY^Q02 / QBP^Q11) and the quarantine operations for the lab (see README.md). buildApp
 * registers it; the listener starts when the app starts listening (after processing what a stop left 'received')
 * and closes before the database does.
 */
import type { AddressInfo } from 'node:net';
import { AuditLog } from '@sen/store';
import type { FhirRouter } from '../../fhir/router.ts';
import { MllpListener } from './mllp.ts';
import { analyzerOperations } from './operations.ts';
import { AnalyzerService, type AnalyzerServiceOptions } from './service.ts';

export interface AnalyzerConfig {
  /** MLLP port (SEN_MLLP_PORT; 0: any free port). Absent: no listener (the quarantine operations still work). */
  port?: number;
  /** Interface to listen on (SEN_MLLP_HOST, default 127.0.0.1: only this machine). */
  host?: string;
  /** Organization.id of the facility the analyzers belong to (SEN_MLLP_FACILITY). */
  facilityId?: string;
  /** Text encoding of the messages (default utf-8). */
  encoding?: BufferEncoding;
  /** See AnalyzerServiceOptions.afterStore (tests stop the process there). */
  afterStore?: AnalyzerServiceOptions['afterStore'];
}

export interface Analyzer {
  service: AnalyzerService;
  /** Processes what a stop left 'received', then listens; resolves to the address (undefined: no listener). */
  start(): Promise<AddressInfo | undefined>;
  /** The listener's address once started. */
  address(): AddressInfo | undefined;
  close(): Promise<void>;
}

export interface AnalyzerLog {
  info(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

/** Registers $analyzer-messages, $analyzer-message, $analyzer-replay and $analyzer-discard; returns the listener. */
export function registerAnalyzer(
  router: FhirRouter,
  options: { audit?: AuditLog; config?: AnalyzerConfig; log?: AnalyzerLog },
): Analyzer {
  const config = options.config ?? {};
  if (config.port !== undefined && !config.facilityId) {
    throw new Error('The MLLP listener needs the facility its analyzers belong to (SEN_MLLP_FACILITY)');
  }
  const service = new AnalyzerService(router, {
    facilityId: config.facilityId ?? '',
    // the API's audit trail; without sign-in (local development) the same table all the same
    audit: options.audit ?? new AuditLog(router.store.db),
    afterStore: config.afterStore,
    encoding: config.encoding,
    log: options.log,
  });
  for (const op of analyzerOperations(service)) {
    router.operations.register(op);
  }
  let listener: MllpListener | undefined;
  return {
    service,
    async start() {
      if (config.port === undefined || listener) {
        return listener?.address();
      }
      const recovered = await service.recover();
      if (recovered > 0) {
        options.log?.info({ recovered }, 'analyzer messages received before the stop were processed');
      }
      listener = new MllpListener({
        port: config.port,
        host: config.host ?? '127.0.0.1',
        encoding: config.encoding,
        onMessage: async (frame, remote) => (await service.receive(frame, remote)).reply,
        onError: (err) => options.log?.error({ errName: err.name }, 'MLLP connection error'),
      });
      const address = await listener.listen();
      options.log?.info({ port: address.port, host: address.address }, 'MLLP listener for analyzers started');
      return address;
    },
    address: () => listener?.address(),
    async close() {
      await listener?.close();
      listener = undefined;
    },
  };
}

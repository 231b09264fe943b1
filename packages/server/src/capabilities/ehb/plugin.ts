/**
 * The national e-health-book feed (issue 7; VIETNAM.md §5, R24): the change-feed consumer that queues a signed
 * payload for every closed episode (feed.ts), the outbox worker that sends them through the gateway adapter with
 * retries (sender.ts), and the IT screen's operations (operations.ts). Called once from buildApp, after the security
 * layer exists (the worker's reads and sends are audited); the timers stop when the app closes.
 */
import { readFileSync } from 'node:fs';
import type { AuditLog } from '@sen/store';
import type { FhirRouter } from '../../fhir/router.ts';
import type { AccessContext } from '../../fhir/types.ts';
import { createAccessContext } from '../../platform/gate/context.ts';
import type { Principal } from '../../platform/gate/gate.ts';
import { parseScopes } from '../../platform/gate/scopes.ts';
import { EHB_CLIENT_ID, EhbFeed } from './feed.ts';
import { type EhbAnswer, type EhbGateway, HttpEhbGateway } from './gateway.ts';
import { ehbOperations } from './operations.ts';
import { DEFAULT_RETRY, EhbSender, type RetryPolicy } from './sender.ts';
import { EhbSigner, type KeySealer } from './signer.ts';

export interface EhbOptions {
  /** SEN_EHB_GATEWAY_URL; absent: submissions are queued and wait (nothing is sent) until one is configured. */
  gatewayUrl?: string;
  /** SEN_EHB_GATEWAY_TOKEN: bearer token for the gateway (or the facility's relay). */
  gatewayToken?: string;
  /** SEN_EHB_GATEWAY_TIMEOUT_MS (default 10000). */
  timeoutMs?: number;
  /**
   * SEN_EHB_POLL_MS: how often the feed and the outbox are processed (main.ts: default 5000). Default here 0: only when
   * told (`runOnce`), so an app built without e-health-book settings (other suites' tests) runs no background work.
   */
  pollMs?: number;
  /** SEN_EHB_RETRY_BASE_MS, SEN_EHB_RETRY_MAX_MS, SEN_EHB_MAX_ATTEMPTS. */
  retry?: Partial<RetryPolicy>;
  /** SEN_EHB_SIGNING_KEY_FILE / SEN_EHB_SIGNING_CERT_FILE: PEM files; absent: a key generated and kept in the DB. */
  signingKeyFile?: string;
  signingCertFile?: string;
  /** SEN_EHB_SINCE: episodes that ended before this instant are not sent (default: when the feed first ran). */
  since?: string;
  /** Another adapter (tests, a real-portal adapter); wins over gatewayUrl. */
  gateway?: EhbGateway;
  /** Where the worker's accesses are recorded (the app passes the security layer's audit log). */
  audit?: AuditLog;
  /** Seals the generated signing key at rest (the app passes `security.sealerFor('ehb-signing-key')`). */
  sealer?: KeySealer;
  /** Told the kind of a failure of a background run (never its message: it may quote data). */
  onError?: (err: Error) => void;
}

export interface EhbCapability {
  feed: EhbFeed;
  sender: EhbSender;
  signer(): Promise<EhbSigner>;
  /** Runs the feed, then the outbox, once (tests; the timer does the same). */
  runOnce(): Promise<void>;
  stop(): Promise<void>;
}

/** No gateway configured: every send is a transient failure, so submissions stay queued and are sent later. */
const NO_GATEWAY: EhbGateway = {
  submit: (): Promise<EhbAnswer> => Promise.resolve({ outcome: 'transient', error: 'unreachable' }),
};

/** The worker's principal: a system client of this node reading what it sends out (SMART system/*.rs). */
export function ehbPrincipal(): Principal {
  return { kind: 'system', clientId: EHB_CLIENT_ID, scopes: parseScopes('system/*.rs') };
}

const byRouter = new WeakMap<FhirRouter, EhbCapability>();

export function ehbOf(router: FhirRouter): EhbCapability | undefined {
  return byRouter.get(router);
}

export function registerEhb(router: FhirRouter, options: EhbOptions = {}): EhbCapability {
  const db = router.store.db;
  const gateway =
    options.gateway ??
    (options.gatewayUrl
      ? new HttpEhbGateway({ url: options.gatewayUrl, timeoutMs: options.timeoutMs, token: options.gatewayToken })
      : NO_GATEWAY);
  const configured = options.signingKeyFile
    ? {
        privateKeyPem: readFileSync(options.signingKeyFile, 'utf8'),
        certificatePem: options.signingCertFile ? readFileSync(options.signingCertFile, 'utf8') : undefined,
      }
    : undefined;
  let signer: Promise<EhbSigner> | undefined;
  const loadSigner = (): Promise<EhbSigner> => {
    signer ??= EhbSigner.load(db, configured, options.sealer).catch((err: unknown) => {
      signer = undefined;
      throw err;
    });
    return signer;
  };
  const access = (): AccessContext => createAccessContext(ehbPrincipal());
  const feed = new EhbFeed({ db, router, access, signer: loadSigner, audit: options.audit, since: options.since });
  const sender = new EhbSender({
    db,
    gateway,
    access,
    audit: options.audit,
    policy: { ...DEFAULT_RETRY, ...options.retry },
  });
  for (const op of ehbOperations({ db, sender, feed })) {
    router.operations.register(op);
  }
  let running: Promise<void> | undefined;
  const runOnce = (): Promise<void> => {
    running ??= (async () => {
      await feed.runOnce();
      await sender.runOnce();
    })().finally(() => {
      running = undefined;
    });
    return running;
  };
  let timer: NodeJS.Timeout | undefined;
  const pollMs = options.pollMs ?? 0;
  if (pollMs > 0) {
    timer = setInterval(() => {
      runOnce().catch((err: unknown) => {
        // the database may be closing or briefly unreachable: the next tick tries again
        options.onError?.(err as Error);
      });
    }, pollMs);
    timer.unref();
  }
  const capability: EhbCapability = {
    feed,
    sender,
    signer: loadSigner,
    runOnce,
    stop: async () => {
      if (timer) {
        clearInterval(timer);
        timer = undefined;
      }
      await running?.catch(() => undefined);
    },
  };
  byRouter.set(router, capability);
  return capability;
}

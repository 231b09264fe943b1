import type { Resource } from '@medplum/fhirtypes';
import { type Db, migrationsCurrent } from '@sen/db';
import { isOutcomeError, loadDefinitions, outcome, warmSearchParams } from '@sen/fhir';
import { assertValid } from '@sen/fhir/validation.ts';
import { FhirStore, PlannerStatistics } from '@sen/store';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { type AnalyzerConfig, type Analyzer, registerAnalyzer } from './capabilities/analyzer/plugin.ts';
import { type BillingOptions, registerBilling } from './capabilities/billing/plugin.ts';
import { clinicalWriteGuard, registerClinical } from './capabilities/clinical/plugin.ts';
import { type CoverageOptions, registerCoverage } from './capabilities/coverage/plugin.ts';
import { type EhbOptions, registerEhb } from './capabilities/ehb/plugin.ts';
import { registerLab } from './capabilities/lab/plugin.ts';
import { registerImaging } from './capabilities/imaging/plugin.ts';
import { registerMpi } from './capabilities/mpi/plugin.ts';
import { registerPharmacy } from './capabilities/pharmacy/plugin.ts';
import { registerPortal } from './capabilities/portal/plugin.ts';
import { registerTerminology } from './capabilities/terminology/plugin.ts';
import { registerVisits } from './capabilities/visits/plugin.ts';
import { buildCapabilityStatement } from './fhir/capability.ts';
import { registerFhirRoutes, sendFhir } from './fhir/rest.ts';
import { FhirRouter } from './fhir/router.ts';
import { registerBreakGlass } from './platform/gate/break-glass-api.ts';
import { assertConsentEvidence } from './platform/gate/consent.ts';
import { registerHardening } from './platform/hardening.ts';
import { type LiveOptions, registerLive } from './platform/live.ts';
import { authSecurityBlock } from './platform/oauth/index.ts';
import { createSecurity, type Security, type SecurityConfig } from './platform/security.ts';
import { registerWebApp, WEB_DIST } from './platform/web.ts';

declare module 'fastify' {
  interface FastifyRequest {
    fhirBase: string;
  }
}

export interface AppConfig {
  /** Public base URL of the server, e.g. http://localhost:8080 (no trailing slash). */
  publicUrl: string;
  bodyLimit?: number;
  logLevel?: string;
  version?: string;
  /** How often to check whether planner statistics need refreshing (ms; 0 disables). */
  analyzeIntervalMs?: number;
  /** Where logs go (default stdout); tests capture them to prove no patient data is logged. */
  logStream?: NodeJS.WritableStream;
  /** Browser origins allowed to call the API cross-origin (SEN_CORS_ORIGINS); none by default. */
  corsOrigins?: readonly string[];
  /** Where the built web app is (default packages/web/dist). */
  webDist?: string;
  /** Sign-in, access gate and audit for the API; absent: the API is open (local development only). */
  security?: Omit<SecurityConfig, 'publicUrl' | 'fhirBase'>;
  /** The live channel GET /api/live: poll and heartbeat intervals (tests shorten them). */
  live?: LiveOptions;
  /** BHYT card gateway and recheck worker (SEN_BHYT_GATEWAY_URL, SEN_BHYT_GATEWAY_TIMEOUT_MS, SEN_BHYT_RECHECK_MS). */
  bhyt?: CoverageOptions;
  /** National e-health-book feed: gateway, retries, signing key (SEN_EHB_*). */
  ehb?: Omit<EhbOptions, 'audit' | 'onError' | 'sealer'>;
  /** The MLLP listener for lab analyzers (SEN_MLLP_PORT, SEN_MLLP_HOST, SEN_MLLP_FACILITY); main.ts starts it. */
  analyzer?: AnalyzerConfig;
  /** Cashier: pay-first rule, payment gateway, BHYT rule settings (SEN_PAY_BEFORE_EXECUTION, SEN_PAYMENT_*, SEN_BHYT_*). */
  billing?: BillingOptions;
}

export interface AppDeps {
  db: Db;
  config: AppConfig;
}

export interface SenApp {
  app: FastifyInstance;
  store: FhirStore;
  router: FhirRouter;
  /** Present when the API requires sign-in (config.security). */
  security?: Security;
  /** Lab analyzers over HL7 v2 / MLLP: `start()` recovers and listens when configured (main.ts, tests). */
  analyzer: Analyzer;
}

/** Builds the app without listening (tests use app.inject or listen on port 0). */
export async function buildApp(deps: AppDeps): Promise<SenApp> {
  loadDefinitions();
  warmSearchParams();
  const { db, config } = deps;
  const fhirBase = `${config.publicUrl}/fhir/R4`;
  const stats = new PlannerStatistics(db, { intervalMs: config.analyzeIntervalMs });
  const validate = (r: Resource): void => {
    assertValid(r);
    assertConsentEvidence(r); // a permit Consent needs its evidence (never pre-ticked)
  };
  const store = new FhirStore(db, {
    validate,
    baseUrl: fhirBase,
    onWrite: () => stats.noteWrites(),
    writeGuard: clinicalWriteGuard, // sent prescriptions and signed encounters never change
  });
  let capability: ReturnType<typeof buildCapabilityStatement> | undefined;
  let securityBlock: ReturnType<typeof authSecurityBlock> | undefined;
  const router = new FhirRouter(store, {
    baseUrl: fhirBase,
    capabilityStatement: () => {
      if (!capability) {
        capability = buildCapabilityStatement({
          baseUrl: fhirBase,
          version: config.version ?? '0.1.0',
          operations: router.operations.list(),
        });
        if (securityBlock && capability.rest?.[0]) {
          capability.rest[0].security = securityBlock;
        }
      }
      return capability;
    },
  });
  const terminology = registerTerminology(router);
  registerClinical(router, { terminology });
  registerVisits(router);
  registerLab(router, { terminology });
  registerMpi(router);
  registerImaging(router);
  registerPharmacy(router, { terminology });
  const coverage = registerCoverage(router, config.bhyt);
  const billing = registerBilling(router, { ...config.billing, terminology, publicUrl: config.publicUrl });
  const portal = registerPortal(router, { publicUrl: config.publicUrl });

  const app = Fastify({
    bodyLimit: config.bodyLimit ?? 64 * 1024 * 1024,
    // Request URLs carry search values (names, ID numbers): never log them.
    logController: new LogController({ disableRequestLogging: true }),
    logger:
      config.logLevel === 'silent'
        ? false
        : {
            level: config.logLevel ?? 'info',
            redact: ['req.url', 'req.query', 'req.body'],
            ...(config.logStream ? { stream: config.logStream } : {}),
          },
    return503OnClosing: true,
  });
  registerHardening(app, { publicUrl: config.publicUrl, corsOrigins: config.corsOrigins });
  app.decorateRequest('fhirBase', '');
  app.addHook('onRequest', async (req) => {
    req.fhirBase = fhirBase;
  });

  const jsonParser = (_req: unknown, body: string, done: (err: Error | null, v?: unknown) => void): void => {
    if (body.length === 0) {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(body));
    } catch {
      const err = new Error('The request body is not valid JSON') as Error & { statusCode: number; code: string };
      err.statusCode = 400;
      err.code = 'SEN_ERR_INVALID_JSON';
      done(err);
    }
  };
  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser(
    ['application/json', 'application/fhir+json', 'application/json-patch+json', 'application/json+fhir'],
    { parseAs: 'string' },
    jsonParser,
  );
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, body),
  );

  app.setErrorHandler((err, req, reply) => {
    const mediaType = 'application/fhir+json';
    if (isOutcomeError(err)) {
      if (err.status === 401) {
        reply.header('WWW-Authenticate', 'Bearer realm="Sen", error="invalid_token"');
      }
      return sendFhir(reply, { status: err.status, body: err.outcome }, mediaType, false);
    }
    const e = err as { statusCode?: number; code?: string; message?: string };
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      const text =
        e.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? 'The request body is too large'
          : e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? `Unsupported content type '${req.headers['content-type'] ?? ''}'; send application/fhir+json`
            : (e.message ?? 'Bad request');
      const issueCode = e.statusCode === 413 ? 'too-costly' : e.statusCode === 415 ? 'not-supported' : 'invalid';
      return sendFhir(reply, { status: e.statusCode, body: outcome('error', issueCode, text) }, mediaType, false);
    }
    // Unknown failures: log the kind and where, never the message (it may quote patient data).
    req.log.error(
      { errName: (err as Error).name, code: e.code, stack: (err as Error).stack?.split('\n').slice(1, 6).join('\n') },
      'request failed',
    );
    return sendFhir(
      reply,
      { status: 500, body: outcome('fatal', 'exception', 'Internal server error') },
      mediaType,
      false,
    );
  });
  const web = await registerWebApp(app, config.webDist ?? WEB_DIST);
  app.setNotFoundHandler(async (req, reply) => {
    if (await web.fallback(req, reply)) {
      return reply;
    }
    return sendFhir(
      reply,
      { status: 404, body: outcome('error', 'not-found', `No route for ${req.method} ${req.url.split('?')[0]}`) },
      'application/fhir+json',
      false,
    );
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    try {
      await db.query('SELECT 1');
      if (!(await migrationsCurrent(db))) {
        return reply.code(503).send({ status: 'migrations pending' });
      }
      return { status: 'ready', database: db.engine };
    } catch {
      return reply.code(503).send({ status: 'database unreachable' });
    }
  });

  let security: Security | undefined;
  if (config.security) {
    security = await createSecurity(app, db, { ...config.security, publicUrl: config.publicUrl, fhirBase }, router);
    securityBlock = authSecurityBlock(security.authServer);
  }
  registerFhirRoutes(app, router, '/fhir/R4', security?.fhir);
  portal.routes(app, security);
  registerLive(app, store, security?.fhir, config.live);
  const ehb = registerEhb(router, {
    ...config.ehb,
    audit: security?.audit,
    sealer: security?.sealerFor('ehb-signing-key'),
    onError: (err) => app.log.warn({ errName: err.name }, 'e-health-book feed run failed'),
  });
  const analyzer = registerAnalyzer(router, { audit: security?.audit, config: config.analyzer, log: app.log });
  billing.webhook(app);
  if (security) {
    registerBreakGlass(app, router, security);
  }
  app.addHook('onClose', async () => {
    await analyzer.close(); // before the database: messages being processed finish first
    stats.stop();
    await coverage.stop();
    await ehb.stop();
    await security?.close();
    await db.close();
  });
  return { app, store, router, security, analyzer };
}

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { migrate, openDb } from '@sen/db';
import { buildApp } from './app.ts';
import { readConfig } from './config.ts';

const config = readConfig();
if (!config.databaseUrl) {
  mkdirSync(config.dataDir, { recursive: true });
}
const db = await openDb({
  databaseUrl: config.databaseUrl,
  dataDir: config.databaseUrl ? undefined : join(config.dataDir, 'pglite'),
  poolSize: config.dbPoolSize,
});
const { applied } = await migrate(db);
// demo mode without a BHYT gateway: a local simulator that knows the demo cards (capabilities/coverage/demo-cards.ts)
let bhytSimulator: { url: string; close(): Promise<void> } | undefined;
if (config.mode === 'demo' && !config.bhyt.gatewayUrl) {
  const { startBhytSimulator } = await import('./capabilities/coverage/simulator.ts');
  const { demoBhytCards } = await import('./capabilities/coverage/demo-cards.ts');
  bhytSimulator = await startBhytSimulator({ cards: () => demoBhytCards() });
}
// demo mode without a payment gateway: a local simulator that "pays" a VietQR bill a few seconds after it is shown
let paymentSimulator: { url: string; close(): Promise<void> } | undefined;
if (config.mode === 'demo' && !config.billing.gatewayUrl) {
  const { startPaymentSimulator } = await import('./capabilities/billing/simulator.ts');
  paymentSimulator = await startPaymentSimulator({ secret: config.billing.secret, autoPayMs: 5000 });
}
// demo mode without an e-health-book gateway: a local simulator that checks the payload and its signature against
// this node's key (registered below, once the app has loaded it)
let ehbSimulator: { url: string; close(): Promise<void> } | undefined;
const ehbKeys: string[] = [];
if (config.mode === 'demo' && !config.ehb.gatewayUrl) {
  const { startEhbSimulator } = await import('./capabilities/ehb/simulator.ts');
  ehbSimulator = await startEhbSimulator({ publicKeys: () => ehbKeys });
}
// lab analyzers over HL7 v2 / MLLP (SEN_MLLP_PORT); demo mode: the demo hospital's analyzers
const mllpFacility =
  config.mllp &&
  (config.mllp.facilityId ??
    (config.mode === 'demo' ? (await import('./seed/demo-facility.ts')).HOSPITAL_ID : undefined));
const { app, router, security, analyzer } = await buildApp({
  db,
  config: {
    publicUrl: config.publicUrl,
    logLevel: config.logLevel,
    corsOrigins: config.corsOrigins,
    bhyt: { ...config.bhyt, gatewayUrl: config.bhyt.gatewayUrl ?? bhytSimulator?.url },
    ehb: { ...config.ehb, gatewayUrl: config.ehb.gatewayUrl ?? ehbSimulator?.url },
    analyzer: config.mllp
      ? { port: config.mllp.port, host: config.mllp.host, facilityId: mllpFacility || undefined }
      : undefined,
    billing: { ...config.billing, gatewayUrl: config.billing.gatewayUrl ?? paymentSimulator?.url },
    security: config.auth
      ? {
          mode: config.mode,
          secretKey: config.secretKey,
          dataDir: config.databaseUrl ? undefined : config.dataDir,
          demoClientSecret: config.demoClientSecret,
          sealIntervalMs: config.auditSealMs,
          auditInFlight: config.auditInFlight,
          auditReadCommit: config.auditReadCommit,
          rateLimit: config.rateLimit,
          nationalId: config.nationalId,
        }
      : undefined,
  },
});
if (ehbSimulator) {
  const { ehbOf } = await import('./capabilities/ehb/plugin.ts');
  const signer = await ehbOf(router)?.signer();
  if (signer) {
    ehbKeys.push(signer.material.publicKeyPem);
  }
}
if (applied.length > 0) {
  app.log.info({ migrations: applied }, 'database migrated');
}
if (config.seed) {
  const { seedDemo } = await import('./seed/seed.ts');
  const seeded = await seedDemo(router, { sharedDir: config.sharedDir });
  app.log.info({ seeded: seeded.created, skipped: seeded.skipped }, 'demo data ready');
}
let demoAccounts: { username: string; role: string; mfa: boolean }[] = [];
if (config.seed && config.mode === 'demo' && security) {
  const { seedDemoAccounts } = await import('./seed/demo-accounts.ts');
  demoAccounts = await seedDemoAccounts(security.accounts, {
    mode: config.mode,
    password: config.demoStaffPassword,
    totpSecret: config.demoTotpSecret,
  });
}

let closing = false;
const shutdown = async (signal: string): Promise<void> => {
  if (closing) {
    return;
  }
  closing = true;
  process.stdout.write(`Sen is shutting down (${signal}): draining requests, closing the database\n`);
  try {
    await app.close();
    await bhytSimulator?.close();
    await ehbSimulator?.close();
    await paymentSimulator?.close();
    process.stdout.write('Sen stopped.\n');
    process.exit(0);
  } catch {
    process.exit(1);
  }
};
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

await app.listen({ port: config.port, host: config.host });
// after the API: first the messages a stop left unprocessed, then new ones
const mllp = await analyzer.start();
const engine = config.databaseUrl ? 'PostgreSQL' : `PGlite (${config.dataDir})`;
process.stdout.write(
  `\nSen is running on ${engine}\n  Open ${config.publicUrl}/  ·  FHIR API ${config.publicUrl}/fhir/R4\n`,
);
if (mllp) {
  process.stdout.write(`  HL7 v2 / MLLP for lab analyzers on ${mllp.address}:${mllp.port}\n`);
}
if (config.auth && config.mode === 'demo') {
  const secret = config.demoClientSecret === 'sen-demo-secret' ? 'sen-demo-secret' : '<SEN_DEMO_CLIENT_SECRET>';
  process.stdout.write(
    `  Demo API token: curl -s -u sen-demo:${secret} -d grant_type=client_credentials -d 'scope=system/*.cruds' ${config.publicUrl}/oidc/token\n`,
  );
  if (demoAccounts.length > 0) {
    // usernames only: the password and the TOTP secrets are in the README (never in logs)
    process.stdout.write(
      `  Demo staff sign-in (password: see README "Demo accounts"; codes: npm run demo:totp -- <username>):\n` +
        demoAccounts.map((a) => `    ${a.username.padEnd(15)} ${a.role}${a.mfa ? ' (MFA)' : ''}`).join('\n') +
        `\n  Tài khoản / account: ${config.publicUrl}/account\n`,
    );
  }
} else if (!config.auth) {
  process.stdout.write('  WARNING: SEN_AUTH=off: the API is open to anyone who can reach it.\n');
}
process.stdout.write('\n');

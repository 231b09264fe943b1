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
const { app, router } = await buildApp({ db, config: { publicUrl: config.publicUrl, logLevel: config.logLevel } });
if (applied.length > 0) {
  app.log.info({ migrations: applied }, 'database migrated');
}
if (config.seed) {
  const { seedDemo } = await import('./seed/seed.ts');
  const seeded = await seedDemo(router, { sharedDir: config.sharedDir });
  app.log.info({ seeded: seeded.created, skipped: seeded.skipped }, 'demo data ready');
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
    process.stdout.write('Sen stopped.\n');
    process.exit(0);
  } catch {
    process.exit(1);
  }
};
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

await app.listen({ port: config.port, host: config.host });
const engine = config.databaseUrl ? 'PostgreSQL' : `PGlite (${config.dataDir})`;
process.stdout.write(
  `\nSen is running on ${engine}\n  Open ${config.publicUrl}/  ·  FHIR API ${config.publicUrl}/fhir/R4\n\n`,
);

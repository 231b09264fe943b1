/**
 * A Sen server in its own process for the analyzer restart test (analyzer.test.ts): the API without sign-in (the
 * test sets its data up through it) and the MLLP listener, over PostgreSQL (ANALYZER_CHILD_DB) or PGlite in a
 * folder (ANALYZER_CHILD_DATA). With ANALYZER_CHILD_HOLD=<control id>, the message with that control id is stored
 * and then held before processing, and the process says so on stdout: the test kills it right there.
 * Prints `ready <http port> <mllp port>` once it listens.
 */
import { migrate, openDb } from '@sen/db';
import { buildApp } from '../src/app.ts';
import { HOSPITAL_ID } from '../src/seed/demo-facility.ts';
import { seedDemo } from '../src/seed/seed.ts';
import { SHARED_DIR } from './shared-data.ts';

const hold = process.env.ANALYZER_CHILD_HOLD;
const db = await openDb({
  databaseUrl: process.env.ANALYZER_CHILD_DB || undefined,
  dataDir: process.env.ANALYZER_CHILD_DB ? undefined : process.env.ANALYZER_CHILD_DATA,
  poolSize: 4,
});
await migrate(db);
const sen = await buildApp({
  db,
  config: {
    publicUrl: 'http://127.0.0.1',
    logLevel: 'silent',
    analyzer: {
      port: 0,
      host: '127.0.0.1',
      facilityId: HOSPITAL_ID,
      afterStore: async (id, header) => {
        if (hold && header?.controlId === hold) {
          process.stdout.write(`held ${id}\n`);
          await new Promise(() => undefined); // never processed by this process
        }
      },
    },
  },
});
if (process.env.ANALYZER_CHILD_SEED === '1') {
  await seedDemo(sen.router, { sharedDir: SHARED_DIR, patients: 1 });
}
await sen.app.listen({ port: 0, host: '127.0.0.1' });
const mllp = await sen.analyzer.start();
const http = sen.app.server.address();
process.stdout.write(`ready ${typeof http === 'object' && http ? http.port : 0} ${mllp?.port ?? 0}\n`);
process.on('SIGTERM', () => {
  void sen.app.close().then(() => process.exit(0));
});

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SenConfig } from '../config.ts';

/** Where a command-line tool finds Sen's database: DATABASE_URL, else PGlite in SEN_DATA_DIR/pglite. */
export type ConfiguredDb = { ok: true; dataDir?: string; where: string } | { ok: false; message: string };

/**
 * The database the server uses, for a tool run beside it. PGlite serves one process at a time, so a data
 * directory in use is refused unless `force` (Sen not running, but not stopped cleanly). `create` makes a missing
 * PGlite directory (an importer may start a site); otherwise a missing one is an error.
 */
export function configuredDb(config: SenConfig, options: { force?: boolean; create?: boolean } = {}): ConfiguredDb {
  if (config.databaseUrl) {
    return { ok: true, where: 'PostgreSQL (DATABASE_URL)' };
  }
  const dataDir = join(config.dataDir, 'pglite');
  if (options.create) {
    mkdirSync(dataDir, { recursive: true });
  } else if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    return { ok: false, message: `No Sen database in ${dataDir} (set SEN_DATA_DIR or DATABASE_URL).` };
  }
  if (existsSync(join(dataDir, 'postmaster.pid')) && !options.force) {
    return {
      ok: false,
      message:
        `The PGlite database in ${dataDir} is in use (or Sen did not stop cleanly): PGlite serves one process at a ` +
        'time. Stop Sen first, or pass --force if it is not running.',
    };
  }
  return { ok: true, dataDir, where: `PGlite (${dataDir})` };
}

/** Runs a tool's main and exits with its code; an unexpected failure exits 2 with its code and message only. */
export function runCli(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      const e = err as { code?: string; message?: string };
      process.stderr.write(`${name} could not run: ${e.code ? `[${e.code}] ` : ''}${e.message ?? String(err)}\n`);
      process.exit(2);
    },
  );
}

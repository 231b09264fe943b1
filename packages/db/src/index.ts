export type { Db, Engine, Queryable, QueryOptions, QueryResult } from './db.ts';
export { classifyDbError, type DbErrorInfo } from './errors.ts';
export { loadMigrations, migrate, migrationsCurrent, splitStatements } from './migrate.ts';
export { openPostgres, type PostgresOptions } from './pg.ts';
export { openPglite, type PgliteOptions } from './pglite.ts';

import type { Db } from './db.ts';
import { openPostgres } from './pg.ts';
import { openPglite } from './pglite.ts';

export interface OpenDbOptions {
  databaseUrl?: string;
  dataDir?: string;
  poolSize?: number;
}

/** PostgreSQL when a URL is given, otherwise embedded PGlite in dataDir (in memory when absent). */
export function openDb(options: OpenDbOptions): Promise<Db> {
  if (options.databaseUrl) {
    return openPostgres({ connectionString: options.databaseUrl, max: options.poolSize });
  }
  return openPglite({ dataDir: options.dataDir });
}

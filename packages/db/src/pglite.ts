import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import type { Db, Queryable, QueryResult } from './db.ts';

export interface PgliteOptions {
  /** A directory for the database files; undefined keeps the database in memory (tests). */
  dataDir?: string;
}

const identity = (v: string): string => v;

export async function openPglite(options: PgliteOptions = {}): Promise<Db> {
  const pg = await PGlite.create({
    dataDir: options.dataDir,
    extensions: { pg_trgm },
    parsers: {
      [pgliteTypes.INT8]: identity,
      [pgliteTypes.NUMERIC]: identity,
      [pgliteTypes.TIMESTAMPTZ]: identity,
      [pgliteTypes.TIMESTAMP]: identity,
      [pgliteTypes.DATE]: identity,
    },
  });
  const run = async <R>(
    q: { query: PGlite['query'] },
    sql: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<R>> => {
    const res = await q.query<R>(sql, params as unknown[] | undefined);
    return { rows: res.rows, rowCount: res.affectedRows ?? res.rows.length };
  };
  const db: Db = {
    engine: 'pglite',
    query: (sql, params) => run(pg, sql, params),
    transaction(fn) {
      // PGlite is a single session: its transaction() holds the connection until fn settles.
      return pg.transaction(async (tx) => {
        const q: Queryable = { query: (sql, params) => run(tx, sql, params) };
        return fn(q);
      });
    },
    async close() {
      if (!pg.closed) {
        await pg.close();
      }
    },
  };
  return db;
}

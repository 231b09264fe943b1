import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Db, Queryable, QueryOptions, QueryResult } from './db.ts';

// Keep numbers exact and timestamps as written: numeric, bigint and timestamptz come back as strings.
const identity = (v: string): string => v;
const types = {
  getTypeParser(oid: number, format?: string): (v: string) => unknown {
    if (oid === 20 || oid === 1700 || oid === 1184 || oid === 1114 || oid === 1082) {
      return identity;
    }
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export interface PostgresOptions {
  connectionString: string;
  max?: number;
}

export async function openPostgres(options: PostgresOptions): Promise<Db> {
  const pool = new pg.Pool({ connectionString: options.connectionString, max: options.max ?? 20, types });
  pool.on('error', () => {
    // An idle client lost its connection; the pool replaces it. Nothing to log about patients here.
  });
  const names = new Map<string, string>();
  const nameOf = (sql: string): string => {
    let n = names.get(sql);
    if (!n) {
      n = `sen_${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`;
      names.set(sql, n);
    }
    return n;
  };
  const run = async <R>(
    client: pg.Pool | pg.PoolClient,
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<R>> => {
    const res = options?.prepare
      ? await client.query({ name: nameOf(sql), text: sql, values: params as unknown[] | undefined })
      : await client.query(sql, params as unknown[] | undefined);
    return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
  };
  const db: Db = {
    engine: 'postgres',
    query: (sql, params, options) => run(pool, sql, params, options),
    async transaction(fn) {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const tx: Queryable = { query: (sql, params, options) => run(client, sql, params, options) };
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        throw err;
      } finally {
        client.release(broken);
      }
    },
    async close() {
      if (!pool.ended) {
        await pool.end();
      }
    },
  };
  return db;
}

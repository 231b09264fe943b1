import { randomBytes } from 'node:crypto';
import { after, before, describe } from 'node:test';
import pg from 'pg';
import type { Db, Engine } from '../src/db.ts';
import { migrate } from '../src/migrate.ts';
import { openPostgres } from '../src/pg.ts';
import { openPglite } from '../src/pglite.ts';

export interface EngineHandle {
  engine: Engine;
  /** The migrated database, available inside tests (after `before`). */
  db(): Db;
  /** A connection string for PostgreSQL runs (undefined on PGlite). */
  url(): string | undefined;
}

export function testEngines(): Engine[] {
  return process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
}

/** Creates a fresh, migrated database of the given engine; PostgreSQL gets its own throwaway database. */
export async function createTestDb(engine: Engine): Promise<{ db: Db; url?: string; drop: () => Promise<void> }> {
  if (engine === 'pglite') {
    const db = await openPglite();
    await migrate(db);
    return { db, drop: () => db.close() };
  }
  const base = process.env.TEST_DATABASE_URL;
  if (!base) {
    throw new Error('TEST_DATABASE_URL is not set');
  }
  const name = `sen_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  const url = u.toString();
  const db = await openPostgres({ connectionString: url, max: 8 });
  await migrate(db);
  return {
    db,
    url,
    drop: async () => {
      await db.close();
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Runs the suite once per engine: PGlite always, PostgreSQL when TEST_DATABASE_URL is set. */
export function eachEngine(name: string, suite: (h: EngineHandle) => void): void {
  for (const engine of testEngines()) {
    describe(`${name} [${engine}]`, () => {
      let current: { db: Db; url?: string; drop: () => Promise<void> } | undefined;
      before(async () => {
        current = await createTestDb(engine);
      });
      after(async () => {
        await current?.drop();
      });
      suite({
        engine,
        db: () => {
          if (!current) {
            throw new Error('database not ready');
          }
          return current.db;
        },
        url: () => current?.url,
      });
    });
  }
}

import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_.+\.sql$/.test(f)).sort();
  const out: Migration[] = [];
  for (const file of files) {
    out.push({
      version: Number(file.slice(0, 4)),
      name: file.replace(/\.sql$/, ''),
      sql: await readFile(dir + file, 'utf8'),
    });
  }
  return out;
}

/**
 * Applies the forward-only migrations not yet applied, each in its own transaction.
 * A lock on the bookkeeping table keeps two starting servers from migrating at once.
 */
export async function migrate(db: Db): Promise<{ applied: string[] }> {
  await db.query(
    `CREATE TABLE IF NOT EXISTS schema_migrations (
       version integer PRIMARY KEY,
       name text NOT NULL,
       applied_at timestamptz NOT NULL DEFAULT now()
     )`,
  );
  const migrations = await loadMigrations();
  const applied: string[] = [];
  for (const m of migrations) {
    const done = await db.transaction(async (tx) => {
      await tx.query('LOCK TABLE schema_migrations IN EXCLUSIVE MODE');
      const { rows } = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version]);
      if (rows.length > 0) {
        return false;
      }
      for (const stmt of splitStatements(m.sql)) {
        await tx.query(stmt);
      }
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      return true;
    });
    if (done) {
      applied.push(m.name);
    }
  }
  return { applied };
}

/** True when every migration shipped with this build has been applied. */
export async function migrationsCurrent(db: Db): Promise<boolean> {
  const migrations = await loadMigrations();
  const { rows } = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM schema_migrations');
  return Number(rows[0]?.n ?? 0) >= migrations.length;
}

/** Splits a migration file into statements (semicolon at end of line; no procedural bodies). */
export function splitStatements(sql: string): string[] {
  const withoutComments = sql
    .split('\n')
    .map((l) => l.replace(/--.*$/, ''))
    .join('\n');
  return withoutComments
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

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
let shipped: number | undefined;

export async function migrationsCurrent(db: Db): Promise<boolean> {
  // the migrations shipped with this build do not change while it runs: count the files once, not per probe
  shipped ??= (await loadMigrations()).length;
  const { rows } = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM schema_migrations');
  return Number(rows[0]?.n ?? 0) >= shipped;
}

/**
 * Splits a migration file into statements at top-level semicolons and drops comments. Semicolons inside string
 * literals ('…', E'…'), quoted identifiers ("…"), comments (-- and nested /* … *\/) and dollar-quoted strings
 * ($$ … $$, $tag$ … $tag$ — the bodies of PL/pgSQL functions) do not split.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  const n = sql.length;
  let cur = '';
  let i = 0;
  const push = (): void => {
    const s = cur.trim();
    if (s.length > 0) {
      out.push(s);
    }
    cur = '';
  };
  while (i < n) {
    const c = sql[i];
    const tag = c === '$' && !IDENT_CHAR.test(sql[i - 1] ?? '') ? dollarTagAt(sql, i) : undefined;
    if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end;
    } else if (c === '/' && sql[i + 1] === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql.startsWith('/*', i)) {
          depth++;
          i += 2;
        } else if (sql.startsWith('*/', i)) {
          depth--;
          i += 2;
        } else {
          i++;
        }
      }
      cur += ' ';
    } else if (c === "'" || c === '"') {
      const backslashEscapes = c === "'" && /[Ee]/.test(sql[i - 1] ?? '') && !IDENT_CHAR.test(sql[i - 2] ?? '');
      let j = i + 1;
      while (j < n) {
        if (backslashEscapes && sql[j] === '\\') {
          j += 2;
        } else if (sql[j] === c && sql[j + 1] === c) {
          j += 2;
        } else if (sql[j] === c) {
          break;
        } else {
          j++;
        }
      }
      cur += sql.slice(i, j + 1);
      i = j + 1;
    } else if (tag) {
      const end = sql.indexOf(tag, i + tag.length);
      const stop = end < 0 ? n : end + tag.length;
      cur += sql.slice(i, stop);
      i = stop;
    } else if (c === ';') {
      push();
      i++;
    } else {
      cur += c;
      i++;
    }
  }
  push();
  return out;
}

const IDENT_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;

/** The dollar-quote opening tag (`$$` or `$name$`) starting at i, if any (`$1` is a parameter, not a tag). */
function dollarTagAt(sql: string, i: number): string | undefined {
  DOLLAR_TAG.lastIndex = i;
  return DOLLAR_TAG.exec(sql)?.[0];
}

/**
 * `npm run audit:verify`: seals the audit rows of finished transactions, then verifies the whole hash chain of the
 * audit trail and prints a report. Exit code 0: intact; 1: problems found (altered, missing, reordered or inserted
 * records, each named by its seq); 2: could not verify (bad arguments, no database, database error).
 *
 * Opens the database the way the server does (DATABASE_URL, else PGlite in SEN_DATA_DIR/pglite) but does not migrate
 * it; with --no-seal it only reads (a role with SELECT on the audit tables is enough). The report names sequence
 * numbers, chain positions and hashes only, never the contents of a record.
 *
 *   --no-seal            verify only (read-only)
 *   --anchor POS:HASH    also check that the chain still has HASH at position POS (a head printed by an earlier run)
 *   --force              open a PGlite directory even though it looks in use (after a crash)
 */
import { parseArgs } from 'node:util';
import { type Db, openDb } from '@sen/db';
import { AuditLog, type AuditVerifyResult } from '@sen/store';
import { readConfig } from '../config.ts';
import { configuredDb, runCli } from './configured-db.ts';

const out = (line = ''): void => void process.stdout.write(`${line}\n`);

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: npm run audit:verify -- [--no-seal] [--anchor POS:HASH] [--force]\n`);
  process.exit(2);
}

function parseAnchor(value: string | undefined): { pos: string; hash: string } | undefined {
  if (value === undefined) {
    return undefined;
  }
  const m = /^(\d{1,19}):([0-9a-fA-F]{64})$/.exec(value);
  if (!m) {
    usage('--anchor must be POS:HASH, e.g. 1234:<64 hex digits>');
  }
  return { pos: m[1], hash: m[2].toLowerCase() };
}

function report(result: AuditVerifyResult): number {
  out(
    `Verified ${result.sealed} sealed record${result.sealed === 1 ? '' : 's'}; ${result.unsealed} newer record${
      result.unsealed === 1 ? '' : 's'
    } not sealed yet.`,
  );
  if (result.head) {
    out(`Chain head: position ${result.head.pos}, seq ${result.head.seq}, hash ${result.head.hash}`);
    out(`  (keep "--anchor ${result.head.pos}:${result.head.hash}" elsewhere to detect a rewrite of the chain later)`);
  }
  if (result.ok) {
    out('Result: OK — the audit trail is intact.');
    return 0;
  }
  out(
    `Result: ${result.problems.length}${result.truncated ? '+' : ''} PROBLEM(S) — the audit trail was tampered with:`,
  );
  for (const p of result.problems) {
    out(`  ${(p.seq === null ? '-' : `seq ${p.seq}`).padEnd(16)} ${p.kind.padEnd(10)} ${p.message}`);
  }
  if (result.truncated) {
    out('  … more problems were found than listed.');
  }
  return 1;
}

async function main(): Promise<number> {
  const { values } = (() => {
    try {
      return parseArgs({
        options: { 'no-seal': { type: 'boolean' }, anchor: { type: 'string' }, force: { type: 'boolean' } },
        allowPositionals: false,
      });
    } catch (err) {
      return usage((err as Error).message);
    }
  })();
  const anchor = parseAnchor(values.anchor);
  const config = readConfig();
  const target = configuredDb(config, { force: values.force });
  if (!target.ok) {
    process.stderr.write(`${target.message}\n`);
    return 2;
  }
  const { dataDir, where } = target;
  out(`Sen audit verification — ${where}`);
  let db: Db | undefined;
  try {
    db = await openDb({ databaseUrl: config.databaseUrl, dataDir, poolSize: 2 });
    const { rows } = await db.query<{ t: string | null }>(`SELECT to_regclass('audit_seal')::text AS t`);
    if (!rows[0]?.t) {
      process.stderr.write('This database has no audit trail yet: start Sen once to migrate it.\n');
      return 2;
    }
    const log = new AuditLog(db);
    if (!values['no-seal']) {
      const { sealed } = await log.seal();
      out(`Sealed ${sealed} new record${sealed === 1 ? '' : 's'}.`);
    }
    return report(await log.verify({ anchor }));
  } finally {
    await db?.close();
  }
}

runCli('audit:verify', main);

/**
 * `npm run catalog -- import <kind> <file>`: imports a catalog file (CSV, XLSX or JSON) into the configured database
 * (DATABASE_URL, else PGlite in SEN_DATA_DIR/pglite), migrating it first. Every row is validated; the report lists the
 * accepted and rejected rows (row number, field, reason). A file with any bad row imports nothing. The same content
 * imported again adds no version. `npm run catalog -- kinds` lists the kinds; `check` validates without writing.
 *
 *   --version V        catalog version (default: --valid-from, else today's date)
 *   --valid-from D     first day the catalog applies (YYYY-MM-DD or DD/MM/YYYY)
 *   --valid-to D       last day it applies
 *   --source TEXT      the legal document (default: the kind's usual one)
 *   --sheet NAME       XLSX: the sheet to read (default: the first)
 *   --force            open a PGlite directory even though it looks in use (after a crash)
 *
 * Exit codes: 0 imported or unchanged, 1 rejected rows (nothing written), 2 could not run.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type Db, migrate, openDb } from '@sen/db';
import { loadDefinitions, warmSearchParams } from '@sen/fhir';
import { assertValid } from '@sen/fhir/validation.ts';
import { FhirStore } from '@sen/store';
import { readCatalogFile } from '../capabilities/terminology/files.ts';
import {
  CATALOG_KINDS,
  formatReport,
  ImportError,
  importCatalog,
  prepareImport,
} from '../capabilities/terminology/importer.ts';
import { readConfig } from '../config.ts';
import { configuredDb, runCli } from './configured-db.ts';

const out = (line = ''): void => void process.stdout.write(`${line}\n`);

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run catalog -- import <kind> <file> [--version V] [--valid-from D] [--valid-to D] [--source TEXT] [--sheet NAME]\n` +
      '       npm run catalog -- check <kind> <file>\n       npm run catalog -- kinds\n',
  );
  process.exit(2);
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  function parse(): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
    return parseArgs({
      options: {
        version: { type: 'string' },
        'valid-from': { type: 'string' },
        'valid-to': { type: 'string' },
        source: { type: 'string' },
        sheet: { type: 'string' },
        force: { type: 'boolean' },
      },
      allowPositionals: true,
    });
  }
  try {
    parsed = parse();
  } catch (err) {
    return usage((err as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, kind, file] = positionals;
  if (command === 'kinds') {
    for (const k of CATALOG_KINDS.values()) {
      out(`${k.kind.padEnd(20)} ${k.url}`);
      out(
        `${''.padEnd(20)} ${k.title}; columns: ${k.columns.map((c) => `${c.key}${c.required ? '*' : ''}`).join(', ')}`,
      );
    }
    return 0;
  }
  if ((command !== 'import' && command !== 'check') || !kind || !file) {
    return usage('Give a command, a kind and a file.');
  }
  if (!CATALOG_KINDS.has(kind)) {
    return usage(`Unknown kind '${kind}'; known: ${[...CATALOG_KINDS.keys()].join(', ')}`);
  }
  if (!existsSync(file)) {
    return usage(`No such file: ${file}`);
  }
  const table = await readCatalogFile(file, { sheet: values.sheet as string | undefined });
  if (command === 'check') {
    const p = prepareImport(kind, table);
    const bad = new Set(p.problems.map((x) => x.row)).size;
    out(`${p.total} dòng / rows: ${p.total - bad} hợp lệ / accepted, ${bad} bị từ chối / rejected`);
    for (const x of p.problems) {
      out(`  dòng / row ${x.row}, ${x.field}: ${x.reason}`);
    }
    return p.problems.length > 0 ? 1 : 0;
  }
  const config = readConfig();
  const target = configuredDb(config, { force: values.force === true, create: true });
  if (!target.ok) {
    process.stderr.write(`${target.message}\n`);
    return 2;
  }
  const { dataDir } = target;
  out(`Sen catalog import — ${target.where}`);
  let db: Db | undefined;
  try {
    db = await openDb({ databaseUrl: config.databaseUrl, dataDir, poolSize: 2 });
    await migrate(db);
    loadDefinitions();
    warmSearchParams();
    const store = new FhirStore(db, { validate: assertValid });
    const report = await importCatalog(store, kind, table, {
      version: values.version as string | undefined,
      validFrom: values['valid-from'] as string | undefined,
      validTo: values['valid-to'] as string | undefined,
      source: values.source as string | undefined,
    });
    for (const line of formatReport(report)) {
      out(line);
    }
    return report.status === 'rejected' ? 1 : 0;
  } catch (err) {
    if (err instanceof ImportError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  } finally {
    await db?.close();
  }
}

runCli('catalog', main);

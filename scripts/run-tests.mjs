#!/usr/bin/env node
// Runs every test file (packages/*/src/**/*.test.ts and packages/*/test/**/*.test.ts) with node:test.
// Storage and API suites run on PGlite always and on PostgreSQL too when TEST_DATABASE_URL is set.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filter = process.argv.slice(2);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') {
      continue;
    }
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      walk(p, out);
    } else if (name.endsWith('.test.ts')) {
      out.push(p);
    }
  }
  return out;
}

let files = walk(join(root, 'packages'), []).sort();
if (filter.length > 0) {
  files = files.filter((f) => filter.some((x) => f.includes(x)));
}
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
console.log(
  `Running ${files.length} test files on PGlite${process.env.TEST_DATABASE_URL ? ' and PostgreSQL (TEST_DATABASE_URL)' : ' only (set TEST_DATABASE_URL to add PostgreSQL)'}`,
);
const res = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    `--test-concurrency=${process.env.SEN_TEST_CONCURRENCY ?? 2}`,
    ...files,
  ],
  { stdio: 'inherit', cwd: root, env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(res.status ?? 1);

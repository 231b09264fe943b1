#!/usr/bin/env node
// Runs every test file (packages/*/src/**/*.test.ts, packages/*/test/**/*.test.ts and the browser journeys
// packages/e2e/journeys/*.journey.ts, which skip with a notice when Chromium is missing) with node:test.
// Storage and API suites run on PGlite always and on PostgreSQL too when TEST_DATABASE_URL is set.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
// `--journeys-only` (npm run e2e): the browser journeys alone; otherwise every test, journeys included
const journeysOnly = process.argv.includes('--journeys-only');
const withJourneys = true;
const filter = process.argv.slice(2).filter((a) => a !== '--journeys-only');

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') {
      continue;
    }
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      walk(p, out);
    } else if (name.endsWith('.test.ts') || (name.endsWith('.journey.ts') && withJourneys)) {
      out.push(p);
    }
  }
  return out;
}

let files = walk(join(root, 'packages'), []).sort();
if (journeysOnly) {
  files = files.filter((f) => f.endsWith('.journey.ts'));
}
if (filter.length > 0) {
  files = files.filter((f) => filter.some((x) => f.includes(x)));
}
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
if (files.some((f) => f.endsWith('.journey.ts'))) {
  // build the web app once, before journeys run side by side (each would otherwise rebuild a stale build at once)
  const built = spawnSync(process.execPath, [join(root, 'scripts', 'build-web.mjs')], { stdio: 'inherit', cwd: root });
  if (built.status !== 0) {
    console.error('the web app did not build');
    process.exit(1);
  }
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
    '--test-force-exit', // a file whose server did not start must not keep the run waiting on its open handles
    `--test-timeout=${process.env.SEN_TEST_TIMEOUT_MS ?? 900000}`,
    `--test-concurrency=${process.env.SEN_TEST_CONCURRENCY ?? 2}`,
    ...files,
  ],
  { stdio: 'inherit', cwd: root, env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(res.status ?? 1);

#!/usr/bin/env node
// Builds the web app (packages/web → packages/web/dist) when the build is missing or older than its sources,
// so `npm start` serves the current app without rebuilding on every start. `--force` always builds.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const web = new URL('../packages/web/', import.meta.url).pathname;
const built = join(web, 'dist', 'index.html');

function newest(p) {
  const s = statSync(p);
  if (!s.isDirectory()) {
    return s.mtimeMs;
  }
  return readdirSync(p).reduce((m, name) => Math.max(m, newest(join(p, name))), 0);
}

const sources = ['src', 'index.html', 'vite.config.ts', 'package.json'].map((f) => join(web, f)).filter(existsSync);
const stale = !existsSync(built) || Math.max(...sources.map(newest)) > statSync(built).mtimeMs;
if (!process.argv.includes('--force') && !stale) {
  process.exit(0);
}
console.log('Building the web app (packages/web)…');
const res = spawnSync(
  process.execPath,
  [join(web, '..', '..', 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'],
  {
    cwd: web,
    stdio: 'inherit',
  },
);
process.exit(res.status ?? 1);

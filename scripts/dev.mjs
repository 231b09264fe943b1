#!/usr/bin/env node
// npm run dev: Sen's server (restarted when server code changes) and the web app's Vite dev server with hot
// reload on http://localhost:5173, which forwards /fhir, /oidc, /api and /.well-known to the server.
import { spawn } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const children = [
  spawn(process.execPath, ['--import', 'tsx', '--watch', 'packages/server/src/main.ts'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, SEN_PUBLIC_URL: process.env.SEN_PUBLIC_URL ?? 'http://localhost:8080' },
  }),
  spawn(
    process.execPath,
    ['node_modules/vite/bin/vite.js', '--config', 'packages/web/vite.config.ts', 'packages/web'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  ),
];
const stop = () => {
  for (const c of children) {
    c.kill('SIGTERM');
  }
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
for (const c of children) {
  c.on('exit', (code) => {
    stop();
    process.exitCode = code ?? 0;
  });
}

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { clientCredentialsToken, fhirFetch } from './harness.ts';

// The real `npm start` entry point as a child process on embedded PGlite: readiness, durability of
// committed writes across a hard kill, and a clean exit on SIGTERM.
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

function start(dataDir: string, port: number): { proc: ChildProcess; output: () => string } {
  let out = '';
  const proc = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: ROOT,
    env: {
      ...process.env,
      SEN_DATA_DIR: dataDir,
      SEN_DEMO_CLIENT_SECRET: 'process-test-secret',
      PORT: String(port),
      HOST: '127.0.0.1',
      SEN_SEED: 'false',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  proc.stdout?.on('data', (d) => {
    out += d;
  });
  proc.stderr?.on('data', (d) => {
    out += d;
  });
  return { proc, output: () => out };
}

async function ready(port: number, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (r.ok) {
        return;
      }
    } catch {
      // starting
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('server did not become ready');
}

function exited(proc: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      resolve(proc.exitCode);
      return;
    }
    proc.once('exit', (code) => resolve(code));
  });
}

const children: ChildProcess[] = [];

describe('the server process on embedded PGlite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sen-proc-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const base = `http://127.0.0.1:${port}/fhir/R4`;
  after(() => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGKILL');
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the URL, keeps every committed write through a hard kill, and exits cleanly on SIGTERM', async () => {
    const first = start(dir, port);
    await ready(port);
    assert.match(first.output(), new RegExp(`http://localhost:${port}/`));
    const h = {
      authorization: `Bearer ${await clientCredentialsToken(`http://127.0.0.1:${port}`, 'system/*.cruds', 'process-test-secret')}`,
    };
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await fhirFetch(base, 'Patient', {
        method: 'POST',
        headers: h,
        body: { resourceType: 'Patient', name: [{ family: `Bền${i}` }] },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      ids.push(res.body.id);
    }
    const tx = await fhirFetch(base, '', {
      method: 'POST',
      headers: h,
      body: {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            request: { method: 'PUT', url: `Patient/${ids[0]}` },
            resource: { resourceType: 'Patient', id: ids[0], gender: 'female' },
          },
        ],
      },
    });
    assert.equal(tx.status, 200);
    first.proc.kill('SIGKILL');
    await exited(first.proc);

    const second = start(dir, port);
    await ready(port);
    // the signing keys and the demo secret key survived the restart: the token from before still works
    assert.equal((await fhirFetch(base, 'Patient?_count=1', { headers: h })).status, 200);
    for (const id of ids) {
      const r = await fhirFetch(base, `Patient/${id}`, { headers: h });
      assert.equal(r.status, 200, `Patient/${id} lost after a crash`);
    }
    const updated = await fhirFetch(base, `Patient/${ids[0]}`, { headers: h });
    assert.equal(updated.body.meta.versionId, '2');
    assert.equal(updated.body.gender, 'female');
    second.proc.kill('SIGTERM');
    assert.equal(await exited(second.proc), 0);
    assert.match(second.output(), /shutting down/);
  });
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Db, migrate, openPglite } from '@sen/db';
import { AuditLog } from '@sen/store';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const CLI = fileURLToPath(new URL('./audit-verify.ts', import.meta.url));
const SECRET_PATIENT = 'p-0987654321';

function runCli(dataDir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, SEN_DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
  delete env.DATABASE_URL;
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, env }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function withDb<T>(dataDir: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openPglite({ dataDir: join(dataDir, 'pglite') });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

describe('npm run audit:verify', () => {
  let dir: string;
  let seqs: string[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sen-audit-cli-'));
    seqs = await withDb(dir, async (db) => {
      await migrate(db);
      const log = new AuditLog(db);
      const out: string[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await log.record({
          action: i === 1 ? 'search' : 'read',
          outcome: 'success',
          who: 'Practitioner/doc-1',
          patient: SECRET_PATIENT,
          resourceType: 'Observation',
          resourceId: `obs-${i}`,
          query: i === 1 ? `subject=Patient/${SECRET_PATIENT}` : undefined,
        });
        out.push(r.seq);
      }
      await log.seal();
      // two more, left for the command to seal
      await log.recordMany([
        { action: 'login', outcome: 'success', who: 'user-1' },
        { action: 'login-failed', outcome: 'failure', sourceIp: '192.0.2.1' },
      ]);
      return out;
    });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('seals, verifies an intact trail and exits 0', async () => {
    const res = await runCli(dir);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(res.stdout, /Sealed 2 new records/);
    assert.match(res.stdout, /Verified 7 sealed records; 0 newer records not sealed yet/);
    assert.match(res.stdout, /Result: OK/);
    const anchor = /--anchor (\d+:[0-9a-f]{64})/.exec(res.stdout)?.[1];
    assert.ok(anchor);
    const again = await runCli(dir, '--no-seal', '--anchor', anchor);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.doesNotMatch(again.stdout, /Sealed/);
  });

  it('exits 1 and names the seq and kind of a tampered record, without printing its contents', async () => {
    await withDb(dir, (db) =>
      db.transaction(async (tx) => {
        await tx.query('ALTER TABLE audit_event DISABLE TRIGGER USER');
        await tx.query(`UPDATE audit_event SET who = 'Practitioner/someone-else' WHERE seq = $1`, [seqs[3]]);
        await tx.query('DELETE FROM audit_event WHERE seq = $1', [seqs[1]]);
        await tx.query('ALTER TABLE audit_event ENABLE TRIGGER USER');
      }),
    );
    const res = await runCli(dir);
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.match(res.stdout, /Result: 2 PROBLEM/);
    assert.match(res.stdout, new RegExp(`seq ${seqs[1]}\\s+missing`));
    assert.match(res.stdout, new RegExp(`seq ${seqs[3]}\\s+altered`));
    for (const secret of [SECRET_PATIENT, 'someone-else', 'doc-1', 'obs-']) {
      assert.ok(!res.stdout.includes(secret) && !res.stderr.includes(secret), `printed ${secret}`);
    }
  });

  it('refuses a PGlite directory that is open in another process, a missing one and one without the audit tables', async () => {
    const db = await openPglite({ dataDir: join(dir, 'pglite') });
    try {
      const busy = await runCli(dir);
      assert.equal(busy.code, 2);
      assert.match(busy.stderr, /in use/);
    } finally {
      await db.close();
    }
    const none = await runCli(join(dir, 'nothing-here'));
    assert.equal(none.code, 2);
    assert.match(none.stderr, /No Sen database/);
    const empty = join(dir, 'unmigrated');
    await mkdir(empty);
    await withDb(empty, (db) => db.query('SELECT 1'));
    const unmigrated = await runCli(empty);
    assert.equal(unmigrated.code, 2);
    assert.match(unmigrated.stderr, /no audit trail yet/);
    const bad = await runCli(dir, '--anchor', 'nope');
    assert.equal(bad.code, 2);
  });
});

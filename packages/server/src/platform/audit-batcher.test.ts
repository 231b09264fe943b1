import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eachEngine } from '@sen/db/testing';
import type { Queryable } from '@sen/db';
import { type AuditEntry, AuditLog, type AuditWriteOptions } from '@sen/store';
import { AuditBatcher } from './audit-batcher.ts';

/** A real audit log that counts the inserts running at the same time. */
class CountingLog extends AuditLog {
  running = 0;
  most = 0;
  inserts = 0;
  /** The flush option of each insert, in order. */
  flushes: boolean[] = [];

  private async counted<T>(f: () => Promise<T>): Promise<T> {
    this.running += 1;
    this.inserts += 1;
    this.most = Math.max(this.most, this.running);
    try {
      return await f();
    } finally {
      this.running -= 1;
    }
  }

  override record(entry: AuditEntry, q?: Queryable, options: AuditWriteOptions = {}): Promise<{ seq: string }> {
    this.flushes.push(options.flush !== false);
    return this.counted(() => super.record(entry, q, options));
  }

  override recordMany(
    entries: readonly AuditEntry[],
    q?: Queryable,
    options: AuditWriteOptions = {},
  ): Promise<{ seqs: string[] }> {
    this.flushes.push(options.flush !== false);
    return this.counted(() => super.recordMany(entries, q, options));
  }
}

const entry = (i: number): AuditEntry => ({
  action: 'read',
  outcome: 'success',
  who: 'Device/test',
  resourceType: 'Patient',
  resourceId: `p${i}`,
});

eachEngine('audit batcher', (h) => {
  describe('group commit', () => {
    it('commits every record, sharing inserts among records that arrive together', async () => {
      const log = new CountingLog(h.db());
      const batcher = new AuditBatcher(log);
      await Promise.all(Array.from({ length: 60 }, (_, i) => batcher.record(entry(i))));
      const { rows } = await h
        .db()
        .query<{ n: string }>(
          "SELECT count(*)::text AS n FROM audit_event WHERE who = 'Device/test' AND resource_id LIKE 'p%'",
        );
      assert.equal(rows[0].n, '60');
      assert.ok(log.inserts < 60, `60 records took ${log.inserts} inserts`);
      assert.equal(log.most, 1);
    });

    it('keeps at most maxInFlight inserts running', async () => {
      const log = new CountingLog(h.db());
      const batcher = new AuditBatcher(log, { maxInFlight: 3, maxBatch: 5 });
      const waves = [];
      for (let w = 0; w < 5; w++) {
        waves.push(...Array.from({ length: 10 }, (_, i) => batcher.record(entry(1000 + w * 10 + i))));
        await new Promise((r) => setImmediate(r));
      }
      await Promise.all(waves);
      assert.ok(log.most <= 3, `${log.most} inserts ran at once`);
    });

    it('fails only the malformed record of a shared insert; the others are committed', async () => {
      const log = new AuditLog(h.db());
      const batcher = new AuditBatcher(log);
      const bad = { action: 'peek', outcome: 'success' } as unknown as AuditEntry;
      const results = await Promise.allSettled([
        batcher.record({ ...entry(1), who: 'Device/mixed' }),
        batcher.record(bad),
        batcher.record({ ...entry(2), who: 'Device/mixed' }),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      const { rows } = await h
        .db()
        .query<{ n: string }>("SELECT count(*)::text AS n FROM audit_event WHERE who = 'Device/mixed'");
      assert.equal(rows[0].n, '2');
    });
  });

  describe('commit mode', () => {
    const count = async (who: string): Promise<string> => {
      const { rows } = await h
        .db()
        .query<{ n: string }>('SELECT count(*)::text AS n FROM audit_event WHERE who = $1', [who]);
      return rows[0].n;
    };

    it('commits batches of reads without waiting for the disk, and any batch with another action durably', async () => {
      const log = new CountingLog(h.db());
      const batcher = new AuditBatcher(log, { readCommit: 'async' });
      await Promise.all(
        ['read', 'search', 'vread', 'history'].map((action, i) =>
          batcher.record({ ...entry(i), action: action as AuditEntry['action'], who: 'Device/commit-reads' }),
        ),
      );
      assert.deepEqual(log.flushes, [false]);
      await Promise.all([
        batcher.record({ ...entry(10), who: 'Device/commit-mixed' }),
        batcher.record({ ...entry(11), action: 'create', who: 'Device/commit-mixed' }),
      ]);
      await batcher.record({ ...entry(12), action: 'login', who: 'Device/commit-mixed' });
      await batcher.record({ ...entry(13), who: 'Device/commit-mixed' });
      assert.deepEqual(log.flushes, [false, true, true, false]);
      // committed before record() resolved, whatever the mode
      assert.equal(await count('Device/commit-reads'), '4');
      assert.equal(await count('Device/commit-mixed'), '4');
    });

    it('by default every batch waits for the disk, reads too', async () => {
      const log = new CountingLog(h.db());
      const batcher = new AuditBatcher(log);
      await Promise.all([1, 2, 3].map((i) => batcher.record({ ...entry(i), who: 'Device/commit-durable' })));
      await batcher.record({ ...entry(4), who: 'Device/commit-durable' });
      assert.deepEqual(log.flushes, [true, true]);
      assert.equal(await count('Device/commit-durable'), '4');
    });

    it('a record committed without waiting for the disk is sealed and verified like any other', async () => {
      const log = new AuditLog(h.db());
      const { seq } = await log.record({ ...entry(20), who: 'Device/commit-seal' }, undefined, { flush: false });
      const { seqs } = await log.recordMany(
        [21, 22].map((i) => ({ ...entry(i), who: 'Device/commit-seal' })),
        undefined,
        { flush: false },
      );
      assert.equal(seqs.length, 2);
      assert.ok(BigInt(seqs[0]) > BigInt(seq));
      await log.seal();
      const { rows } = await h
        .db()
        .query<{ n: string }>(
          "SELECT count(*)::text AS n FROM audit_seal s JOIN audit_event e ON e.seq = s.seq WHERE e.who = 'Device/commit-seal'",
        );
      assert.equal(rows[0].n, '3');
      const result = await log.verify();
      assert.equal(result.ok, true);
      // the setting was local to the insert's own transaction: the session still commits durably
      const { rows: setting } = await h.db().query<{ v: string }>("SELECT current_setting('synchronous_commit') AS v");
      assert.equal(setting[0].v, 'on');
    });

    it("refuses to change the commit mode of the caller's transaction", async () => {
      const log = new AuditLog(h.db());
      await assert.rejects(
        h.db().transaction((tx) => log.record({ ...entry(30), who: 'Device/commit-tx' }, tx, { flush: false })),
        TypeError,
      );
      assert.equal(await count('Device/commit-tx'), '0');
    });
  });
});

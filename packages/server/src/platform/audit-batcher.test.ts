import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eachEngine } from '@sen/db/testing';
import { type AuditEntry, AuditLog } from '@sen/store';
import { AuditBatcher } from './audit-batcher.ts';

/** A real audit log that counts the inserts running at the same time. */
class CountingLog extends AuditLog {
  running = 0;
  most = 0;
  inserts = 0;

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

  override record(entry: AuditEntry): Promise<{ seq: string }> {
    return this.counted(() => super.record(entry));
  }

  override recordMany(entries: readonly AuditEntry[]): Promise<{ seqs: string[] }> {
    return this.counted(() => super.recordMany(entries));
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
});

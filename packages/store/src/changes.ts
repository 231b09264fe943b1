import type { Db } from '@sen/db';
import { normalizeTs } from './store.ts';

export interface ChangeEvent {
  seq: string;
  txid: string;
  type: string;
  id: string;
  version: number;
  action: 'create' | 'update' | 'delete';
  occurredAt: string;
}

/**
 * A named consumer of the store's change events (the transactional outbox). It sees only events of
 * committed transactions older than every transaction still running, in (txid, seq) order, and
 * records its position in the database after each batch: every committed change is delivered, in
 * order, once per successful handler run, and consumption resumes after a restart where it stopped.
 */
export class ChangeFeed {
  private readonly db: Db;
  readonly name: string;

  constructor(db: Db, name: string) {
    this.db = db;
    this.name = name;
  }

  async position(): Promise<{ txid: string; seq: string }> {
    await this.db.query('INSERT INTO change_consumer (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [this.name]);
    const { rows } = await this.db.query<{ txid: string; seq: string }>(
      'SELECT last_txid::text AS txid, last_seq::text AS seq FROM change_consumer WHERE name = $1',
      [this.name],
    );
    return rows[0] ?? { txid: '0', seq: '0' };
  }

  /** Events after the consumer's position that are safe to deliver (their transactions are over). */
  async peek(limit = 500): Promise<ChangeEvent[]> {
    const pos = await this.position();
    const { rows } = await this.db.query<{
      seq: string;
      txid: string;
      type: string;
      id: string;
      version: number;
      action: ChangeEvent['action'];
      occurred_at: string;
    }>(
      `SELECT seq::text AS seq, txid::text AS txid, type, id, version, action, occurred_at::text AS occurred_at
         FROM change_event
        WHERE (txid, seq) > ($1::xid8, $2::bigint)
          AND txid < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY txid, seq
        LIMIT ${Math.max(1, Math.min(limit, 10_000))}`,
      [pos.txid, pos.seq],
    );
    return rows.map((r) => ({
      seq: r.seq,
      txid: r.txid,
      type: r.type,
      id: r.id,
      version: Number(r.version),
      action: r.action,
      occurredAt: normalizeTs(r.occurred_at),
    }));
  }

  /** Moves the consumer's position past the given event. */
  async ack(event: ChangeEvent): Promise<void> {
    await this.db.query(
      'UPDATE change_consumer SET last_txid = $2::xid8, last_seq = $3::bigint, updated_at = now() WHERE name = $1',
      [this.name, event.txid, event.seq],
    );
  }

  /**
   * Delivers the next batch to handler and advances after it succeeds; returns how many were delivered.
   * A handler that throws leaves the position at the last event it finished.
   */
  async poll(handler: (e: ChangeEvent) => Promise<void> | void, limit = 500): Promise<number> {
    const events = await this.peek(limit);
    let n = 0;
    for (const e of events) {
      await handler(e);
      await this.ack(e);
      n++;
    }
    return n;
  }
}

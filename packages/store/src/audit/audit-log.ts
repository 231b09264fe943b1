import type { Db, Queryable } from '@sen/db';
import { type RawAuditRow, rowColumns, toAuditRow } from './canonical.ts';
import {
  AUDIT_ACTIONS,
  AUDIT_OUTCOMES,
  type AuditEntry,
  type AuditHead,
  type AuditPage,
  type AuditSearch,
  type AuditVerifyResult,
} from './types.ts';
import { type AuditVerifyOptions, verifyAuditChain } from './verify.ts';

export interface AuditLogOptions {
  /** Rows sealed per sealing transaction (default 2000). */
  sealBatch?: number;
}

export interface SealResult {
  /** Rows sealed by this call. */
  sealed: number;
  head?: AuditHead;
}

const COLUMNS = [
  'action',
  'outcome',
  'who',
  'role',
  'client',
  'source_ip',
  'patient',
  'resource_type',
  'resource_id',
  'resource_version',
  'query',
  'purpose',
  'break_glass_reason',
] as const;
type Column = (typeof COLUMNS)[number];

const INSERT_ONE = `INSERT INTO audit_event (${COLUMNS.join(', ')}, detail)
  VALUES (${COLUMNS.map((_, i) => `$${i + 1}`).join(', ')}, $${COLUMNS.length + 1}::jsonb)
  RETURNING seq::text AS seq`;

const INSERT_MANY = `INSERT INTO audit_event (${COLUMNS.join(', ')}, detail)
  SELECT ${COLUMNS.map((c) => `e.v->>'${c}'`).join(', ')}, NULLIF(e.v->'detail', 'null'::jsonb)
    FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(v, n)
   ORDER BY e.n
  RETURNING seq::text AS seq`;

/**
 * The same inserts with a commit that does not wait for the disk (see `AuditWriteOptions.flush`): set_config(…,
 * true) is SET LOCAL, and the setting in effect when a transaction commits decides how it commits, so only this
 * statement's own (autocommit) transaction is affected.
 */
const NO_FLUSH = `WITH no_flush AS (SELECT set_config('synchronous_commit', 'off', true) AS v) `;
const INSERT_ONE_NO_FLUSH = `${NO_FLUSH}INSERT INTO audit_event (${COLUMNS.join(', ')}, detail)
  SELECT ${COLUMNS.map((_, i) => `$${i + 1}`).join(', ')}, $${COLUMNS.length + 1}::jsonb FROM no_flush
  RETURNING seq::text AS seq`;
const INSERT_MANY_NO_FLUSH = `${NO_FLUSH}INSERT INTO audit_event (${COLUMNS.join(', ')}, detail)
  SELECT ${COLUMNS.map((c) => `e.v->>'${c}'`).join(', ')}, NULLIF(e.v->'detail', 'null'::jsonb)
    FROM no_flush, jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(v, n)
   ORDER BY e.n
  RETURNING seq::text AS seq`;

/** How an audit row written on its own (not in a caller's transaction) is committed. */
export interface AuditWriteOptions {
  /**
   * Wait until the commit is on disk (default true). With false the row is committed — visible, ordered for the
   * sealer, and any error still thrown — before the call returns, but PostgreSQL writes it to disk a moment later
   * (within 3 × wal_writer_delay, 0.6 s by default; any later durable commit, such as the sealer's, writes it
   * too): a crash of the database server in that moment can lose it. Only without `q`: a caller's transaction
   * keeps its own commit mode.
   */
  flush?: boolean;
}

const ACTIONS = new Set<string>(AUDIT_ACTIONS);
const OUTCOMES = new Set<string>(AUDIT_OUTCOMES);

/**
 * The tamper-evident audit trail (see audit.md).
 *
 * `record()` appends one row, in the caller's transaction when given one: it never waits for other writers.
 * `seal()` extends the hash chain over rows of finished transactions; run it on a timer. `verify()` checks the
 * chain. Rows cannot be updated or deleted (database triggers, and REVOKE for the application role).
 */
export class AuditLog {
  private readonly db: Db;
  private readonly sealBatch: number;

  constructor(db: Db, options: AuditLogOptions = {}) {
    this.db = db;
    this.sealBatch = Math.max(1, Math.min(options.sealBatch ?? 2000, 20_000));
  }

  /**
   * Records one access. Pass the request's transaction as `q` to make the audit row part of it; without `q` the
   * row is committed on its own. Throws when the entry is malformed or the insert fails: the caller must then fail
   * the request (no unaudited access).
   */
  async record(entry: AuditEntry, q: Queryable = this.db, options: AuditWriteOptions = {}): Promise<{ seq: string }> {
    const v = columnValues(entry);
    const { rows } = await q.query<{ seq: string }>(
      this.#flushes(q, options) ? INSERT_ONE : INSERT_ONE_NO_FLUSH,
      [...COLUMNS.map((c) => v[c] ?? null), entry.detail === undefined ? null : JSON.stringify(entry.detail)],
      { prepare: true },
    );
    return { seq: rows[0].seq };
  }

  /** Records several accesses in one statement (in order); all or none. */
  async recordMany(
    entries: readonly AuditEntry[],
    q: Queryable = this.db,
    options: AuditWriteOptions = {},
  ): Promise<{ seqs: string[] }> {
    if (entries.length === 0) {
      return { seqs: [] };
    }
    const payload = entries.map((e) => ({ ...columnValues(e), detail: e.detail }));
    const { rows } = await q.query<{ seq: string }>(
      this.#flushes(q, options) ? INSERT_MANY : INSERT_MANY_NO_FLUSH,
      [JSON.stringify(payload)],
      { prepare: true },
    );
    return { seqs: rows.map((r) => r.seq) };
  }

  #flushes(q: Queryable, options: AuditWriteOptions): boolean {
    if (options.flush !== false) {
      return true;
    }
    if (q !== this.db) {
      throw new TypeError("an audit row in the caller's transaction commits with it: flush: false needs no q");
    }
    return false;
  }

  /**
   * Appends seals for every row whose transaction has finished, in (txid, seq) order, and returns how many. Two
   * sealers (two processes) take turns on the lock row; each continues from the head the other left, so running
   * it twice, or concurrently, seals every row exactly once.
   */
  async seal(): Promise<SealResult> {
    let total = 0;
    let head: AuditHead | undefined;
    for (;;) {
      const batch = await this.db.transaction(async (tx) => {
        const { rows: lock } = await tx.query<{ txid: string }>(
          'SELECT pg_current_xact_id()::text AS txid FROM audit_seal_lock FOR UPDATE',
        );
        if (lock.length !== 1) {
          throw new Error('audit sealing stopped: the row of audit_seal_lock is missing');
        }
        const last = await readHead(tx);
        if (last && BigInt(lock[0].txid) < BigInt(last.txid)) {
          throw new Error(
            'audit sealing stopped: transaction ids are behind the sealed chain (restored from a logical dump?); ' +
              'see packages/store/src/audit.md',
          );
        }
        // the chain is extended inside the database (migration 0010): no row travels here to be hashed
        const { rows } = await tx.query<{ n: number }>('SELECT audit_seal_batch($1) AS n', [this.sealBatch]);
        const n = Number(rows[0]?.n ?? 0);
        return { n, head: n > 0 ? await readHead(tx) : last };
      });
      total += batch.n;
      head = batch.head;
      if (batch.n < this.sealBatch) {
        return { sealed: total, head };
      }
    }
  }

  /** The last seal, or undefined before the first. */
  head(): Promise<AuditHead | undefined> {
    return readHead(this.db);
  }

  /** Checks the whole chain (read-only). See verifyAuditChain for what it detects. */
  verify(options: AuditVerifyOptions = {}): Promise<AuditVerifyResult> {
    return verifyAuditChain(this.db, options);
  }

  /** Audit rows, newest first, filtered; for `AuditEvent?patient=…` and "who looked at my record". */
  async search(params: AuditSearch = {}): Promise<AuditPage> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (sql: (p: string) => string, value: unknown): void => {
      values.push(value);
      where.push(sql(`$${values.length}`));
    };
    if (params.patient !== undefined) {
      add((p) => `e.patient = ${p}`, patientId(params.patient));
    }
    if (params.who !== undefined) {
      add((p) => `e.who = ${p}`, params.who);
    }
    if (params.action !== undefined) {
      const actions = Array.isArray(params.action) ? params.action : [params.action];
      add((p) => `e.action = ANY(${p}::text[])`, actions);
    }
    if (params.outcome !== undefined) {
      add((p) => `e.outcome = ${p}`, params.outcome);
    }
    if (params.since !== undefined) {
      add((p) => `e.recorded_at >= ${p}::timestamptz`, instant(params.since, 'since'));
    }
    if (params.until !== undefined) {
      add((p) => `e.recorded_at < ${p}::timestamptz`, instant(params.until, 'until'));
    }
    if (params.cursor !== undefined) {
      if (!/^\d{1,19}$/.test(params.cursor)) {
        throw new TypeError('invalid audit search cursor');
      }
      add((p) => `e.seq < ${p}::bigint`, params.cursor);
    }
    const count = Math.max(1, Math.min(Math.trunc(params.count ?? 50), 1000));
    const { rows } = await this.db.query<RawAuditRow>(
      `SELECT ${rowColumns('e')} FROM audit_event e
        ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY e.seq DESC
        LIMIT ${count + 1}`,
      values,
    );
    const page = rows.slice(0, count).map(toAuditRow);
    return rows.length > count ? { rows: page, next: page[page.length - 1].seq } : { rows: page };
  }
}

async function readHead(q: Queryable): Promise<AuditHead | undefined> {
  const { rows } = await q.query<AuditHead>(
    `SELECT pos::text AS pos, seq::text AS seq, txid::text AS txid, encode(hash, 'hex') AS hash
       FROM audit_seal s ORDER BY s.pos DESC LIMIT 1`,
  );
  return rows[0];
}

/** Checks an entry and returns its column values (absent fields left out). */
function columnValues(e: AuditEntry): Partial<Record<Column, string>> {
  if (!ACTIONS.has(e.action)) {
    throw new TypeError(`unknown audit action '${String(e.action)}'`);
  }
  if (!OUTCOMES.has(e.outcome)) {
    throw new TypeError(`unknown audit outcome '${String(e.outcome)}'`);
  }
  if (e.action === 'break-glass' && e.outcome === 'success' && !e.breakGlassReason?.trim()) {
    throw new TypeError('a break-the-glass access needs a reason');
  }
  if (e.detail !== undefined && (e.detail === null || typeof e.detail !== 'object' || Array.isArray(e.detail))) {
    throw new TypeError('audit detail must be a JSON object');
  }
  const fields: [Column, unknown][] = [
    ['action', e.action],
    ['outcome', e.outcome],
    ['who', e.who],
    ['role', e.role],
    ['client', e.client],
    ['source_ip', e.sourceIp],
    ['patient', e.patient === undefined ? undefined : patientId(e.patient)],
    ['resource_type', e.resourceType],
    ['resource_id', e.resourceId],
    ['resource_version', e.resourceVersion],
    ['query', e.query],
    ['purpose', e.purpose],
    ['break_glass_reason', e.breakGlassReason],
  ];
  const out: Partial<Record<Column, string>> = {};
  for (const [c, v] of fields) {
    if (v === undefined || v === null) {
      continue;
    }
    if (typeof v !== 'string') {
      throw new TypeError(`audit field ${c} must be a string`);
    }
    out[c] = v;
  }
  return out;
}

/** `Patient/123`, `https://…/Patient/123` or `123` → `123`. */
function patientId(p: string): string {
  const m = /^(?:.*\/)?Patient\/([^/]+)$/.exec(p);
  const id = m ? m[1] : p;
  if (id === '' || id.includes('/')) {
    throw new TypeError('audit patient must be Patient/{id} or an id');
  }
  return id;
}

function instant(value: string, name: string): string {
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new TypeError(`audit search ${name} must be an ISO 8601 date or instant`);
  }
  return value;
}

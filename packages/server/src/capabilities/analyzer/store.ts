/**
 * The analyzer messages as stored (migration 0016): written as received before anything else happens, then moved to
 * processed / quarantined / duplicate / answered / discarded. The raw text is never changed; a person's correction
 * goes into `corrected` and their barcode and code fixes into `fixes`.
 */
import type { Queryable } from '@sen/db';
import type { AckCode } from './hl7.ts';

export const MESSAGE_STATUSES = ['received', 'processed', 'quarantined', 'duplicate', 'answered', 'discarded'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** What a person changed to make a quarantined message go through. */
export interface MessageFixes {
  /** Barcode as received → the barcode of the specimen it belongs to. */
  barcodes?: Record<string, string>;
  /** The analyzer's test code (OBX-3.1) → the code Sen knows (LOINC or lab catalog code). */
  codes?: Record<string, { code: string; system?: string }>;
}

export interface StoredMessage {
  id: string;
  facility: string;
  receivedAt: string;
  remote?: string;
  raw: string;
  analyzer?: string;
  controlId?: string;
  messageType?: string;
  status: MessageStatus;
  ackCode?: AckCode;
  reasonCode?: string;
  reason?: string;
  barcodes: string[];
  corrected?: string;
  fixes: MessageFixes;
  result?: { barcode: string; diagnosticReportId: string; observationIds: string[]; critical: boolean }[];
  duplicateOf?: string;
  attempts: number;
  processedAt?: string;
  handledBy?: string;
  handledAt?: string;
  note?: string;
}

interface Row {
  id: string;
  facility: string;
  received_at: string | Date;
  remote: string | null;
  raw: Uint8Array;
  analyzer: string | null;
  control_id: string | null;
  message_type: string | null;
  status: MessageStatus;
  ack_code: AckCode | null;
  reason_code: string | null;
  reason: string | null;
  barcodes: string | null;
  corrected: string | null;
  fixes: string | null;
  result: string | null;
  duplicate_of: string | null;
  attempts: number;
  processed_at: string | Date | null;
  handled_by: string | null;
  handled_at: string | Date | null;
  note: string | null;
}

const COLUMNS = `id::text AS id, facility, received_at, remote, raw, analyzer, control_id, message_type, status, ack_code,
  reason_code, reason, barcodes, corrected, fixes, result, duplicate_of::text AS duplicate_of, attempts, processed_at,
  handled_by, handled_at, note`;

function iso(v: string | Date | null): string | undefined {
  if (v === null) {
    return undefined;
  }
  return (v instanceof Date ? v : new Date(v)).toISOString();
}

function toMessage(r: Row, encoding: BufferEncoding): StoredMessage {
  return {
    id: r.id,
    facility: r.facility,
    receivedAt: iso(r.received_at) as string,
    remote: r.remote ?? undefined,
    raw: Buffer.from(r.raw).toString(encoding),
    analyzer: r.analyzer ?? undefined,
    controlId: r.control_id ?? undefined,
    messageType: r.message_type ?? undefined,
    status: r.status,
    ackCode: r.ack_code ?? undefined,
    reasonCode: r.reason_code ?? undefined,
    reason: r.reason ?? undefined,
    barcodes: r.barcodes ? r.barcodes.split(',') : [],
    corrected: r.corrected ?? undefined,
    fixes: r.fixes ? (JSON.parse(r.fixes) as MessageFixes) : {},
    result: r.result ? (JSON.parse(r.result) as StoredMessage['result']) : undefined,
    duplicateOf: r.duplicate_of ?? undefined,
    attempts: r.attempts,
    processedAt: iso(r.processed_at),
    handledBy: r.handled_by ?? undefined,
    handledAt: iso(r.handled_at),
    note: r.note ?? undefined,
  };
}

export class MessageStore {
  /** `encoding`: how the analyzers' bytes are read as text (the listener's, default utf-8). */
  constructor(
    private readonly db: Queryable,
    private readonly encoding: BufferEncoding = 'utf-8',
  ) {}

  /** Stores a message as received; it is durable once this resolves (its own committed statement). */
  async insert(m: {
    facility: string;
    /** The frame's bytes (stored as they are: a byte-order mark or a stray byte included). */
    raw: Uint8Array;
    remote?: string;
    analyzer?: string;
    controlId?: string;
    messageType?: string;
  }): Promise<string> {
    const { rows } = await this.db.query<{ id: string }>(
      `INSERT INTO analyzer_message (facility, raw, remote, analyzer, control_id, message_type)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING id::text AS id`,
      [m.facility, m.raw, m.remote ?? null, m.analyzer ?? null, m.controlId ?? null, m.messageType ?? null],
    );
    return rows[0].id;
  }

  async get(id: string, q: Queryable = this.db, lock = false): Promise<StoredMessage | undefined> {
    if (!/^\d{1,18}$/.test(id)) {
      return undefined;
    }
    const { rows } = await q.query<Row>(
      `SELECT ${COLUMNS} FROM analyzer_message WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
      [id],
    );
    return rows[0] ? toMessage(rows[0], this.encoding) : undefined;
  }

  /** Messages received and not yet acted on (the server stopped in between), oldest first. */
  async pendingIds(facility: string): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(
      `SELECT id::text AS id FROM analyzer_message WHERE status = 'received' AND facility = $1 ORDER BY id`,
      [facility],
    );
    return rows.map((r) => r.id);
  }

  async list(filter: {
    facility?: string;
    statuses?: readonly MessageStatus[];
    count: number;
    before?: string;
  }): Promise<StoredMessage[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.facility) {
      params.push(filter.facility);
      where.push(`facility = $${params.length}`);
    }
    if (filter.statuses && filter.statuses.length > 0) {
      params.push(filter.statuses);
      where.push(`status = ANY($${params.length}::text[])`);
    }
    if (filter.before) {
      params.push(filter.before);
      where.push(`id < $${params.length}::bigint`);
    }
    params.push(filter.count);
    const { rows } = await this.db.query<Row>(
      `SELECT ${COLUMNS} FROM analyzer_message ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => toMessage(r, this.encoding));
  }

  /** Counts by status (the screen's tabs). */
  async counts(facility?: string): Promise<Record<string, number>> {
    const { rows } = await this.db.query<{ status: string; n: string | number }>(
      `SELECT status, count(*) AS n FROM analyzer_message ${facility ? 'WHERE facility = $1' : ''} GROUP BY status`,
      facility ? [facility] : [],
    );
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  /** An earlier message of the same analyzer with the same control id that was imported or is in quarantine. */
  async earlier(
    m: { id: string; facility: string; analyzer: string; controlId: string },
    q: Queryable = this.db,
  ): Promise<{ id: string; status: MessageStatus; reason?: string } | undefined> {
    const { rows } = await q.query<{ id: string; status: MessageStatus; reason: string | null }>(
      `SELECT id::text AS id, status, reason FROM analyzer_message
        WHERE facility = $1 AND analyzer = $2 AND control_id = $3 AND id <> $4::bigint
          AND status IN ('processed', 'quarantined')
        ORDER BY (status = 'processed') DESC, id LIMIT 1`,
      [m.facility, m.analyzer, m.controlId, m.id],
    );
    return rows[0] ? { id: rows[0].id, status: rows[0].status, reason: rows[0].reason ?? undefined } : undefined;
  }

  /** Moves a message on; only from 'received' or 'quarantined' (a processed message never changes). */
  async settle(
    id: string,
    s: {
      status: Exclude<MessageStatus, 'received'>;
      ack?: AckCode;
      reasonCode?: string;
      reason?: string;
      barcodes?: readonly string[];
      header?: { analyzer: string; controlId: string; type: string };
      result?: StoredMessage['result'];
      duplicateOf?: string;
      handledBy?: string;
      note?: string;
    },
    q: Queryable = this.db,
  ): Promise<boolean> {
    const { rowCount } = await q.query(
      `UPDATE analyzer_message
          SET status = $2, ack_code = $3, reason_code = $4, reason = $5,
              barcodes = COALESCE($6, barcodes), analyzer = COALESCE($7, analyzer),
              control_id = COALESCE($8, control_id), message_type = COALESCE($9, message_type),
              result = COALESCE($10, result), duplicate_of = $11, attempts = attempts + 1,
              processed_at = now(),
              handled_by = COALESCE($12, handled_by), handled_at = CASE WHEN $12::text IS NULL THEN handled_at ELSE now() END,
              note = COALESCE($13, note)
        WHERE id = $1 AND status IN ('received', 'quarantined')`,
      [
        id,
        s.status,
        s.ack ?? null,
        s.reasonCode ?? null,
        s.reason ?? null,
        s.barcodes && s.barcodes.length > 0 ? s.barcodes.join(',') : null,
        s.header?.analyzer ?? null,
        s.header?.controlId ?? null,
        s.header?.type ?? null,
        s.result ? JSON.stringify(s.result) : null,
        s.duplicateOf ?? null,
        s.handledBy ?? null,
        s.note ?? null,
      ],
    );
    return rowCount > 0;
  }

  /** Saves a person's fixes on a quarantined message (before it is replayed). */
  async saveFixes(
    id: string,
    fixes: MessageFixes,
    corrected: string | undefined,
    q: Queryable = this.db,
  ): Promise<void> {
    await q.query(
      `UPDATE analyzer_message SET fixes = $2, corrected = COALESCE($3, corrected) WHERE id = $1 AND status = 'quarantined'`,
      [id, JSON.stringify(fixes), corrected ?? null],
    );
  }

  /** The analyzer's code map (OBX-3.1 → the code Sen knows). */
  async codeMap(facility: string, analyzer: string, q: Queryable = this.db): Promise<MessageFixes['codes']> {
    const { rows } = await q.query<{ code: string; target_code: string; target_system: string | null }>(
      'SELECT code, target_code, target_system FROM analyzer_code_map WHERE facility = $1 AND analyzer = $2',
      [facility, analyzer],
    );
    return Object.fromEntries(
      rows.map((r) => [r.code, { code: r.target_code, ...(r.target_system ? { system: r.target_system } : {}) }]),
    );
  }

  async saveCodeMap(
    facility: string,
    analyzer: string,
    codes: NonNullable<MessageFixes['codes']>,
    by: string | undefined,
    q: Queryable = this.db,
  ): Promise<void> {
    for (const [code, target] of Object.entries(codes)) {
      await q.query(
        `INSERT INTO analyzer_code_map (facility, analyzer, code, target_code, target_system, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (facility, analyzer, code) DO UPDATE
           SET target_code = EXCLUDED.target_code, target_system = EXCLUDED.target_system,
               updated_by = EXCLUDED.updated_by, updated_at = now()`,
        [facility, analyzer, code, target.code, target.system ?? null, by ?? null],
      );
    }
  }
}

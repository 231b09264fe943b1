/**
 * Data-subject requests (Law 91/2025/QH15, Decree 356/2025/NĐ-CP Art 5; ../shared/VIETNAM.md §6, R27): the facility
 * acknowledges within 2 working days and answers by the deadline of the kind — access and correction 10 days,
 * restriction and withdrawal 15, deletion 20 (counted in days from receipt). Working days skip Saturdays, Sundays
 * and the solar-calendar public holidays (1/1, 30/4, 1/5, 1/9, 2/9); the lunar holidays (Tết, Giỗ Tổ) are not in
 * this list and must be added by the facility's calendar when it exists. Times are Vietnam civil time (UTC+7).
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '@sen/db';
import { OutcomeError, outcome, outcomes } from '@sen/fhir';

export const RIGHTS_KINDS = ['access', 'correction', 'restriction', 'withdrawal', 'deletion'] as const;
export type RightsKind = (typeof RIGHTS_KINDS)[number];

export const RIGHTS_DEADLINE_DAYS: Record<RightsKind, number> = {
  access: 10,
  correction: 10,
  restriction: 15,
  withdrawal: 15,
  deletion: 20,
};
export const ACK_WORKING_DAYS = 2;
const SOLAR_HOLIDAYS = new Set(['01-01', '04-30', '05-01', '09-01', '09-02']);
const VN_OFFSET_MS = 7 * 3_600_000;

/** Whether a Vietnam civil day (the UTC fields of a +7 h shifted Date) is a working day. */
function isWorkingDay(shifted: Date): boolean {
  const dow = shifted.getUTCDay();
  return dow !== 0 && dow !== 6 && !SOLAR_HOLIDAYS.has(shifted.toISOString().slice(5, 10));
}

/** The end (23:59:59.999 Vietnam time) of the n-th working day after `from`. */
export function addWorkingDays(from: Date, n: number): Date {
  const d = new Date(from.getTime() + VN_OFFSET_MS);
  let left = n;
  while (left > 0) {
    d.setUTCDate(d.getUTCDate() + 1);
    if (isWorkingDay(d)) {
      left -= 1;
    }
  }
  d.setUTCHours(23, 59, 59, 999);
  return new Date(d.getTime() - VN_OFFSET_MS);
}

/** The end (23:59:59.999 Vietnam time) of the n-th day after `from`. */
export function addDays(from: Date, n: number): Date {
  const d = new Date(from.getTime() + VN_OFFSET_MS);
  d.setUTCDate(d.getUTCDate() + n);
  d.setUTCHours(23, 59, 59, 999);
  return new Date(d.getTime() - VN_OFFSET_MS);
}

export interface RightsRequest {
  id: string;
  patientId: string;
  kind: RightsKind;
  detail: string;
  target?: string;
  receivedAt: string;
  ackDue: string;
  due: string;
  status: 'received' | 'acknowledged' | 'completed' | 'refused';
  acknowledgedAt?: string;
  closedAt?: string;
  answer?: string;
  /** Past its deadline and still open. */
  overdue: boolean;
}

interface Row {
  id: string;
  patient_id: string;
  kind: RightsKind;
  detail: string;
  target: string | null;
  received_at: string;
  ack_due: string;
  due: string;
  status: RightsRequest['status'];
  acknowledged_at: string | null;
  closed_at: string | null;
  answer: string | null;
}

const COLUMNS =
  'id, patient_id, kind, detail, target, received_at, ack_due, due, status, acknowledged_at, closed_at, answer';
const iso = (v: string | null): string | undefined => (v === null ? undefined : new Date(v).toISOString());

function toRequest(r: Row, now: Date): RightsRequest {
  const due = iso(r.due) as string;
  const open = r.status === 'received' || r.status === 'acknowledged';
  return {
    id: r.id,
    patientId: r.patient_id,
    kind: r.kind,
    detail: r.detail,
    ...(r.target ? { target: r.target } : {}),
    receivedAt: iso(r.received_at) as string,
    ackDue: iso(r.ack_due) as string,
    due,
    status: r.status,
    ...(r.acknowledged_at ? { acknowledgedAt: iso(r.acknowledged_at) } : {}),
    ...(r.closed_at ? { closedAt: iso(r.closed_at) } : {}),
    ...(r.answer ? { answer: r.answer } : {}),
    overdue: open && Date.parse(due) < now.getTime(),
  };
}

export class RightsRequests {
  private readonly now: () => Date;

  constructor(now: () => Date = () => new Date()) {
    this.now = now;
  }

  async create(
    input: { patientId: string; kind: string; detail: string; target?: string; requestedBy: string },
    q: Queryable,
  ): Promise<RightsRequest> {
    if (!(RIGHTS_KINDS as readonly string[]).includes(input.kind)) {
      throw outcomes.badRequest(
        `Loại yêu cầu phải là một trong ${RIGHTS_KINDS.join(', ')} / 'kind' must be one of ${RIGHTS_KINDS.join(', ')}`,
        ['kind'],
      );
    }
    const detail = input.detail.trim();
    if (detail.length < 5 || detail.length > 4000) {
      throw outcomes.badRequest('Hãy mô tả yêu cầu (5–4000 ký tự) / Describe the request (5–4000 characters)', [
        'detail',
      ]);
    }
    if (input.target && !/^[A-Za-z]{2,40}\/[A-Za-z0-9\-.]{1,64}$/.test(input.target)) {
      throw outcomes.badRequest(`'target' phải là tham chiếu Type/id / 'target' must be a Type/id reference`, [
        'target',
      ]);
    }
    const kind = input.kind as RightsKind;
    const now = this.now();
    const { rows } = await q.query<Row>(
      `INSERT INTO portal_rights_request (id, patient_id, kind, detail, target, requested_by, received_at, ack_due, due)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
      [
        randomUUID(),
        input.patientId,
        kind,
        detail,
        input.target ?? null,
        input.requestedBy,
        now.toISOString(),
        addWorkingDays(now, ACK_WORKING_DAYS).toISOString(),
        addDays(now, RIGHTS_DEADLINE_DAYS[kind]).toISOString(),
      ],
    );
    return toRequest(rows[0], now);
  }

  async list(patientId: string | undefined, q: Queryable, openOnly = false): Promise<RightsRequest[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (patientId) {
      args.push(patientId);
      where.push(`patient_id = $${args.length}`);
    }
    if (openOnly) {
      where.push(`status IN ('received', 'acknowledged')`);
    }
    const { rows } = await q.query<Row>(
      `SELECT ${COLUMNS} FROM portal_rights_request ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY ${openOnly ? 'due' : 'received_at DESC'} LIMIT 500`,
      args,
    );
    const now = this.now();
    return rows.map((r) => toRequest(r, now));
  }

  /** Staff: acknowledge, complete or refuse (a deletion of records under legal retention is refused with reason). */
  async update(id: string, status: 'acknowledged' | 'completed' | 'refused', answer: string | undefined, q: Queryable) {
    if (status !== 'acknowledged' && !answer?.trim()) {
      throw outcomes.badRequest('Hãy ghi câu trả lời cho người bệnh / Give the answer to the patient', ['answer']);
    }
    const now = this.now().toISOString();
    const { rows } = await q.query<Row>(
      `UPDATE portal_rights_request
          SET status = $2,
              acknowledged_at = COALESCE(acknowledged_at, $3),
              closed_at = CASE WHEN $2 IN ('completed', 'refused') THEN $3::timestamptz ELSE closed_at END,
              answer = COALESCE($4, answer)
        WHERE id = $1 AND status IN ('received', 'acknowledged') RETURNING ${COLUMNS}`,
      [id, status, now, answer?.trim() || null],
    );
    if (!rows[0]) {
      throw new OutcomeError(
        409,
        outcome('error', 'conflict', 'Yêu cầu không tồn tại hoặc đã đóng / No such open request'),
      );
    }
    return toRequest(rows[0], this.now());
  }
}

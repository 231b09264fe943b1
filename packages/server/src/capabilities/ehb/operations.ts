/**
 * The hospital IT screen's operations (facility administrators of the facility, or a system client):
 *
 *   GET  [base]/$ehb-submissions?status=queued|accepted|failed&_count=50   the latest submissions, newest first
 *   GET  [base]/$ehb-submissions?id=N                                        one submission with every attempt
 *   POST [base]/$ehb-retry  (id)                                             send a queued or failed one now
 *
 * They show statuses, times, MA_LK, the Encounter reference, the gateway's codes and messages — never the payload
 * (patient data: facility-admin has no clinical access in the matrix).
 */
import type { ParametersParameter } from '@medplum/fhirtypes';
import type { Db } from '@sen/db';
import { outcomes } from '@sen/fhir';
import type { FhirOperation, OperationCall } from '../../fhir/operations.ts';
import { principalOf } from '../../platform/gate/context.ts';
import type { EhbFeed } from './feed.ts';
import type { EhbSender } from './sender.ts';

const STATUSES = new Set(['queued', 'accepted', 'failed']);

interface SubmissionRow {
  id: string;
  encounter_id: string;
  encounter_version: number;
  ma_lk: string;
  kind: string;
  tables: string;
  status: string;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  transaction_code: string | null;
  created_at: string;
  sent_at: string | null;
  facility_id: string | null;
  built: boolean;
}

interface AttemptRow {
  attempt: number;
  started_at: string;
  finished_at: string;
  outcome: string;
  http_status: number | null;
  response_code: string | null;
  response: string | null;
  error: string | null;
}

const COLUMNS = `id::text AS id, encounter_id, encounter_version, ma_lk, kind, tables, status, attempts,
  next_attempt_at, last_error, transaction_code, created_at, sent_at, facility_id, (payload <> '') AS built`;

function iso(v: unknown): string | undefined {
  if (v === null || v === undefined) {
    return undefined;
  }
  const d = v instanceof Date ? v : new Date(String(v));
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** The facility whose submissions the caller sees (undefined: all, for a system client); throws 403 otherwise. */
function scopeOf(call: OperationCall): { facilityId?: string } {
  if (!call.req.access) {
    return {};
  }
  const p = principalOf(call.req.access);
  if (p?.kind === 'staff' && p.roles.includes('facility-admin')) {
    return { facilityId: p.facilityId };
  }
  if (p?.kind === 'system' && !p.consentPurpose) {
    return { facilityId: p.facilityId };
  }
  throw outcomes.forbidden(
    'Chỉ quản trị cơ sở mới xem và gửi lại hồ sơ sổ sức khỏe điện tử / only a facility administrator may see and resend e-health-book submissions',
  );
}

function part(
  name: string,
  value: string | number | undefined | null,
  kind: 'String' | 'Integer' | 'Instant' | 'Code' = 'String',
): ParametersParameter[] {
  if (value === undefined || value === null || value === '') {
    return [];
  }
  return [{ name, [`value${kind}`]: value } as ParametersParameter];
}

function submissionParam(r: SubmissionRow, attempts?: AttemptRow[]): ParametersParameter {
  return {
    name: 'submission',
    part: [
      ...part('id', r.id),
      {
        name: 'encounter',
        valueReference: { reference: `Encounter/${r.encounter_id}/_history/${r.encounter_version}` },
      },
      ...part('maLk', r.ma_lk),
      ...part('kind', r.kind, 'Code'),
      ...part('tables', r.tables),
      ...part('status', r.status, 'Code'),
      ...part('attempts', r.attempts, 'Integer'),
      ...(r.status === 'queued' ? part('nextAttemptAt', iso(r.next_attempt_at), 'Instant') : []),
      ...part('lastError', r.last_error),
      ...part('transactionCode', r.transaction_code),
      ...part('createdAt', iso(r.created_at), 'Instant'),
      ...part('sentAt', iso(r.sent_at), 'Instant'),
      ...(attempts ?? []).map((a) => ({
        name: 'attempt',
        part: [
          ...part('number', a.attempt, 'Integer'),
          ...part('startedAt', iso(a.started_at), 'Instant'),
          ...part('finishedAt', iso(a.finished_at), 'Instant'),
          ...part('outcome', a.outcome, 'Code'),
          ...part('httpStatus', a.http_status, 'Integer'),
          ...part('responseCode', a.response_code),
          ...part('response', a.response),
          ...part('error', a.error, 'Code'),
        ],
      })),
    ],
  };
}

async function loadOne(db: Db, id: string, facilityId: string | undefined): Promise<SubmissionRow> {
  if (!/^\d{1,18}$/.test(id)) {
    throw outcomes.badRequest(`Mã hồ sơ '${id}' không hợp lệ / 'id' must be a submission number`);
  }
  const { rows } = await db.query<SubmissionRow>(`SELECT ${COLUMNS} FROM ehb_submission WHERE id = $1::bigint`, [id]);
  const row = rows[0];
  if (!row || (facilityId !== undefined && row.facility_id !== facilityId)) {
    throw outcomes.notFound(`Không có hồ sơ gửi số ${id} / no submission ${id}`);
  }
  return row;
}

async function attemptsOf(db: Db, id: string): Promise<AttemptRow[]> {
  const { rows } = await db.query<AttemptRow>(
    `SELECT attempt, started_at, finished_at, outcome, http_status, response_code, response, error
       FROM ehb_attempt WHERE submission_id = $1::bigint ORDER BY attempt`,
    [id],
  );
  return rows;
}

export function ehbOperations(deps: { db: Db; sender: EhbSender; feed: EhbFeed }): FhirOperation[] {
  const list: FhirOperation = {
    name: 'ehb-submissions',
    resourceTypes: [],
    levels: ['system'],
    methods: ['GET', 'POST'],
    // not a FHIR resource: the handler lets in facility administrators (and system clients) only
    access: { action: 'search' },
    async handler(call) {
      const { facilityId } = scopeOf(call);
      const id = call.input.string('id');
      if (id !== undefined) {
        const row = await loadOne(deps.db, id, facilityId);
        return {
          status: 200,
          body: { resourceType: 'Parameters', parameter: [submissionParam(row, await attemptsOf(deps.db, id))] },
        };
      }
      const status = call.input.string('status');
      if (status !== undefined && !STATUSES.has(status)) {
        throw outcomes.badRequest(
          `Trạng thái phải là queued, accepted hoặc failed / 'status' must be queued, accepted or failed (got '${status}')`,
        );
      }
      const count = Math.min(Math.max(call.input.integer('_count') ?? 50, 1), 500);
      const params: unknown[] = [];
      const where: string[] = [];
      if (facilityId !== undefined) {
        params.push(facilityId);
        where.push(`facility_id = $${params.length}`);
      }
      if (status) {
        params.push(status);
        where.push(`status = $${params.length}`);
      }
      const { rows } = await deps.db.query<SubmissionRow>(
        `SELECT ${COLUMNS} FROM ehb_submission ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY id DESC LIMIT ${count}`,
        params,
      );
      const { rows: totals } = await deps.db.query<{ status: string; n: string }>(
        `SELECT status, count(*)::text AS n FROM ehb_submission ${facilityId !== undefined ? 'WHERE facility_id = $1' : ''} GROUP BY status`,
        facilityId !== undefined ? [facilityId] : [],
      );
      return {
        status: 200,
        body: {
          resourceType: 'Parameters',
          parameter: [
            ...['queued', 'accepted', 'failed'].map((s) => ({
              name: s,
              valueInteger: Number(totals.find((t) => t.status === s)?.n ?? 0),
            })),
            ...rows.map((r) => submissionParam(r)),
          ],
        },
      };
    },
  };
  const retry: FhirOperation = {
    name: 'ehb-retry',
    resourceTypes: [],
    levels: ['system'],
    methods: ['POST'],
    access: { action: 'update' },
    async handler(call) {
      const { facilityId } = scopeOf(call);
      const id = call.input.required('id');
      const row = await loadOne(deps.db, id, facilityId);
      if (row.status === 'accepted') {
        throw outcomes.conflict(
          `Hồ sơ ${id} đã được cổng tiếp nhận (mã giao dịch ${row.transaction_code ?? ''}): không gửi lại / submission ${id} was already accepted: it is not sent again`,
        );
      }
      if (!row.built) {
        try {
          await deps.feed.rebuild(id);
        } catch (err) {
          await deps.db.query('UPDATE ehb_submission SET last_error = $2, updated_at = now() WHERE id = $1::bigint', [
            id,
            `build-failed: ${(err as Error).name}`,
          ]);
          throw outcomes.unprocessable(
            `Chưa dựng được hồ sơ ${id} từ dữ liệu lượt khám / the payload of submission ${id} still cannot be built`,
          );
        }
      }
      await deps.db.query(
        `UPDATE ehb_submission SET status = 'queued', next_attempt_at = now(), updated_at = now(),
                manual_retries = manual_retries + CASE WHEN status = 'failed' THEN 1 ELSE 0 END
          WHERE id = $1::bigint AND status <> 'accepted'`,
        [id],
      );
      await deps.sender.sendOne(id);
      const after = await loadOne(deps.db, id, facilityId);
      return {
        status: 200,
        body: { resourceType: 'Parameters', parameter: [submissionParam(after, await attemptsOf(deps.db, id))] },
      };
    },
  };
  return [list, retry];
}

/**
 * The outbox worker: sends the due submissions through the gateway adapter. A worker claims a row with a lease (so
 * two nodes never send it at once, and a worker that dies mid-send leaves it to be sent again when the lease runs out —
 * the idempotency key makes that repeat harmless), keeps every attempt's answer in `ehb_attempt`, and then:
 * accepted → `accepted` with the gateway's maGiaoDich (never sent again); rejected → `failed` with the gateway's code
 * and message, for the IT screen; transient → retried with exponential back-off and jitter (base × 2^(n−1), at most
 * the maximum, each wait drawn between half and all of it) until the attempt limit, then `failed`. Every send is
 * audited as an export by the worker's system principal, after the gate allowed it.
 */
import type { Db } from '@sen/db';
import type { AuditLog } from '@sen/store';
import type { AccessContext } from '../../fhir/types.ts';
import { EHB_CLIENT_ID } from './feed.ts';
import type { EhbAnswer, EhbGateway } from './gateway.ts';

export interface RetryPolicy {
  /** First wait after a transient failure, ms (SEN_EHB_RETRY_BASE_MS, default 30 s). */
  baseMs: number;
  /** Longest wait, ms (SEN_EHB_RETRY_MAX_MS, default 1 h). */
  maxMs: number;
  /** Attempts before giving up (SEN_EHB_MAX_ATTEMPTS, default 12). */
  maxAttempts: number;
  /** How long a claimed row is the claimer's, ms (default 2 minutes). */
  leaseMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 30_000, maxMs: 3_600_000, maxAttempts: 12, leaseMs: 120_000 };

/** The wait before attempt n+1 after n failed ones: exponential, capped, with jitter in [½, 1]. */
export function backoffMs(policy: Pick<RetryPolicy, 'baseMs' | 'maxMs'>, failed: number, random = Math.random): number {
  const full = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failed - 1));
  return Math.round(full / 2 + (full / 2) * random());
}

export interface SendRun {
  sent: number;
  accepted: number;
  failed: number;
  retrying: number;
}

interface Claimed {
  id: string;
  encounter_id: string;
  encounter_version: number;
  patient_id: string;
  ma_lk: string;
  content_hash: string;
  payload: string;
  attempts: number;
  manual_retries: number;
  facility_code: string;
}

export interface SenderDeps {
  db: Db;
  gateway: EhbGateway;
  access: () => AccessContext;
  audit?: AuditLog;
  policy: RetryPolicy;
  now?: () => Date;
  random?: () => number;
}

const CLAIM = `UPDATE ehb_submission SET lease_until = $2, updated_at = $3
  WHERE id = $1::bigint AND status = 'queued' AND (lease_until IS NULL OR lease_until < $3)
  RETURNING id::text AS id, encounter_id, encounter_version, patient_id, ma_lk, content_hash, payload, attempts,
            manual_retries, facility_code`;

export class EhbSender {
  private readonly deps: SenderDeps;
  private running?: Promise<SendRun>;

  constructor(deps: SenderDeps) {
    this.deps = deps;
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** Sends what is due now; concurrent calls share one run. */
  runOnce(): Promise<SendRun> {
    if (!this.running) {
      this.running = this.process().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private async process(): Promise<SendRun> {
    const run: SendRun = { sent: 0, accepted: 0, failed: 0, retrying: 0 };
    const now = this.now();
    const { rows } = await this.deps.db.query<{ id: string }>(
      `SELECT id::text AS id FROM ehb_submission
        WHERE status = 'queued' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
        ORDER BY next_attempt_at, id LIMIT 20`,
      [now.toISOString()],
    );
    for (const { id } of rows) {
      const result = await this.sendOne(id);
      if (result) {
        run.sent++;
        run[result === 'accepted' ? 'accepted' : result === 'failed' ? 'failed' : 'retrying']++;
      }
    }
    return run;
  }

  /** Claims and sends one queued submission now; undefined when it is not queued or another worker holds it. */
  async sendOne(id: string): Promise<'accepted' | 'failed' | 'queued' | undefined> {
    const { db, policy } = this.deps;
    const started = this.now();
    const claimed = await db.query<Claimed>(CLAIM, [
      id,
      new Date(started.getTime() + policy.leaseMs).toISOString(),
      started.toISOString(),
    ]);
    const row = claimed.rows[0];
    if (!row) {
      return undefined;
    }
    // the gate: the worker's principal must be allowed to read the episode it sends out
    this.deps.access().check('read', 'Encounter', undefined, [row.patient_id]);
    const answer = await this.deps.gateway.submit({
      maLk: row.ma_lk,
      facilityCode: row.facility_code,
      payload: row.payload,
      idempotencyKey: `${row.ma_lk}:${row.content_hash}`,
    });
    const finished = this.now();
    const attempt = row.attempts + 1;
    const limit = policy.maxAttempts * (1 + row.manual_retries);
    let status: 'accepted' | 'failed' | 'queued';
    let lastError: string | null;
    if (answer.outcome === 'accepted') {
      status = 'accepted';
      lastError = null;
    } else if (answer.outcome === 'rejected') {
      status = 'failed';
      lastError = `rejected ${answer.code}: ${answer.message}`;
    } else {
      status = attempt >= limit ? 'failed' : 'queued';
      const what = `${answer.error}${answer.httpStatus ? ` (HTTP ${answer.httpStatus})` : ''}`;
      lastError = status === 'failed' ? `gave up after ${attempt} attempts: ${what}` : what;
    }
    const next =
      status === 'queued' ? new Date(finished.getTime() + backoffMs(policy, attempt, this.deps.random)) : finished;
    await db.transaction(async (q) => {
      await q.query(
        `INSERT INTO ehb_attempt (submission_id, attempt, started_at, finished_at, outcome, http_status, response_code,
                                  response, error)
         VALUES ($1::bigint, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          row.id,
          attempt,
          started.toISOString(),
          finished.toISOString(),
          answer.outcome,
          answer.httpStatus ?? null,
          answer.code ?? null,
          answer.body ?? null,
          answer.outcome === 'transient' ? answer.error : null,
        ],
      );
      await q.query(
        `UPDATE ehb_submission SET status = $2, attempts = $3, last_error = $4, next_attempt_at = $5, lease_until = NULL,
                transaction_code = COALESCE($6, transaction_code), sent_at = CASE WHEN $2 = 'accepted' THEN $7::timestamptz ELSE sent_at END,
                updated_at = $7
          WHERE id = $1::bigint`,
        [
          row.id,
          status,
          attempt,
          lastError,
          next.toISOString(),
          answer.outcome === 'accepted' ? answer.transactionCode : null,
          finished.toISOString(),
        ],
      );
      await this.deps.audit?.record(
        {
          action: 'export',
          outcome: answer.outcome === 'accepted' ? 'success' : 'failure',
          who: `Device/${EHB_CLIENT_ID}`,
          role: 'system',
          client: EHB_CLIENT_ID,
          patient: row.patient_id,
          resourceType: 'Encounter',
          resourceId: row.encounter_id,
          resourceVersion: String(row.encounter_version),
          purpose: 'PUBHLTH',
          detail: answerDetail(row.id, attempt, answer),
        },
        q,
      );
    });
    return status;
  }
}

function answerDetail(submission: string, attempt: number, a: EhbAnswer): Record<string, unknown> {
  return {
    via: 'ehb-gateway',
    submission,
    attempt,
    outcome: a.outcome,
    ...(a.httpStatus ? { status: a.httpStatus } : {}),
    ...(a.code ? { code: a.code } : {}),
    ...(a.outcome === 'transient' ? { error: a.error } : {}),
  };
}

/**
 * The BHYT recheck worker: takes the due rows of `bhyt_recheck` (migration 0012), asks the gateway again for the card
 * of each Coverage, and updates the Coverage when an answer comes (verified, expired, not found...). While the
 * gateway stays down a row is retried with exponential back-off (interval × 2^attempts, at most one hour).
 * It is the server's own work: no caller, so no gate; every Coverage change is a new version through the store.
 */
import type { Coverage, Patient } from '@medplum/fhirtypes';
import { isBhxhNumber, SEN_SID, VN_CORE_SID } from '@sen/vn';
import type { BhytService } from './service.ts';
import { patientName } from './service.ts';

const MAX_BACKOFF_MS = 60 * 60 * 1000;
const BATCH = 20;

export interface RecheckRun {
  checked: number;
  resolved: number;
  stillDown: number;
}

interface Row {
  id: string;
  coverage_id: string;
  attempts: number;
}

export class BhytRecheckWorker {
  private readonly service: BhytService;
  private readonly intervalMs: number;
  private readonly now: () => Date;
  private timer?: NodeJS.Timeout;
  private running?: Promise<RecheckRun>;

  constructor(service: BhytService, options: { intervalMs: number; now?: () => Date }) {
    this.service = service;
    this.intervalMs = options.intervalMs;
    this.now = options.now ?? (() => new Date());
  }

  /** Starts the timer (no-op when the interval is 0). */
  start(): void {
    if (this.intervalMs <= 0 || this.timer) {
      return;
    }
    this.timer = setInterval(() => {
      this.runOnce().catch(() => {
        // the database may be closing or briefly unreachable: the next tick tries again
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    await this.running?.catch(() => undefined);
  }

  /** Processes the rows due now; concurrent calls share one run. */
  runOnce(): Promise<RecheckRun> {
    if (!this.running) {
      this.running = this.process().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private async process(): Promise<RecheckRun> {
    const db = this.service.router.store.db;
    const now = this.now();
    const { rows } = await db.query<Row>(
      `SELECT id::text AS id, coverage_id, attempts FROM bhyt_recheck
        WHERE done_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT ${BATCH}`,
      [now.toISOString()],
    );
    const run: RecheckRun = { checked: 0, resolved: 0, stillDown: 0 };
    for (const row of rows) {
      run.checked++;
      let done = false;
      try {
        done = await this.recheck(row, now);
      } catch {
        // e.g. the Coverage changed meanwhile (version conflict): try again at the next run
        await db.query('UPDATE bhyt_recheck SET attempts = attempts + 1, last_error = $2 WHERE id = $1::bigint', [
          row.id,
          'write-failed',
        ]);
      }
      if (done) {
        run.resolved++;
      } else {
        run.stillDown++;
      }
    }
    return run;
  }

  private async finish(id: string, result: string, now: Date): Promise<void> {
    await this.service.router.store.db.query(
      'UPDATE bhyt_recheck SET done_at = $2, result = $3 WHERE id = $1::bigint',
      [id, now.toISOString(), result],
    );
  }

  /** True when the row is settled (answered, or its Coverage is gone). */
  private async recheck(row: Row, now: Date): Promise<boolean> {
    const store = this.service.router.store;
    let coverage: Coverage;
    let version: number;
    try {
      const s = await store.read('Coverage', row.coverage_id);
      coverage = JSON.parse(s.content as string) as Coverage;
      version = s.version;
    } catch {
      await this.finish(row.id, 'gone', now);
      return true;
    }
    const patientId = coverage.beneficiary?.reference?.replace(/^Patient\//, '');
    const number =
      coverage.identifier?.find((i) => i.system === VN_CORE_SID.bhyt)?.value ??
      coverage.identifier?.find((i) => i.system === SEN_SID.bhxh)?.value;
    if (!patientId || !number) {
      await this.finish(row.id, 'gone', now);
      return true;
    }
    let patient: Patient | undefined;
    try {
      patient = JSON.parse((await store.read('Patient', patientId)).content as string) as Patient;
    } catch {
      patient = undefined;
    }
    const answer = await this.service.ask(number, patientName(patient), patient?.birthDate);
    if (answer.status === 'unverified') {
      const backoff = Math.min(this.intervalMs * 2 ** row.attempts, MAX_BACKOFF_MS);
      await store.db.query(
        'UPDATE bhyt_recheck SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $1::bigint',
        [row.id, answer.unavailable ?? 'unavailable', new Date(now.getTime() + Math.max(backoff, 1000)).toISOString()],
      );
      return false;
    }
    await store.transaction(async (q) => {
      await this.service.writeCoverage(
        patientId,
        {
          status: answer.status,
          message: answer.message,
          cardNumber: isBhxhNumber(number) || !answer.card ? number : answer.card.cardCode,
          card: answer.card,
        },
        undefined,
        q,
        { coverage, version },
      );
      await q.query(
        'UPDATE bhyt_recheck SET done_at = $2, result = $3, attempts = attempts + 1 WHERE id = $1::bigint',
        [row.id, now.toISOString(), answer.status],
      );
    });
    return true;
  }
}

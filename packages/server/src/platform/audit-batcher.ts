import type { AuditAction, AuditEntry, AuditLog } from '@sen/store';

interface Pending {
  entry: AuditEntry;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface AuditBatcherOptions {
  /** Most records in one insert (default 500). */
  maxBatch?: number;
  /**
   * Most inserts in flight at once (default 1). With one, a record that arrives while an insert is committing
   * waits for that commit and then goes in the next, bigger batch; with several, it starts at once on another
   * connection. Measured under the read benchmark, several in flight made batches 3× smaller (2.2 rows instead
   * of 6.4) and cost the database more per request, so one is the default; a lightly loaded site may prefer 2–4
   * (SEN_AUDIT_INFLIGHT) for lower latency. On PGlite (one session) they simply queue.
   */
  maxInFlight?: number;
  /**
   * How a batch of reads only (read, vread, history, search) commits: 'durable' (default) — waited onto disk like
   * every other batch; 'async' — committed before the requests are answered (a failed insert still fails them) but
   * not waited onto disk (AuditWriteOptions.flush false: a crash of the database server within a fraction of a
   * second can lose those rows). A batch with any other action (a write, an operation, a sign-in) always waits for
   * the disk. Waiting for the disk adds a WAL flush to every read's latency; on a busy disk that flush is most of
   * what the audit costs a read (SEN_AUDIT_READ_COMMIT).
   */
  readCommit?: 'async' | 'durable';
}

/** Actions that change nothing: with readCommit 'async' their records commit without waiting for the disk. */
const READ_ONLY = new Set<AuditAction>(['read', 'vread', 'history', 'search']);

/**
 * Group commit for the audit trail: records that arrive together go in one multi-row insert, and a few inserts
 * may be committing at the same time. Every request still waits until its own record is committed — no
 * unaudited access, and a failed audit write fails the request — but under load many requests share one
 * round trip and one commit, and no request waits behind someone else's commit when a connection is free.
 */
export class AuditBatcher {
  private readonly audit: AuditLog;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly asyncReads: boolean;
  private queue: Pending[] = [];
  private inFlight = 0;

  constructor(audit: AuditLog, options: AuditBatcherOptions = {}) {
    this.audit = audit;
    this.maxBatch = Math.max(1, options.maxBatch ?? 500);
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 1);
    this.asyncReads = options.readCommit === 'async';
  }

  /** Whether a batch must wait for the disk (anything but reads, unless reads are durable too). */
  private flush(batch: readonly Pending[]): boolean {
    return !this.asyncReads || batch.some((p) => !READ_ONLY.has(p.entry.action));
  }

  record(entry: AuditEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      if (this.inFlight < this.maxInFlight) {
        // after the current tick, so records of requests finishing together share the insert
        this.inFlight += 1;
        queueMicrotask(() => void this.drain());
      }
    });
  }

  /** Inserts batches until the queue is empty; `inFlight` counts the running drains. */
  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        const flush = this.flush(batch);
        try {
          if (batch.length === 1) {
            await this.audit.record(batch[0].entry, undefined, { flush });
          } else {
            await this.audit.recordMany(
              batch.map((p) => p.entry),
              undefined,
              { flush },
            );
          }
          for (const p of batch) {
            p.resolve();
          }
        } catch (err) {
          if (batch.length === 1) {
            batch[0].reject(err);
            continue;
          }
          // one bad record must not fail the requests that happened to share its insert: retry them one by one
          for (const p of batch) {
            try {
              await this.audit.record(p.entry, undefined, { flush: this.flush([p]) });
              p.resolve();
            } catch (e) {
              p.reject(e);
            }
          }
        }
      }
    } finally {
      this.inFlight -= 1;
    }
  }
}

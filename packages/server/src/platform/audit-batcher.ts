import type { AuditEntry, AuditLog } from '@sen/store';

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
}

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
  private queue: Pending[] = [];
  private inFlight = 0;

  constructor(audit: AuditLog, options: AuditBatcherOptions = {}) {
    this.audit = audit;
    this.maxBatch = Math.max(1, options.maxBatch ?? 500);
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 1);
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
        try {
          if (batch.length === 1) {
            await this.audit.record(batch[0].entry);
          } else {
            await this.audit.recordMany(batch.map((p) => p.entry));
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
              await this.audit.record(p.entry);
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

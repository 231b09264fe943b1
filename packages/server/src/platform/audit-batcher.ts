import type { AuditEntry, AuditLog } from '@sen/store';

interface Pending {
  entry: AuditEntry;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for the audit trail: while one insert is in flight, further records wait and go in the next
 * single multi-row insert. Every request still waits until its own record is committed — no unaudited access,
 * and a failed audit write fails the request — but under load many requests share one round trip.
 */
export class AuditBatcher {
  private readonly audit: AuditLog;
  private readonly maxBatch: number;
  private queue: Pending[] = [];
  private inFlight = false;

  constructor(audit: AuditLog, maxBatch = 500) {
    this.audit = audit;
    this.maxBatch = maxBatch;
  }

  record(entry: AuditEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      if (!this.inFlight) {
        void this.flush();
      }
    });
  }

  private async flush(): Promise<void> {
    this.inFlight = true;
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
          for (const p of batch) {
            p.reject(err);
          }
        }
      }
    } finally {
      this.inFlight = false;
    }
  }
}

import type { Db } from '@sen/db';

export interface MaintenanceOptions {
  /** How often to check, in ms (default 3 s). */
  intervalMs?: number;
  /** Re-analyse after this many writes or 10 % growth, whichever is larger (default 500). */
  minWrites?: number;
}

/**
 * Keeps the query planner's statistics fresh. PostgreSQL has autovacuum for this, but it may lag a bulk
 * load by a minute; embedded PGlite has none at all. Stale statistics turn index lookups into scans,
 * so after enough writes the store runs ANALYZE itself.
 */
export class PlannerStatistics {
  private readonly db: Db;
  private writes = 0;
  private baseline = 0;
  private timer?: NodeJS.Timeout;
  private running = false;
  private readonly minWrites: number;

  constructor(db: Db, options: MaintenanceOptions = {}) {
    this.db = db;
    this.minWrites = options.minWrites ?? 500;
    const interval = options.intervalMs ?? 3_000;
    if (interval > 0) {
      this.timer = setInterval(() => void this.maybeAnalyze(), interval);
      this.timer.unref();
    }
  }

  /** Called by the store after each committed write. */
  noteWrites(n = 1): void {
    this.writes += n;
  }

  async maybeAnalyze(): Promise<boolean> {
    if (this.running || this.writes < Math.max(this.minWrites, this.baseline * 0.1)) {
      return false;
    }
    this.running = true;
    try {
      const n = this.writes;
      await this.db.query('ANALYZE');
      this.baseline += n;
      this.writes -= n;
      return true;
    } catch {
      return false;
    } finally {
      this.running = false;
    }
  }

  stop(): void {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

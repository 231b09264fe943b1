import type { OperationOutcome } from '@medplum/fhirtypes';
import { outcome } from '@sen/fhir';
import type { Principal } from './gate/gate.ts';

export interface RateLimitConfig {
  /** Requests per minute for one user (staff or patient account): SEN_RATE_LIMIT_USER_PER_MINUTE, default 6000. */
  userPerMinute?: number;
  /** Requests per minute for one system client: SEN_RATE_LIMIT_CLIENT_PER_MINUTE, default 1,200,000. */
  clientPerMinute?: number;
  /** How many requests may come at once above the steady rate, as seconds of the rate (default 10 s). */
  burstSeconds?: number;
}

export const DEFAULT_USER_PER_MINUTE = 6000;
/** High enough that `npm run bench` (one system client, ~15k req/s at most on 2 cores) is never throttled. */
export const DEFAULT_CLIENT_PER_MINUTE = 1_200_000;

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets in memory, one per user account and one per system client: each refills at its rate per minute up
 * to a burst; a request takes one token, and an empty bucket answers 429 with Retry-After.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #user: { perMs: number; burst: number };
  readonly #client: { perMs: number; burst: number };
  readonly #now: () => number;

  constructor(config: RateLimitConfig = {}, now: () => number = () => Date.now()) {
    const burstSeconds = config.burstSeconds ?? 10;
    const shape = (perMinute: number): { perMs: number; burst: number } => {
      if (!Number.isFinite(perMinute) || perMinute <= 0) {
        throw new Error(`a rate limit must be a positive number of requests per minute, got ${perMinute}`);
      }
      return { perMs: perMinute / 60_000, burst: Math.max(1, Math.round((perMinute / 60) * burstSeconds)) };
    };
    this.#user = shape(config.userPerMinute ?? DEFAULT_USER_PER_MINUTE);
    this.#client = shape(config.clientPerMinute ?? DEFAULT_CLIENT_PER_MINUTE);
    this.#now = now;
  }

  /** Takes one token for the principal; returns 0 when allowed, otherwise the seconds to wait. */
  take(principal: Principal): number {
    const key = principal.kind === 'system' ? `c:${principal.clientId}` : `u:${principal.accountId}`;
    const shape = principal.kind === 'system' ? this.#client : this.#user;
    const now = this.#now();
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size >= 100_000) {
        this.#prune(now);
      }
      b = { tokens: shape.burst, at: now };
      this.#buckets.set(key, b);
    } else {
      b.tokens = Math.min(shape.burst, b.tokens + (now - b.at) * shape.perMs);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / shape.perMs / 1000));
  }

  /** Drops buckets that have refilled (they are the same as new ones). */
  #prune(now: number): void {
    for (const [key, b] of this.#buckets) {
      const shape = key.startsWith('c:') ? this.#client : this.#user;
      if (b.tokens + (now - b.at) * shape.perMs >= shape.burst) {
        this.#buckets.delete(key);
      }
    }
  }
}

/** The OperationOutcome of a throttled request (sent with status 429 and Retry-After). */
export function throttledOutcome(waitSeconds: number): OperationOutcome {
  return outcome(
    'error',
    'throttled',
    `Quá nhiều yêu cầu; thử lại sau ${waitSeconds} giây. / Too many requests; retry after ${waitSeconds} s.`,
  );
}

/**
 * Guardians through RelatedPerson: a signed-in patient is guardian of the children whose RelatedPerson resources
 * name them — `identifier` = the guardian's personal ID number (VN Core CCCD system), a guardian or parent
 * `relationship` (v3 RoleCode), `active` not false, `period` covering now, `patient` = the child. The principal's
 * `guardianOf` lists those children, and the gate's compartment filter lets the guardian see their records.
 *
 * The guardian's number is taken from their own Patient's CCCD identifier, and only if it is the number the
 * identity provider verified (its keyed digest equals the account's), so a wrong identifier typed on the
 * guardian's record opens nothing.
 *
 * Answers are cached per account for `ttlMs` (30 s). The cache is also dropped as soon as a RelatedPerson or Patient
 * changes: `poll()` (every `pollMs`, 2 s) reads the change events of finished transactions since the last poll, so an
 * ended or removed RelatedPerson stops access within a poll, on every server of the same database.
 */
import type { Db } from '@sen/db';
import { parseDateRange } from '@sen/fhir';
import { VN_CORE_SID } from '@sen/vn';

/** v3 RoleCode relationships that make a RelatedPerson a guardian of the patient. */
export const GUARDIAN_RELATIONSHIPS: ReadonlySet<string> = new Set([
  'GUARD',
  'PRN',
  'MTH',
  'FTH',
  'NPRN',
  'NMTH',
  'NFTH',
  'ADOPTP',
  'ADOPTM',
  'ADOPTF',
  'STPPRN',
  'STPMTH',
  'STPFTH',
]);
export const V3_ROLE_CODE = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';
/** A family member the patient granted access to in the portal (capabilities/portal/family.ts); not a guardian role. */
export const ACCESS_GRANT_SYSTEM = 'https://sen.health.vn/fhir/CodeSystem/access-grant';

export interface GuardianAccount {
  id: string;
  patientId: string;
  nationalIdHash: string;
}

export interface GuardianLinksOptions {
  db: Db;
  /** Whether a personal ID number is the one behind the account's digest. */
  matchesHash: (nationalId: string, hash: string) => boolean;
  /** How long an answer is kept, ms (default 30 000). */
  ttlMs?: number;
  /** How often change events are checked, ms (default 2000; 0: only when poll() is called). */
  pollMs?: number;
  now?: () => Date;
  onError?: (err: Error) => void;
}

interface Coding {
  system?: string;
  code?: string;
}

interface RelatedPersonLike {
  resourceType?: string;
  active?: boolean;
  patient?: { reference?: string };
  relationship?: { coding?: Coding[] }[];
  identifier?: { system?: string; value?: string; period?: { start?: string; end?: string } }[];
  period?: { start?: string; end?: string };
}

/** Whether a RelatedPerson makes the holder of `nationalId` a guardian now; returns the child's Patient id. */
export function guardianChild(rp: RelatedPersonLike, nationalId: string, now: Date): string | undefined {
  if (rp.resourceType !== 'RelatedPerson' || rp.active === false) {
    return undefined;
  }
  const at = now.toISOString();
  const within = (p?: { start?: string; end?: string }): boolean => {
    const start = p?.start ? parseDateRange(p.start) : undefined;
    const end = p?.end ? parseDateRange(p.end) : undefined;
    if ((p?.start && !start) || (p?.end && !end)) {
      return false; // an unreadable period grants nothing
    }
    return (!start || start.lo <= at) && (!end || end.hi >= at);
  };
  if (!within(rp.period)) {
    return undefined;
  }
  const named = (rp.identifier ?? []).some(
    (i) => i.system === VN_CORE_SID.cccd && i.value === nationalId && within(i.period),
  );
  if (!named) {
    return undefined;
  }
  const guardian = (rp.relationship ?? []).some((r) =>
    (r.coding ?? []).some(
      (c) =>
        (c.system === V3_ROLE_CODE && c.code !== undefined && GUARDIAN_RELATIONSHIPS.has(c.code)) ||
        (c.system === ACCESS_GRANT_SYSTEM && c.code === 'granted'),
    ),
  );
  if (!guardian) {
    return undefined;
  }
  const m = /^(?:.*\/)?Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(rp.patient?.reference ?? '');
  return m?.[1];
}

export class GuardianLinks {
  readonly #db: Db;
  readonly #matches: GuardianLinksOptions['matchesHash'];
  readonly #ttl: number;
  readonly #now: () => Date;
  readonly #cache = new Map<string, { at: number; ids: readonly string[] }>();
  readonly #timer?: NodeJS.Timeout;
  #position?: { txid: string; seq: string };
  #polling?: Promise<void>;

  constructor(options: GuardianLinksOptions) {
    this.#db = options.db;
    this.#matches = options.matchesHash;
    this.#ttl = options.ttlMs ?? 30_000;
    this.#now = options.now ?? (() => new Date());
    const pollMs = options.pollMs ?? 2000;
    if (pollMs > 0) {
      this.#timer = setInterval(() => {
        this.poll().catch((err: Error) => options.onError?.(err));
      }, pollMs);
      this.#timer.unref();
    }
  }

  /** The Patient ids the account's person is guardian of now (never their own). */
  async childrenOf(account: GuardianAccount): Promise<readonly string[]> {
    const hit = this.#cache.get(account.id);
    if (hit && Date.now() - hit.at < this.#ttl) {
      return hit.ids;
    }
    if (!this.#position) {
      await this.poll(); // start watching changes before the first answer is cached
    }
    const ids = await this.#load(account);
    this.#cache.set(account.id, { at: Date.now(), ids });
    return ids;
  }

  /** Drops every cached answer. */
  invalidate(): void {
    this.#cache.clear();
  }

  /**
   * Reads the change events of finished transactions since the last poll; a RelatedPerson or Patient among them
   * drops the cache. The first poll only notes where the feed stands.
   */
  poll(): Promise<void> {
    this.#polling ??= this.#poll().finally(() => {
      this.#polling = undefined;
    });
    return this.#polling;
  }

  close(): void {
    if (this.#timer) {
      clearInterval(this.#timer);
    }
  }

  async #poll(): Promise<void> {
    if (!this.#position) {
      const { rows } = await this.#db.query<{ txid: string; seq: string }>(
        'SELECT txid::text AS txid, seq::text AS seq FROM change_event ORDER BY txid DESC, seq DESC LIMIT 1',
      );
      this.#position = rows[0] ?? { txid: '0', seq: '0' };
      return;
    }
    for (;;) {
      const from: { txid: string; seq: string } = this.#position;
      const { rows }: { rows: { txid: string; seq: string; type: string }[] } = await this.#db.query(
        `SELECT txid::text AS txid, seq::text AS seq, type FROM change_event
          WHERE (txid, seq) > ($1::xid8, $2::bigint) AND txid < pg_snapshot_xmin(pg_current_snapshot())
          ORDER BY txid, seq LIMIT 1000`,
        [from.txid, from.seq],
        { prepare: true },
      );
      if (rows.length === 0) {
        return;
      }
      if (rows.some((r) => r.type === 'RelatedPerson' || r.type === 'Patient')) {
        this.invalidate();
      }
      const last = rows[rows.length - 1];
      this.#position = { txid: last.txid, seq: last.seq };
      if (rows.length < 1000) {
        return;
      }
    }
  }

  async #load(account: GuardianAccount): Promise<readonly string[]> {
    const { rows: own } = await this.#db.query<{ value: string }>(
      `SELECT DISTINCT t.value FROM resource r
         JOIN idx_token t ON t.rid = r.rid AND t.code = 'identifier' AND t.system = $2
        WHERE r.type = 'Patient' AND r.id = $1 AND NOT r.deleted AND t.value IS NOT NULL`,
      [account.patientId, VN_CORE_SID.cccd],
      { prepare: true },
    );
    const numbers = own.map((r) => r.value).filter((v) => this.#matches(v, account.nationalIdHash));
    const now = this.#now();
    const children = new Set<string>();
    for (const nationalId of numbers) {
      const { rows } = await this.#db.query<{ content: string }>(
        `SELECT r.content FROM idx_token t
           JOIN resource r ON r.rid = t.rid AND r.type = 'RelatedPerson' AND NOT r.deleted
          WHERE t.code = 'identifier' AND t.value = $1 AND t.system = $2`,
        [nationalId, VN_CORE_SID.cccd],
        { prepare: true },
      );
      for (const row of rows) {
        const child = guardianChild(JSON.parse(row.content) as RelatedPersonLike, nationalId, now);
        if (child && child !== account.patientId) {
          children.add(child);
        }
      }
    }
    return [...children].sort();
  }
}

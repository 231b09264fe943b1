import { randomUUID } from 'node:crypto';
import type { Db } from '@sen/db';
import { isoColumn } from '../auth/sql-time.ts';
import { type BreakGlassGrant, breakGlass } from './gate.ts';
import type { StaffRole } from './roles.ts';

/** Roles that treat patients and so may open a restricted record in an emergency. */
export const BREAK_GLASS_ROLES: ReadonlySet<StaffRole> = new Set<StaffRole>([
  'doctor',
  'nurse',
  'radiologist',
  'pharmacist',
  'department-head',
]);

/** Default and longest emergency access, minutes. */
export const BREAK_GLASS_DEFAULT_MINUTES = 240;
export const BREAK_GLASS_MAX_MINUTES = 720;

/** A stored grant, as the review list shows it. */
export interface StoredBreakGlassGrant {
  id: string;
  accountId: string;
  practitionerId?: string;
  patientId: string;
  reason: string;
  grantedAt: string;
  expiresAt: string;
  facilityId: string;
  departmentIds: string[];
  reviewedBy?: string;
  reviewedAt?: string;
  reviewNote?: string;
  /** Accesses recorded in the audit trail under this grant (detail.breakGlass, same clinician and patient). */
  accessCount: number;
}

export interface GrantInput {
  accountId: string;
  practitionerId?: string;
  patientId: string;
  reason: string;
  minutes?: number;
  facilityId: string;
  departmentIds: readonly string[];
}

interface GrantRow {
  id: string;
  account_id: string;
  practitioner_id: string | null;
  patient_id: string;
  reason: string;
  granted_at: string;
  expires_at: string;
  facility_id: string;
  department_ids: string[];
  reviewed_by: string | null;
  reviewed_at: string | null;
  review_note: string | null;
  access_count?: string | number;
}

const COLUMNS = `g.id, g.account_id, g.practitioner_id, g.patient_id, g.reason, ${isoColumn('g.granted_at')},
  ${isoColumn('g.expires_at')}, g.facility_id, g.department_ids, g.reviewed_by, ${isoColumn('g.reviewed_at')}, g.review_note`;

/** How long the grants of an account are kept in memory (a grant made here is seen at once: see `grant`). */
const CACHE_MS = 10_000;

function toStored(r: GrantRow): StoredBreakGlassGrant {
  return {
    id: r.id,
    accountId: r.account_id,
    practitionerId: r.practitioner_id ?? undefined,
    patientId: r.patient_id,
    reason: r.reason,
    grantedAt: r.granted_at,
    expiresAt: r.expires_at,
    facilityId: r.facility_id,
    departmentIds: r.department_ids ?? [],
    reviewedBy: r.reviewed_by ?? undefined,
    reviewedAt: r.reviewed_at ?? undefined,
    reviewNote: r.review_note ?? undefined,
    accessCount: Number(r.access_count ?? 0),
  };
}

/**
 * Break-the-glass grants: stored (break_glass_grant), loaded into the staff Principal for the gate, and listed for
 * the department head's review together with how many accesses the audit trail recorded under each.
 */
export class BreakGlassGrants {
  readonly #db: Db;
  readonly #clock: () => Date;
  readonly #cache = new Map<string, { at: number; grants: readonly BreakGlassGrant[] }>();

  constructor(db: Db, options: { clock?: () => Date } = {}) {
    this.#db = db;
    this.#clock = options.clock ?? (() => new Date());
  }

  /** Records a grant (the reason is checked: 10+ characters; minutes 1…720, default 240). */
  async grant(input: GrantInput): Promise<StoredBreakGlassGrant> {
    const now = this.#clock();
    const minutes = Math.min(Math.max(1, input.minutes ?? BREAK_GLASS_DEFAULT_MINUTES), BREAK_GLASS_MAX_MINUTES);
    const g = breakGlass(input.patientId, input.reason, now, minutes);
    const { rows } = await this.#db.query<GrantRow>(
      `INSERT INTO break_glass_grant AS g (id, account_id, practitioner_id, patient_id, reason, granted_at, expires_at,
         facility_id, department_ids)
       VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $7::timestamptz, $8, $9::text[])
       RETURNING ${COLUMNS}`,
      [
        randomUUID(),
        input.accountId,
        input.practitionerId ?? null,
        g.patientId,
        g.reason,
        g.grantedAt.toISOString(),
        g.expiresAt.toISOString(),
        input.facilityId,
        [...input.departmentIds],
      ],
    );
    // the granting account must see its new grant on its very next request
    this.#cache.delete(input.accountId);
    return toStored(rows[0]);
  }

  /** The account's grants that have not expired, for the gate (cached briefly). */
  async activeFor(accountId: string): Promise<readonly BreakGlassGrant[]> {
    const hit = this.#cache.get(accountId);
    const nowMs = Date.now();
    if (hit && nowMs - hit.at < CACHE_MS) {
      return hit.grants;
    }
    const { rows } = await this.#db.query<Pick<GrantRow, 'patient_id' | 'reason' | 'granted_at' | 'expires_at'>>(
      `SELECT g.patient_id, g.reason, ${isoColumn('g.granted_at')}, ${isoColumn('g.expires_at')}
         FROM break_glass_grant g WHERE g.account_id = $1 AND g.expires_at > $2::timestamptz`,
      [accountId, this.#clock().toISOString()],
      { prepare: true },
    );
    const grants = rows.map((r) => ({
      patientId: r.patient_id,
      reason: r.reason,
      grantedAt: new Date(r.granted_at),
      expiresAt: new Date(r.expires_at),
    }));
    if (this.#cache.size > 10_000) {
      this.#cache.clear();
    }
    this.#cache.set(accountId, { at: nowMs, grants });
    return grants;
  }

  /** Drops the cached grants of an account (after a grant was changed elsewhere). */
  forget(accountId: string): void {
    this.#cache.delete(accountId);
  }

  /**
   * The grants a department head reviews: those of their facility, given by clinicians of one of their departments
   * (or whose department is not known), newest first, with the number of accesses made under each.
   */
  async list(filter: {
    facilityId: string;
    departmentIds: readonly string[];
    status: 'unreviewed' | 'reviewed' | 'all';
    limit?: number;
  }): Promise<StoredBreakGlassGrant[]> {
    const review =
      filter.status === 'unreviewed'
        ? 'AND g.reviewed_at IS NULL'
        : filter.status === 'reviewed'
          ? 'AND g.reviewed_at IS NOT NULL'
          : '';
    const { rows } = await this.#db.query<GrantRow>(
      `SELECT ${COLUMNS},
         (SELECT count(*) FROM audit_event e
           WHERE e.patient = g.patient_id AND e.who = 'Practitioner/' || g.practitioner_id
             AND e.detail->>'breakGlass' = 'true'
             AND e.recorded_at >= g.granted_at AND e.recorded_at < g.expires_at) AS access_count
         FROM break_glass_grant g
        WHERE g.facility_id = $1 AND (cardinality(g.department_ids) = 0 OR g.department_ids && $2::text[]) ${review}
        ORDER BY g.granted_at DESC, g.id LIMIT $3`,
      [filter.facilityId, [...filter.departmentIds], Math.min(Math.max(filter.limit ?? 100, 1), 1000)],
    );
    return rows.map(toStored);
  }

  async find(id: string): Promise<StoredBreakGlassGrant | undefined> {
    const { rows } = await this.#db.query<GrantRow>(`SELECT ${COLUMNS} FROM break_glass_grant g WHERE g.id = $1`, [id]);
    return rows[0] ? toStored(rows[0]) : undefined;
  }

  /** Marks a grant reviewed; false when it was already reviewed. */
  async review(id: string, reviewerAccountId: string, note: string): Promise<boolean> {
    const { rowCount } = await this.#db.query(
      `UPDATE break_glass_grant SET reviewed_by = $2, reviewed_at = $3::timestamptz, review_note = $4
        WHERE id = $1 AND reviewed_at IS NULL`,
      [id, reviewerAccountId, this.#clock().toISOString(), note],
    );
    return (rowCount ?? 0) > 0;
  }
}

/**
 * Share links (M12): a patient gives a doctor elsewhere a time-limited link (or its QR) to a read-only
 * International Patient Summary. The token is 32 random bytes in the URL; only its SHA-256 is stored. Every use,
 * and every refused use (expired, revoked), is written to the tamper-evident audit trail under the patient, so it
 * shows in "who looked at my record"; a revoked link fails at once.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '@sen/db';
import { OutcomeError, outcome, outcomes } from '@sen/fhir';

/** Longest a link may live: 30 days; default 3 days. */
export const SHARE_MAX_HOURS = 24 * 30;
export const SHARE_DEFAULT_HOURS = 72;

export interface ShareLinkRow {
  id: string;
  patient_id: string;
  label: string | null;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  uses: number;
  last_used_at: string | null;
}

export interface ShareLink {
  id: string;
  patientId: string;
  label?: string;
  createdAt: string;
  expiresAt: string;
  revokedAt?: string;
  uses: number;
  lastUsedAt?: string;
  status: 'active' | 'expired' | 'revoked';
}

const iso = (v: string | Date | null): string | undefined =>
  v === null ? undefined : new Date(v as string).toISOString();

function toLink(r: ShareLinkRow, now: Date): ShareLink {
  const revokedAt = iso(r.revoked_at);
  const expiresAt = iso(r.expires_at) as string;
  return {
    id: r.id,
    patientId: r.patient_id,
    ...(r.label ? { label: r.label } : {}),
    createdAt: iso(r.created_at) as string,
    expiresAt,
    ...(revokedAt ? { revokedAt } : {}),
    uses: r.uses,
    ...(r.last_used_at ? { lastUsedAt: iso(r.last_used_at) } : {}),
    status: revokedAt ? 'revoked' : Date.parse(expiresAt) <= now.getTime() ? 'expired' : 'active',
  };
}

const COLUMNS = 'id, patient_id, label, created_at, expires_at, revoked_at, uses, last_used_at';

export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export class ShareLinks {
  private readonly now: () => Date;

  constructor(now: () => Date = () => new Date()) {
    this.now = now;
  }

  async create(
    input: { patientId: string; createdBy: string; hours?: number; label?: string },
    q: Queryable,
  ): Promise<{ link: ShareLink; token: string }> {
    const hours = input.hours ?? SHARE_DEFAULT_HOURS;
    if (!Number.isInteger(hours) || hours < 1 || hours > SHARE_MAX_HOURS) {
      throw outcomes.badRequest(
        `Thời hạn liên kết phải từ 1 đến ${SHARE_MAX_HOURS} giờ / 'hours' must be 1–${SHARE_MAX_HOURS}`,
        ['hours'],
      );
    }
    const label = input.label?.trim().slice(0, 200) || null;
    const token = randomBytes(32).toString('base64url');
    const id = randomBytes(9).toString('base64url');
    const now = this.now();
    const { rows } = await q.query<ShareLinkRow>(
      `INSERT INTO portal_share_link (id, token_hash, patient_id, created_by, label, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [
        id,
        tokenHash(token),
        input.patientId,
        input.createdBy,
        label,
        now.toISOString(),
        new Date(now.getTime() + hours * 3_600_000).toISOString(),
      ],
    );
    return { link: toLink(rows[0], now), token };
  }

  async list(patientId: string, q: Queryable): Promise<ShareLink[]> {
    const { rows } = await q.query<ShareLinkRow>(
      `SELECT ${COLUMNS} FROM portal_share_link WHERE patient_id = $1 ORDER BY created_at DESC LIMIT 200`,
      [patientId],
    );
    const now = this.now();
    return rows.map((r) => toLink(r, now));
  }

  async revoke(patientId: string, id: string, q: Queryable): Promise<ShareLink> {
    const { rows } = await q.query<ShareLinkRow>(
      `UPDATE portal_share_link SET revoked_at = COALESCE(revoked_at, $3) WHERE id = $1 AND patient_id = $2
       RETURNING ${COLUMNS}`,
      [id, patientId, this.now().toISOString()],
    );
    if (!rows[0]) {
      throw new OutcomeError(404, outcome('error', 'not-found', 'Không tìm thấy liên kết / No such share link'));
    }
    return toLink(rows[0], this.now());
  }

  /**
   * Opens a link: the link (counted as used) when it is valid; otherwise why not. Unknown tokens say nothing about
   * any patient.
   */
  async use(
    token: string,
    q: Queryable,
  ): Promise<
    { ok: true; link: ShareLink } | { ok: false; reason: 'unknown' | 'expired' | 'revoked'; link?: ShareLink }
  > {
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) {
      return { ok: false, reason: 'unknown' };
    }
    const now = this.now();
    const { rows } = await q.query<ShareLinkRow>(
      `UPDATE portal_share_link SET uses = uses + 1, last_used_at = $2
        WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2 RETURNING ${COLUMNS}`,
      [tokenHash(token), now.toISOString()],
    );
    if (rows[0]) {
      return { ok: true, link: toLink(rows[0], now) };
    }
    const { rows: found } = await q.query<ShareLinkRow>(
      `SELECT ${COLUMNS} FROM portal_share_link WHERE token_hash = $1`,
      [tokenHash(token)],
    );
    if (!found[0]) {
      return { ok: false, reason: 'unknown' };
    }
    const link = toLink(found[0], now);
    return { ok: false, reason: link.status === 'revoked' ? 'revoked' : 'expired', link };
  }
}

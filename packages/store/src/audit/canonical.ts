import { createHash } from 'node:crypto';
import type { AuditAction, AuditOutcome, AuditRow } from './types.ts';

/**
 * The canonical serialization of an audit row, which the hash chain covers.
 *
 * Every column is read as PostgreSQL text, so nothing is lost to JavaScript numbers or dates: bigint and xid8 in
 * decimal, recorded_at as ISO 8601 UTC with microseconds (independent of the session time zone), detail as jsonb's
 * own normalised text (keys sorted, no insignificant space). The serialization is the JSON array of those texts
 * (or null) in a fixed order after a format tag, so no value can run into the next.
 */
export const CANONICAL_FORMAT = 'sen-audit/1';

/** The audit_event columns, as text, in canonical order (alias `a` prefixes the table). */
export function rowColumns(a: string): string {
  return `${a}.seq::text AS seq, ${a}.txid::text AS txid,
    to_char(${a}.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS recorded_at,
    ${a}.action, ${a}.outcome, ${a}.who, ${a}.role, ${a}.client, ${a}.source_ip, ${a}.patient, ${a}.resource_type,
    ${a}.resource_id, ${a}.resource_version, ${a}.query, ${a}.purpose, ${a}.break_glass_reason,
    ${a}.detail::text AS detail`;
}

/** A row as selected by rowColumns. */
export interface RawAuditRow {
  seq: string;
  txid: string;
  recorded_at: string | null;
  action: string | null;
  outcome: string | null;
  who: string | null;
  role: string | null;
  client: string | null;
  source_ip: string | null;
  patient: string | null;
  resource_type: string | null;
  resource_id: string | null;
  resource_version: string | null;
  query: string | null;
  purpose: string | null;
  break_glass_reason: string | null;
  detail: string | null;
}

function contentFields(r: RawAuditRow): (string | null)[] {
  return [
    r.recorded_at,
    r.action,
    r.outcome,
    r.who,
    r.role,
    r.client,
    r.source_ip,
    r.patient,
    r.resource_type,
    r.resource_id,
    r.resource_version,
    r.query,
    r.purpose,
    r.break_glass_reason,
    r.detail,
  ];
}

/** The whole row: position (seq, txid) and content. */
export function canonicalRow(r: RawAuditRow): string {
  return JSON.stringify([CANONICAL_FORMAT, r.seq, r.txid, ...contentFields(r)]);
}

/** The row without its position: the same record moved elsewhere keeps this. */
export function canonicalContent(r: RawAuditRow): string {
  return JSON.stringify([CANONICAL_FORMAT, ...contentFields(r)]);
}

/** The chain's start: the "previous hash" of the first seal. */
export const GENESIS_HASH = '0'.repeat(64);

/** hash_i = SHA-256(hash_{i-1} || canonical row_i), hex. */
export function chainHash(previousHex: string, r: RawAuditRow): string {
  return createHash('sha256').update(Buffer.from(previousHex, 'hex')).update(canonicalRow(r), 'utf8').digest('hex');
}

export function contentHash(r: RawAuditRow): string {
  return createHash('sha256').update(canonicalContent(r), 'utf8').digest('hex');
}

export function toAuditRow(r: RawAuditRow): AuditRow {
  const row: AuditRow = {
    seq: r.seq,
    txid: r.txid,
    recordedAt: r.recorded_at ?? '',
    action: (r.action ?? '') as AuditAction,
    outcome: (r.outcome ?? '') as AuditOutcome,
  };
  const optional: [keyof AuditRow, string | null][] = [
    ['who', r.who],
    ['role', r.role],
    ['client', r.client],
    ['sourceIp', r.source_ip],
    ['patient', r.patient],
    ['resourceType', r.resource_type],
    ['resourceId', r.resource_id],
    ['resourceVersion', r.resource_version],
    ['query', r.query],
    ['purpose', r.purpose],
    ['breakGlassReason', r.break_glass_reason],
  ];
  for (const [k, v] of optional) {
    if (v !== null) {
      (row as unknown as Record<string, string>)[k] = v;
    }
  }
  if (r.detail !== null) {
    row.detail = JSON.parse(r.detail) as Record<string, unknown>;
  }
  return row;
}

/** What an audit record says. The storage columns are in packages/db/migrations/0003_audit.sql. */

/** The audited actions: the FHIR interactions plus sign-in, export, print, break-the-glass and its review. */
export const AUDIT_ACTIONS = [
  'read',
  'vread',
  'history',
  'search',
  'create',
  'update',
  'patch',
  'delete',
  'operation',
  'transaction',
  'batch',
  'export',
  'print',
  'login',
  'logout',
  'login-failed',
  'break-glass',
  'break-glass-review',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** success; denied: the access gate said no (403/404); failure: the request failed for another reason. */
export const AUDIT_OUTCOMES = ['success', 'failure', 'denied'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** One access to record. Everything but action and outcome is optional; absent fields are stored as NULL. */
export interface AuditEntry {
  action: AuditAction;
  outcome: AuditOutcome;
  /** The user: a FHIR reference (`Practitioner/…`, `Patient/…`, `RelatedPerson/…`, `Device/…`) or an account id. */
  who?: string;
  /** The role the user acted in (`doctor`, `nurse`, `patient`, …). */
  role?: string;
  /** The client application (OAuth client id). */
  client?: string;
  /** The caller's network address. */
  sourceIp?: string;
  /** The patient whose data was touched: `Patient/{id}` or the bare id (stored as the id). */
  patient?: string;
  resourceType?: string;
  resourceId?: string;
  resourceVersion?: string;
  /** A search's query string. Kept in the database only: never log it. */
  query?: string;
  /** Purpose of use, a v3 PurposeOfUse code (`TREAT`, `ETREAT`, `HPAYMT`, …). */
  purpose?: string;
  /** Required for a successful break-the-glass. */
  breakGlassReason?: string;
  /** Anything else worth keeping (HTTP status, operation name, failure reason). JSON. */
  detail?: Record<string, unknown>;
}

/** A stored audit record. `recordedAt` is ISO 8601 UTC with microseconds, exactly as sealed. */
export interface AuditRow extends AuditEntry {
  seq: string;
  /** The writing transaction (xid8); the chain is in (txid, seq) order. */
  txid: string;
  recordedAt: string;
  /** The action as stored (an AuditAction unless the table was written by something else). */
  action: AuditAction;
}

export interface AuditSearch {
  /** `Patient/{id}` or the bare id. */
  patient?: string;
  who?: string;
  action?: AuditAction | AuditAction[];
  outcome?: AuditOutcome;
  /** Recorded at or after this instant (ISO 8601). */
  since?: string;
  /** Recorded before this instant (ISO 8601). */
  until?: string;
  /** Page size, 1–1000 (default 50). */
  count?: number;
  /** The `next` of the previous page. */
  cursor?: string;
}

/** Newest first; `next` is set when there are more rows. */
export interface AuditPage {
  rows: AuditRow[];
  next?: string;
}

/** The end of the sealed chain. Record (pos, hash) somewhere else to detect a rewrite of the whole chain. */
export interface AuditHead {
  /** Number of sealed rows (chain position of the last seal). */
  pos: string;
  /** The last sealed row. */
  seq: string;
  txid: string;
  /** SHA-256, hex. */
  hash: string;
}

export type AuditProblemKind = 'altered' | 'missing' | 'reordered' | 'inserted';

/** A verification finding. Messages name sequence numbers and chain positions only, never record contents. */
export interface AuditProblem {
  /** The audit row concerned; null only for a problem with an external anchor that names no row. */
  seq: string | null;
  kind: AuditProblemKind;
  message: string;
}

export type AuditVerifyResult =
  | { ok: true; sealed: number; unsealed: number; head?: AuditHead }
  | {
      ok: false;
      sealed: number;
      unsealed: number;
      head?: AuditHead;
      problems: AuditProblem[];
      /** More problems were found than returned (maxProblems). */
      truncated: boolean;
    };

/**
 * Patient accounts: a person verified by the external national-ID identity provider (12-digit personal ID number),
 * linked to the one Patient of this facility whose CCCD identifier carries that number. Sen never creates a
 * Patient from the identity provider: without a matching record the sign-in is refused.
 *
 * The number is kept only as a keyed digest (HMAC-SHA-256 under a key derived from SEN_SECRET_KEY): enough to find
 * the account again and to check that a Patient's identifier is the verified number (guardians.ts), nothing to
 * read back.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Db } from '@sen/db';
import { VN_CORE_SID } from '@sen/vn';
import { isoColumn } from './sql-time.ts';

/** Account ids of patients start with this, so token subjects of patients and staff never collide. */
export const PATIENT_ACCOUNT_PREFIX = 'patient:';

export interface PatientAccount {
  id: string;
  patientId: string;
  /** HMAC-SHA-256 (base64url) of the verified personal ID number. */
  nationalIdHash: string;
  idpIssuer: string;
  createdAt: string;
  lastSignInAt?: string;
  disabled: boolean;
}

export type PatientSignInRefusal = 'no-patient' | 'ambiguous-patient' | 'disabled';

export type PatientSignIn =
  | { ok: true; account: PatientAccount; created: boolean }
  | { ok: false; reason: PatientSignInRefusal; patientId?: string };

export interface PatientAccountsOptions {
  db: Db;
  /** The HMAC key of the national ID digests (32 bytes, derived from SEN_SECRET_KEY). */
  hashKey: Uint8Array;
  /** The application's clock. */
  now?: () => Date;
}

interface AccountRow {
  id: string;
  patient_id: string;
  national_id_hash: string;
  idp_issuer: string;
  created_at: string;
  last_sign_in_at: string | null;
  disabled: boolean;
}

const COLUMNS = [
  'id',
  'patient_id',
  'national_id_hash',
  'idp_issuer',
  isoColumn('created_at'),
  isoColumn('last_sign_in_at'),
  'disabled',
].join(', ');

function toAccount(r: AccountRow): PatientAccount {
  return {
    id: r.id,
    patientId: r.patient_id,
    nationalIdHash: r.national_id_hash,
    idpIssuer: r.idp_issuer,
    createdAt: r.created_at,
    lastSignInAt: r.last_sign_in_at ?? undefined,
    disabled: r.disabled,
  };
}

/**
 * The current Patients (not deleted, not `active: false`) whose identifier in the given system has this value.
 * A security-layer lookup over the search index, like the care-team lookup of security.ts.
 */
export async function patientsWithIdentifier(db: Db, system: string, value: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT DISTINCT r.id FROM idx_token t
       JOIN resource r ON r.rid = t.rid AND r.type = 'Patient' AND NOT r.deleted
      WHERE t.code = 'identifier' AND t.value = $1 AND t.system = $2
        AND NOT EXISTS (SELECT 1 FROM idx_token a WHERE a.rid = r.rid AND a.code = 'active' AND a.value = 'false')
      ORDER BY r.id`,
    [value, system],
    { prepare: true },
  );
  return rows.map((r) => r.id);
}

export class PatientAccounts {
  readonly #db: Db;
  readonly #key: Buffer;
  readonly #now: () => Date;

  constructor(options: PatientAccountsOptions) {
    this.#db = options.db;
    this.#key = Buffer.from(options.hashKey);
    this.#now = options.now ?? (() => new Date());
  }

  /** The keyed digest of a (validated, normalised) personal ID number. */
  hashNationalId(nationalId: string): string {
    return createHmac('sha256', this.#key).update(`cccd:${nationalId}`).digest('base64url');
  }

  /** Whether a number is the one behind a stored digest (constant time). */
  matchesHash(nationalId: string, hash: string): boolean {
    const a = Buffer.from(this.hashNationalId(nationalId));
    const b = Buffer.from(hash);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /**
   * Signs in the person with this verified personal ID number: finds the Patient carrying it (exactly one), then
   * creates the account or re-links it to that Patient and notes the sign-in. Refuses without a Patient, with more
   * than one (records to merge first) and for a disabled account.
   */
  async signIn(nationalId: string, idpIssuer: string): Promise<PatientSignIn> {
    const hash = this.hashNationalId(nationalId);
    const patients = await patientsWithIdentifier(this.#db, VN_CORE_SID.cccd, nationalId);
    if (patients.length === 0) {
      return { ok: false, reason: 'no-patient' };
    }
    if (patients.length > 1) {
      return { ok: false, reason: 'ambiguous-patient' };
    }
    const patientId = patients[0];
    const existing = await this.#findBy('national_id_hash', hash);
    if (existing?.disabled) {
      return { ok: false, reason: 'disabled', patientId };
    }
    const at = this.#now().toISOString();
    const { rows } = await this.#db.query<AccountRow & { inserted: boolean }>(
      `INSERT INTO patient_account (id, patient_id, national_id_hash, idp_issuer, created_at, last_sign_in_at)
       VALUES ($1, $2, $3, $4, $5, $5)
       ON CONFLICT (national_id_hash) DO UPDATE
         SET patient_id = EXCLUDED.patient_id, idp_issuer = EXCLUDED.idp_issuer,
             last_sign_in_at = EXCLUDED.last_sign_in_at
         WHERE NOT patient_account.disabled
       RETURNING ${COLUMNS}, (xmax = 0) AS inserted`,
      [`${PATIENT_ACCOUNT_PREFIX}${randomUUID()}`, patientId, hash, idpIssuer, at],
    );
    if (rows.length === 0) {
      return { ok: false, reason: 'disabled', patientId }; // disabled between the read and the write
    }
    return { ok: true, account: toAccount(rows[0]), created: rows[0].inserted };
  }

  async findAccount(id: string): Promise<PatientAccount | undefined> {
    if (!id.startsWith(PATIENT_ACCOUNT_PREFIX)) {
      return undefined;
    }
    return this.#findBy('id', id);
  }

  async findByPatient(patientId: string): Promise<PatientAccount[]> {
    const { rows } = await this.#db.query<AccountRow>(
      `SELECT ${COLUMNS} FROM patient_account WHERE patient_id = $1 ORDER BY created_at`,
      [patientId],
    );
    return rows.map(toAccount);
  }

  /** Disables (or enables again) an account: its tokens stop working at the next request. */
  async setDisabled(id: string, disabled: boolean): Promise<void> {
    await this.#db.query('UPDATE patient_account SET disabled = $2 WHERE id = $1', [id, disabled]);
  }

  async #findBy(column: 'id' | 'national_id_hash', value: string): Promise<PatientAccount | undefined> {
    const { rows } = await this.#db.query<AccountRow>(
      `SELECT ${COLUMNS} FROM patient_account WHERE ${column} = $1`,
      [value],
      { prepare: true },
    );
    return rows[0] ? toAccount(rows[0]) : undefined;
  }
}

/**
 * Demo sign-in accounts (demo mode only): one staff account per seeded Practitioner, linked to it and to the
 * department of its PractitionerRole, so every staff role can be tried.
 *
 * - Password: SEN_DEMO_STAFF_PASSWORD (default `Sen-demo-2026!`), the same for every demo account.
 * - Roles that require MFA are enrolled already, with a TOTP secret derived from SEN_DEMO_TOTP_SECRET and the
 *   username (HMAC-SHA-256), so anyone trying the demo can get the code with `npm run demo:totp -- <username>` or add
 *   the secret to an authenticator app. A shared demo server cannot ask each visitor to enrol the one phone a doctor
 *   account would then be tied to; real accounts enrol on their first sign-in (the enrolment page).
 *
 * Idempotent: existing accounts (by username) are left as they are, a changed password included. Refused in
 * production mode.
 */
import { createHmac } from 'node:crypto';
import { Secret } from 'otpauth';
import { AccountError, rolesRequireMfa, type StaffAccounts, type StaffRole } from '../platform/auth/index.ts';
import { demoStaffDirectory, HOSPITAL_ID, type RoleCode } from './demo-facility.ts';

export const DEFAULT_DEMO_STAFF_PASSWORD = 'Sen-demo-2026!';
export const DEFAULT_DEMO_TOTP_SECRET = 'sen-demo-totp';

/** Username stem per role: Vietnamese without diacritics, numbered when a role has several people. */
const USERNAME_STEMS: Record<RoleCode, string> = {
  doctor: 'bacsi',
  nurse: 'dieuduong',
  receptionist: 'tiepdon',
  'lab-technician': 'ktv.xetnghiem',
  'radiology-technician': 'ktv.cdha',
  radiologist: 'bs.cdha',
  pharmacist: 'duocsi',
  cashier: 'thungan',
  'department-head': 'truongkhoa',
  'facility-admin': 'quantri',
};

export interface DemoAccount {
  username: string;
  role: StaffRole;
  practitionerId: string;
  departmentIds: string[];
  /** TOTP enrolled (the role requires it). */
  mfa: boolean;
  /** Created by this run (false: it already existed). */
  created: boolean;
}

export interface DemoAccountsOptions {
  mode: 'demo' | 'production';
  /** SEN_DEMO_STAFF_PASSWORD. */
  password?: string;
  /** SEN_DEMO_TOTP_SECRET: the key the demo TOTP secrets are derived from. */
  totpSecret?: string;
}

/** The demo usernames with their staff entries, in seed order. */
export function demoUsernames(): { username: string; role: RoleCode; practitionerId: string; departmentId?: string }[] {
  const staff = demoStaffDirectory();
  const counts = new Map<RoleCode, number>();
  for (const s of staff) {
    counts.set(s.role, (counts.get(s.role) ?? 0) + 1);
  }
  const seen = new Map<RoleCode, number>();
  return staff.map((s) => {
    const n = (seen.get(s.role) ?? 0) + 1;
    seen.set(s.role, n);
    const stem = USERNAME_STEMS[s.role];
    return {
      username: (counts.get(s.role) ?? 0) > 1 ? `${stem}${n}` : stem,
      role: s.role,
      practitionerId: s.practitionerId,
      departmentId: s.departmentId,
    };
  });
}

/** The base32 TOTP secret of a demo account: HMAC-SHA-256(SEN_DEMO_TOTP_SECRET, username), first 160 bits. */
export function demoTotpSecret(totpSecret: string, username: string): string {
  const digest = createHmac('sha256', totpSecret).update(`sen demo totp v1:${username.toLowerCase()}`).digest();
  return new Secret({ buffer: new Uint8Array(digest.subarray(0, 20)).buffer }).base32;
}

/** Creates the missing demo accounts. Throws in production mode. */
export async function seedDemoAccounts(accounts: StaffAccounts, options: DemoAccountsOptions): Promise<DemoAccount[]> {
  if (options.mode !== 'demo') {
    throw new Error('demo staff accounts exist in demo mode only; unset SEN_DEMO_STAFF_PASSWORD in production');
  }
  const password = options.password ?? DEFAULT_DEMO_STAFF_PASSWORD;
  const totpSecret = options.totpSecret ?? DEFAULT_DEMO_TOTP_SECRET;
  const out: DemoAccount[] = [];
  for (const entry of demoUsernames()) {
    const roles: StaffRole[] = [entry.role];
    const departmentIds = entry.departmentId ? [entry.departmentId] : [];
    const mfa = rolesRequireMfa(roles);
    const existing = await accounts.findAccountByUsername(entry.username);
    if (existing) {
      out.push({
        username: existing.username,
        role: entry.role,
        practitionerId: existing.practitionerId,
        departmentIds: existing.departmentIds,
        mfa: existing.mfaEnabled,
        created: false,
      });
      continue;
    }
    try {
      const account = await accounts.create({
        username: entry.username,
        practitionerId: entry.practitionerId,
        facilityId: HOSPITAL_ID,
        departmentIds,
        roles,
        password,
      });
      if (mfa) {
        await accounts.provisionMfa(account.id, demoTotpSecret(totpSecret, entry.username));
      }
      out.push({
        username: entry.username,
        role: entry.role,
        practitionerId: entry.practitionerId,
        departmentIds,
        mfa,
        created: true,
      });
    } catch (err) {
      // someone gave this practitioner another account: leave it alone
      if (err instanceof AccountError && err.code === 'practitioner-taken') {
        continue;
      }
      throw err;
    }
  }
  return out;
}

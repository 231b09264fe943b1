/** Staff roles (issue 3) and which of them must sign in with a second factor. */
export const STAFF_ROLES = [
  'receptionist',
  'doctor',
  'nurse',
  'lab-technician',
  'radiology-technician',
  'radiologist',
  'pharmacist',
  'cashier',
  'department-head',
  'facility-admin',
] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

/**
 * Roles that see clinical data or administer the facility cannot sign in without TOTP (Decree 356/2025 Art 9(3)(b):
 * multi-factor authentication for large sensitive data sets). Receptionists and cashiers may opt in.
 */
export const MFA_REQUIRED_ROLES: ReadonlySet<StaffRole> = new Set<StaffRole>(
  STAFF_ROLES.filter((r) => r !== 'receptionist' && r !== 'cashier'),
);

export function isStaffRole(value: unknown): value is StaffRole {
  return typeof value === 'string' && (STAFF_ROLES as readonly string[]).includes(value);
}

export function rolesRequireMfa(roles: readonly StaffRole[]): boolean {
  return roles.some((r) => MFA_REQUIRED_ROLES.has(r));
}

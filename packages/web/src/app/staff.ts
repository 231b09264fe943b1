import type { Bundle, Organization, Practitioner, PractitionerRole } from '@medplum/fhirtypes';

export const SEN_STAFF_ROLE_SYSTEM = 'https://sen.health.vn/fhir/CodeSystem/staff-role';

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

/** The work screen each role lands on. */
export const HOME_OF: Record<StaffRole, string> = {
  receptionist: '/reception',
  cashier: '/cashier',
  doctor: '/clinic',
  nurse: '/visits',
  'department-head': '/visits',
  'lab-technician': '/worklist/laboratory',
  'radiology-technician': '/worklist/imaging',
  radiologist: '/worklist/imaging',
  pharmacist: '/pharmacy',
  'facility-admin': '/audit',
};

export interface StaffContext {
  practitioner: Practitioner;
  name: string;
  roles: StaffRole[];
  /** Departments (Organization) the person works in. */
  departments: Organization[];
  /** The departments' places (`Location/…`): the rooms of their visits are part of these. */
  departmentLocations: string[];
  /** The hospital: the organisation the departments are part of. */
  facility?: Organization;
}

function isRole(code: string | undefined): code is StaffRole {
  return !!code && (STAFF_ROLES as readonly string[]).includes(code);
}

export function displayName(p: { name?: { text?: string; family?: string; given?: string[] }[] } | undefined): string {
  const n = p?.name?.[0];
  if (!n) {
    return '';
  }
  // Vietnamese order: family name first, then middle and given names
  return n.text ?? [n.family, ...(n.given ?? [])].filter(Boolean).join(' ');
}

/**
 * Builds the staff context from `PractitionerRole?practitioner=…&_include=PractitionerRole:practitioner&_include=
 * PractitionerRole:organization` and the facility read separately. Active roles only, known role codes only.
 */
export function staffContext(bundle: Bundle, facility?: Organization): StaffContext | undefined {
  const resources = (bundle.entry ?? []).map((e) => e.resource);
  const practitioner = resources.find((r): r is Practitioner => r?.resourceType === 'Practitioner');
  if (!practitioner) {
    return undefined;
  }
  const roles = resources.filter(
    (r): r is PractitionerRole => r?.resourceType === 'PractitionerRole' && r.active !== false,
  );
  const codes = new Set<StaffRole>();
  const deptIds = new Set<string>();
  const locations = new Set<string>();
  for (const role of roles) {
    for (const c of role.code ?? []) {
      for (const coding of c.coding ?? []) {
        if (coding.system === SEN_STAFF_ROLE_SYSTEM && isRole(coding.code)) {
          codes.add(coding.code);
        }
      }
    }
    for (const l of role.location ?? []) {
      if (l.reference?.startsWith('Location/')) {
        locations.add(l.reference);
      }
    }
    const org = role.organization?.reference?.split('/').pop();
    if (org) {
      deptIds.add(org);
    }
  }
  const departments = resources.filter(
    (r): r is Organization => r?.resourceType === 'Organization' && !!r.id && deptIds.has(r.id),
  );
  return {
    practitioner,
    name: displayName(practitioner),
    roles: STAFF_ROLES.filter((r) => codes.has(r)),
    departments,
    departmentLocations: [...locations],
    facility,
  };
}

/** The first role's screen (roles are in the fixed order of STAFF_ROLES). */
export function homeOf(ctx: StaffContext): string | undefined {
  return ctx.roles.length > 0 ? HOME_OF[ctx.roles[0]] : undefined;
}

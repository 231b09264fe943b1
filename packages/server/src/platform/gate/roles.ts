import { STAFF_ROLES, type StaffRole } from '../auth/roles.ts';

export type { StaffRole };

/** The staff roles (one list, in auth/roles.ts), in the order of the access matrix. */
export const STAFF_ROLE_CODES: readonly StaffRole[] = STAFF_ROLES;

/** How each role is named on screen and in the reviewed matrix: Vietnamese first. */
export const STAFF_ROLE_LABELS: Record<StaffRole, { vi: string; en: string }> = {
  receptionist: { vi: 'Tiếp đón', en: 'Receptionist' },
  doctor: { vi: 'Bác sĩ', en: 'Doctor' },
  nurse: { vi: 'Điều dưỡng', en: 'Nurse' },
  'lab-technician': { vi: 'Kỹ thuật viên xét nghiệm', en: 'Lab technician' },
  'radiology-technician': { vi: 'Kỹ thuật viên chẩn đoán hình ảnh', en: 'Radiology technician' },
  radiologist: { vi: 'Bác sĩ chẩn đoán hình ảnh', en: 'Radiologist' },
  pharmacist: { vi: 'Dược sĩ', en: 'Pharmacist' },
  cashier: { vi: 'Thu ngân', en: 'Cashier' },
  'department-head': { vi: 'Trưởng khoa', en: 'Department head' },
  'facility-admin': { vi: 'Quản trị cơ sở', en: 'Facility administrator' },
};

/** Staff roles of Sen, with their Vietnamese names first. */
export const STAFF_ROLES = {
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
} as const;

export type StaffRole = keyof typeof STAFF_ROLES;

export const STAFF_ROLE_CODES = Object.keys(STAFF_ROLES) as StaffRole[];

export function isStaffRole(v: string): v is StaffRole {
  return v in STAFF_ROLES;
}

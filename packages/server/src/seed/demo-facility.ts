/** The demo hospital: organisation, site, departments with rooms, and staff with their roles. */

import type { Coding, Identifier, Location, Organization, Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import { SEN_SID, type Sex, VN_CORE_SID } from '@sen/vn';
import type { AdminUnits } from './admin-units.ts';
import { address, DEMO_FACILITY_CODE, type DemoBuilder, humanName, demoId as id, mobile } from './demo-builder.ts';

export const SEN_STAFF_ROLE_SYSTEM = 'https://sen.health.vn/fhir/CodeSystem/staff-role';
const HL7_PRACTITIONER_ROLE = 'http://terminology.hl7.org/CodeSystem/practitioner-role';
export const HOSPITAL_NAME = 'Bệnh viện Đa khoa Sen';

export type RoleCode =
  | 'doctor'
  | 'nurse'
  | 'receptionist'
  | 'lab-technician'
  | 'radiology-technician'
  | 'radiologist'
  | 'pharmacist'
  | 'cashier'
  | 'department-head'
  | 'facility-admin';

const ROLES: Record<RoleCode, { display: string; hl7?: string; prefix?: string; licensed: boolean }> = {
  doctor: { display: 'Bác sĩ', hl7: 'doctor', prefix: 'BS.', licensed: true },
  nurse: { display: 'Điều dưỡng', hl7: 'nurse', prefix: 'ĐD.', licensed: true },
  receptionist: { display: 'Nhân viên tiếp đón', licensed: false },
  'lab-technician': { display: 'Kỹ thuật viên xét nghiệm', prefix: 'KTV.', licensed: true },
  radiologist: { display: 'Bác sĩ chẩn đoán hình ảnh', hl7: 'doctor', prefix: 'BS.', licensed: true },
  pharmacist: { display: 'Dược sĩ', hl7: 'pharmacist', prefix: 'DS.', licensed: true },
  cashier: { display: 'Thu ngân', licensed: false },
  'radiology-technician': { display: 'Kỹ thuật viên chẩn đoán hình ảnh', prefix: 'KTV.', licensed: true },
  'department-head': { display: 'Trưởng khoa', hl7: 'doctor', prefix: 'BS.', licensed: true },
  'facility-admin': { display: 'Quản trị cơ sở', licensed: false },
};

interface DepartmentDef {
  code: string;
  name: string;
  /** Room names; rooms whose name starts with 'Phòng khám' host outpatient encounters. */
  rooms: string[];
}

/** Departments with Sen-local K-codes (not the MoH department code list). */
const DEPARTMENTS: DepartmentDef[] = [
  {
    code: 'K01',
    name: 'Khoa Khám bệnh',
    rooms: ['Phòng tiếp đón', 'Phòng khám Nội 1', 'Phòng khám Nội 2', 'Quầy thu ngân'],
  },
  { code: 'K02', name: 'Khoa Nội', rooms: ['Phòng khám Nội tổng hợp', 'Buồng bệnh 201'] },
  { code: 'K03', name: 'Khoa Ngoại', rooms: ['Phòng khám Ngoại', 'Phòng tiểu phẫu'] },
  { code: 'K04', name: 'Khoa Nhi', rooms: ['Phòng khám Nhi 1', 'Phòng khám Nhi 2'] },
  { code: 'K05', name: 'Khoa Sản', rooms: ['Phòng khám Sản', 'Phòng siêu âm thai'] },
  { code: 'K06', name: 'Khoa Xét nghiệm', rooms: ['Phòng lấy mẫu', 'Phòng xét nghiệm sinh hóa'] },
  { code: 'K07', name: 'Khoa Chẩn đoán hình ảnh', rooms: ['Phòng X-quang', 'Phòng siêu âm'] },
  { code: 'K08', name: 'Khoa Dược', rooms: ['Nhà thuốc bệnh viện', 'Kho dược'] },
];

/** `dept` undefined: works for the whole facility (the administrator). */
const STAFF: { role: RoleCode; dept?: string; sex: Sex }[] = [
  { role: 'doctor', dept: 'K01', sex: 'male' },
  { role: 'doctor', dept: 'K01', sex: 'female' },
  { role: 'doctor', dept: 'K02', sex: 'male' },
  { role: 'doctor', dept: 'K03', sex: 'male' },
  { role: 'doctor', dept: 'K04', sex: 'female' },
  { role: 'doctor', dept: 'K05', sex: 'female' },
  { role: 'nurse', dept: 'K01', sex: 'female' },
  { role: 'nurse', dept: 'K02', sex: 'female' },
  { role: 'nurse', dept: 'K04', sex: 'female' },
  { role: 'nurse', dept: 'K05', sex: 'male' },
  { role: 'receptionist', dept: 'K01', sex: 'female' },
  { role: 'cashier', dept: 'K01', sex: 'female' },
  { role: 'lab-technician', dept: 'K06', sex: 'male' },
  { role: 'radiologist', dept: 'K07', sex: 'male' },
  { role: 'pharmacist', dept: 'K08', sex: 'female' },
  { role: 'radiology-technician', dept: 'K07', sex: 'female' },
  { role: 'department-head', dept: 'K02', sex: 'male' },
  { role: 'facility-admin', sex: 'male' },
];

/** One seeded staff member as a sign-in account needs it (demo-accounts.ts): no names. */
export interface DemoStaffEntry {
  practitionerId: string;
  practitionerRoleId: string;
  role: RoleCode;
  /** Organization id of the department; undefined for facility-wide staff. */
  departmentId?: string;
}

/** The seeded staff, in seed order (the same ids buildStaff writes). */
export function demoStaffDirectory(): DemoStaffEntry[] {
  return STAFF.map((s, i) => ({
    practitionerId: staffId(i + 1),
    practitionerRoleId: staffRoleId(i + 1),
    role: s.role,
    departmentId: s.dept ? deptOrgId(s.dept) : undefined,
  }));
}

export const HOSPITAL_ID = id('hospital');
const SITE_ID = id('site');
const deptOrgId = (code: string): string => id('dept', code);
const deptLocId = (code: string): string => id('loc', code);
const roomId = (code: string, n: number): string => id('loc', code, `r${n}`);
const staffId = (n: number): string => id('s', String(n).padStart(2, '0'));
const staffRoleId = (n: number): string => id('role', String(n).padStart(2, '0'));

export function buildHospital(b: DemoBuilder, units: AdminUnits): Map<string, string[]> {
  const province = units.provinces.find((p) => p.code === '79') ?? units.provinces[0];
  const hospitalAddress = { ...address('1 Lê Lợi', province, 0), use: 'work' as const };
  b.add<Organization>({
    resourceType: 'Organization',
    id: HOSPITAL_ID,
    identifier: [{ use: 'official', system: SEN_SID.facility, value: DEMO_FACILITY_CODE }],
    active: true,
    type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'prov' }] }],
    name: HOSPITAL_NAME,
    alias: ['BVĐK Sen'],
    telecom: [{ system: 'phone', value: '02838000115', use: 'work' }],
    address: [hospitalAddress],
  });
  b.add<Location>({
    resourceType: 'Location',
    id: SITE_ID,
    status: 'active',
    mode: 'instance',
    name: HOSPITAL_NAME,
    physicalType: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/location-physical-type', code: 'si' }] },
    address: hospitalAddress,
    managingOrganization: b.ref('Organization', HOSPITAL_ID),
  });
  const clinicRooms = new Map<string, string[]>();
  for (const dept of DEPARTMENTS) {
    const identifier: Identifier[] = [{ system: SEN_SID.department, value: dept.code }];
    b.add<Organization>({
      resourceType: 'Organization',
      id: deptOrgId(dept.code),
      identifier,
      active: true,
      type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'dept' }] }],
      name: dept.name,
      partOf: b.ref('Organization', HOSPITAL_ID, HOSPITAL_NAME),
    });
    b.add<Location>({
      resourceType: 'Location',
      id: deptLocId(dept.code),
      identifier,
      status: 'active',
      mode: 'instance',
      name: dept.name,
      physicalType: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/location-physical-type', code: 'wa' }],
      },
      managingOrganization: b.ref('Organization', deptOrgId(dept.code), dept.name),
      partOf: b.ref('Location', SITE_ID),
    });
    const clinics: string[] = [];
    dept.rooms.forEach((roomName, i) => {
      const rid = roomId(dept.code, i + 1);
      b.add<Location>({
        resourceType: 'Location',
        id: rid,
        identifier: [{ system: SEN_SID.location, value: `${dept.code}-P${String(i + 1).padStart(2, '0')}` }],
        status: 'active',
        mode: 'instance',
        name: roomName,
        physicalType: {
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/location-physical-type', code: 'ro' }],
        },
        managingOrganization: b.ref('Organization', deptOrgId(dept.code), dept.name),
        partOf: b.ref('Location', deptLocId(dept.code), dept.name),
      });
      if (roomName.startsWith('Phòng khám')) {
        clinics.push(rid);
      }
    });
    clinicRooms.set(dept.code, clinics);
  }
  return clinicRooms;
}

export interface StaffMember {
  id: string;
  role: RoleCode;
  dept: string;
  name: string;
}

export function buildStaff(b: DemoBuilder): StaffMember[] {
  return STAFF.map((s, i) => {
    const n = i + 1;
    const rng = b.rng(`staff:${n}`);
    const name = b.name(rng, s.sex);
    const role = ROLES[s.role];
    const identifier: Identifier[] = [
      { use: 'usual', system: SEN_SID.staff, value: `NV${String(n).padStart(3, '0')}` },
    ];
    if (role.licensed) {
      identifier.push({
        use: 'official',
        system: VN_CORE_SID.cchn,
        value: `${String(rng.int(1, 99_999)).padStart(6, '0')}/HCM-CCHN`,
      });
    }
    const pid = staffId(n);
    b.add<Practitioner>({
      resourceType: 'Practitioner',
      id: pid,
      identifier,
      active: true,
      name: humanName(name, role.prefix),
      gender: s.sex,
      telecom: [{ system: 'phone', value: mobile(rng), use: 'work' }],
    });
    const coding: Coding[] = [{ system: SEN_STAFF_ROLE_SYSTEM, code: s.role, display: role.display }];
    if (role.hl7) {
      coding.push({ system: HL7_PRACTITIONER_ROLE, code: role.hl7 });
    }
    const dept = DEPARTMENTS.find((d) => d.code === s.dept);
    b.add<PractitionerRole>({
      resourceType: 'PractitionerRole',
      id: staffRoleId(n),
      active: true,
      practitioner: b.ref('Practitioner', pid, name.text),
      organization: dept
        ? b.ref('Organization', deptOrgId(dept.code), dept.name)
        : b.ref('Organization', HOSPITAL_ID, HOSPITAL_NAME),
      code: [{ coding, text: role.display }],
      location: [dept ? b.ref('Location', deptLocId(dept.code), dept.name) : b.ref('Location', SITE_ID, HOSPITAL_NAME)],
    });
    return { id: pid, role: s.role, dept: s.dept ?? '', name: name.text };
  });
}

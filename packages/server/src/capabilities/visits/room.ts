/**
 * What the queue needs to know about a clinic room: its code and name, its department (the Location's managing
 * Organization) and the facility it belongs to (the Location's facility tag, or the top of the department's
 * `partOf` chain). Read through the store, with the caller's gate asked about each directory resource.
 */
import type { Location, Organization } from '@medplum/fhirtypes';
import type { Queryable } from '@sen/db';
import { outcomes, referenceId } from '@sen/fhir';
import type { FhirStore } from '@sen/store';
import { SEN_SID } from '@sen/vn';
import type { AccessContext } from '../../fhir/types.ts';
import { principalOf } from '../../platform/gate/context.ts';
import { FACILITY_TAG_SYSTEM } from '../../platform/gate/gate.ts';

export interface Room {
  id: string;
  /** The room's code within the facility (identifier system SEN_SID.location), or its id when it has none. */
  code: string;
  name: string;
  facility: string;
  departmentId?: string;
  departmentName?: string;
}

const ROOM_TYPE = 'ro';
const MAX_DEPTH = 8;

async function readOrganization(
  store: FhirStore,
  q: Queryable,
  id: string,
  access: AccessContext | undefined,
): Promise<Organization | undefined> {
  try {
    const s = await store.read('Organization', id, q);
    const org = JSON.parse(s.content as string) as Organization;
    access?.check('read', 'Organization', org);
    return org;
  } catch (err) {
    if ((err as { status?: number }).status === 404 || (err as { status?: number }).status === 410) {
      return undefined;
    }
    throw err;
  }
}

/** The room of a queue: 404 when unknown, 422 when the Location is not an active room of a department. */
export async function resolveRoom(
  store: FhirStore,
  q: Queryable,
  locationId: string,
  access: AccessContext | undefined,
): Promise<Room> {
  let location: Location;
  try {
    location = JSON.parse((await store.read('Location', locationId, q)).content as string) as Location;
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status === 404 || status === 410) {
      throw outcomes.notFound(
        `Không tìm thấy phòng khám Location/${locationId} / Room Location/${locationId} not found`,
      );
    }
    throw err;
  }
  access?.check('read', 'Location', location);
  const kinds = location.physicalType?.coding?.map((c) => c.code) ?? [];
  if (kinds.length > 0 && !kinds.includes(ROOM_TYPE)) {
    throw outcomes.unprocessable(
      `Location/${locationId} không phải là một phòng (khoa, toà nhà…) / Location/${locationId} is not a room`,
      ['location'],
    );
  }
  if (location.status === 'inactive' || location.status === 'suspended') {
    throw outcomes.unprocessable(
      `Phòng ${location.name ?? locationId} đang ngừng hoạt động / Room ${location.name ?? locationId} is not in use`,
      ['location'],
    );
  }
  const departmentId = referenceId(location.managingOrganization?.reference, 'Organization');
  const department = departmentId ? await readOrganization(store, q, departmentId, access) : undefined;
  let facility = location.meta?.tag?.find((t) => t.system === FACILITY_TAG_SYSTEM)?.code;
  if (!facility && department) {
    // the top of the organisation chain: department → hospital
    let org: Organization = department;
    for (let depth = 0; depth < MAX_DEPTH; depth++) {
      const tagged = org.meta?.tag?.find((t) => t.system === FACILITY_TAG_SYSTEM)?.code;
      if (tagged) {
        facility = tagged;
        break;
      }
      const parentId = referenceId(org.partOf?.reference, 'Organization');
      const parent = parentId ? await readOrganization(store, q, parentId, access) : undefined;
      if (!parent) {
        facility = org.id;
        break;
      }
      org = parent;
    }
  }
  if (!facility) {
    throw outcomes.unprocessable(
      `Phòng ${location.name ?? locationId} chưa thuộc khoa nào (managingOrganization) / Room ${location.name ?? locationId} has no department`,
      ['location'],
    );
  }
  const code = location.identifier?.find((i) => i.system === SEN_SID.location)?.value ?? locationId;
  return {
    id: locationId,
    code,
    name: location.name ?? code,
    facility,
    departmentId,
    departmentName: department?.name,
  };
}

/** The facility the caller works for (staff, or a facility's own system client); undefined: not bound to one. */
export function callerFacility(access: AccessContext | undefined): string | undefined {
  const p = principalOf(access);
  if (p?.kind === 'staff' || p?.kind === 'system') {
    return p.facilityId;
  }
  return undefined;
}

/** A caller bound to a facility may work only with that facility's rooms (403 otherwise). */
export function assertSameFacility(access: AccessContext | undefined, facility: string, roomName: string): void {
  const own = callerFacility(access);
  if (own !== undefined && own !== facility) {
    throw outcomes.forbidden(
      `Phòng ${roomName} thuộc cơ sở khác; bạn chỉ làm việc với hàng đợi của cơ sở mình / This room belongs to another facility`,
    );
  }
}

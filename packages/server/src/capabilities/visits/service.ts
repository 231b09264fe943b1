/**
 * Clinic-room queues (M2): registering a visit hands out the room's next number for the day and writes the
 * Encounter in the same transaction; calling, skipping and recalling move the queue row and the Encounter together.
 * Concurrency: numbers come from a per-room-per-day counter row locked by INSERT … ON CONFLICT DO UPDATE; the next
 * patient is taken with FOR UPDATE SKIP LOCKED, so two doctors calling at once never get the same patient.
 */
import { randomUUID } from 'node:crypto';
import type { Coverage, Encounter, Patient, Resource } from '@medplum/fhirtypes';
import { classifyDbError, type Queryable } from '@sen/db';
import { OutcomeError, outcomes } from '@sen/fhir';
import type { FhirStore } from '@sen/store';
import type { AccessContext } from '../../fhir/types.ts';
import type { StaffRole } from '../../platform/auth/roles.ts';
import { principalOf } from '../../platform/gate/context.ts';
import {
  addAttender,
  buildEncounter,
  CLOSED_ENCOUNTER,
  type QueueStatus,
  queueStatusOf,
  setQueueStatus,
  type VisitType,
} from './encounter.ts';
import { assertSameFacility, callerFacility, type Room, resolveRoom } from './room.ts';
import { vietnamDay } from '@sen/vn';

/** Staff roles that call patients into the room (a receptionist registers but does not call). */
export const QUEUE_CALLER_ROLES: readonly StaffRole[] = ['doctor', 'nurse', 'department-head'];

export interface RegisterInput {
  patientId: string;
  visitType: VisitType;
  reason?: string;
  locationId: string;
  coverageId?: string;
}

export interface Registered {
  encounter: Encounter;
  queueNumber: number;
  roomName: string;
  departmentName?: string;
  date: string;
  waitingBefore: number;
}

export interface Called {
  encounter: Encounter;
  queueNumber: number;
}

export interface RoomSummary {
  locationId: string;
  name: string;
  departmentName?: string;
  waiting: number;
  current?: number;
  /** Numbers called before the current one, newest first (at most 3). */
  recentCalled: number[];
}

export interface QueueEntry {
  number: number;
  status: QueueStatus;
  encounter: Encounter;
  patientId: string;
}

interface QueueRow {
  facility: string;
  location_id: string;
  day: string;
  number: number;
  encounter_id: string;
  patient_id: string;
  status: QueueStatus;
}

const ROW_COLUMNS = 'facility, location_id, day::text AS day, number, encounter_id, patient_id, status';

function statusOf(err: unknown): number | undefined {
  return (err as { status?: number }).status;
}

export interface VisitServiceOptions {
  /** The clock (tests fix it); default the system clock. */
  now?: () => Date;
}

export class VisitQueueService {
  readonly store: FhirStore;
  private readonly now: () => Date;

  constructor(store: FhirStore, options: VisitServiceOptions = {}) {
    this.store = store;
    this.now = options.now ?? ((): Date => new Date());
  }

  today(): string {
    return vietnamDay(this.now());
  }

  private run<T>(q: Queryable | undefined, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return q ? fn(q) : this.store.transaction(fn);
  }

  /** A resource for the gate: 404 with a readable message when it is unknown or deleted. */
  private async readChecked<T extends Resource>(
    tx: Queryable,
    type: string,
    id: string,
    access: AccessContext | undefined,
    what: string,
  ): Promise<{ resource: T; patientIds: string[] }> {
    try {
      const s = await this.store.readWithCompartment(type, id, tx);
      const resource = JSON.parse(s.content as string) as T;
      access?.check('read', type, resource, s.patientIds);
      return { resource, patientIds: s.patientIds };
    } catch (err) {
      if (statusOf(err) === 404 || statusOf(err) === 410) {
        throw outcomes.notFound(`Không tìm thấy ${what} ${type}/${id} / ${type}/${id} not found`);
      }
      throw err;
    }
  }

  /** Registers a visit: the room's next number today and an arrived Encounter, in one transaction. */
  async register(input: RegisterInput, access: AccessContext | undefined, q?: Queryable): Promise<Registered> {
    try {
      return await this.run(q, (tx) => this.registerIn(tx, input, access));
    } catch (err) {
      if (classifyDbError(err).kind === 'unique') {
        throw outcomes.conflict(
          'Người bệnh đã có số thứ tự tại phòng này hôm nay / The patient is already in this room’s queue today',
        );
      }
      throw err;
    }
  }

  private async registerIn(
    tx: Queryable,
    input: RegisterInput,
    access: AccessContext | undefined,
  ): Promise<Registered> {
    const { resource: patient } = await this.readChecked<Patient>(tx, 'Patient', input.patientId, access, 'người bệnh');
    if (patient.active === false) {
      throw outcomes.unprocessable(
        'Hồ sơ người bệnh đã ngừng sử dụng (có thể đã được gộp); hãy chọn hồ sơ đang dùng / This patient record is inactive (merged?)',
        ['patient'],
      );
    }
    const room = await resolveRoom(this.store, tx, input.locationId, access);
    assertSameFacility(access, room.facility, room.name);
    if (input.coverageId) {
      const { resource: coverage } = await this.readChecked<Coverage>(
        tx,
        'Coverage',
        input.coverageId,
        access,
        'thẻ bảo hiểm',
      );
      const beneficiary = coverage.beneficiary?.reference?.split('/').slice(-2).join('/');
      if (beneficiary !== `Patient/${input.patientId}`) {
        throw outcomes.unprocessable(
          'Thẻ bảo hiểm không phải của người bệnh này / The coverage belongs to another patient',
          ['coverage'],
        );
      }
      if (coverage.status !== 'active') {
        throw outcomes.unprocessable('Thẻ bảo hiểm không còn hiệu lực / The coverage is not active', ['coverage']);
      }
    }
    const now = this.now();
    const day = vietnamDay(now);
    // the room's counter row: locked until commit, so registrations for this room take turns
    const counter = await tx.query<{ last_number: number; last_position: number }>(
      `INSERT INTO visit_queue_counter (facility, location_id, day, last_number, last_position)
       VALUES ($1, $2, $3::date, 1, 1)
       ON CONFLICT (facility, location_id, day) DO UPDATE
         SET last_number = visit_queue_counter.last_number + 1,
             last_position = visit_queue_counter.last_position + 1
       RETURNING last_number, last_position`,
      [room.facility, room.id, day],
    );
    const number = Number(counter.rows[0].last_number);
    const position = Number(counter.rows[0].last_position);
    const already = await tx.query<{ number: number }>(
      `SELECT number FROM visit_queue
        WHERE facility = $1 AND location_id = $2 AND day = $3::date AND patient_id = $4 AND status <> 'done'`,
      [room.facility, room.id, day, input.patientId],
    );
    if (already.rows.length > 0) {
      throw outcomes.conflict(
        `Người bệnh đã có số ${already.rows[0].number} tại ${room.name} hôm nay / The patient already has number ${already.rows[0].number} in this room today`,
      );
    }
    const encounterId = randomUUID();
    const draft = buildEncounter({
      patientId: input.patientId,
      visitType: input.visitType,
      reason: input.reason,
      room,
      day,
      number,
      coverageId: input.coverageId,
      start: now.toISOString(),
    });
    access?.check('create', 'Encounter', draft, [input.patientId]);
    const written = await this.store.create(draft, tx, encounterId);
    await tx.query(
      `INSERT INTO visit_queue (facility, location_id, day, number, position, encounter_id, patient_id, status,
                                room_code, room_name, department_id, department_name)
       VALUES ($1, $2, $3::date, $4, $5, $6, $7, 'waiting', $8, $9, $10, $11)`,
      [
        room.facility,
        room.id,
        day,
        number,
        position,
        encounterId,
        input.patientId,
        room.code,
        room.name,
        room.departmentId ?? null,
        room.departmentName ?? null,
      ],
    );
    const before = await tx.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM visit_queue
        WHERE facility = $1 AND location_id = $2 AND day = $3::date AND status IN ('waiting', 'skipped')
          AND position < $4`,
      [room.facility, room.id, day, position],
    );
    return {
      encounter: written.resource as Encounter,
      queueNumber: number,
      roomName: room.name,
      departmentName: room.departmentName,
      date: day,
      waitingBefore: Number(before.rows[0]?.n ?? 0),
    };
  }

  /** Only clinicians call patients in; a patient never does. */
  private assertMayCall(access: AccessContext | undefined): void {
    const p = principalOf(access);
    if (p?.kind === 'patient') {
      throw outcomes.forbidden('Người bệnh không gọi số / Patients cannot call queue numbers');
    }
    if (p?.kind === 'staff' && !p.roles.some((r) => QUEUE_CALLER_ROLES.includes(r))) {
      throw outcomes.forbidden(
        'Chỉ bác sĩ hoặc điều dưỡng của phòng khám mới gọi số / Only doctors and nurses call patients in',
      );
    }
  }

  private callerPractitioner(access: AccessContext | undefined): string | undefined {
    const p = principalOf(access);
    return p?.kind === 'staff' ? p.practitionerId : undefined;
  }

  /**
   * Reads, changes and writes the Encounter of a queue row (If-Match on the version read, retried when someone
   * else wrote it in between), after the gate allows the update.
   */
  private async updateEncounter(
    tx: Queryable,
    id: string,
    access: AccessContext | undefined,
    change: (e: Encounter) => void,
  ): Promise<Encounter> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const s = await this.store.readWithCompartment('Encounter', id, tx);
      const e = JSON.parse(s.content as string) as Encounter;
      access?.check('update', 'Encounter', e, s.patientIds);
      change(e);
      try {
        return (await this.store.update(e, { ifMatch: s.version }, tx)).resource as Encounter;
      } catch (err) {
        if (statusOf(err) !== 412) {
          throw err;
        }
      }
    }
    throw outcomes.conflict('Lượt khám đang được cập nhật; thử lại / The encounter is being updated; try again');
  }

  /** The Encounter of a row, or undefined when it was deleted or closed (finished, cancelled) outside the queue. */
  private async openEncounter(tx: Queryable, id: string): Promise<Encounter | undefined> {
    try {
      const e = JSON.parse((await this.store.read('Encounter', id, tx)).content as string) as Encounter;
      return CLOSED_ENCOUNTER.has(e.status) ? undefined : e;
    } catch (err) {
      if (statusOf(err) === 404 || statusOf(err) === 410) {
        return undefined;
      }
      throw err;
    }
  }

  private async markDone(tx: Queryable, row: QueueRow): Promise<void> {
    await tx.query(`UPDATE visit_queue SET status = 'done' WHERE encounter_id = $1`, [row.encounter_id]);
  }

  /** Calls the first in line of a room (status in-progress); undefined when nobody is waiting. */
  async callNext(locationId: string, access: AccessContext | undefined, q?: Queryable): Promise<Called | undefined> {
    this.assertMayCall(access);
    return this.run(q, async (tx) => {
      const room = await resolveRoom(this.store, tx, locationId, access);
      assertSameFacility(access, room.facility, room.name);
      const day = this.today();
      const by = this.callerPractitioner(access) ?? null;
      for (let guard = 0; guard < 1000; guard++) {
        const { rows } = await tx.query<QueueRow>(
          `UPDATE visit_queue
              SET status = 'in-progress', called_at = now(), called_by = $4, call_count = call_count + 1
            WHERE encounter_id = (
                    SELECT encounter_id FROM visit_queue
                     WHERE facility = $1 AND location_id = $2 AND day = $3::date AND status IN ('waiting', 'skipped')
                     ORDER BY position
                     LIMIT 1
                       FOR UPDATE SKIP LOCKED)
          RETURNING ${ROW_COLUMNS}`,
          [room.facility, room.id, day, by],
        );
        const row = rows[0];
        if (!row) {
          return undefined;
        }
        if (!(await this.openEncounter(tx, row.encounter_id))) {
          await this.markDone(tx, row); // closed outside the queue (cancelled, finished): take the next one
          continue;
        }
        const encounter = await this.updateEncounter(tx, row.encounter_id, access, (e) => {
          setQueueStatus(e, 'in-progress');
          addAttender(e, by ?? undefined);
        });
        return { encounter, queueNumber: Number(row.number) };
      }
      return undefined;
    });
  }

  /** The queue row of an Encounter, locked; 422 when it is not queued, 409 when the visit is over. */
  private async lockedRow(tx: Queryable, encounterId: string, access: AccessContext | undefined): Promise<QueueRow> {
    const { rows } = await tx.query<QueueRow>(
      `SELECT ${ROW_COLUMNS} FROM visit_queue WHERE encounter_id = $1 FOR UPDATE`,
      [encounterId],
    );
    const row = rows[0];
    if (!row) {
      throw outcomes.unprocessable(
        'Lượt khám này không có trong hàng đợi phòng khám / This encounter is not in a room queue',
      );
    }
    const own = callerFacility(access);
    if (own !== undefined && own !== row.facility) {
      throw outcomes.forbidden('Lượt khám thuộc cơ sở khác / This encounter belongs to another facility');
    }
    if (row.day !== this.today()) {
      throw outcomes.conflict(
        `Số thứ tự này thuộc hàng đợi ngày ${row.day}, không phải hôm nay / This number belongs to the queue of ${row.day}`,
      );
    }
    if (row.status === 'done' || !(await this.openEncounter(tx, encounterId))) {
      throw outcomes.conflict('Lượt khám đã kết thúc / This visit is already over');
    }
    return row;
  }

  /** Sends a patient to the back of the line (status skipped); $call-next reaches them again, $recall at once. */
  async skip(encounterId: string, access: AccessContext | undefined, q?: Queryable): Promise<Called> {
    this.assertMayCall(access);
    return this.run(q, async (tx) => {
      const peek = await tx.query<QueueRow>(`SELECT ${ROW_COLUMNS} FROM visit_queue WHERE encounter_id = $1`, [
        encounterId,
      ]);
      // the counter first, then the row: the same lock order as registration
      const place = peek.rows[0]
        ? await tx.query<{ last_position: number }>(
            `UPDATE visit_queue_counter SET last_position = last_position + 1
              WHERE facility = $1 AND location_id = $2 AND day = $3::date RETURNING last_position`,
            [peek.rows[0].facility, peek.rows[0].location_id, peek.rows[0].day],
          )
        : undefined;
      const row = await this.lockedRow(tx, encounterId, access);
      const position = Number(place?.rows[0]?.last_position);
      await tx.query(`UPDATE visit_queue SET status = 'skipped', position = $2 WHERE encounter_id = $1`, [
        encounterId,
        position,
      ]);
      const encounter = await this.updateEncounter(tx, encounterId, access, (e) => setQueueStatus(e, 'skipped'));
      return { encounter, queueNumber: Number(row.number) };
    });
  }

  /** Calls a skipped or already called number again (status called). */
  async recall(encounterId: string, access: AccessContext | undefined, q?: Queryable): Promise<Called> {
    this.assertMayCall(access);
    return this.run(q, async (tx) => {
      const row = await this.lockedRow(tx, encounterId, access);
      if (row.status === 'waiting') {
        throw outcomes.conflict(
          `Số ${row.number} chưa được gọi; dùng "Gọi tiếp" / Number ${row.number} has not been called yet; use call-next`,
        );
      }
      const by = this.callerPractitioner(access) ?? null;
      await tx.query(
        `UPDATE visit_queue SET status = 'called', called_at = now(), called_by = $2, call_count = call_count + 1
          WHERE encounter_id = $1`,
        [encounterId, by],
      );
      const encounter = await this.updateEncounter(tx, encounterId, access, (e) => {
        setQueueStatus(e, 'called');
        addAttender(e, by ?? undefined);
      });
      return { encounter, queueNumber: Number(row.number) };
    });
  }

  /** Today's rooms of the caller's facility (numbers only): waiting, the current number, the last called. */
  async summary(access: AccessContext | undefined, departmentId?: string): Promise<RoomSummary[]> {
    const facility = callerFacility(access);
    const params: unknown[] = [this.today()];
    let where = 'q.day = $1::date';
    if (facility !== undefined) {
      params.push(facility);
      where += ` AND q.facility = $${params.length}`;
    }
    if (departmentId) {
      params.push(departmentId);
      where += ` AND q.department_id = $${params.length}`;
    }
    const { rows } = await this.store.db.query<{
      location_id: string;
      room_code: string;
      room_name: string;
      department_name: string | null;
      number: number;
      status: QueueStatus;
      called_ms: string | null;
      open: boolean;
    }>(
      `SELECT q.location_id, q.room_code, q.room_name, q.department_name, q.number, q.status,
              (extract(epoch FROM q.called_at) * 1000)::bigint::text AS called_ms,
              (r.rid IS NOT NULL AND NOT r.deleted
                AND coalesce(r.content::jsonb ->> 'status', '') NOT IN ('finished', 'cancelled', 'entered-in-error'))
                AS open
         FROM visit_queue q
         LEFT JOIN resource r ON r.type = 'Encounter' AND r.id = q.encounter_id
        WHERE ${where}
        ORDER BY q.room_code, q.location_id, q.number`,
      params,
    );
    const rooms = new Map<string, RoomSummary & { called: { n: number; at: number; current: boolean }[] }>();
    for (const r of rows) {
      let room = rooms.get(r.location_id);
      if (!room) {
        room = {
          locationId: r.location_id,
          name: r.room_name,
          departmentName: r.department_name ?? undefined,
          waiting: 0,
          recentCalled: [],
          called: [],
        };
        rooms.set(r.location_id, room);
      }
      const open = r.open && r.status !== 'done';
      if (open && (r.status === 'waiting' || r.status === 'skipped')) {
        room.waiting++;
      }
      if (r.called_ms) {
        const serving = open && (r.status === 'called' || r.status === 'in-progress');
        room.called.push({ n: Number(r.number), at: Number(r.called_ms), current: serving });
      }
    }
    return [...rooms.values()].map(({ called, ...room }) => {
      called.sort((a, b) => b.at - a.at || b.n - a.n);
      const current = called.find((c) => c.current)?.n;
      const recent = called.filter((c) => c.n !== current).map((c) => c.n);
      return {
        ...room,
        ...(current !== undefined ? { current } : {}),
        recentCalled: recent.slice(0, 3),
      };
    });
  }

  /** Today's line of one room in number order, with the queue status (the table is the truth), gate-filtered. */
  async queue(
    locationId: string,
    access: AccessContext | undefined,
    q?: Queryable,
  ): Promise<{ room: Room; entries: QueueEntry[]; patients: Patient[] }> {
    const db = q ?? this.store.db;
    const room = await resolveRoom(this.store, db, locationId, access);
    assertSameFacility(access, room.facility, room.name);
    const { rows } = await db.query<{
      number: number;
      status: QueueStatus;
      patient_id: string;
      content: string;
      patients: string[] | null;
    }>(
      `SELECT q.number, q.status, q.patient_id, r.content,
              ARRAY(SELECT c.cid FROM compartment c WHERE c.rid = r.rid AND c.ctype = 'Patient') AS patients
         FROM visit_queue q
         JOIN resource r ON r.type = 'Encounter' AND r.id = q.encounter_id AND NOT r.deleted
        WHERE q.facility = $1 AND q.location_id = $2 AND q.day = $3::date
        ORDER BY q.number`,
      [room.facility, room.id, this.today()],
    );
    const entries: QueueEntry[] = [];
    for (const r of rows) {
      const encounter = JSON.parse(r.content) as Encounter;
      if (!allowed(access, 'Encounter', encounter, r.patients ?? [])) {
        continue;
      }
      const status: QueueStatus = CLOSED_ENCOUNTER.has(encounter.status) ? 'done' : r.status;
      if (queueStatusOf(encounter) !== status) {
        setQueueStatus(encounter, status);
      }
      entries.push({ number: Number(r.number), status, encounter, patientId: r.patient_id });
    }
    const ids = [...new Set(entries.map((e) => e.patientId))];
    const patients: Patient[] = [];
    if (ids.length > 0) {
      const found = await db.query<{ id: string; content: string }>(
        `SELECT id, content FROM resource WHERE type = 'Patient' AND id = ANY($1::text[]) AND NOT deleted`,
        [ids],
      );
      const byId = new Map(found.rows.map((p) => [p.id, JSON.parse(p.content) as Patient]));
      for (const id of ids) {
        const p = byId.get(id);
        if (p && allowed(access, 'Patient', p, [id])) {
          patients.push(p);
        }
      }
    }
    return { room, entries, patients };
  }

  /** The rows of a room today (for the demo seed and tests). */
  async roomRows(facility: string, locationId: string, day = this.today()): Promise<QueueRow[]> {
    const { rows } = await this.store.db.query<QueueRow>(
      `SELECT ${ROW_COLUMNS} FROM visit_queue WHERE facility = $1 AND location_id = $2 AND day = $3::date ORDER BY number`,
      [facility, locationId, day],
    );
    return rows;
  }
}

/** The gate's single-resource answer as a yes/no (a search leaves out what the caller may not read). */
function allowed(access: AccessContext | undefined, type: string, resource: Resource, patientIds: string[]): boolean {
  if (!access) {
    return true;
  }
  try {
    access.check('read', type, resource, patientIds);
    return true;
  } catch (err) {
    if (err instanceof OutcomeError) {
      return false;
    }
    throw err;
  }
}

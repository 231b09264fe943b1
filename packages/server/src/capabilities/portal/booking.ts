/**
 * Online booking (M2): a patient takes a seat in a Slot of a Schedule and gets an Appointment with a short booking
 * code and a check-in QR payload that reception scans; cancel and move give the seat back.
 *
 * Capacity: each Slot has a row in `portal_slot` (capacity from the Slot's extension, default 1). Taking a seat is
 * one `UPDATE portal_slot SET booked = booked + 1 WHERE slot_id = $1 AND booked < capacity`: the row lock queues
 * concurrent bookings of the same Slot and only those that still find a seat update a row, so the last seat is won
 * exactly once (and a CHECK keeps `booked <= capacity` whatever happens). The Appointment and the seat are written
 * in one transaction. A full Slot is marked `busy` so searches for free slots skip it.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { Appointment, AppointmentParticipant, Schedule, Slot } from '@medplum/fhirtypes';
import type { Queryable } from '@sen/db';
import { outcome, OutcomeError, outcomes, referenceId } from '@sen/fhir';
import type { FhirStore } from '@sen/store';
import { vietnamDay } from '@sen/vn';
import type { AccessContext } from '../../fhir/types.ts';
import { FACILITY_TAG_SYSTEM } from '../../platform/gate/gate.ts';

export const SLOT_CAPACITY_URL = 'https://sen.health.vn/fhir/StructureDefinition/slot-capacity';
export const BOOKING_CODE_SYSTEM = 'https://sen.health.vn/fhir/sid/booking-code';
/** What the check-in QR carries: this prefix and the booking code (reception's scanner reads it). */
export const CHECKIN_QR_PREFIX = 'SEN-HEN:';
/** Crockford base32 without I, L, O, U: nothing to misread on a phone screen or type wrongly at the desk. */
const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE_LENGTH = 8;

export interface Booked {
  appointment: Appointment;
  code: string;
  checkinQr: string;
}

export function newBookingCode(): string {
  let s = '';
  for (let i = 0; i < CODE_LENGTH; i++) {
    s += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  }
  return s;
}

/** The booking code in a scanned QR payload or as typed (case and spaces forgiven); undefined when malformed. */
export function parseBookingCode(raw: string): string | undefined {
  const text = raw.trim().toUpperCase();
  const code = (text.startsWith(CHECKIN_QR_PREFIX) ? text.slice(CHECKIN_QR_PREFIX.length) : text).replace(/[\s-]/g, '');
  return code.length === CODE_LENGTH && [...code].every((c) => CODE_ALPHABET.includes(c)) ? code : undefined;
}

export function slotCapacity(slot: Slot): number {
  const v = slot.extension?.find((e) => e.url === SLOT_CAPACITY_URL)?.valueInteger;
  return typeof v === 'number' && v > 0 ? v : 1;
}

function conflict(vi: string, en: string): OutcomeError {
  return new OutcomeError(409, outcome('error', 'conflict', `${vi} / ${en}`));
}

export class BookingService {
  readonly store: FhirStore;
  private readonly now: () => Date;

  constructor(store: FhirStore, now: () => Date = () => new Date()) {
    this.store = store;
    this.now = now;
  }

  private async readJson<T>(type: string, id: string, q: Queryable): Promise<{ resource: T; patientIds: string[] }> {
    const s = await this.store.readWithCompartment(type, id, q);
    return { resource: JSON.parse(s.content as string) as T, patientIds: s.patientIds };
  }

  /** Takes a seat in the slot (409 when none is left or the slot is past), under the slot's row lock. */
  private async takeSeat(slot: Slot, q: Queryable): Promise<void> {
    const id = slot.id as string;
    if (slot.status !== 'free' && slot.status !== 'busy') {
      throw conflict('Khung giờ này không nhận đặt lịch', 'This slot is not open for booking');
    }
    if (Date.parse(slot.start) <= this.now().getTime()) {
      throw conflict('Khung giờ này đã qua', 'This slot has already started');
    }
    await q.query(
      `INSERT INTO portal_slot (slot_id, capacity, booked) VALUES ($1, $2, 0) ON CONFLICT (slot_id) DO NOTHING`,
      [id, slotCapacity(slot)],
    );
    const { rows } = await q.query<{ booked: number; capacity: number }>(
      `UPDATE portal_slot SET booked = booked + 1 WHERE slot_id = $1 AND booked < capacity RETURNING booked, capacity`,
      [id],
    );
    if (rows.length === 0) {
      throw conflict('Khung giờ này đã hết chỗ; hãy chọn giờ khác', 'This slot is full; choose another time');
    }
    if (rows[0].booked >= rows[0].capacity && slot.status !== 'busy') {
      await this.store.update({ ...slot, status: 'busy' }, {}, q);
    }
  }

  private async releaseSeat(slotId: string, q: Queryable): Promise<void> {
    const { rows } = await q.query<{ booked: number; capacity: number }>(
      `UPDATE portal_slot SET booked = booked - 1 WHERE slot_id = $1 AND booked > 0 RETURNING booked, capacity`,
      [slotId],
    );
    if (rows.length > 0 && rows[0].booked < rows[0].capacity) {
      const slot = JSON.parse((await this.store.read('Slot', slotId, q)).content as string) as Slot;
      if (slot.status === 'busy') {
        await this.store.update({ ...slot, status: 'free' }, {}, q);
      }
    }
  }

  private async slotAndSchedule(slotId: string, q: Queryable): Promise<{ slot: Slot; schedule: Schedule }> {
    const slot = (await this.readJson<Slot>('Slot', slotId, q)).resource;
    const scheduleId = referenceId(slot.schedule, 'Schedule');
    if (!scheduleId) {
      throw outcomes.badRequest('Khung giờ không thuộc lịch nào / The slot belongs to no schedule');
    }
    const schedule = (await this.readJson<Schedule>('Schedule', scheduleId, q)).resource;
    if (schedule.active === false) {
      throw conflict('Lịch khám này đã ngừng nhận đặt', 'This schedule no longer takes bookings');
    }
    return { slot, schedule };
  }

  /** Books the slot for the patient: one Appointment, one seat, one code; all or nothing. */
  async book(
    input: { slotId: string; patientId: string; reason?: string },
    access: AccessContext | undefined,
    q: Queryable,
  ): Promise<Booked> {
    const { slot, schedule } = await this.slotAndSchedule(input.slotId, q);
    const patient = await this.readJson('Patient', input.patientId, q);
    access?.check('read', 'Patient', patient.resource as never, [input.patientId]);
    const open = await q.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM portal_booking WHERE patient_id = $1 AND slot_id = $2 AND status = 'booked'`,
      [input.patientId, input.slotId],
    );
    if (open.rows[0].n > 0) {
      throw conflict('Bạn đã đặt khung giờ này rồi', 'You have already booked this slot');
    }
    const actors: AppointmentParticipant[] = (schedule.actor ?? []).map((a) => ({
      actor: a,
      required: 'required',
      status: 'accepted',
    }));
    let code = newBookingCode();
    const facility = schedule.meta?.tag?.filter((t) => t.system === FACILITY_TAG_SYSTEM);
    const appointment: Appointment = {
      resourceType: 'Appointment',
      ...(facility?.length ? { meta: { tag: facility } } : {}),
      identifier: [{ system: BOOKING_CODE_SYSTEM, value: code }],
      status: 'booked',
      serviceCategory: schedule.serviceCategory,
      serviceType: schedule.serviceType,
      specialty: schedule.specialty,
      ...(input.reason ? { description: input.reason } : {}),
      start: slot.start,
      end: slot.end,
      created: this.now().toISOString(),
      slot: [{ reference: `Slot/${slot.id}` }],
      participant: [
        {
          actor: { reference: `Patient/${input.patientId}` },
          required: 'required',
          status: 'accepted',
        },
        ...actors,
      ],
    };
    access?.check('create', 'Appointment', appointment, [input.patientId]);
    await this.takeSeat(slot, q);
    // the code is unique (primary key); a collision (1 in 10^12) draws another one instead of failing the booking
    const appointmentId = randomUUID();
    for (let tries = 0; ; tries++) {
      const { rows } = await q.query(
        `INSERT INTO portal_booking (code, appointment_id, slot_id, patient_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT (code) DO NOTHING RETURNING code`,
        [code, appointmentId, slot.id, input.patientId],
      );
      if (rows.length > 0) {
        break;
      }
      if (tries >= 5) {
        throw new Error('no free booking code');
      }
      code = newBookingCode();
    }
    appointment.identifier = [{ system: BOOKING_CODE_SYSTEM, value: code }];
    const stored = (await this.store.create(appointment, q, appointmentId)).resource as Appointment;
    return { appointment: stored, code, checkinQr: `${CHECKIN_QR_PREFIX}${code}` };
  }

  private async booking(
    appointmentId: string,
    q: Queryable,
  ): Promise<{ code: string; slot_id: string; patient_id: string; status: string }> {
    const { rows } = await q.query<{ code: string; slot_id: string; patient_id: string; status: string }>(
      `SELECT code, slot_id, patient_id, status FROM portal_booking WHERE appointment_id = $1 FOR UPDATE`,
      [appointmentId],
    );
    if (!rows[0]) {
      throw outcomes.badRequest('Lịch hẹn này không đặt qua cổng người bệnh / This appointment was not booked online');
    }
    return rows[0];
  }

  /** Cancels a booked appointment and frees its seat. */
  async cancel(appointmentId: string, reason: string | undefined, q: Queryable): Promise<Appointment> {
    const b = await this.booking(appointmentId, q);
    if (b.status !== 'booked') {
      throw conflict('Chỉ huỷ được lịch hẹn đang chờ khám', 'Only a booked appointment can be cancelled');
    }
    const appt = (await this.readJson<Appointment>('Appointment', appointmentId, q)).resource;
    const updated = await this.store.update(
      {
        ...appt,
        status: 'cancelled',
        ...(reason ? { cancelationReason: { text: reason } } : {}),
      },
      {},
      q,
    );
    await q.query(`UPDATE portal_booking SET status = 'cancelled', updated_at = now() WHERE appointment_id = $1`, [
      appointmentId,
    ]);
    await this.releaseSeat(b.slot_id, q);
    return updated.resource as Appointment;
  }

  /** Moves a booked appointment to another slot: the new seat is taken before the old one is given back. */
  async move(appointmentId: string, slotId: string, access: AccessContext | undefined, q: Queryable): Promise<Booked> {
    const b = await this.booking(appointmentId, q);
    if (b.status !== 'booked') {
      throw conflict('Chỉ đổi được lịch hẹn đang chờ khám', 'Only a booked appointment can be moved');
    }
    if (b.slot_id === slotId) {
      throw conflict('Lịch hẹn đã ở khung giờ này', 'The appointment is already in this slot');
    }
    const { slot, schedule } = await this.slotAndSchedule(slotId, q);
    const appt = (await this.readJson<Appointment>('Appointment', appointmentId, q)).resource;
    const moved: Appointment = {
      ...appt,
      start: slot.start,
      end: slot.end,
      slot: [{ reference: `Slot/${slot.id}` }],
      participant: [
        ...(appt.participant ?? []).filter((p) => referenceId(p.actor, 'Patient')),
        ...(schedule.actor ?? []).map((a) => ({
          actor: a,
          required: 'required' as const,
          status: 'accepted' as const,
        })),
      ],
      serviceType: schedule.serviceType ?? appt.serviceType,
      specialty: schedule.specialty ?? appt.specialty,
    };
    access?.check('update', 'Appointment', moved, [b.patient_id]);
    await this.takeSeat(slot, q);
    const updated = await this.store.update(moved, {}, q);
    await q.query(`UPDATE portal_booking SET slot_id = $2, updated_at = now() WHERE appointment_id = $1`, [
      appointmentId,
      slotId,
    ]);
    await this.releaseSeat(b.slot_id, q);
    return {
      appointment: updated.resource as Appointment,
      code: b.code,
      checkinQr: `${CHECKIN_QR_PREFIX}${b.code}`,
    };
  }

  /** Reception scans the QR (or types the code): the appointment becomes `arrived`. */
  async checkIn(rawCode: string, access: AccessContext | undefined, q: Queryable): Promise<Booked> {
    const code = parseBookingCode(rawCode);
    if (!code) {
      throw outcomes.badRequest('Mã đặt lịch không hợp lệ / The booking code is not valid', ['code']);
    }
    const { rows } = await q.query<{ appointment_id: string; status: string; patient_id: string }>(
      `SELECT appointment_id, status, patient_id FROM portal_booking WHERE code = $1 FOR UPDATE`,
      [code],
    );
    const b = rows[0];
    if (!b) {
      throw new OutcomeError(404, outcome('error', 'not-found', 'Không tìm thấy mã đặt lịch / Unknown booking code'));
    }
    const { resource: appt, patientIds } = await this.readJson<Appointment>('Appointment', b.appointment_id, q);
    access?.check('update', 'Appointment', appt, patientIds);
    if (b.status === 'cancelled') {
      throw conflict('Lịch hẹn này đã huỷ', 'This appointment was cancelled');
    }
    if (b.status === 'arrived') {
      throw conflict('Người bệnh đã check-in lịch hẹn này', 'The patient has already checked in');
    }
    const on = appt.start ? vietnamDay(new Date(appt.start)) : undefined;
    if (on && on !== vietnamDay(this.now())) {
      throw conflict(`Lịch hẹn này là ngày ${on}, không phải hôm nay`, `This appointment is on ${on}, not today`);
    }
    const updated = await this.store.update({ ...appt, status: 'arrived' }, {}, q);
    await q.query(`UPDATE portal_booking SET status = 'arrived', updated_at = now() WHERE code = $1`, [code]);
    return {
      appointment: updated.resource as Appointment,
      code,
      checkinQr: `${CHECKIN_QR_PREFIX}${code}`,
    };
  }

  /** The booking codes of appointments (for the portal's list). */
  async codesOf(appointmentIds: readonly string[], q: Queryable): Promise<Map<string, string>> {
    if (appointmentIds.length === 0) {
      return new Map();
    }
    const { rows } = await q.query<{ appointment_id: string; code: string }>(
      `SELECT appointment_id, code FROM portal_booking WHERE appointment_id = ANY($1::text[])`,
      [appointmentIds],
    );
    return new Map(rows.map((r) => [r.appointment_id, r.code]));
  }
}

/**
 * Bookable clinic hours for the demo (the portal's Booking screen): a Schedule per clinic room and its doctor, and
 * 30-minute Slots on the next working days (07:30–11:30 and 13:30–16:30 Vietnam time), each taking a few patients.
 * Idempotent: fixed ids per room and start time; existing Schedules and Slots are left untouched, so a restart only
 * adds the days that came into the window.
 */
import type { Schedule, Slot } from '@medplum/fhirtypes';
import { SLOT_CAPACITY_URL } from '../capabilities/portal/booking.ts';
import type { FhirRouter } from '../fhir/router.ts';
import { DEMO_TAG, demoId } from './demo-builder.ts';

interface DemoSchedule {
  key: string;
  room: string;
  practitioner: string;
  department: string;
  specialty: string;
  capacity: number;
}

/** The rooms and doctors (demo-facility.ts STAFF order: s01, s02 in K01; s05 in K04; s06 in K05). */
const SCHEDULES: DemoSchedule[] = [
  {
    key: 'k01-r2',
    room: demoId('loc', 'K01', 'r2'),
    practitioner: demoId('s', '01'),
    department: 'K01',
    specialty: 'Nội khoa',
    capacity: 3,
  },
  {
    key: 'k01-r3',
    room: demoId('loc', 'K01', 'r3'),
    practitioner: demoId('s', '02'),
    department: 'K01',
    specialty: 'Nội khoa',
    capacity: 3,
  },
  {
    key: 'k04-r1',
    room: demoId('loc', 'K04', 'r1'),
    practitioner: demoId('s', '05'),
    department: 'K04',
    specialty: 'Nhi khoa',
    capacity: 2,
  },
  {
    key: 'k05-r1',
    room: demoId('loc', 'K05', 'r1'),
    practitioner: demoId('s', '06'),
    department: 'K05',
    specialty: 'Sản khoa',
    capacity: 2,
  },
];

const SESSIONS: [number, number][] = [
  [7 * 60 + 30, 11 * 60 + 30],
  [13 * 60 + 30, 16 * 60 + 30],
];
const SLOT_MINUTES = 30;
const VN_OFFSET_MS = 7 * 3_600_000;

/** The next `days` working days (Mon–Sat mornings are common in Vietnamese clinics; here Mon–Fri), from tomorrow. */
function workingDays(now: Date, days: number): string[] {
  const out: string[] = [];
  const d = new Date(now.getTime() + VN_OFFSET_MS);
  while (out.length < days) {
    d.setUTCDate(d.getUTCDate() + 1);
    const dow = d.getUTCDay();
    if (dow !== 0 && dow !== 6) {
      out.push(d.toISOString().slice(0, 10));
    }
  }
  return out;
}

function vnInstant(day: string, minutes: number): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d, 0, minutes) - VN_OFFSET_MS).toISOString();
}

/** Writes the missing Schedules and Slots; returns how many resources were created. */
export async function seedDemoSchedules(
  router: FhirRouter,
  options: { now?: Date; days?: number } = {},
): Promise<number> {
  const store = router.store;
  const db = store.db;
  const present = async (type: string, id: string): Promise<boolean> =>
    (await db.query('SELECT 1 FROM resource WHERE type = $1 AND id = $2', [type, id])).rows.length > 0;
  let created = 0;
  const days = workingDays(options.now ?? new Date(), options.days ?? 5);
  for (const s of SCHEDULES) {
    if (!(await present('Location', s.room)) || !(await present('Practitioner', s.practitioner))) {
      continue; // the demo facility is not seeded (or another one is)
    }
    const scheduleId = demoId('schedule', s.key);
    if (!(await present('Schedule', scheduleId))) {
      const schedule: Schedule = {
        resourceType: 'Schedule',
        meta: { tag: [DEMO_TAG] },
        active: true,
        specialty: [{ text: s.specialty }],
        serviceType: [{ text: 'Khám bệnh' }],
        actor: [{ reference: `Practitioner/${s.practitioner}` }, { reference: `Location/${s.room}` }],
        comment: `Khám theo hẹn — ${s.department}`,
      };
      await store.create(schedule, db, scheduleId);
      created += 1;
    }
    const wanted: { id: string; slot: Slot }[] = [];
    for (const day of days) {
      for (const [from, to] of SESSIONS) {
        for (let m = from; m + SLOT_MINUTES <= to; m += SLOT_MINUTES) {
          const id = demoId('slot', s.key, day.replaceAll('-', ''), String(m));
          wanted.push({
            id,
            slot: {
              resourceType: 'Slot',
              meta: { tag: [DEMO_TAG] },
              extension: [{ url: SLOT_CAPACITY_URL, valueInteger: s.capacity }],
              schedule: { reference: `Schedule/${scheduleId}` },
              status: 'free',
              start: vnInstant(day, m),
              end: vnInstant(day, m + SLOT_MINUTES),
            },
          });
        }
      }
    }
    const { rows } = await db.query<{ id: string }>(
      `SELECT id FROM resource WHERE type = 'Slot' AND id = ANY($1::text[])`,
      [wanted.map((w) => w.id)],
    );
    const have = new Set(rows.map((r) => r.id));
    const missing = wanted.filter((w) => !have.has(w.id));
    if (missing.length > 0) {
      await store.transaction(async (tx) => {
        for (const w of missing) {
          await store.create(w.slot, tx, w.id);
        }
      });
      created += missing.length;
    }
  }
  return created;
}

/**
 * Today's waiting patients for the demo: a few demo patients registered in the clinic rooms of the demo hospital,
 * so a doctor signing in on a fresh `npm start` finds a queue. Registered through the queue service (numbers from
 * the room's counter, Encounters through the store). Idempotent per day: a room that already has a queue today is
 * left alone, so restarting adds nothing.
 */
import type { Patient } from '@medplum/fhirtypes';
import type { VisitType } from '../capabilities/visits/encounter.ts';
import { VisitQueueService } from '../capabilities/visits/service.ts';
import type { FhirRouter } from '../fhir/router.ts';
import { ageOn, DEMO_ID_PREFIX, demoId } from './demo-builder.ts';
import { VISIT_REASONS_ADULT, VISIT_REASONS_CHILD } from './names.ts';
import { vietnamDay } from '@sen/vn';

/** The demo clinic rooms that get a queue: room id, how many patients, children or adults. */
const DEMO_QUEUES: { room: string; patients: number; children: boolean }[] = [
  { room: demoId('loc', 'K01', 'r2'), patients: 4, children: false }, // Phòng khám Nội 1
  { room: demoId('loc', 'K01', 'r3'), patients: 3, children: false }, // Phòng khám Nội 2
  { room: demoId('loc', 'K04', 'r1'), patients: 2, children: true }, // Phòng khám Nhi 1
];
const CHILD_UNDER = 16;
const VISIT_TYPES: readonly VisitType[] = ['bhyt', 'bhyt', 'fee'];

/** Registers the demo patients waiting today; returns how many visits were registered. */
export async function seedDemoQueues(router: FhirRouter, options: { now?: () => Date } = {}): Promise<number> {
  const service = new VisitQueueService(router.store, { now: options.now });
  const db = router.store.db;
  const today = vietnamDay(options.now?.() ?? new Date());
  const { rows } = await db.query<{ id: string; content: string }>(
    `SELECT id, content FROM resource WHERE type = 'Patient' AND id LIKE $1 AND NOT deleted ORDER BY id`,
    [`${DEMO_ID_PREFIX}-p%`],
  );
  const patients = rows.map((r) => ({ id: r.id, patient: JSON.parse(r.content) as Patient }));
  const isChild = (p: Patient): boolean => !!p.birthDate && ageOn(p.birthDate, today) < CHILD_UNDER;
  const used = new Set<string>();
  let registered = 0;
  for (const q of DEMO_QUEUES) {
    const room = await db.query<{ content: string }>(
      `SELECT content FROM resource WHERE type = 'Location' AND id = $1 AND NOT deleted`,
      [q.room],
    );
    if (room.rows.length === 0) {
      continue;
    }
    const started = await db.query(`SELECT 1 FROM visit_queue WHERE location_id = $1 AND day = $2::date LIMIT 1`, [
      q.room,
      today,
    ]);
    if (started.rows.length > 0) {
      continue;
    }
    const chosen = patients.filter((p) => !used.has(p.id) && isChild(p.patient) === q.children).slice(0, q.patients);
    for (const [i, p] of chosen.entries()) {
      used.add(p.id);
      const reasons = q.children ? VISIT_REASONS_CHILD : VISIT_REASONS_ADULT;
      await service.register(
        {
          patientId: p.id,
          locationId: q.room,
          visitType: VISIT_TYPES[i % VISIT_TYPES.length],
          reason: reasons[(registered + i) % reasons.length],
        },
        undefined,
      );
    }
    registered += chosen.length;
  }
  return registered;
}

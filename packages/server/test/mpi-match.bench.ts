/**
 * $match latency over ~3000 patients, through the real HTTP API with the gate on (a signed-in receptionist).
 * Run: node --import tsx packages/server/test/mpi-match.bench.ts [patients] [calls]
 * (TEST_DATABASE_URL=postgres://… for PostgreSQL; PGlite otherwise). Prints the median and p95 in milliseconds.
 */
import type { Patient } from '@medplum/fhirtypes';
import { testEngines } from '@sen/db/testing';
import { makeCccd, VN_CORE_SID } from '@sen/vn';
import {
  FAMILY_NAMES,
  GIVEN_NAMES_FEMALE,
  GIVEN_NAMES_MALE,
  MIDDLE_NAMES_FEMALE,
  MIDDLE_NAMES_MALE,
  STREET_NAMES,
} from '../src/seed/names.ts';
import { createRng } from '../src/seed/prng.ts';
import { fhirFetch, startTestServer } from './harness.ts';
import { staffLogin } from './staff-login.ts';

const PATIENTS = Number(process.argv[2] ?? 3000);
const CALLS = Number(process.argv[3] ?? 200);

function person(rng: ReturnType<typeof createRng>, n: number): Patient {
  const sex = rng.chance(0.5) ? 'male' : 'female';
  const family = rng.weighted(FAMILY_NAMES);
  const middle = rng.pick(sex === 'male' ? MIDDLE_NAMES_MALE : MIDDLE_NAMES_FEMALE);
  const given = rng.pick(sex === 'male' ? GIVEN_NAMES_MALE : GIVEN_NAMES_FEMALE);
  const year = rng.int(1940, 2024);
  const birthDate = `${year}-${String(rng.int(1, 12)).padStart(2, '0')}-${String(rng.int(1, 28)).padStart(2, '0')}`;
  return {
    resourceType: 'Patient',
    identifier: [{ system: VN_CORE_SID.cccd, value: makeCccd('079', sex, year, n) }],
    active: true,
    name: [{ use: 'official', text: `${family} ${middle} ${given}`, family, given: [middle, given] }],
    gender: sex,
    birthDate,
    address: [{ use: 'home', text: `${rng.int(1, 300)} ${rng.pick(STREET_NAMES)}, Thành phố Hồ Chí Minh` }],
  };
}

function strip(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D');
}

const engine = testEngines().at(-1) ?? 'pglite';
const srv = await startTestServer(engine);
try {
  const rng = createRng('mpi-bench');
  const people: Patient[] = [];
  const t0 = Date.now();
  for (let i = 0; i < PATIENTS; i++) {
    const p = person(rng, i);
    people.push(p);
    await srv.store.create(p);
  }
  process.stdout.write(`${engine}: ${PATIENTS} patients stored in ${Date.now() - t0} ms\n`);
  const practitioner = await srv.store.create({ resourceType: 'Practitioner', name: [{ family: 'Bench' }] });
  const who = await staffLogin(srv, {
    username: 'bench.reception',
    practitionerId: practitioner.stored.id,
    roles: ['receptionist'],
    facilityId: 'F1',
  });
  const times: number[] = [];
  let found = 0;
  for (let i = 0; i < CALLS; i++) {
    const p = people[rng.int(0, people.length - 1)];
    // half by name + birth date typed without diacritics, half by ID number
    const resource: Patient =
      i % 2 === 0
        ? {
            resourceType: 'Patient',
            name: [{ text: strip(p.name?.[0]?.text ?? '') }],
            birthDate: p.birthDate,
            gender: p.gender,
          }
        : { resourceType: 'Patient', identifier: p.identifier };
    const start = performance.now();
    const res = await fhirFetch(srv.fhir, 'Patient/$match', {
      method: 'POST',
      headers: { authorization: `Bearer ${who.token}` },
      body: { resourceType: 'Parameters', parameter: [{ name: 'resource', resource }] },
    });
    times.push(performance.now() - start);
    if (res.status !== 200) {
      throw new Error(`$match failed: ${res.status}`);
    }
    if (
      (res.body.entry ?? []).some(
        (e: { resource: Patient }) => e.resource.identifier?.[0]?.value === p.identifier?.[0]?.value,
      )
    ) {
      found++;
    }
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const p95 = times[Math.floor(times.length * 0.95)];
  process.stdout.write(
    `${engine}: $match over ${PATIENTS} patients, ${CALLS} calls: median ${median.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, ` +
      `the right patient returned in ${found}/${CALLS}\n`,
  );
} finally {
  await srv.close();
}

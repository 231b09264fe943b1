import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import { testEngines } from '@sen/db/testing';
import { SEN_SID, vietnamDay } from '@sen/vn';
import { seedDemoQueues } from '../src/seed/demo-queues.ts';
import { seedDemo } from '../src/seed/seed.ts';
import { fhirFetch, type FhirResult, startTestServer, type TestServer } from './harness.ts';
import { SHARED_DIR } from './shared-data.ts';
import { staffLogin } from './staff-login.ts';

const QUEUE_NUMBER_SID = 'https://sen.health.vn/fhir/sid/queue-number';
const QUEUE_NUMBER_EXT = 'https://sen.health.vn/fhir/StructureDefinition/queue-number';
const QUEUE_STATUS_EXT = 'https://sen.health.vn/fhir/StructureDefinition/queue-status';

type P = { name: string; [k: string]: unknown };

function param(body: any, name: string): any {
  return body?.parameter?.find((p: P) => p.name === name);
}

function queueStatus(encounter: any): string | undefined {
  return encounter.extension?.find((x: { url: string }) => x.url === QUEUE_STATUS_EXT)?.valueCode;
}

for (const engine of testEngines()) {
  describe(`visits and clinic-room queues [${engine}]`, () => {
    let srv: TestServer;
    const id: Record<string, string> = {};
    const tok: Record<string, string> = {};
    let patientSeq = 0;

    const mk = async (r: Resource): Promise<string> => (await srv.store.create(r)).stored.id;
    const call = (who: string, path: string, parameter?: P[]): Promise<FhirResult> =>
      fhirFetch(srv.fhir, path, {
        method: parameter ? 'POST' : 'GET',
        headers: { authorization: `Bearer ${tok[who]}` },
        ...(parameter ? { body: { resourceType: 'Parameters', parameter } } : {}),
      });
    const newPatient = async (family = 'Nguyễn'): Promise<string> => {
      patientSeq++;
      return mk({
        resourceType: 'Patient',
        name: [{ family, given: ['Văn', `Bệnh nhân ${patientSeq}`] }],
        gender: 'male',
        birthDate: '1980-01-01',
      } as Resource);
    };
    const room = async (facilityKey: string, code: string, name: string): Promise<string> =>
      mk({
        resourceType: 'Location',
        status: 'active',
        name,
        identifier: [{ system: SEN_SID.location, value: code }],
        physicalType: {
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/location-physical-type', code: 'ro' }],
        },
        managingOrganization: { reference: `Organization/${id[`${facilityKey}-dept`]}` },
      } as Resource);
    const register = (who: string, patientId: string, locationId: string, visitType = 'bhyt'): Promise<FhirResult> =>
      call(who, 'Encounter/$register-visit', [
        { name: 'patient', valueReference: { reference: `Patient/${patientId}` } },
        { name: 'visitType', valueCode: visitType },
        { name: 'reason', valueString: 'Đau đầu, sốt nhẹ' },
        { name: 'location', valueReference: { reference: `Location/${locationId}` } },
      ]);
    const callNext = (who: string, locationId: string): Promise<FhirResult> =>
      call(who, 'Encounter/$call-next', [
        { name: 'location', valueReference: { reference: `Location/${locationId}` } },
      ]);

    before(async () => {
      srv = await startTestServer(engine);
      for (const f of ['a', 'b']) {
        id[f] = await mk({ resourceType: 'Organization', name: `Bệnh viện ${f.toUpperCase()}` } as Resource);
        id[`${f}-dept`] = await mk({
          resourceType: 'Organization',
          name: f === 'a' ? 'Khoa Khám bệnh' : 'Khoa Nội B',
          partOf: { reference: `Organization/${id[f]}` },
        } as Resource);
      }
      const staff: [string, 'receptionist' | 'doctor' | 'nurse', string][] = [
        ['reception', 'receptionist', 'a'],
        ['doctor', 'doctor', 'a'],
        ['nurse', 'nurse', 'a'],
        ['doctorB', 'doctor', 'b'],
      ];
      for (const [key, role, facility] of staff) {
        const practitionerId = await mk({ resourceType: 'Practitioner', name: [{ family: key }] } as Resource);
        const login = await staffLogin(srv, {
          username: `visits-${key}-${engine}`,
          practitionerId,
          roles: [role],
          facilityId: id[facility],
          departmentIds: [id[`${facility}-dept`]],
        });
        tok[key] = login.token;
        id[`pr-${key}`] = practitionerId;
      }
    });
    after(async () => {
      await srv.close();
    });

    it('numbers visits 1, 2, 3 per room per day, and writes an arrived Encounter with the number', async () => {
      const r1 = await room('a', 'K01-P01', 'Phòng khám Nội 1');
      const r2 = await room('a', 'K01-P02', 'Phòng khám Nội 2');
      const day = vietnamDay(new Date());
      const numbers: number[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await register('reception', await newPatient(), r1);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        numbers.push(param(res.body, 'queueNumber').valueInteger);
        assert.equal(param(res.body, 'waitingBefore').valueInteger, i);
        assert.equal(param(res.body, 'roomName').valueString, 'Phòng khám Nội 1');
        assert.equal(param(res.body, 'departmentName').valueString, 'Khoa Khám bệnh');
        assert.equal(param(res.body, 'date').valueDate, day);
        const enc = param(res.body, 'encounter').resource;
        assert.equal(enc.status, 'arrived');
        assert.equal(enc.class.code, 'AMB');
        assert.equal(enc.serviceProvider.reference, `Organization/${id['a-dept']}`);
        assert.equal(enc.location[0].location.reference, `Location/${r1}`);
        assert.deepEqual(
          enc.identifier.find((x: { system: string }) => x.system === QUEUE_NUMBER_SID).value,
          `K01-P01-${day.replaceAll('-', '')}-${i + 1}`,
        );
        assert.equal(enc.extension.find((x: { url: string }) => x.url === QUEUE_NUMBER_EXT).valueInteger, i + 1);
        assert.equal(queueStatus(enc), 'waiting');
        // the Encounter is stored as returned
        const stored = await call('doctor', `Encounter/${enc.id}`);
        assert.equal(stored.status, 200);
        assert.equal(stored.body.identifier[0].value, enc.identifier[0].value);
      }
      assert.deepEqual(numbers, [1, 2, 3]);
      const other = await register('reception', await newPatient(), r2, 'emergency');
      assert.equal(param(other.body, 'queueNumber').valueInteger, 1);
      assert.equal(param(other.body, 'encounter').resource.class.code, 'EMER');
    });

    it('gives 20 concurrent registrations in one room 20 distinct numbers, 1 to 20', async () => {
      const r = await room('a', 'K01-P03', 'Phòng khám Nội 3');
      const patients = await Promise.all(Array.from({ length: 20 }, () => newPatient('Trần')));
      const results = await Promise.all(patients.map((p) => register('reception', p, r)));
      for (const res of results) {
        assert.equal(res.status, 200, JSON.stringify(res.body));
      }
      const numbers = results.map((res) => param(res.body, 'queueNumber').valueInteger).sort((a, b) => a - b);
      assert.deepEqual(
        numbers,
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      const encounters = new Set(results.map((res) => param(res.body, 'encounter').resource.id));
      assert.equal(encounters.size, 20);
    });

    it('refuses a second registration of a waiting patient in the same room today with 409', async () => {
      const r = await room('a', 'K01-P04', 'Phòng khám Ngoại');
      const other = await room('a', 'K01-P05', 'Phòng khám Nhi');
      const p = await newPatient();
      assert.equal((await register('reception', p, r)).status, 200);
      const again = await register('reception', p, r);
      assert.equal(again.status, 409);
      assert.equal(again.body.resourceType, 'OperationOutcome');
      assert.equal(again.body.issue[0].code, 'conflict');
      assert.match(again.body.issue[0].diagnostics, /đã có số 1/);
      // the refused registration gave its number back
      const next = await register('reception', await newPatient(), r);
      assert.equal(param(next.body, 'queueNumber').valueInteger, 2);
      // another room is another line
      assert.equal((await register('reception', p, other)).status, 200);
      // and twice at once: exactly one gets in
      const q = await newPatient();
      const both = await Promise.all([register('reception', q, other), register('reception', q, other)]);
      assert.deepEqual(both.map((b) => b.status).sort(), [200, 409]);
    });

    it('answers bad input with 400 and unknown resources with 404', async () => {
      const r = await room('a', 'K01-P06', 'Phòng khám Sản');
      const p = await newPatient();
      const noPatient = await call('reception', 'Encounter/$register-visit', [
        { name: 'visitType', valueCode: 'fee' },
        { name: 'location', valueReference: { reference: `Location/${r}` } },
      ]);
      assert.equal(noPatient.status, 400);
      assert.match(noPatient.body.issue[0].diagnostics, /patient/);
      const badType = await register('reception', p, r, 'vip');
      assert.equal(badType.status, 400);
      assert.match(badType.body.issue[0].diagnostics, /bhyt, fee/);
      const unknownRoom = await register('reception', p, 'no-such-room');
      assert.equal(unknownRoom.status, 404);
      const unknownPatient = await register('reception', 'no-such-patient', r);
      assert.equal(unknownPatient.status, 404);
      const ward = await mk({
        resourceType: 'Location',
        status: 'active',
        name: 'Khoa Khám bệnh',
        physicalType: {
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/location-physical-type', code: 'wa' }],
        },
        managingOrganization: { reference: `Organization/${id['a-dept']}` },
      } as Resource);
      const notARoom = await register('reception', p, ward);
      assert.equal(notARoom.status, 422);
      assert.match(notARoom.body.issue[0].diagnostics, /không phải là một phòng/);
      const wrongType = await call('reception', 'Encounter/$register-visit', [
        { name: 'patient', valueReference: { reference: `Patient/${p}` } },
        { name: 'visitType', valueCode: 'fee' },
        { name: 'location', valueReference: { reference: `Organization/${id['a-dept']}` } },
      ]);
      assert.equal(wrongType.status, 400);
    });

    it('gives two concurrent $call-next calls different patients, in line order, and says when nobody waits', async () => {
      const r = await room('a', 'K01-P07', 'Phòng khám Nội 4');
      const registered: string[] = [];
      for (let i = 0; i < 3; i++) {
        registered.push(param((await register('reception', await newPatient(), r)).body, 'encounter').resource.id);
      }
      const [a, b] = await Promise.all([callNext('doctor', r), callNext('nurse', r)]);
      assert.equal(a.status, 200, JSON.stringify(a.body));
      assert.equal(b.status, 200, JSON.stringify(b.body));
      const ea = param(a.body, 'encounter').resource;
      const eb = param(b.body, 'encounter').resource;
      assert.notEqual(ea.id, eb.id);
      assert.deepEqual(
        [param(a.body, 'queueNumber').valueInteger, param(b.body, 'queueNumber').valueInteger].sort(),
        [1, 2],
      );
      for (const e of [ea, eb]) {
        assert.equal(e.status, 'in-progress');
        assert.equal(queueStatus(e), 'in-progress');
      }
      const third = await callNext('doctor', r);
      assert.equal(param(third.body, 'encounter').resource.id, registered[2]);
      assert.equal(
        param(third.body, 'encounter').resource.participant[0].individual.reference,
        `Practitioner/${id['pr-doctor']}`,
      );
      const none = await callNext('doctor', r);
      assert.equal(none.status, 200);
      assert.equal(param(none.body, 'encounter'), undefined);
    });

    it('skips a patient to the back of the line and recalls them', async () => {
      const r = await room('a', 'K01-P08', 'Phòng khám Nội 5');
      const enc: string[] = [];
      for (let i = 0; i < 3; i++) {
        enc.push(param((await register('reception', await newPatient(), r)).body, 'encounter').resource.id);
      }
      const first = await callNext('doctor', r);
      assert.equal(param(first.body, 'encounter').resource.id, enc[0]);
      const skipped = await call('doctor', `Encounter/${enc[0]}/$skip`, []);
      assert.equal(skipped.status, 200, JSON.stringify(skipped.body));
      assert.equal(queueStatus(param(skipped.body, 'encounter').resource), 'skipped');
      assert.equal(param(skipped.body, 'encounter').resource.status, 'arrived');
      // number 2 and 3 come first, then the skipped number 1
      const order: number[] = [];
      for (let i = 0; i < 3; i++) {
        order.push(param((await callNext('doctor', r)).body, 'queueNumber').valueInteger);
      }
      assert.deepEqual(order, [2, 3, 1]);
      // skip number 2, then recall it out of turn
      await call('doctor', `Encounter/${enc[1]}/$skip`, []);
      const recalled = await call('nurse', `Encounter/${enc[1]}/$recall`, []);
      assert.equal(recalled.status, 200, JSON.stringify(recalled.body));
      assert.equal(queueStatus(param(recalled.body, 'encounter').resource), 'called');
      assert.equal(param(recalled.body, 'encounter').resource.status, 'in-progress');
      assert.equal(param(recalled.body, 'queueNumber').valueInteger, 2);
      // a waiting number cannot be recalled (it has not been called), and a finished visit cannot be skipped
      const waiting = param((await register('reception', await newPatient(), r)).body, 'encounter').resource;
      assert.equal((await call('doctor', `Encounter/${waiting.id}/$recall`, [])).status, 409);
      const stored = (await call('doctor', `Encounter/${enc[2]}`)).body;
      const finished = await fhirFetch(srv.fhir, `Encounter/${enc[2]}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${tok.doctor}` },
        body: { ...stored, status: 'finished' },
      });
      assert.equal(finished.status, 200);
      assert.equal((await call('doctor', `Encounter/${enc[2]}/$skip`, [])).status, 409);
      // the queue shows the table's statuses, with the finished visit done, in number order, patients included
      const line = await call('doctor', `Encounter/$queue?location=Location/${r}`);
      assert.equal(line.status, 200);
      const encounters = line.body.entry.filter((e: any) => e.search.mode === 'match').map((e: any) => e.resource);
      assert.deepEqual(
        encounters.map((e: any) => [
          e.extension.find((x: any) => x.url === QUEUE_NUMBER_EXT).valueInteger,
          queueStatus(e),
        ]),
        [
          [1, 'in-progress'],
          [2, 'called'],
          [3, 'done'],
          [4, 'waiting'],
        ],
      );
      const included = line.body.entry.filter((e: any) => e.search.mode === 'include').map((e: any) => e.resource);
      assert.equal(included.length, 4);
      assert.ok(included.every((p: any) => p.resourceType === 'Patient'));
    });

    it('summarises the rooms with numbers only, no names', async () => {
      const r = await room('a', 'K01-P09', 'Phòng khám Mắt');
      for (let i = 0; i < 5; i++) {
        await register('reception', await newPatient('Hoàng'), r);
      }
      await callNext('doctor', r);
      await callNext('doctor', r);
      const res = await call('reception', 'Location/$queue-summary');
      assert.equal(res.status, 200);
      const rooms = res.body.parameter.filter((p: P) => p.name === 'room');
      const mine = rooms.find(
        (x: any) => param({ parameter: x.part }, 'location').valueReference.reference === `Location/${r}`,
      );
      assert.ok(mine, 'the room is listed');
      const parts = { parameter: mine.part };
      assert.equal(param(parts, 'name').valueString, 'Phòng khám Mắt');
      assert.equal(param(parts, 'departmentName').valueString, 'Khoa Khám bệnh');
      assert.equal(param(parts, 'waiting').valueInteger, 3);
      assert.equal(param(parts, 'current').valueInteger, 2);
      assert.deepEqual(
        mine.part.filter((p: P) => p.name === 'recentCalled').map((p: any) => p.valueInteger),
        [1],
      );
      const text = JSON.stringify(res.body);
      assert.doesNotMatch(text, /Hoàng|Nguyễn|Trần|Bệnh nhân|Patient\//);
      // the other facility's summary does not list this facility's rooms
      const b = await call('doctorB', 'Location/$queue-summary');
      assert.equal(b.status, 200);
      assert.ok(!JSON.stringify(b.body).includes(r));
      // by department
      const dept = await call('reception', `Location/$queue-summary?department=Organization/${id['b-dept']}`);
      assert.equal((dept.body.parameter ?? []).length, 0);
    });

    it('lets the receptionist register but not call patients in (403)', async () => {
      const r = await room('a', 'K01-P10', 'Phòng khám Da liễu');
      const reg = await register('reception', await newPatient(), r);
      assert.equal(reg.status, 200);
      const refused = await callNext('reception', r);
      assert.equal(refused.status, 403);
      assert.equal(refused.body.issue[0].code, 'forbidden');
      const enc = param(reg.body, 'encounter').resource.id;
      assert.equal((await call('reception', `Encounter/${enc}/$skip`, [])).status, 403);
      // the patient is still first in line for the doctor
      assert.equal(param((await callNext('doctor', r)).body, 'encounter').resource.id, enc);
    });

    it('refuses a doctor of another facility: no calling, no queue, no skipping', async () => {
      const r = await room('a', 'K01-P11', 'Phòng khám Tai Mũi Họng');
      const enc = param((await register('reception', await newPatient(), r)).body, 'encounter').resource.id;
      const callB = await callNext('doctorB', r);
      assert.equal(callB.status, 403);
      assert.match(callB.body.issue[0].diagnostics, /cơ sở khác/);
      assert.equal((await call('doctorB', `Encounter/$queue?location=${r}`)).status, 403);
      assert.equal((await call('doctorB', `Encounter/${enc}/$skip`, [])).status, 404);
      assert.equal((await call('doctorB', `Encounter/${enc}`)).status, 404);
      // nor register a visit in this facility's room
      const p = await newPatient();
      assert.equal((await register('doctorB', p, r)).status, 403);
      // the patient is still waiting for this facility's doctor
      assert.equal(param((await callNext('doctor', r)).body, 'encounter').resource.id, enc);
    });

    it('seeds the demo clinic rooms with patients waiting today, once a day', async () => {
      const demo = await startTestServer(engine);
      try {
        await seedDemo(demo.router, { sharedDir: SHARED_DIR, patients: 20, catalogs: false });
        const summary = await fhirFetch(demo.fhir, 'Location/$queue-summary');
        assert.equal(summary.status, 200);
        const rooms = Object.fromEntries(
          summary.body.parameter.map((r: any) => [
            param({ parameter: r.part }, 'name').valueString,
            param({ parameter: r.part }, 'waiting').valueInteger,
          ]),
        );
        assert.equal(rooms['Phòng khám Nội 1'], 4);
        assert.equal(rooms['Phòng khám Nội 2'], 3);
        const line = await fhirFetch(demo.fhir, 'Encounter/$queue?location=Location/sen-demo-loc-k01-r2');
        const numbers = line.body.entry
          .filter((e: any) => e.search.mode === 'match')
          .map((e: any) => e.resource.extension.find((x: any) => x.url === QUEUE_NUMBER_EXT).valueInteger);
        assert.deepEqual(numbers, [1, 2, 3, 4]);
        assert.equal(line.body.entry.filter((e: any) => e.search.mode === 'include').length, 4);
        // seeding again the same day registers nobody
        assert.equal(await seedDemoQueues(demo.router), 0);
        await seedDemo(demo.router, { sharedDir: SHARED_DIR, patients: 20, catalogs: false });
        const again = await fhirFetch(demo.fhir, 'Location/$queue-summary');
        assert.deepEqual(again.body, summary.body);
      } finally {
        await demo.close();
      }
    });
  });
}

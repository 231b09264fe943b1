import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Coverage, Patient, Resource } from '@medplum/fhirtypes';
import { testEngines } from '@sen/db/testing';
import { makeCccd, parseCccdQr, SEN_SID, VN_CORE_SID } from '@sen/vn';
import { demoBhytCards, demoNewcomers } from '../src/capabilities/coverage/demo-cards.ts';
import { coverageOf } from '../src/capabilities/coverage/plugin.ts';
import { BHYT_EXT } from '../src/capabilities/coverage/service.ts';
import { type BhytSimulator, startBhytSimulator } from '../src/capabilities/coverage/simulator.ts';
import { MATCH_GRADE_URL } from '../src/capabilities/mpi/scoring.ts';
import { buildDemoBundle } from '../src/seed/demo-data.ts';
import { loadAdminUnits } from '../src/seed/admin-units.ts';
import { type FhirResult, fhirFetch, startTestServer, type TestServer } from './harness.ts';
import { SHARED_DIR } from './shared-data.ts';
import { type StaffLogin, staffLogin } from './staff-login.ts';

const CCCD = VN_CORE_SID.cccd;
const CMND = VN_CORE_SID.cmnd;
const [LAN, DUC, BAO, MAI] = demoNewcomers();

function patientFromQr(qr: string): Patient {
  const r = parseCccdQr(qr);
  assert.equal(r.ok, true, 'the demo QR parses');
  if (!r.ok) {
    throw new Error('unreachable');
  }
  const c = r.card;
  const [family, ...given] = c.name.split(' ');
  return {
    resourceType: 'Patient',
    identifier: [
      { use: 'official', system: CCCD, value: c.idNumber },
      ...(c.oldIdNumber ? [{ use: 'old' as const, system: CMND, value: c.oldIdNumber }] : []),
    ],
    active: true,
    name: [{ use: 'official', text: c.name, family, given }],
    gender: c.sex,
    birthDate: c.birthDate,
    address: [{ use: 'home', text: c.address, country: 'VN' }],
  };
}

function param(body: any, name: string): any {
  return body.parameter?.find((p: { name: string }) => p.name === name);
}

for (const engine of testEngines()) {
  describe(`reception: CCCD, master patient index and BHYT check, end to end [${engine}]`, () => {
    let srv: TestServer;
    let sim: BhytSimulator;
    let reception: StaffLogin;
    let head: StaffLogin;
    let doctor: StaffLogin;
    const as = (who: StaffLogin): Record<string, string> => ({ authorization: `Bearer ${who.token}` });
    const op = (who: StaffLogin, path: string, parameter: unknown[]): Promise<FhirResult> =>
      fhirFetch(srv.fhir, path, { method: 'POST', headers: as(who), body: { resourceType: 'Parameters', parameter } });
    const match = (who: StaffLogin, resource: Patient, count?: number): Promise<FhirResult<Bundle>> =>
      op(who, 'Patient/$match', [
        { name: 'resource', resource },
        ...(count ? [{ name: 'count', valueInteger: count }] : []),
      ]) as Promise<FhirResult<Bundle>>;
    const check = (who: StaffLogin, cardNumber: string, extra: unknown[] = []): Promise<FhirResult> =>
      op(who, 'Coverage/$bhyt-check', [{ name: 'cardNumber', valueString: cardNumber }, ...extra]);
    const ids: Record<string, string> = {};

    before(async () => {
      sim = await startBhytSimulator({ cards: () => demoBhytCards() });
      srv = await startTestServer(engine, {
        config: { bhyt: { gatewayUrl: sim.url, timeoutMs: 400, recheckIntervalMs: 0 } },
      });
      const mk = async (r: Resource): Promise<string> => (await srv.store.create(r)).stored.id;
      const login = async (
        username: string,
        role: 'receptionist' | 'department-head' | 'doctor',
      ): Promise<StaffLogin> =>
        staffLogin(srv, {
          username,
          practitionerId: await mk({ resourceType: 'Practitioner', name: [{ family: username }] } as Resource),
          roles: [role],
          facilityId: 'F1',
          departmentIds: ['K01'],
        });
      reception = await login('tiepdon.an', 'receptionist');
      head = await login('truongkhoa.binh', 'department-head');
      doctor = await login('bacsi.chi', 'doctor');
    });
    after(async () => {
      await srv?.close();
      await sim?.close();
    });

    it('lets a receptionist register a newcomer from the card QR, found by the CCCD identifier search', async () => {
      const created = await fhirFetch(srv.fhir, 'Patient', {
        method: 'POST',
        headers: as(reception),
        body: patientFromQr(LAN.qr),
      });
      assert.equal(created.status, 201);
      ids.lan = created.body.id;
      const found = await fhirFetch(srv.fhir, `Patient?identifier=${encodeURIComponent(`${CCCD}|${LAN.idNumber}`)}`, {
        headers: as(reception),
      });
      assert.equal(found.status, 200);
      assert.deepEqual(
        found.body.entry.map((e: { resource: Patient }) => e.resource.id),
        [ids.lan],
      );
      assert.equal(found.body.entry[0].resource.birthDate, '1992-05-14');
    });

    it('keeps an old ID number as an identifier (use old, period end) that search and $match both find', async () => {
      const oldNumber = makeCccd('036', 'male', 1958, 111);
      const p = patientFromQr(DUC.qr);
      p.identifier?.push({ use: 'old', system: CCCD, value: oldNumber, period: { end: '2024-06-30' } });
      const created = await fhirFetch(srv.fhir, 'Patient', { method: 'POST', headers: as(reception), body: p });
      assert.equal(created.status, 201);
      ids.duc = created.body.id;
      for (const value of [oldNumber, DUC.oldIdNumber as string]) {
        const system = value.length === 9 ? CMND : CCCD;
        const s = await fhirFetch(srv.fhir, `Patient?identifier=${encodeURIComponent(`${system}|${value}`)}`, {
          headers: as(reception),
        });
        assert.deepEqual(
          s.body.entry?.map((e: { resource: Patient }) => e.resource.id),
          [ids.duc],
        );
      }
      const m = await match(reception, {
        resourceType: 'Patient',
        identifier: [{ system: CCCD, value: oldNumber }],
      });
      assert.equal(m.status, 200);
      assert.equal(m.body.entry?.[0]?.resource?.id, ids.duc);
      assert.equal(m.body.entry?.[0]?.search?.score, 1);
      assert.equal(m.body.entry?.[0]?.search?.extension?.[0]?.valueCode, 'certain');
    });

    it('$match: an exact CCCD is certain; a name typed without diacritics plus birth date and sex is probable', async () => {
      const exact = await match(reception, {
        resourceType: 'Patient',
        identifier: [{ system: CCCD, value: LAN.idNumber }],
      });
      assert.equal(exact.status, 200);
      assert.equal(exact.body.type, 'searchset');
      const e0 = exact.body.entry?.[0];
      assert.equal(e0?.resource?.id, ids.lan);
      assert.equal(e0?.search?.mode, 'match');
      assert.equal(e0?.search?.score, 1);
      assert.deepEqual(e0?.search?.extension, [{ url: MATCH_GRADE_URL, valueCode: 'certain' }]);

      const typed = await match(reception, {
        resourceType: 'Patient',
        name: [{ family: 'LE', given: ['Thi Thu', 'Ha'] }],
        birthDate: '1992-05-14',
        gender: 'female',
        address: [{ text: 'so 8 ngo 45 pho hao nam, phuong o cho dua, ha noi' }],
      });
      assert.equal(typed.status, 200);
      const t0 = typed.body.entry?.[0];
      assert.equal(t0?.resource?.id, ids.lan);
      assert.ok((t0?.search?.score ?? 0) >= 0.85 && (t0?.search?.score ?? 0) < 1, `score ${t0?.search?.score}`);
      assert.equal(t0?.search?.extension?.[0]?.valueCode, 'probable');

      // a letter of the name and a digit of the birth date mistyped, no address: still offered, as possible
      const typo = await match(reception, {
        resourceType: 'Patient',
        name: [{ text: 'Le Thi Thu Hoa' }],
        birthDate: '1992-05-17',
        gender: 'female',
      });
      const y0 = typo.body.entry?.[0];
      assert.equal(y0?.resource?.id, ids.lan);
      assert.equal(y0?.search?.extension?.[0]?.valueCode, 'possible');

      // someone else entirely: no match
      const other = await match(reception, {
        resourceType: 'Patient',
        name: [{ text: 'Hoàng Văn Nam' }],
        birthDate: '1992-05-14',
        gender: 'male',
      });
      assert.equal(other.status, 200);
      assert.deepEqual(other.body.entry ?? [], []);
    });

    it('$match refuses a call without a Patient or without anything to match on (400)', async () => {
      const none = await op(reception, 'Patient/$match', [{ name: 'count', valueInteger: 3 }]);
      assert.equal(none.status, 400);
      assert.equal(none.body.resourceType, 'OperationOutcome');
      const empty = await match(reception, { resourceType: 'Patient', gender: 'female' });
      assert.equal(empty.status, 400);
      assert.match((empty.body as unknown as { issue: { diagnostics: string }[] }).issue[0].diagnostics, /ngày sinh/);
    });

    it('$bhyt-check verifies a card and writes the Coverage of the patient (VN Core BHYT identifier, period, level)', async () => {
      const r = await check(reception, LAN.cardNumber, [
        { name: 'patient', valueReference: { reference: `Patient/${ids.lan}` } },
      ]);
      assert.equal(r.status, 200);
      assert.equal(param(r.body, 'status').valueCode, 'verified');
      assert.match(param(r.body, 'message').valueString, /hợp lệ/);
      assert.equal(param(r.body, 'benefitLevel').valueInteger, 4);
      const year = new Date().getUTCFullYear();
      assert.equal(param(r.body, 'validFrom').valueDate, `${year}-01-01`);
      assert.equal(param(r.body, 'validTo').valueDate, `${year}-12-31`);
      const cov = param(r.body, 'coverage').resource as Coverage;
      assert.equal(cov.beneficiary.reference, `Patient/${ids.lan}`);
      assert.deepEqual(
        cov.identifier?.find((i) => i.system === VN_CORE_SID.bhyt),
        { use: 'official', system: VN_CORE_SID.bhyt, value: LAN.cardNumber },
      );
      assert.equal(cov.identifier?.find((i) => i.system === SEN_SID.bhxh)?.value, LAN.bhxhNumber);
      assert.deepEqual(cov.period, { start: `${year}-01-01`, end: `${year}-12-31` });
      assert.equal(cov.extension?.find((e) => e.url === BHYT_EXT.verification)?.valueCode, 'verified');
      assert.equal(cov.extension?.find((e) => e.url === BHYT_EXT.benefitLevel)?.valueInteger, 4);
      assert.equal(cov.payor[0].display, 'Bảo hiểm xã hội Việt Nam');
      // stored: found by the patient and the card number
      const s = await fhirFetch(
        srv.fhir,
        `Coverage?beneficiary=Patient/${ids.lan}&identifier=${encodeURIComponent(`${VN_CORE_SID.bhyt}|${LAN.cardNumber}`)}`,
        { headers: as(reception) },
      );
      assert.equal(s.body.entry?.length, 1);
      assert.equal(s.body.entry[0].resource.id, cov.id);
      // a second check updates the same Coverage (a new version), never a duplicate
      const again = await check(reception, LAN.bhxhNumber, [
        { name: 'patient', valueReference: { reference: `Patient/${ids.lan}` } },
      ]);
      assert.equal(param(again.body, 'status').valueCode, 'verified');
      const cov2 = param(again.body, 'coverage').resource as Coverage;
      assert.equal(cov2.id, cov.id);
      assert.equal(cov2.meta?.versionId, '2');
    });

    it('$bhyt-check answers invalid (with the reason) for a malformed card, not-found and expired from the gateway', async () => {
      const bad = await check(reception, 'XX4797931234567');
      assert.equal(bad.status, 200);
      assert.equal(param(bad.body, 'status').valueCode, 'invalid');
      assert.match(param(bad.body, 'message').valueString, /Mã đối tượng/);
      assert.equal(param(bad.body, 'coverage'), undefined);
      const short = await check(reception, '12345', [
        { name: 'patient', valueReference: { reference: `Patient/${ids.lan}` } },
      ]);
      assert.equal(param(short.body, 'status').valueCode, 'invalid');
      assert.match(param(short.body, 'message').valueString, /15 ký tự/);
      assert.equal(param(short.body, 'coverage'), undefined);

      const unknown = await check(reception, 'DN4797999999999');
      assert.equal(param(unknown.body, 'status').valueCode, 'not-found');

      const expired = await check(reception, MAI.cardNumber, [
        { name: 'name', valueString: MAI.name },
        { name: 'birthDate', valueDate: MAI.birthDate },
      ]);
      assert.equal(param(expired.body, 'status').valueCode, 'expired');
      assert.match(param(expired.body, 'message').valueString, /hết hạn/);

      const wrongPerson = await check(reception, BAO.cardNumber, [
        { name: 'name', valueString: 'Trần Gia Huy' },
        { name: 'birthDate', valueDate: BAO.birthDate },
      ]);
      assert.equal(param(wrongPerson.body, 'status').valueCode, 'invalid');
      assert.match(param(wrongPerson.body, 'message').valueString, /không khớp/);

      const missing = await check(reception, '  ');
      assert.equal(missing.status, 400);
      const badDate = await check(reception, LAN.cardNumber, [{ name: 'birthDate', valueString: '14/05/1992' }]);
      assert.equal(badDate.status, 400);
    });

    it('gateway down → unverified and queued; the recheck worker verifies the Coverage once the gateway is back', async () => {
      const p = patientFromQr(BAO.qr);
      const created = await fhirFetch(srv.fhir, 'Patient', { method: 'POST', headers: as(reception), body: p });
      ids.bao = created.body.id;
      sim.setDown(true);
      const r = await check(reception, BAO.cardNumber, [
        { name: 'patient', valueReference: { reference: `Patient/${ids.bao}` } },
      ]);
      assert.equal(r.status, 200);
      assert.equal(param(r.body, 'status').valueCode, 'unverified');
      assert.match(param(r.body, 'message').valueString, /kiểm tra lại/);
      assert.equal(param(r.body, 'benefitLevel').valueInteger, 1); // from the card code itself
      const cov = param(r.body, 'coverage').resource as Coverage;
      assert.equal(cov.extension?.find((e) => e.url === BHYT_EXT.verification)?.valueCode, 'unverified');
      assert.equal(cov.period, undefined);
      const queued = await srv.store.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM bhyt_recheck WHERE coverage_id = $1 AND done_at IS NULL',
        [cov.id],
      );
      assert.equal(queued.rows[0].n, 1);

      const worker = coverageOf(srv.router)?.worker;
      assert.ok(worker);
      const stillDown = await worker.runOnce();
      assert.equal(stillDown.stillDown, 1);
      assert.equal(
        (await fhirFetch(srv.fhir, `Coverage/${cov.id}`, { headers: as(reception) })).body.meta.versionId,
        '1',
      );

      sim.setDown(false);
      // due now (a minute back: the database clock has microseconds, the worker's JavaScript clock milliseconds)
      await srv.store.db.query(
        "UPDATE bhyt_recheck SET next_attempt_at = now() - interval '1 minute' WHERE coverage_id = $1",
        [cov.id],
      );
      const back = await worker.runOnce();
      assert.equal(back.resolved, 1);
      const after = await fhirFetch(srv.fhir, `Coverage/${cov.id}`, { headers: as(reception) });
      assert.equal(after.body.meta.versionId, '2');
      assert.equal(
        after.body.extension.find((e: { url: string }) => e.url === BHYT_EXT.verification).valueCode,
        'verified',
      );
      const year = new Date().getUTCFullYear();
      assert.deepEqual(after.body.period, { start: `${year}-01-01`, end: `${year}-12-31` });
      const done = await srv.store.db.query<{ result: string }>(
        'SELECT result FROM bhyt_recheck WHERE coverage_id = $1',
        [cov.id],
      );
      assert.deepEqual(
        done.rows.map((x) => x.result),
        ['verified'],
      );
    });

    it('a gateway slower than the timeout gives unverified too', async () => {
      sim.setDelay(1200);
      try {
        const t0 = Date.now();
        const r = await check(reception, DUC.cardNumber, [{ name: 'name', valueString: DUC.name }]);
        assert.equal(param(r.body, 'status').valueCode, 'unverified');
        assert.ok(Date.now() - t0 < 1100, 'answered at the timeout, not after the gateway');
      } finally {
        sim.setDelay(0);
      }
    });

    it('$merge keeps every reference and version; refused for other roles, into itself and when already merged', async () => {
      const dup = patientFromQr(LAN.qr);
      dup.identifier = [{ system: SEN_SID.patient, value: 'BN-DUP-1' }];
      dup.name = [{ text: 'Le Thi Thu Ha' }];
      const source = await fhirFetch(srv.fhir, 'Patient', { method: 'POST', headers: as(reception), body: dup });
      ids.dup = source.body.id;
      const enc = await srv.store.create({
        resourceType: 'Encounter',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        subject: { reference: `Patient/${ids.dup}` },
      } as Resource);
      const obs = await srv.store.create({
        resourceType: 'Observation',
        status: 'final',
        code: { text: 'Mạch' },
        subject: { reference: `${srv.fhir}/Patient/${ids.dup}` },
        encounter: { reference: `Encounter/${enc.stored.id}` },
      } as Resource);
      const merge = (who: StaffLogin, s: string, t: string): Promise<FhirResult> =>
        op(who, 'Patient/$merge', [
          { name: 'source-patient', valueReference: { reference: `Patient/${s}` } },
          { name: 'target-patient', valueReference: { reference: `Patient/${t}` } },
        ]);

      const byReception = await merge(reception, ids.dup, ids.lan);
      assert.equal(byReception.status, 403);
      assert.match(byReception.body.issue[0].diagnostics, /trưởng khoa/);
      assert.equal((await merge(doctor, ids.dup, ids.lan)).status, 403);
      const self = await merge(head, ids.lan, ids.lan);
      assert.equal(self.status, 400);
      assert.match(self.body.issue[0].diagnostics, /chính họ/);
      assert.equal((await merge(head, ids.dup, 'no-such-patient')).status, 404);

      const preview = await op(head, 'Patient/$merge', [
        { name: 'source-patient', valueReference: { reference: `Patient/${ids.dup}` } },
        { name: 'target-patient', valueReference: { reference: `Patient/${ids.lan}` } },
        { name: 'preview', valueBoolean: true },
      ]);
      assert.equal(preview.status, 200);
      assert.deepEqual(
        preview.body.parameter
          .filter((p: { name: string }) => p.name === 'updated')
          .map((p: { valueReference: { reference: string } }) => p.valueReference.reference)
          .sort(),
        [`Encounter/${enc.stored.id}`, `Observation/${obs.stored.id}`].sort(),
      );
      assert.equal((await fhirFetch(srv.fhir, `Patient/${ids.dup}`, { headers: as(head) })).body.meta.versionId, '1');

      const done = await merge(head, ids.dup, ids.lan);
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.equal(param(done.body, 'updatedCount').valueInteger, 2);
      const target = param(done.body, 'result').resource as Patient;
      assert.deepEqual(target.link, [{ other: { reference: `Patient/${ids.dup}` }, type: 'replaces' }]);
      assert.ok(target.identifier?.some((i) => i.value === 'BN-DUP-1' && i.use === 'old'));

      const src = await fhirFetch(srv.fhir, `Patient/${ids.dup}`, { headers: as(head) });
      assert.equal(src.body.active, false);
      assert.deepEqual(src.body.link, [{ other: { reference: `Patient/${ids.lan}` }, type: 'replaced-by' }]);
      assert.equal(src.body.meta.versionId, '2');

      const encNow = await fhirFetch(srv.fhir, `Encounter/${enc.stored.id}`, { headers: as(head) });
      assert.equal(encNow.body.subject.reference, `Patient/${ids.lan}`);
      assert.equal(encNow.body.meta.versionId, '2');
      const encV1 = await fhirFetch(srv.fhir, `Encounter/${enc.stored.id}/_history/1`, { headers: as(head) });
      assert.equal(encV1.body.subject.reference, `Patient/${ids.dup}`);
      const obsNow = await fhirFetch(srv.fhir, `Observation/${obs.stored.id}`, { headers: as(head) });
      assert.equal(obsNow.body.subject.reference, `Patient/${ids.lan}`);
      assert.equal(obsNow.body.encounter.reference, `Encounter/${enc.stored.id}`);
      const hist = await fhirFetch(srv.fhir, `Observation/${obs.stored.id}/_history`, { headers: as(head) });
      assert.equal(hist.body.entry.length, 2);

      // the surviving record now holds the encounter; the merged one holds nothing
      const byTarget = await fhirFetch(srv.fhir, `Encounter?subject=Patient/${ids.lan}`, { headers: as(head) });
      assert.deepEqual(
        byTarget.body.entry.map((e: { resource: Resource }) => e.resource.id),
        [enc.stored.id],
      );
      const bySource = await fhirFetch(srv.fhir, `Encounter?subject=Patient/${ids.dup}`, { headers: as(head) });
      assert.deepEqual(bySource.body.entry ?? [], []);

      const again = await merge(head, ids.dup, ids.lan);
      assert.equal(again.status, 409);
      const intoMerged = await merge(head, ids.duc, ids.dup);
      assert.equal(intoMerged.status, 409);

      // $match by the merged record's number leads to the surviving one
      const m = await match(reception, {
        resourceType: 'Patient',
        identifier: [{ system: SEN_SID.patient, value: 'BN-DUP-1' }],
        name: [{ text: 'Le Thi Thu Ha' }],
        birthDate: '1992-05-14',
      });
      assert.deepEqual(
        m.body.entry?.map((e) => e.resource?.id),
        [ids.lan],
      );
    });

    it('the demo newcomers are not seeded patients, and their QR codes and cards are known to the simulator', async () => {
      const bundle = buildDemoBundle({ adminUnits: loadAdminUnits(SHARED_DIR), patients: 999 });
      const seeded = new Set<string>();
      for (const e of bundle.entry ?? []) {
        for (const i of (e.resource as Patient).identifier ?? []) {
          if (e.resource?.resourceType === 'Patient' && i.value) {
            seeded.add(i.value);
          }
        }
      }
      assert.ok(seeded.size > 100);
      for (const n of demoNewcomers()) {
        assert.equal(seeded.has(n.idNumber), false);
        assert.equal(seeded.has(n.cardNumber), false);
        const qr = parseCccdQr(n.qr);
        assert.equal(qr.ok && qr.card.idNumber, n.idNumber);
        assert.equal(qr.ok && qr.card.layout, n.layout);
        const r = await check(reception, n.cardNumber, [
          { name: 'name', valueString: n.name },
          { name: 'birthDate', valueDate: n.birthDate },
        ]);
        assert.equal(param(r.body, 'status').valueCode, n.expectedStatus, n.name);
      }
    });
  });
}

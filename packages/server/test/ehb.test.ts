import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { type Db, type Engine, migrate, openPglite, openPostgres } from '@sen/db';
import { createTestDb, testEngines } from '@sen/db/testing';
import { SEN_SID, VN_CORE_SID } from '@sen/vn';
import { type AppConfig, buildApp } from '../src/app.ts';
import { buildCoverage } from '../src/capabilities/coverage/service.ts';
import { ehbOf } from '../src/capabilities/ehb/plugin.ts';
import { type EhbSimulator, startEhbSimulator } from '../src/capabilities/ehb/simulator.ts';
import { verifyEnvelope } from '../src/capabilities/ehb/signer.ts';
import { parseEnvelope } from '../src/capabilities/ehb/xml.ts';
import { CATALOG_URLS } from '../src/capabilities/terminology/kinds.ts';
import { FACILITY_TAG_SYSTEM } from '../src/platform/gate/gate.ts';
import { HOSPITAL_ID } from '../src/seed/demo-facility.ts';
import { seedDemo } from '../src/seed/seed.ts';
import {
  clientCredentialsToken,
  fhirFetch,
  type FhirResult,
  startTestServer,
  TEST_CLIENT_SECRET,
  type TestServer,
} from './harness.ts';
import { SHARED_DIR } from './shared-data.ts';
import { staffLogin } from './staff-login.ts';

const TAG = [{ system: FACILITY_TAG_SYSTEM, code: HOSPITAL_ID }];
const ICD = CATALOG_URLS.icd10;
const DRUGS = CATALOG_URLS.drugs;
const SERVICES = CATALOG_URLS.services;
const RETRY = { baseMs: 20, maxMs: 200, maxAttempts: 4 };

type P = { name: string; [k: string]: unknown };
const params = (...parameter: P[]): unknown => ({ resourceType: 'Parameters', parameter });
const partOf = (p: { part?: P[] }, name: string): any => p.part?.find((x) => x.name === name);
const value = (p: any): any =>
  p === undefined ? undefined : (Object.entries(p).find(([k]) => k.startsWith('value'))?.[1] as any);

interface Staff {
  /** The demo system client's token (what the lab and the reception's card check post as). */
  system: string;
  doctor: string;
  receptionist: string;
  admin: string;
}

let cardSeq = 0;

/**
 * A BHYT patient's visit from registration to conclusion, through the API as the staff do it (reception registers
 * the visit with the card's Coverage; the doctor writes history, diagnoses, orders a glucose test, prescribes and
 * concludes; the lab result is posted as the lab would), plus the book's standing data (allergy, chronic disease,
 * vaccination).
 */
async function concludedVisit(
  srv: TestServer,
  staff: Staff,
): Promise<{ patient: string; encounter: string; cccd: string; card: string }> {
  cardSeq++;
  const as = (token: string) => ({ authorization: `Bearer ${token}` });
  const call = (token: string, path: string, body: unknown): Promise<FhirResult> =>
    fhirFetch(srv.fhir, path, { method: 'POST', body, headers: as(token) });
  const ok = (r: FhirResult, what: string): any => {
    assert.ok(r.status === 200 || r.status === 201, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const cccd = `07909${String(1000000 + cardSeq).slice(-7)}`;
  const card = `DN479${String(1234500000 + cardSeq)}`;
  const patient = ok(
    await fhirFetch(srv.fhir, 'Patient', {
      method: 'POST',
      headers: as(staff.system),
      body: {
        resourceType: 'Patient',
        meta: { tag: TAG },
        identifier: [
          { use: 'official', system: VN_CORE_SID.cccd, value: cccd },
          { use: 'usual', system: SEN_SID.patient, value: `BN9${String(cardSeq).padStart(5, '0')}` },
        ],
        name: [{ use: 'official', text: 'Trần Thị Bích Ngọc', family: 'Trần', given: ['Thị Bích Ngọc'] }],
        gender: 'female',
        birthDate: '1968-03-09',
        telecom: [{ system: 'phone', value: '0912345678' }],
        address: [{ text: '12 Nguyễn Huệ, Phường Sài Gòn, Thành phố Hồ Chí Minh' }],
      },
    }),
    'patient',
  );
  const coverage = buildCoverage(
    undefined,
    patient.id,
    {
      status: 'verified',
      cardNumber: card,
      card: {
        cardCode: card,
        bhxhNumber: card.slice(5),
        name: 'Trần Thị Bích Ngọc',
        birthDate: '1968-03-09',
        gender: 'female',
        validFrom: '2026-01-01',
        validTo: '2026-12-31',
        benefitLevel: 4,
        primaryCare: { code: '79001', name: 'Trạm y tế' },
      },
    },
    new Date(),
  );
  const cov = ok(
    await fhirFetch(srv.fhir, 'Coverage', {
      method: 'POST',
      headers: as(staff.system),
      body: { ...coverage, meta: { ...coverage.meta, tag: TAG } },
    }),
    'coverage',
  );
  for (const r of [
    {
      resourceType: 'AllergyIntolerance',
      meta: { tag: TAG },
      clinicalStatus: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }],
      },
      patient: { reference: `Patient/${patient.id}` },
      code: { text: 'Penicilin' },
    },
    {
      resourceType: 'Condition',
      meta: { tag: TAG },
      clinicalStatus: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
      },
      category: [
        { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' }] },
      ],
      code: { coding: [{ system: ICD, code: 'E11.9', display: 'Bệnh đái tháo đường type 2 không biến chứng' }] },
      subject: { reference: `Patient/${patient.id}` },
    },
    {
      resourceType: 'Immunization',
      meta: { tag: TAG },
      status: 'completed',
      vaccineCode: { text: 'Vắc xin cúm mùa' },
      patient: { reference: `Patient/${patient.id}` },
      occurrenceDateTime: '2025-10-15',
    },
  ]) {
    ok(
      await fhirFetch(srv.fhir, r.resourceType, { method: 'POST', body: r, headers: as(staff.system) }),
      r.resourceType,
    );
  }
  const rooms = ok(
    await fhirFetch(srv.fhir, `Location?identifier=${encodeURIComponent(`${SEN_SID.location}|K01-P01`)}`, {
      headers: as(staff.system),
    }),
    'room',
  );
  const room = rooms.entry[0].resource.id;
  const visit = ok(
    await call(
      staff.receptionist,
      'Encounter/$register-visit',
      params(
        { name: 'patient', valueReference: { reference: `Patient/${patient.id}` } },
        { name: 'visitType', valueCode: 'bhyt' },
        { name: 'reason', valueString: 'Khát nước, tiểu nhiều' },
        { name: 'location', valueReference: { reference: `Location/${room}` } },
        { name: 'coverage', valueReference: { reference: `Coverage/${cov.id}` } },
      ),
    ),
    'register',
  );
  const encounter = visit.parameter.find((x: P) => x.name === 'encounter').resource.id as string;
  const enc = `Encounter/${encounter}`;
  ok(
    await call(
      staff.doctor,
      `${enc}/$history`,
      params(
        { name: 'chiefComplaint', valueString: 'Khát nhiều, tiểu nhiều 2 tuần' },
        { name: 'pastHistory', valueString: 'Tăng huyết áp 5 năm' },
      ),
    ),
    'history',
  );
  ok(await call(staff.doctor, `${enc}/$record-vitals`, params({ name: 'weight', valueDecimal: 62.5 })), 'vitals');
  ok(
    await call(
      staff.doctor,
      `${enc}/$set-diagnoses`,
      params(
        { name: 'main', valueCoding: { system: ICD, code: 'I10' } },
        { name: 'secondary', valueCoding: { system: ICD, code: 'E11.9' } },
      ),
    ),
    'diagnoses',
  );
  const orders = ok(
    await call(
      staff.doctor,
      `${enc}/$order`,
      params({ name: 'service', valueCoding: { system: SERVICES, code: '99.2302.2101' } }),
    ),
    'order',
  );
  const order = orders.entry[0].resource;
  ok(
    await call(
      staff.doctor,
      `${enc}/$prescribe`,
      params({
        name: 'item',
        part: [
          { name: 'drug', valueCoding: { system: DRUGS, code: 'DEMO-T001' } },
          { name: 'dosePerTime', valueDecimal: 1 },
          { name: 'timesPerDay', valueInteger: 2 },
          { name: 'days', valueInteger: 5 },
          { name: 'instructions', valueString: 'Uống sau ăn' },
        ],
      }),
    ),
    'prescribe',
  );
  const obs = ok(
    await fhirFetch(srv.fhir, 'Observation', {
      method: 'POST',
      headers: as(staff.system),
      body: {
        resourceType: 'Observation',
        meta: { tag: TAG },
        status: 'final',
        category: [
          { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] },
        ],
        code: { coding: [{ system: 'http://loinc.org', code: '14749-6', display: 'Glucose máu' }] },
        subject: { reference: `Patient/${patient.id}` },
        encounter: { reference: enc },
        basedOn: [{ reference: `ServiceRequest/${order.id}` }],
        effectiveDateTime: new Date().toISOString(),
        issued: new Date().toISOString(),
        valueQuantity: { value: 8.4, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
        interpretation: [
          { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'H' }] },
        ],
      },
    }),
    'observation',
  );
  ok(
    await fhirFetch(srv.fhir, 'DiagnosticReport', {
      method: 'POST',
      headers: as(staff.system),
      body: {
        resourceType: 'DiagnosticReport',
        meta: { tag: TAG },
        status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'LAB' }] }],
        code: { text: 'Định lượng Glucose [Máu]' },
        subject: { reference: `Patient/${patient.id}` },
        encounter: { reference: enc },
        basedOn: [{ reference: `ServiceRequest/${order.id}` }],
        issued: new Date().toISOString(),
        result: [{ reference: `Observation/${obs.id}` }],
        conclusion: 'Glucose máu tăng',
      },
    }),
    'report',
  );
  const followUp = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
  ok(
    await call(
      staff.doctor,
      `${enc}/$conclude`,
      params(
        { name: 'outcome', valueCode: 'improved' },
        { name: 'advice', valueString: 'Ăn nhạt, hạn chế đồ ngọt' },
        { name: 'followUp', valueDate: followUp },
      ),
    ),
    'conclude',
  );
  return { patient: patient.id, encounter, cccd, card };
}

async function logins(srv: TestServer, suffix: string): Promise<Staff> {
  const login = (username: string, practitionerId: string, roles: any[]) =>
    staffLogin(srv, { username: `${username}.${suffix}`, practitionerId, roles, facilityId: HOSPITAL_ID }).then(
      (l) => l.token,
    );
  return {
    system: srv.token as string,
    doctor: await login('bs.ehb', 'sen-demo-s-01', ['doctor']),
    receptionist: await login('td.ehb', 'sen-demo-s-11', ['receptionist']),
    admin: await login('qt.ehb', 'ehb-it-admin', ['facility-admin']),
  };
}

interface SubmissionRow {
  id: string;
  status: string;
  attempts: number;
  kind: string;
  ma_lk: string;
  payload: string;
  last_error: string | null;
  transaction_code: string | null;
  encounter_version: number;
}

async function submissions(db: Db, encounter: string): Promise<SubmissionRow[]> {
  const { rows } = await db.query<SubmissionRow>(
    `SELECT id::text AS id, status, attempts, kind, ma_lk, payload, last_error, transaction_code, encounter_version
       FROM ehb_submission WHERE encounter_id = $1 ORDER BY id`,
    [encounter],
  );
  return rows;
}

async function attempts(
  db: Db,
  submission: string,
): Promise<{ attempt: number; outcome: string; http_status: number | null; response_code: string | null }[]> {
  const { rows } = await db.query<{
    attempt: number;
    outcome: string;
    http_status: number | null;
    response_code: string | null;
  }>(
    'SELECT attempt, outcome, http_status, response_code FROM ehb_attempt WHERE submission_id = $1::bigint ORDER BY attempt',
    [submission],
  );
  return rows;
}

/**
 * Runs the feed until the encounter's submission is there: the feed delivers an event only once every older
 * transaction has ended, and on a shared PostgreSQL server other databases' transactions count too.
 */
async function feedUntilQueued(srv: TestServer, encounter: string): Promise<{ events: number; queued: number }> {
  const ehb = ehbOf(srv.router);
  assert.ok(ehb);
  const total = { events: 0, queued: 0 };
  for (let i = 0; i < 200; i++) {
    const run = await ehb.feed.runOnce();
    total.events += run.events;
    total.queued += run.queued;
    if ((await submissions(srv.store.db, encounter)).length > 0) {
      return total;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the feed did not queue the episode');
}

/** Runs the outbox until nothing is left to retry for this encounter (the back-off waits are tens of ms). */
async function drain(srv: TestServer, encounter: string): Promise<void> {
  const ehb = ehbOf(srv.router);
  assert.ok(ehb);
  for (let i = 0; i < 100; i++) {
    await ehb.runOnce();
    const rows = await submissions(srv.store.db, encounter);
    if (rows.length > 0 && rows.every((r) => r.status !== 'queued')) {
      return;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the submission stayed queued');
}

for (const engine of testEngines()) {
  describe(`e-health-book feed: payload, outbox, gateway [${engine}]`, () => {
    let srv: TestServer;
    let sim: EhbSimulator;
    let staff: Staff;
    const keys: string[] = [];
    const logs: string[] = [];
    const logStream = new Writable({
      write(chunk, _enc, done) {
        logs.push(String(chunk));
        done();
      },
    });

    before(async () => {
      sim = await startEhbSimulator({ publicKeys: () => keys });
      srv = await startTestServer(engine, {
        config: { logLevel: 'debug', logStream, ehb: { gatewayUrl: sim.url, pollMs: 0, retry: RETRY } },
      });
      await seedDemo(srv.router, { sharedDir: SHARED_DIR, patients: 1 });
      const ehb = ehbOf(srv.router);
      assert.ok(ehb);
      keys.push((await ehb.signer()).material.publicKeyPem);
      staff = await logins(srv, engine);
      // the seeded visits ended before the feed first ran: history, not sent
      await ehb.runOnce();
      const { rows } = await srv.store.db.query<{ n: string }>('SELECT count(*)::text AS n FROM ehb_submission');
      assert.equal(rows[0].n, '0');
    });
    after(async () => {
      await srv?.close();
      await sim?.close();
    });

    it('queues one signed submission with XML1, 2, 3, 4 and 8 carrying the episode, when a visit is concluded', async () => {
      const v = await concludedVisit(srv, staff);
      const ehb = ehbOf(srv.router);
      assert.ok(ehb);
      assert.deepEqual(await submissions(srv.store.db, v.encounter), [], 'nothing before the feed runs');
      logs.length = 0;
      const run = await feedUntilQueued(srv, v.encounter);
      assert.ok(run.queued >= 1);
      const [sub, ...more] = await submissions(srv.store.db, v.encounter);
      assert.equal(more.length, 0);
      assert.equal(sub.status, 'queued');
      assert.equal(sub.kind, 'new');
      assert.equal(sub.ma_lk, v.encounter);
      assert.equal(sub.attempts, 0);

      assert.ok(verifyEnvelope(sub.payload, keys[0]).ok, 'signed with the facility key');
      const tampered = sub.payload.replace('<MACSKCB>79999</MACSKCB>', '<MACSKCB>79998</MACSKCB>');
      assert.notEqual(tampered, sub.payload);
      assert.equal(verifyEnvelope(tampered, keys[0]).ok, false, 'any change breaks it');
      assert.ok(!sub.payload.includes('Trần'), 'the tables travel base64-encoded inside the envelope');
      const env = parseEnvelope(sub.payload);
      assert.equal(env.facilityCode, '79999');
      assert.deepEqual(
        env.files.map((f) => f.type),
        ['XML1', 'XML2', 'XML3', 'XML4', 'XML8'],
      );
      const [x1] = env.tables.XML1 ?? [];
      assert.equal(x1.MA_LK, v.encounter);
      assert.equal(x1.STT, '1');
      assert.equal(x1.HO_TEN, 'Trần Thị Bích Ngọc');
      assert.equal(x1.SO_CCCD, v.cccd);
      assert.equal(x1.NGAY_SINH, '196803090000');
      assert.equal(x1.GIOI_TINH, '2');
      assert.equal(x1.DIEN_THOAI, '0912345678');
      assert.equal(x1.MA_THE_BHYT, v.card);
      assert.equal(x1.MA_DKBD, '79001');
      assert.equal(x1.GT_THE_TU, '20260101');
      assert.equal(x1.GT_THE_DEN, '20261231');
      assert.equal(x1.MA_BENH_CHINH, 'I10');
      assert.equal(x1.MA_BENH_KT, 'E11.9');
      assert.equal(x1.MA_DOITUONG_KCB, '1');
      assert.equal(x1.MA_LOAI_KCB, '01');
      assert.equal(x1.MA_KHOA, 'K01');
      assert.equal(x1.MA_CSKCB, '79999');
      assert.equal(x1.KET_QUA_DTRI, '2');
      assert.equal(x1.CAN_NANG, '62.5');
      assert.equal(x1.LY_DO_VV, 'Khát nước, tiểu nhiều');
      assert.match(x1.NGAY_VAO, /^\d{12}$/);
      assert.match(x1.NGAY_RA, /^\d{12}$/);
      assert.ok(x1.NGAY_RA >= x1.NGAY_VAO);
      assert.match(x1.NGAY_TAI_KHAM, /^\d{8}$/);
      assert.equal(x1.GHI_CHU, 'Ăn nhạt, hạn chế đồ ngọt');

      const x2 = env.tables.XML2 ?? [];
      assert.equal(x2.length, 1);
      assert.equal(x2[0].MA_LK, v.encounter);
      assert.equal(x2[0].MA_THUOC, 'DEMO-T001');
      assert.equal(x2[0].SO_LUONG, '10', '1 × 2 a day × 5 days');
      assert.equal(x2[0].CACH_DUNG, 'Uống sau ăn');
      assert.ok(x2[0].TEN_THUOC.length > 0);
      assert.equal(x2[0].MA_BENH, 'I10;E11.9');

      const x3 = env.tables.XML3 ?? [];
      assert.equal(x3.length, 1);
      assert.equal(x3[0].MA_DICH_VU, '99.2302.2101');
      assert.equal(x3[0].SO_LUONG, '1');
      assert.match(x3[0].NGAY_KQ, /^\d{12}$/);

      const x4 = env.tables.XML4 ?? [];
      assert.equal(x4.length, 1);
      assert.equal(x4[0].MA_DICH_VU, '99.2302.2101');
      assert.equal(x4[0].MA_CHI_SO, '14749-6');
      assert.equal(x4[0].GIA_TRI, '8.4');
      assert.equal(x4[0].DON_VI_DO, 'mmol/L');
      assert.equal(x4[0].KET_LUAN, 'Glucose máu tăng');

      const [x8] = env.tables.XML8 ?? [];
      assert.equal(x8.MA_LK, v.encounter);
      assert.equal(x8.CHAN_DOAN_VAO, 'Khát nhiều, tiểu nhiều 2 tuần');
      assert.match(x8.CHAN_DOAN_RV, /;/);
      assert.match(x8.QT_BENHLY, /Tiền sử: Tăng huyết áp 5 năm/);
      assert.match(x8.QT_BENHLY, /Dị ứng: Penicilin/);
      assert.match(x8.QT_BENHLY, /Tiêm chủng: Vắc xin cúm mùa \(20251015\)/);
      assert.match(x8.TOMTAT_KQ, /Glucose máu: 8.4 mmol\/L/);
      assert.match(x8.PP_DIEUTRI, /DEMO-T001|.+: .+/);
      assert.match(x8.GHI_CHU, /Tái khám: \d{2}\/\d{2}\/\d{4}/);
      assert.equal(x8.KET_QUA_DTRI, '2');

      // the feed ran as its system principal, audited as an export of this patient's record
      const audit = await srv.store.db.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM audit_event WHERE action = 'export' AND client = 'sen-ehb-feed'
            AND patient = $1 AND resource_id = $2`,
        [v.patient, v.encounter],
      );
      assert.equal(audit.rows[0].n, '1');

      // the generated signing key is sealed at rest under SEN_SECRET_KEY: no PEM private key in the database
      const key = await srv.store.db.query<{ private_key_pem: string; public_key_pem: string }>(
        `SELECT private_key_pem, public_key_pem FROM ehb_signing_key WHERE name = 'default'`,
      );
      assert.equal(key.rows.length, 1);
      assert.doesNotMatch(key.rows[0].private_key_pem, /PRIVATE KEY|^-----BEGIN/);
      assert.match(key.rows[0].public_key_pem, /^-----BEGIN PUBLIC KEY-----/);

      // running the feed again queues nothing more; sending accepts it once
      await ehb.feed.runOnce();
      assert.equal((await submissions(srv.store.db, v.encounter)).length, 1);
      await drain(srv, v.encounter);
      const [sent] = await submissions(srv.store.db, v.encounter);
      assert.equal(sent.status, 'accepted');
      assert.ok(sent.transaction_code);
      const logged = logs.join('');
      for (const secret of [v.cccd, v.card, 'Trần Thị', 'Bích Ngọc', '0912345678', 'Penicilin']) {
        assert.ok(!logged.includes(secret), 'nothing logged contains patient data');
      }
    });

    it('retries transient failures with back-off, records every attempt, and never sends an accepted one again', async () => {
      const v = await concludedVisit(srv, staff);
      const ehb = ehbOf(srv.router);
      assert.ok(ehb);
      await feedUntilQueued(srv, v.encounter);
      sim.failNext(2);
      const first = await ehb.sender.runOnce();
      assert.ok(first.retrying >= 1);
      const [queued] = await submissions(srv.store.db, v.encounter);
      assert.equal(queued.status, 'queued');
      assert.equal(queued.attempts, 1);
      assert.match(queued.last_error ?? '', /server-error \(HTTP 503\)/);
      // the next try waits base × 2^0 with jitter: between half and all of RETRY.baseMs after this one
      const wait = await srv.store.db.query<{ ms: string }>(
        `SELECT (EXTRACT(EPOCH FROM next_attempt_at - updated_at) * 1000)::text AS ms FROM ehb_submission
          WHERE id = $1::bigint`,
        [queued.id],
      );
      const ms = Number(wait.rows[0].ms);
      assert.ok(ms >= RETRY.baseMs / 2 - 1 && ms <= RETRY.baseMs + 1, `waits ${ms} ms`);
      await drain(srv, v.encounter);
      const [sub] = await submissions(srv.store.db, v.encounter);
      assert.equal(sub.status, 'accepted');
      assert.equal(sub.attempts, 3);
      assert.equal(sub.last_error, null);
      assert.deepEqual(
        (await attempts(srv.store.db, sub.id)).map((a) => [a.attempt, a.outcome, a.http_status, a.response_code]),
        [
          [1, 'transient', 503, '503'],
          [2, 'transient', 503, '503'],
          [3, 'accepted', 200, '000'],
        ],
      );
      const received = sim.received.filter((r) => r.maLk === v.encounter);
      assert.equal(received.length, 3);
      assert.equal(new Set(received.map((r) => r.idempotencyKey)).size, 1, 'one idempotency key for every attempt');
      // nothing is sent again: not by the worker, not by a second feed run
      await ehb.runOnce();
      await ehb.runOnce();
      assert.equal(sim.received.filter((r) => r.maLk === v.encounter).length, 3);
      assert.equal((await attempts(srv.store.db, sub.id)).length, 3);
      // "send again" on an accepted submission is refused
      const retry = await fhirFetch(srv.fhir, '$ehb-retry', {
        method: 'POST',
        headers: { authorization: `Bearer ${staff.admin}` },
        body: params({ name: 'id', valueString: sub.id }),
      });
      assert.equal(retry.status, 409);
      assert.match(retry.body.issue[0].diagnostics ?? retry.body.issue[0].details?.text, /đã được cổng tiếp nhận/);
    });

    it('shows a permanent rejection as failed with its reason on the IT screen, and sends it again on request', async () => {
      const v = await concludedVisit(srv, staff);
      const ehb = ehbOf(srv.router);
      assert.ok(ehb);
      await feedUntilQueued(srv, v.encounter);
      const registered = keys.splice(0, keys.length); // the portal does not know the facility's key (yet)
      await ehb.sender.runOnce();
      const [sub] = await submissions(srv.store.db, v.encounter);
      assert.equal(sub.status, 'failed');
      assert.equal(sub.attempts, 1, 'a rejection is not retried');
      assert.match(sub.last_error ?? '', /^rejected 202: Chữ ký số không hợp lệ/);
      await ehb.runOnce();
      assert.equal(sim.received.filter((r) => r.maLk === v.encounter).length, 1);

      // what the hospital's IT person sees: counts, the failed row with its reason, every answer — no patient data
      const it = (token: string, path: string) =>
        fhirFetch(srv.fhir, path, { headers: { authorization: `Bearer ${token}` } });
      const list = await it(staff.admin, '$ehb-submissions?status=failed');
      assert.equal(list.status, 200, JSON.stringify(list.body));
      assert.ok(value(list.body.parameter.find((x: P) => x.name === 'failed')) >= 1);
      const row = list.body.parameter.find(
        (x: P) => x.name === 'submission' && value(partOf(x as any, 'id')) === sub.id,
      );
      assert.ok(row);
      assert.equal(value(partOf(row, 'status')), 'failed');
      assert.match(value(partOf(row, 'lastError')), /202/);
      assert.equal(
        value(partOf(row, 'encounter')).reference,
        `Encounter/${v.encounter}/_history/${sub.encounter_version}`,
      );
      const text = JSON.stringify(list.body);
      assert.ok(!text.includes('Trần Thị') && !text.includes(v.cccd), 'no patient data on the IT screen');
      const detail = await it(staff.admin, `$ehb-submissions?id=${sub.id}`);
      const attempt = partOf(detail.body.parameter[0], 'attempt');
      assert.equal(value(partOf(attempt, 'outcome')), 'rejected');
      assert.equal(value(partOf(attempt, 'httpStatus')), 422);
      assert.match(value(partOf(attempt, 'response')), /Chữ ký số/);
      assert.equal((await it(staff.doctor, '$ehb-submissions')).status, 403, 'a doctor is not the IT screen');
      assert.equal((await it(staff.admin, '$ehb-submissions?status=lost')).status, 400);
      assert.equal((await it(staff.admin, '$ehb-submissions?id=999999999')).status, 404);

      // the key is registered now: "send again" goes out at once and is accepted
      keys.push(...registered);
      const retry = await fhirFetch(srv.fhir, '$ehb-retry', {
        method: 'POST',
        headers: { authorization: `Bearer ${staff.admin}` },
        body: params({ name: 'id', valueString: sub.id }),
      });
      assert.equal(retry.status, 200, JSON.stringify(retry.body));
      assert.equal(value(partOf(retry.body.parameter[0], 'status')), 'accepted');
      assert.equal((await attempts(srv.store.db, sub.id)).length, 2);
    });

    it('rebuilds on "send again" a submission whose payload could not be built, and sends it', async () => {
      const v = await concludedVisit(srv, staff);
      const ehb = ehbOf(srv.router);
      assert.ok(ehb);
      await feedUntilQueued(srv, v.encounter);
      const [sub] = await submissions(srv.store.db, v.encounter);
      // the state the feed leaves when building fails (recordBuildFailure): no payload, failed, the error's kind
      await srv.store.db.query(
        `UPDATE ehb_submission SET payload = '', content_hash = 'build-failed', status = 'failed',
                last_error = 'build-failed: OutcomeError' WHERE id = $1::bigint`,
        [sub.id],
      );
      await ehb.runOnce();
      assert.equal((await submissions(srv.store.db, v.encounter))[0].status, 'failed', 'not sent without a payload');
      const retry = await fhirFetch(srv.fhir, '$ehb-retry', {
        method: 'POST',
        headers: { authorization: `Bearer ${staff.admin}` },
        body: params({ name: 'id', valueString: sub.id }),
      });
      assert.equal(retry.status, 200, JSON.stringify(retry.body));
      assert.equal(value(partOf(retry.body.parameter[0], 'status')), 'accepted');
      const [rebuilt] = await submissions(srv.store.db, v.encounter);
      assert.ok(verifyEnvelope(rebuilt.payload, keys[0]).ok);
      assert.equal(parseEnvelope(rebuilt.payload).tables.XML1?.[0].SO_CCCD, v.cccd);
    });

    it('queues an amended conclusion as a resend with the same MA_LK', async () => {
      const v = await concludedVisit(srv, staff);
      const ehb = ehbOf(srv.router);
      assert.ok(ehb);
      await drain(srv, v.encounter);
      const amend = await fhirFetch(srv.fhir, `Encounter/${v.encounter}/$conclude`, {
        method: 'POST',
        headers: { authorization: `Bearer ${staff.doctor}` },
        body: params(
          { name: 'outcome', valueCode: 'recovered' },
          { name: 'amendReason', valueString: 'Ghi nhầm kết quả điều trị' },
        ),
      });
      assert.equal(amend.status, 200, JSON.stringify(amend.body));
      for (let i = 0; i < 200 && (await submissions(srv.store.db, v.encounter)).length < 2; i++) {
        await ehb.feed.runOnce();
        await new Promise((r) => setTimeout(r, 25));
      }
      await drain(srv, v.encounter);
      const rows = await submissions(srv.store.db, v.encounter);
      assert.deepEqual(
        rows.map((r) => [r.kind, r.status, r.ma_lk]),
        [
          ['new', 'accepted', v.encounter],
          ['resend', 'accepted', v.encounter],
        ],
      );
      assert.equal(parseEnvelope(rows[1].payload).tables.XML1?.[0].KET_QUA_DTRI, '1');
    });
  });

  describe(`e-health-book outbox survives a restart [${engine}]`, () => {
    let sim: EhbSimulator;
    let database: { open(): Promise<Db>; cleanup(): Promise<void> };
    const keys: string[] = [];
    const secretKey = randomBytes(32).toString('base64');

    before(async () => {
      sim = await startEhbSimulator({ publicKeys: () => keys });
      database = await freshDatabase(engine);
    });
    after(async () => {
      await sim?.close();
      await database?.cleanup();
    });

    it('sends after a restart what was queued before the server stopped, once', async () => {
      const first = await startOn(await database.open(), secretKey, { gatewayUrl: sim.url, pollMs: 0, retry: RETRY });
      let encounter: string;
      try {
        await seedDemo(first.router, { sharedDir: SHARED_DIR, patients: 1 });
        const staff = await logins(first, `restart-${engine}`);
        await ehbOf(first.router)!.feed.runOnce(); // the first run: the seeded visits are history
        ({ encounter } = await concludedVisit(first, staff));
        await feedUntilQueued(first, encounter);
        // the key the feed generated on its first run, registered with the portal (the simulator)
        keys.push((await ehbOf(first.router)!.signer()).material.publicKeyPem);
        const [sub] = await submissions(first.store.db, encounter);
        assert.equal(sub.status, 'queued');
        assert.equal(sub.attempts, 0);
      } finally {
        await first.close(); // stopped between queueing and sending
      }
      assert.equal(sim.received.filter((r) => r.maLk === encounter).length, 0);

      // the same database, a new server whose worker runs on its own timer
      const second = await startOn(await database.open(), secretKey, { gatewayUrl: sim.url, pollMs: 50, retry: RETRY });
      try {
        const db = second.store.db;
        let status = '';
        for (let i = 0; i < 200 && status !== 'accepted'; i++) {
          await new Promise((r) => setTimeout(r, 50));
          status = (await submissions(db, encounter))[0]?.status ?? '';
        }
        assert.equal(status, 'accepted');
        const rows = await submissions(db, encounter);
        assert.equal(rows.length, 1, 'the restarted feed did not queue it again');
        assert.equal(rows[0].attempts, 1);
        assert.equal(sim.received.filter((r) => r.maLk === encounter).length, 1);
        // the same key signs after the restart (kept in the database)
        assert.equal((await ehbOf(second.router)!.signer()).material.publicKeyPem, keys[0]);
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(sim.received.filter((r) => r.maLk === encounter).length, 1, 'sent once');
      } finally {
        await second.close();
      }
    });
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** A server like startTestServer's, over a database that outlives it (the restart test opens it twice). */
async function startOn(db: Db, secretKey: string, ehb: AppConfig['ehb']): Promise<TestServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const sen = await buildApp({
    db,
    config: {
      publicUrl: url,
      logLevel: 'silent',
      security: { mode: 'demo', demoClientSecret: TEST_CLIENT_SECRET, sealIntervalMs: 0, secretKey },
      ehb,
    },
  });
  await sen.app.listen({ port, host: '127.0.0.1' });
  const fhir = `${url}/fhir/R4`;
  const token = await clientCredentialsToken(url);
  return { ...sen, url, fhir, token, close: () => sen.app.close() };
}

async function freshDatabase(engine: Engine): Promise<{ open(): Promise<Db>; cleanup(): Promise<void> }> {
  if (engine === 'pglite') {
    const dir = mkdtempSync(join(tmpdir(), 'sen-ehb-'));
    return {
      open: async () => {
        const db = await openPglite({ dataDir: dir });
        await migrate(db);
        return db;
      },
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  // a throwaway PostgreSQL database of the harness; the first server gets its handle, the second a new pool on its URL
  const created = await createTestDb('postgres');
  let opened = 0;
  return {
    open: async () => {
      opened++;
      if (opened === 1) {
        return created.db;
      }
      const db = await openPostgres({ connectionString: created.url as string, max: 8 });
      await migrate(db);
      return db;
    },
    cleanup: () => created.drop(),
  };
}

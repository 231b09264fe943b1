// The patient portal through the real HTTP API with sign-in, gate and audit on: patients signed in through the test
// national-ID identity provider (the real code + PKCE flow), on PGlite and on PostgreSQL when TEST_DATABASE_URL is set.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { testEngines } from '@sen/db/testing';
import { VN_CORE_SID } from '@sen/vn';
import { BookingService, SLOT_CAPACITY_URL } from '../src/capabilities/portal/booking.ts';
import { addDays, addWorkingDays } from '../src/capabilities/portal/rights.ts';
import {
  startTestNationalIdProvider,
  TEST_IDP_PASSWORD,
  type TestNationalIdProvider,
} from '../src/platform/oauth/test-national-id-provider.ts';
import { authorizeRequest, Browser, freePort, postForm } from '../src/platform/oauth/test-support.ts';
import { fhirFetch, startTestServer, TEST_CLIENT_SECRET, type TestServer } from './harness.ts';

const MOTHER = '079190123456';
const CHILD = '079317001234';
const FATHER = '079088004321';
const OTHER = '001085000777';
const SEN_CLIENT_ID = 'sen-benh-vien';
const SEN_CLIENT_SECRET = 'bi-mat-cua-sen';

type P = { name: string; [k: string]: unknown };
const params = (...parameter: P[]): unknown => ({ resourceType: 'Parameters', parameter });
const param = (body: { parameter?: P[] }, name: string): any => body.parameter?.find((p) => p.name === name);
const part = (p: { part?: P[] }, name: string): any => p.part?.find((x) => x.name === name);
const cccd = (value: string): { system: string; value: string } => ({ system: VN_CORE_SID.cccd, value });

/** The patient's browser flow: Sen's sign-in page → the identity provider's form → back to Sen → tokens. */
async function patientToken(srv: TestServer, idp: TestNationalIdProvider, nationalId: string): Promise<string> {
  const browser = new Browser();
  const redirectUri = `${srv.url}/`;
  const auth = authorizeRequest({
    issuer: `${srv.url}/oidc`,
    audience: srv.fhir,
    redirectUri,
    scope: 'openid fhirUser launch/patient patient/*.cruds',
  });
  const login = await browser.follow(auth.url, srv.url);
  const href = /<a class="button" href="([^"]+)"/.exec(await login.res.text())?.[1];
  assert.ok(href, 'the national-ID button on Sen’s sign-in page');
  const toIdp = await browser.follow(new URL(href, srv.url).toString(), srv.url);
  const form = await browser.follow(toIdp.url, idp.issuer);
  await form.res.arrayBuffer();
  const action = `${form.url}/login`;
  const posted = await browser.request(action, {
    method: 'POST',
    form: { id_number: nationalId, password: TEST_IDP_PASSWORD },
  });
  const back = await browser.follow(action, idp.issuer, posted);
  const done = await browser.follow(back.url, srv.url);
  const code = new URL(done.url).searchParams.get('code');
  assert.ok(code, `signed in as ${nationalId.slice(0, 3)}…: ${done.res.status}`);
  await done.res.arrayBuffer();
  const token = await postForm(`${srv.url}/oidc/token`, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: redirectUri,
    client_id: 'sen-web',
    code_verifier: auth.verifier,
  });
  assert.equal(token.status, 200, token.text);
  return token.json.access_token as string;
}

for (const engine of testEngines()) {
  describe(`patient portal: records, family access, sharing, booking, rights [${engine}]`, () => {
    let srv: TestServer;
    let idp: TestNationalIdProvider;
    const ids: Record<string, string> = {};
    const tokens: Record<string, string> = {};

    const as = (token: string): { headers: Record<string, string> } => ({
      headers: { authorization: `Bearer ${token}` },
    });
    const create = async (resource: Record<string, unknown>): Promise<string> => {
      const res = await fhirFetch(srv.fhir, String(resource.resourceType), { method: 'POST', body: resource });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.id as string;
    };
    const slot = async (minutesFromNow: number, capacity: number): Promise<string> =>
      create({
        resourceType: 'Slot',
        extension: [{ url: SLOT_CAPACITY_URL, valueInteger: capacity }],
        schedule: { reference: `Schedule/${ids.schedule}` },
        status: 'free',
        start: new Date(Date.now() + minutesFromNow * 60_000).toISOString(),
        end: new Date(Date.now() + (minutesFromNow + 30) * 60_000).toISOString(),
      });
    const obs = (
      patient: string,
      code: string,
      value: number,
      status = 'final',
      when = '2026-11-01',
    ): Promise<string> =>
      create({
        resourceType: 'Observation',
        status,
        category: [
          { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] },
        ],
        code: { coding: [{ system: 'http://loinc.org', code }], text: code === '2345-7' ? 'Glucose' : 'HbA1c' },
        subject: { reference: `Patient/${patient}` },
        effectiveDateTime: `${when}T08:00:00+07:00`,
        valueQuantity: { value, unit: code === '2345-7' ? 'mmol/L' : '%' },
      });

    before(async () => {
      const idpPort = await freePort();
      srv = await startTestServer(engine, {
        config: {
          security: {
            mode: 'demo',
            demoClientSecret: TEST_CLIENT_SECRET,
            sealIntervalMs: 0,
            guardianPollMs: 0, // only the portal's own invalidation can make a revoke count at once
            nationalId: {
              issuer: `http://127.0.0.1:${idpPort}`,
              clientId: SEN_CLIENT_ID,
              clientSecret: SEN_CLIENT_SECRET,
            },
          },
        },
      });
      idp = await startTestNationalIdProvider({
        port: idpPort,
        accounts: [{ sub: MOTHER }, { sub: FATHER }, { sub: OTHER }],
        clients: [
          {
            clientId: SEN_CLIENT_ID,
            clientSecret: SEN_CLIENT_SECRET,
            redirectUris: [`${srv.url}/oidc/national-id/callback`],
          },
        ],
      });
      ids.hospital = await create({
        resourceType: 'Organization',
        name: 'Bệnh viện Đa khoa Sen',
        type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'prov' }] }],
      });
      ids.mother = await create({
        resourceType: 'Patient',
        identifier: [cccd(MOTHER)],
        name: [{ text: 'Trần Thị Mẹ' }],
        birthDate: '1990-05-02',
        gender: 'female',
      });
      ids.child = await create({ resourceType: 'Patient', identifier: [cccd(CHILD)], name: [{ text: 'Nguyễn Bé' }] });
      ids.father = await create({
        resourceType: 'Patient',
        identifier: [cccd(FATHER)],
        name: [{ text: 'Nguyễn Văn Bố' }],
      });
      ids.other = await create({ resourceType: 'Patient', identifier: [cccd(OTHER)], name: [{ text: 'Lê Văn Khác' }] });
      await create({
        resourceType: 'RelatedPerson',
        active: true,
        patient: { reference: `Patient/${ids.child}` },
        identifier: [cccd(MOTHER)],
        relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'MTH' }] }],
        period: { start: '2017-03-01' },
      });
      ids.g1 = await obs(ids.mother, '2345-7', 7.8, 'final', '2026-09-01');
      ids.g2 = await obs(ids.mother, '2345-7', 6.9, 'final', '2026-11-01');
      ids.pending = await obs(ids.mother, '4548-4', 8.1, 'preliminary');
      ids.finalReport = await create({
        resourceType: 'DiagnosticReport',
        status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'LAB' }] }],
        code: { text: 'Đường huyết' },
        subject: { reference: `Patient/${ids.mother}` },
        issued: '2026-11-01T09:00:00+07:00',
        result: [{ reference: `Observation/${ids.g2}` }],
      });
      ids.prelimReport = await create({
        resourceType: 'DiagnosticReport',
        status: 'preliminary',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'LAB' }] }],
        code: { text: 'HbA1c' },
        subject: { reference: `Patient/${ids.mother}` },
        result: [{ reference: `Observation/${ids.pending}` }],
      });
      ids.childObs = await obs(ids.child, '2345-7', 5.1);
      ids.otherObs = await obs(ids.other, '2345-7', 9.9);
      await create({
        resourceType: 'AllergyIntolerance',
        patient: { reference: `Patient/${ids.mother}` },
        clinicalStatus: {
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }],
        },
        code: { text: 'Penicillin' },
      });
      ids.practitioner = await create({ resourceType: 'Practitioner', name: [{ text: 'BS. Lê Minh' }] });
      ids.schedule = await create({
        resourceType: 'Schedule',
        active: true,
        actor: [{ reference: `Practitioner/${ids.practitioner}` }],
        specialty: [{ text: 'Nội khoa' }],
      });
      tokens.mother = await patientToken(srv, idp, MOTHER);
      tokens.father = await patientToken(srv, idp, FATHER);
      tokens.other = await patientToken(srv, idp, OTHER);
    });

    after(async () => {
      await idp?.close();
      await srv?.close();
    });

    it('shows a patient their own and their children’s records only, and final results only', async () => {
      const own = await fhirFetch(srv.fhir, `Patient/${ids.mother}/$portal-record`, as(tokens.mother));
      assert.equal(own.status, 200, JSON.stringify(own.body));
      assert.equal(own.body.type, 'collection');
      const got = new Set(own.body.entry.map((e: any) => `${e.resource.resourceType}/${e.resource.id}`));
      assert.ok(got.has(`Observation/${ids.g1}`) && got.has(`Observation/${ids.g2}`));
      assert.ok(got.has(`DiagnosticReport/${ids.finalReport}`));
      assert.ok(!got.has(`DiagnosticReport/${ids.prelimReport}`), 'a preliminary report is not shown');
      assert.ok(!got.has(`Observation/${ids.pending}`), 'nor its unverified result');
      assert.ok(!got.has(`Observation/${ids.otherObs}`) && !got.has(`Observation/${ids.childObs}`));

      const child = await fhirFetch(srv.fhir, `Patient/${ids.child}/$portal-record`, as(tokens.mother));
      assert.equal(child.status, 200);
      assert.ok(child.body.entry.some((e: any) => e.resource.id === ids.childObs));

      const stranger = await fhirFetch(srv.fhir, `Patient/${ids.other}/$portal-record`, as(tokens.mother));
      assert.equal(stranger.status, 404, 'another patient’s record does not even exist for her');
      const theirs = await fhirFetch(srv.fhir, `Patient/${ids.mother}/$portal-record`, as(tokens.other));
      assert.equal(theirs.status, 404);
      const search = await fhirFetch(srv.fhir, 'Observation?code=2345-7', as(tokens.mother));
      const subjects = new Set(search.body.entry.map((e: any) => e.resource.subject.reference));
      assert.deepEqual([...subjects].sort(), [`Patient/${ids.child}`, `Patient/${ids.mother}`].sort());
    });

    it('shows an inpatient the orders and care plan of the current stay, not those of past visits', async () => {
      const subject = { reference: `Patient/${ids.child}` };
      const stay = await create({
        resourceType: 'Encounter',
        status: 'in-progress',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
        subject,
        period: { start: new Date(Date.now() - 86_400_000).toISOString() },
      });
      const past = await create({
        resourceType: 'Encounter',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        subject,
        period: { start: '2026-01-05T08:00:00+07:00', end: '2026-01-05T09:00:00+07:00' },
      });
      const order = (encounter: string, text: string): Promise<string> =>
        create({
          resourceType: 'ServiceRequest',
          status: 'active',
          intent: 'order',
          subject,
          encounter: { reference: `Encounter/${encounter}` },
          code: { text },
          authoredOn: new Date().toISOString(),
        });
      const now = await order(stay, 'Công thức máu');
      const old = await order(past, 'X-quang ngực');
      const plan = await create({
        resourceType: 'CarePlan',
        status: 'active',
        intent: 'plan',
        subject,
        encounter: { reference: `Encounter/${stay}` },
        title: 'Điều trị viêm phổi',
      });
      const rec = await fhirFetch(srv.fhir, `Patient/${ids.child}/$portal-record`, as(tokens.mother));
      const got = new Set(rec.body.entry.map((e: any) => `${e.resource.resourceType}/${e.resource.id}`));
      assert.ok(got.has(`ServiceRequest/${now}`) && got.has(`CarePlan/${plan}`));
      assert.ok(!got.has(`ServiceRequest/${old}`));
    });

    it('builds the International Patient Summary document and a readable PDF with Vietnamese text', async () => {
      const ips = await fhirFetch(srv.fhir, `Patient/${ids.mother}/$summary`, as(tokens.mother));
      assert.equal(ips.status, 200);
      assert.equal(ips.body.type, 'document');
      const comp = ips.body.entry[0].resource;
      assert.equal(comp.resourceType, 'Composition');
      assert.equal(comp.type.coding[0].code, '60591-5');
      const allergies = comp.section.find((s: any) => s.code.coding[0].code === '48765-2');
      assert.match(allergies.text.div, /Penicillin/);
      const results = comp.section.find((s: any) => s.code.coding[0].code === '30954-2');
      assert.ok(results.entry.length >= 2);
      const refs = new Set(ips.body.entry.map((e: any) => e.fullUrl));
      for (const s of comp.section) {
        for (const e of s.entry ?? []) {
          assert.ok(refs.has(e.reference), `section entry ${e.reference} is inside the document`);
        }
      }
      const pdf = await fhirFetch(srv.fhir, `Patient/${ids.mother}/$summary-pdf`, as(tokens.mother));
      assert.equal(pdf.status, 200);
      assert.equal(pdf.body.contentType, 'application/pdf');
      const bytes = Buffer.from(pdf.body.data, 'base64');
      assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-');
      assert.match(bytes.toString('latin1'), /FontFile2/, 'the font is embedded');
      const probe = spawnSync('pdftotext', ['-', '-'], { input: bytes, encoding: 'utf8' });
      if (probe.status === 0) {
        assert.match(probe.stdout, /HỒ SƠ SỨC KHỎE CÁ NHÂN/);
        assert.match(probe.stdout, /Trần Thị Mẹ/);
      }
      const forOther = await fhirFetch(srv.fhir, `Patient/${ids.mother}/$summary-pdf`, as(tokens.other));
      assert.equal(forOther.status, 404);
    });

    it('lets a patient grant a family member access, and a revoked grant stops working at once', async () => {
      const before = await fhirFetch(srv.fhir, `Patient/${ids.mother}/$portal-record`, as(tokens.father));
      assert.equal(before.status, 404);
      const bad = await fhirFetch(srv.fhir, `Patient/${ids.mother}/$grant-access`, {
        method: 'POST',
        ...as(tokens.mother),
        body: params({ name: 'nationalId', valueString: '12345' }, { name: 'name', valueString: 'Bố' }),
      });
      assert.equal(bad.status, 400);
      const granted = await fhirFetch(srv.fhir, `Patient/${ids.mother}/$grant-access`, {
        method: 'POST',
        ...as(tokens.mother),
        body: params(
          { name: 'nationalId', valueString: FATHER },
          { name: 'name', valueString: 'Nguyễn Văn Bố' },
          { name: 'relationship', valueCode: 'SPS' },
        ),
      });
      assert.equal(granted.status, 200, JSON.stringify(granted.body));
      const rp = param(granted.body, 'relatedPerson').resource;
      const consent = param(granted.body, 'consent').resource;
      assert.equal(consent.status, 'active');
      assert.equal(consent.provision.actor[0].reference.reference, `RelatedPerson/${rp.id}`);
      assert.ok(consent.sourceAttachment.data, 'the consent keeps its evidence');

      const now = await fhirFetch(srv.fhir, `Patient/${ids.mother}/$portal-record`, as(tokens.father));
      assert.equal(now.status, 200, 'the family member follows her record');
      const grantAgain = await fhirFetch(srv.fhir, `Patient/${ids.mother}/$grant-access`, {
        method: 'POST',
        ...as(tokens.father),
        body: params({ name: 'nationalId', valueString: OTHER }, { name: 'name', valueString: 'Người lạ' }),
      });
      assert.equal(grantAgain.status, 403, 'only the patient herself grants access');
      const family = await fhirFetch(srv.fhir, `Patient/${ids.father}/$family`, as(tokens.father));
      const person = family.body.parameter.find((p: any) => p.name === 'person');
      assert.equal(part(person, 'patient').resource.id, ids.mother);
      assert.equal(part(person, 'kind').valueCode, 'granted');
      const motherFamily = await fhirFetch(srv.fhir, `Patient/${ids.mother}/$family`, as(tokens.mother));
      const kinds = motherFamily.body.parameter.filter((p: any) => p.name === 'person');
      assert.equal(part(kinds[0], 'kind').valueCode, 'guardian', 'her child, by guardianship');
      assert.equal(motherFamily.body.parameter.filter((p: any) => p.name === 'grant').length, 1);

      const revoked = await fhirFetch(srv.fhir, `Patient/${ids.mother}/$revoke-access`, {
        method: 'POST',
        ...as(tokens.mother),
        body: params({ name: 'relatedPerson', valueReference: { reference: `RelatedPerson/${rp.id}` } }),
      });
      assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
      assert.equal(param(revoked.body, 'relatedPerson').resource.active, false);
      const after = await fhirFetch(srv.fhir, `Patient/${ids.mother}/$portal-record`, as(tokens.father));
      assert.equal(after.status, 404, 'the very next request is refused');
      const obsAfter = await fhirFetch(srv.fhir, `Observation/${ids.g1}`, as(tokens.father));
      assert.equal(obsAfter.status, 404);
      const consentNow = await fhirFetch(srv.fhir, `Consent/${consent.id}`, as(tokens.mother));
      assert.equal(consentNow.body.status, 'inactive');
    });

    it('opens a share link as a read-only IPS, audits every use, and refuses it once expired or revoked', async () => {
      const made = await fhirFetch(srv.fhir, `Patient/${ids.mother}/$share-link`, {
        method: 'POST',
        ...as(tokens.mother),
        body: params({ name: 'hours', valueInteger: 24 }, { name: 'label', valueString: 'BS. tim mạch' }),
      });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      const url = param(made.body, 'url').valueUrl as string;
      assert.ok(url.startsWith(`${srv.url}/share/`));
      const linkId = part(param(made.body, 'link'), 'id').valueString;
      const byGuardian = await fhirFetch(srv.fhir, `Patient/${ids.child}/$share-link`, {
        method: 'POST',
        ...as(tokens.other),
        body: params(),
      });
      assert.equal(byGuardian.status, 404);

      const opened = await fetch(url, { headers: { accept: 'application/fhir+json' } });
      assert.equal(opened.status, 200);
      const doc = (await opened.json()) as any;
      assert.equal(doc.type, 'document');
      assert.equal(doc.entry[0].resource.resourceType, 'Composition');
      const page = await fetch(url, { headers: { accept: 'text/html' } });
      assert.equal(page.status, 200);
      assert.match(await page.text(), /Trần Thị Mẹ/);
      const uses = (await srv.security!.audit.search({ patient: ids.mother, who: `share-link:${linkId}` })).rows;
      assert.equal(uses.length, 2, 'both uses are in the audit trail');
      const seen = await fhirFetch(srv.fhir, `AuditEvent?patient=${ids.mother}`, as(tokens.mother));
      assert.ok(
        seen.body.entry.some((e: any) => JSON.stringify(e.resource.agent).includes(`share-link:${linkId}`)),
        'the patient sees the link’s uses in "who looked at my record"',
      );
      const list = await fhirFetch(srv.fhir, `Patient/${ids.mother}/$share-links`, as(tokens.mother));
      assert.equal(part(list.body.parameter[0], 'uses').valueInteger, 2);

      const revoked = await fhirFetch(srv.fhir, `Patient/${ids.mother}/$revoke-share`, {
        method: 'POST',
        ...as(tokens.mother),
        body: params({ name: 'link', valueString: linkId }),
      });
      assert.equal(revoked.status, 200);
      assert.equal((await fetch(url)).status, 410, 'a revoked link fails');

      const second = await fhirFetch(srv.fhir, `Patient/${ids.mother}/$share-link`, {
        method: 'POST',
        ...as(tokens.mother),
        body: params({ name: 'hours', valueInteger: 1 }),
      });
      const url2 = param(second.body, 'url').valueUrl as string;
      assert.equal((await fetch(url2)).status, 200);
      // an hour passes: the link's expiry is moved into the past as the clock would
      await srv.store.db.query(`UPDATE portal_share_link SET expires_at = now() - interval '1 second' WHERE id = $1`, [
        part(param(second.body, 'link'), 'id').valueString,
      ]);
      const expired = await fetch(url2);
      assert.equal(expired.status, 410, 'an expired link fails');
      assert.match(JSON.stringify(await expired.json()), /hết hạn/);
      assert.equal((await fetch(`${srv.url}/share/${'x'.repeat(43)}`)).status, 404);
      const tooLong = await fhirFetch(srv.fhir, `Patient/${ids.mother}/$share-link`, {
        method: 'POST',
        ...as(tokens.mother),
        body: params({ name: 'hours', valueInteger: 100000 }),
      });
      assert.equal(tooLong.status, 400);
    });

    it('lets exactly one of many concurrent bookings win the last seat of a slot', async () => {
      const patients: string[] = [];
      for (let i = 0; i < 6; i++) {
        patients.push(await create({ resourceType: 'Patient', name: [{ text: `Người đặt ${i}` }] }));
      }
      const last = await slot(24 * 60, 1);
      const book = (slotId: string, patient: string): Promise<{ status: number; body: any }> =>
        fhirFetch(srv.fhir, `Slot/${slotId}/$book`, {
          method: 'POST',
          body: params({ name: 'patient', valueReference: { reference: `Patient/${patient}` } }),
        });
      const results = await Promise.all(patients.map((p) => book(last, p)));
      const statuses = results.map((r) => r.status).sort();
      assert.deepEqual(statuses, [200, 409, 409, 409, 409, 409], JSON.stringify(results.map((r) => r.body)));
      assert.match(JSON.stringify(results.find((r) => r.status === 409)?.body), /hết chỗ/);
      const { rows } = await srv.store.db.query<{ booked: number }>(
        'SELECT booked FROM portal_slot WHERE slot_id = $1',
        [last],
      );
      assert.equal(rows[0].booked, 1);
      const stored = await fhirFetch(srv.fhir, `Slot/${last}`);
      assert.equal(stored.body.status, 'busy', 'a full slot is no longer offered');
      const appts = await fhirFetch(srv.fhir, `Appointment?slot=Slot/${last}`);
      assert.equal(appts.body.entry?.length ?? 0, 1, 'one appointment, not six');

      const two = await slot(25 * 60, 2);
      const many = await Promise.all(patients.slice(0, 5).map((p) => book(two, p)));
      assert.equal(many.filter((r) => r.status === 200).length, 2, 'a slot of two takes two');
    });

    it(
      'holds the line under open transactions on separate connections: all start together, one takes the seat',
      { skip: engine !== 'postgres' && 'PGlite is one session: transactions cannot overlap there' },
      async () => {
        const n = 5;
        const patients: string[] = [];
        for (let i = 0; i < n; i++) {
          patients.push(await create({ resourceType: 'Patient', name: [{ text: `Người đặt song song ${i}` }] }));
        }
        const last = await slot(26 * 60, 1);
        const booking = new BookingService(srv.store);
        let arrived = 0;
        let open!: () => void;
        const barrier = new Promise<void>((resolve) => {
          open = resolve;
        });
        const backends = new Set<number>();
        const outcomes = await Promise.allSettled(
          patients.map((patientId) =>
            srv.store.transaction(async (tx) => {
              const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
              backends.add(rows[0].pid);
              arrived += 1;
              if (arrived === n) {
                open(); // every transaction is open on its own connection before any books
              }
              await barrier;
              return booking.book({ slotId: last, patientId }, undefined, tx);
            }),
          ),
        );
        assert.equal(backends.size, n, 'one database connection per booking');
        const won = outcomes.filter((o) => o.status === 'fulfilled');
        assert.equal(won.length, 1, JSON.stringify(outcomes.map((o) => o.status)));
        for (const o of outcomes) {
          if (o.status === 'rejected') {
            assert.equal((o.reason as { status?: number }).status, 409);
          }
        }
        const { rows } = await srv.store.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM portal_booking WHERE slot_id = $1`,
          [last],
        );
        assert.equal(rows[0].n, 1);
      },
    );

    it('books with a code and a check-in QR, moves, cancels, and checks in at reception', async () => {
      const today = await slot(2, 2);
      const later = await slot(48 * 60, 2);
      const booked = await fhirFetch(srv.fhir, `Slot/${today}/$book`, {
        method: 'POST',
        ...as(tokens.mother),
        body: params({ name: 'reason', valueString: 'Tái khám tiểu đường' }),
      });
      assert.equal(booked.status, 200, JSON.stringify(booked.body));
      const code = param(booked.body, 'code').valueString as string;
      assert.match(code, /^[0-9A-HJKMNP-TV-Z]{8}$/);
      assert.equal(param(booked.body, 'checkinQr').valueString, `SEN-HEN:${code}`);
      const appt = param(booked.body, 'appointment').resource;
      assert.equal(appt.status, 'booked');
      assert.equal(appt.participant[0].actor.reference, `Patient/${ids.mother}`);
      assert.equal(appt.identifier[0].value, code);
      const again = await fhirFetch(srv.fhir, `Slot/${today}/$book`, {
        method: 'POST',
        ...as(tokens.mother),
        body: params(),
      });
      assert.equal(again.status, 409, 'the same slot twice');
      const forOther = await fhirFetch(srv.fhir, `Slot/${later}/$book`, {
        method: 'POST',
        ...as(tokens.mother),
        body: params({ name: 'patient', valueReference: { reference: `Patient/${ids.other}` } }),
      });
      assert.equal(forOther.status, 404, 'not for a stranger');
      const otherCancels = await fhirFetch(srv.fhir, `Appointment/${appt.id}/$cancel`, {
        method: 'POST',
        ...as(tokens.other),
        body: params(),
      });
      assert.equal(otherCancels.status, 404);

      const selfCheckIn = await fhirFetch(srv.fhir, 'Appointment/$check-in', {
        method: 'POST',
        ...as(tokens.mother),
        body: params({ name: 'code', valueString: code }),
      });
      assert.equal(selfCheckIn.status, 403);
      const unknown = await fhirFetch(srv.fhir, 'Appointment/$check-in', {
        method: 'POST',
        body: params({ name: 'code', valueString: 'SEN-HEN:ZZZZZZZZ' }),
      });
      assert.equal(unknown.status, 404);
      const checked = await fhirFetch(srv.fhir, 'Appointment/$check-in', {
        method: 'POST',
        body: params({ name: 'code', valueString: `SEN-HEN:${code.toLowerCase()}` }),
      });
      assert.equal(checked.status, 200, JSON.stringify(checked.body));
      assert.equal(param(checked.body, 'appointment').resource.status, 'arrived');
      const twice = await fhirFetch(srv.fhir, 'Appointment/$check-in', {
        method: 'POST',
        body: params({ name: 'code', valueString: code }),
      });
      assert.equal(twice.status, 409);

      // another booking: moved to a later day (same code), then cancelled (the seat is free again)
      const second = await slot(49 * 60, 1);
      const b2 = await fhirFetch(srv.fhir, `Slot/${later}/$book`, {
        method: 'POST',
        ...as(tokens.mother),
        body: params(),
      });
      assert.equal(b2.status, 200);
      const a2 = param(b2.body, 'appointment').resource;
      const moved = await fhirFetch(srv.fhir, `Appointment/${a2.id}/$move`, {
        method: 'POST',
        ...as(tokens.mother),
        body: params({ name: 'slot', valueReference: { reference: `Slot/${second}` } }),
      });
      assert.equal(moved.status, 200, JSON.stringify(moved.body));
      assert.equal(param(moved.body, 'code').valueString, param(b2.body, 'code').valueString);
      assert.equal(param(moved.body, 'appointment').resource.slot[0].reference, `Slot/${second}`);
      const seats = async (id: string): Promise<number> =>
        (await srv.store.db.query<{ booked: number }>('SELECT booked FROM portal_slot WHERE slot_id = $1', [id]))
          .rows[0].booked;
      assert.equal(await seats(later), 0);
      assert.equal(await seats(second), 1);
      assert.equal((await fhirFetch(srv.fhir, `Slot/${second}`)).body.status, 'busy');
      const cancelled = await fhirFetch(srv.fhir, `Appointment/${a2.id}/$cancel`, {
        method: 'POST',
        ...as(tokens.mother),
        body: params({ name: 'reason', valueString: 'Bận việc' }),
      });
      assert.equal(cancelled.status, 200);
      assert.equal(param(cancelled.body, 'appointment').resource.status, 'cancelled');
      assert.equal(await seats(second), 0);
      assert.equal((await fhirFetch(srv.fhir, `Slot/${second}`)).body.status, 'free');
      const cancelAgain = await fhirFetch(srv.fhir, `Appointment/${a2.id}/$cancel`, {
        method: 'POST',
        ...as(tokens.mother),
        body: params(),
      });
      assert.equal(cancelAgain.status, 409);
      const past = await slot(-60, 1);
      const late = await fhirFetch(srv.fhir, `Slot/${past}/$book`, {
        method: 'POST',
        ...as(tokens.mother),
        body: params(),
      });
      assert.equal(late.status, 409);
    });

    it('records a correction request with its legal deadlines; only the patient makes one', async () => {
      const made = await fhirFetch(srv.fhir, `Patient/${ids.mother}/$rights-request`, {
        method: 'POST',
        ...as(tokens.mother),
        body: params(
          { name: 'kind', valueCode: 'correction' },
          { name: 'detail', valueString: 'Ngày sinh của tôi là 02/05/1990, không phải 05/02/1990.' },
          { name: 'target', valueString: `Patient/${ids.mother}` },
        ),
      });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      const r = param(made.body, 'request');
      const received = new Date(part(r, 'receivedAt').valueDateTime);
      assert.equal(part(r, 'acknowledgeBy').valueDateTime, addWorkingDays(received, 2).toISOString());
      assert.equal(part(r, 'due').valueDateTime, addDays(received, 10).toISOString());
      assert.equal(part(r, 'status').valueCode, 'received');
      const list = await fhirFetch(srv.fhir, `Patient/${ids.mother}/$rights-requests`, as(tokens.mother));
      assert.equal(list.body.parameter.length, 1);
      const bad = await fhirFetch(srv.fhir, `Patient/${ids.mother}/$rights-request`, {
        method: 'POST',
        ...as(tokens.mother),
        body: params({ name: 'kind', valueCode: 'nothing' }, { name: 'detail', valueString: 'xin sửa giúp' }),
      });
      assert.equal(bad.status, 400);
      assert.match(JSON.stringify(bad.body), /Loại yêu cầu/);
      const id = part(r, 'id').valueString;
      const queue = await fhirFetch(srv.fhir, 'Patient/$rights-queue');
      assert.equal(queue.status, 200);
      assert.ok(queue.body.parameter.some((p: any) => part(p, 'id').valueString === id));
      assert.equal((await fhirFetch(srv.fhir, 'Patient/$rights-queue', as(tokens.mother))).status, 403);
      const done = await fhirFetch(srv.fhir, 'Patient/$rights-answer', {
        method: 'POST',
        body: params(
          { name: 'request', valueString: id },
          { name: 'status', valueCode: 'completed' },
          { name: 'answer', valueString: 'Đã sửa ngày sinh theo CCCD.' },
        ),
      });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      const mine = await fhirFetch(srv.fhir, `Patient/${ids.mother}/$rights-requests`, as(tokens.mother));
      assert.equal(part(mine.body.parameter[0], 'status').valueCode, 'completed');
      assert.equal(part(mine.body.parameter[0], 'answer').valueString, 'Đã sửa ngày sinh theo CCCD.');
      const forChild = await fhirFetch(srv.fhir, `Patient/${ids.child}/$rights-request`, {
        method: 'POST',
        ...as(tokens.father),
        body: params({ name: 'detail', valueString: 'sửa hồ sơ của bé' }),
      });
      assert.equal(forChild.status, 404);
    });

    it('serves the installable app: web manifest and service worker', async () => {
      const manifest = await fetch(`${srv.url}/portal/manifest.webmanifest`);
      assert.equal(manifest.status, 200);
      const m = (await manifest.json()) as any;
      assert.equal(m.start_url, '/portal');
      assert.equal(m.display, 'standalone');
      assert.equal(m.lang, 'vi');
      const sw = await fetch(`${srv.url}/portal/sw.js`);
      assert.equal(sw.status, 200);
      assert.match(sw.headers.get('content-type') ?? '', /javascript/);
      assert.match(await sw.text(), /never cached/);
    });
  });
}

describe('data-subject request deadlines (Decree 356/2025 Art 5)', () => {
  it('counts 2 working days over a weekend and a public holiday, 10 days in calendar days', () => {
    // Friday 28/08/2026 10:00 Vietnam time: Sat, Sun, Tue 1/9 and Wed 2/9 are not working days
    const friday = new Date('2026-08-28T03:00:00Z');
    assert.equal(addWorkingDays(friday, 2).toISOString(), '2026-09-03T16:59:59.999Z'); // end of Thu 3/9 (VN)
    assert.equal(addDays(friday, 10).toISOString(), '2026-09-07T16:59:59.999Z');
    // counted from the Vietnam day, not the UTC one
    const justAfterMidnight = new Date('2026-11-30T17:30:00Z'); // Mon 30/11 in UTC, Tue 01/12 00:30 in Vietnam
    assert.equal(addWorkingDays(justAfterMidnight, 2).toISOString(), '2026-12-03T16:59:59.999Z');
  });
});

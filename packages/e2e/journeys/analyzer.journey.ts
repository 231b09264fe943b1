import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Hl7Message } from '@medplum/core';
import { Hl7Client } from '@medplum/hl7';
import type { Browser } from 'playwright-core';
import { CATALOG_URLS } from '../../server/src/capabilities/terminology/kinds.ts';
import { VISIT_TYPE_SYSTEM } from '../../server/src/capabilities/visits/encounter.ts';
import { FACILITY_TAG_SYSTEM } from '../../server/src/platform/gate/gate.ts';
import {
  DEFAULT_DEMO_STAFF_PASSWORD,
  DEFAULT_DEMO_TOTP_SECRET,
  seedDemoAccounts,
} from '../../server/src/seed/demo-accounts.ts';
import { HOSPITAL_ID } from '../../server/src/seed/demo-facility.ts';
import { seedDemo } from '../../server/src/seed/seed.ts';
import { fhirFetch, startTestServer, type TestServer } from '../../server/test/harness.ts';
import { SHARED_DIR } from '../../server/test/shared-data.ts';
import { staffLogin } from '../../server/test/staff-login.ts';
import { chromiumAvailable, Journey, launch, SKIP_NOTICE } from '../src/browser.ts';
import { buildWebApp } from '../src/fixtures.ts';
import { fixAndReplayAnalyzerMessage } from './steps/analyzer.ts';
import { signInAs } from './steps/imaging.ts';

const TAG = [{ system: FACILITY_TAG_SYSTEM, code: HOSPITAL_ID }];

describe(
  'journey: analyzer — a blood count from the analyzer with a wrong barcode is quarantined, fixed and replayed',
  { skip: !chromiumAvailable() && SKIP_NOTICE },
  () => {
    let srv: TestServer;
    let browser: Browser;
    let j: Journey;
    let orderId: string;
    let barcode: string;
    let mllp: number;

    before(async () => {
      buildWebApp();
      srv = await startTestServer('pglite', { config: { analyzer: { port: 0, facilityId: HOSPITAL_ID } } });
      await seedDemo(srv.router, { sharedDir: SHARED_DIR, patients: 1 });
      await seedDemoAccounts(srv.security!.accounts, {
        mode: 'demo',
        password: DEFAULT_DEMO_STAFF_PASSWORD,
        totpSecret: DEFAULT_DEMO_TOTP_SECRET,
      });
      mllp = (await srv.analyzer.start())!.port;
      const practitioner = async (text: string): Promise<string> =>
        (
          await fhirFetch(srv.fhir, 'Practitioner', {
            method: 'POST',
            body: { resourceType: 'Practitioner', active: true, name: [{ text }] },
          })
        ).body.id;
      const doctor = await staffLogin(srv, {
        username: 'e2e.bacsi.mllp',
        practitionerId: await practitioner('Đỗ Văn Nam'),
        roles: ['doctor'],
        facilityId: HOSPITAL_ID,
      });
      const tech = await staffLogin(srv, {
        username: 'e2e.ktv.mllp',
        practitionerId: await practitioner('Mai Thị Hoa'),
        roles: ['lab-technician'],
        facilityId: HOSPITAL_ID,
      });
      const name = `Vũ Minh Châu ${randomInt(100, 1000)}`;
      const [family, ...given] = name.split(' ');
      const patient = await fhirFetch(srv.fhir, 'Patient', {
        method: 'POST',
        body: {
          resourceType: 'Patient',
          meta: { tag: TAG },
          name: [{ text: name, family, given }],
          gender: 'female',
          birthDate: '1988-02-14',
        },
      });
      const encounter = await fhirFetch(srv.fhir, 'Encounter', {
        method: 'POST',
        body: {
          resourceType: 'Encounter',
          meta: { tag: TAG },
          status: 'in-progress',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
          type: [{ coding: [{ system: VISIT_TYPE_SYSTEM, code: 'bhyt' }] }],
          subject: { reference: `Patient/${patient.body.id}` },
        },
      });
      const order = await fhirFetch(srv.fhir, `Encounter/${encounter.body.id}/$order`, {
        method: 'POST',
        headers: { authorization: `Bearer ${doctor.token}` },
        body: {
          resourceType: 'Parameters',
          parameter: [{ name: 'service', valueCoding: { system: CATALOG_URLS.services, code: '99.2301.2001' } }],
        },
      });
      assert.equal(order.status, 200, JSON.stringify(order.body));
      orderId = order.body.entry[0].resource.id;
      const specimen = await fhirFetch(srv.fhir, `ServiceRequest/${orderId}/$collect-specimen`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tech.token}` },
        body: { resourceType: 'Parameters', parameter: [] },
      });
      assert.equal(specimen.status, 201, JSON.stringify(specimen.body));
      barcode = specimen.body.accessionIdentifier.value;
      browser = await launch();
      j = await Journey.open(browser, 'analyzer');
    });
    after(async () => {
      await j?.close();
      await browser?.close();
      await srv?.close();
    });

    it('the technician fixes the barcode and the test code on the quarantine screen and the results land on the order', async () => {
      // the analyzer misread the tube and sends its own code for hemoglobin
      const client = new Hl7Client({ host: '127.0.0.1', port: mllp });
      const ack = await client.sendAndWait(
        Hl7Message.parse(
          [
            'MSH|^~\\&|XN-550|K06|SEN|BV-SEN|20261203093000||ORU^R01|E2E-1|P|2.3.1',
            'OBR|1||99887766|CBC',
            'OBX|1|NM|HGB^Hemoglobin||132|g/L|||||F',
            'OBX|2|NM|6690-2^WBC^LN||6.8|G/L|||||F',
          ].join('\r'),
        ),
        { timeoutMs: 20_000 },
      );
      await client.close();
      assert.equal(ack.getSegment('MSA')?.getField(1)?.toString(), 'AE');
      await signInAs(j.page, srv.url, 'ktv.xetnghiem');
      await fixAndReplayAnalyzerMessage(j.page, {
        wrongBarcode: '99887766',
        barcode,
        codes: { HGB: '718-7' },
        shot: (s) => j.shot(s),
      });
      const reports = await fhirFetch(srv.fhir, `DiagnosticReport?based-on=ServiceRequest/${orderId}`);
      assert.equal(reports.body.entry.length, 1);
      assert.equal(reports.body.entry[0].resource.result.length, 2);
    });
  },
);

import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { CATALOG_URLS } from '../../server/src/capabilities/terminology/kinds.ts';
import { VISIT_TYPE_SYSTEM } from '../../server/src/capabilities/visits/encounter.ts';
import { FACILITY_TAG_SYSTEM } from '../../server/src/platform/gate/gate.ts';
import { HOSPITAL_ID } from '../../server/src/seed/demo-facility.ts';
import { fhirFetch } from '../../server/test/harness.ts';
import { staffLogin } from '../../server/test/staff-login.ts';
import { chromiumAvailable, Journey, launch, SKIP_NOTICE } from '../src/browser.ts';
import { type DemoSite, startDemoSite } from '../src/fixtures.ts';
import { signInAs } from './steps/imaging.ts';
import { labBloodCountStep, signOffLabResults } from './steps/lab.ts';

const TAG = [{ system: FACILITY_TAG_SYSTEM, code: HOSPITAL_ID }];

describe(
  'journey: laboratory — specimen label, receipt, a blood count with a critical value, verification and sign-off',
  { skip: !chromiumAvailable() && SKIP_NOTICE },
  () => {
    let site: DemoSite;
    let browser: Browser;
    let j: Journey;
    let patientName: string;
    let orderId: string;
    let encounterId: string;
    let doctorPractitionerId: string;
    let orderLab: (name: string, service: string) => Promise<{ order: string; encounter: string }>;

    before(async () => {
      site = await startDemoSite(1);
      const srv = site.srv;
      const practitioner = await fhirFetch(srv.fhir, 'Practitioner', {
        method: 'POST',
        body: {
          resourceType: 'Practitioner',
          active: true,
          name: [{ text: 'Lý Thu Hà', family: 'Lý', given: ['Thu', 'Hà'] }],
        },
      });
      doctorPractitionerId = practitioner.body.id;
      const doctor = await staffLogin(srv, {
        username: 'e2e.bacsi.lab',
        practitionerId: doctorPractitionerId,
        roles: ['doctor'],
        facilityId: HOSPITAL_ID,
      });
      orderLab = async (name, service) => {
        const [family, ...given] = name.split(' ');
        const patient = await fhirFetch(srv.fhir, 'Patient', {
          method: 'POST',
          body: {
            resourceType: 'Patient',
            meta: { tag: TAG },
            name: [{ text: name, family, given }],
            gender: 'male',
            birthDate: '1975-06-20',
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
            parameter: [{ name: 'service', valueCoding: { system: CATALOG_URLS.services, code: service } }],
          },
        });
        assert.equal(order.status, 200, JSON.stringify(order.body));
        return { order: order.body.entry[0].resource.id as string, encounter: encounter.body.id as string };
      };
      patientName = `Phan Văn Khải ${randomInt(100, 1000)}`;
      ({ order: orderId, encounter: encounterId } = await orderLab(patientName, '99.2301.2001'));
      browser = await launch();
      j = await Journey.open(browser, 'lab');
    });
    after(async () => {
      await j?.close();
      await browser?.close();
      await site?.close();
    });

    it('the technician collects, receives, enters a blood count with a critical WBC and verifies', async () => {
      const barcode = await labBloodCountStep(j.page, { baseUrl: site.srv.url, patientName, shot: (s) => j.shot(s) });
      const specimens = await fhirFetch(
        site.srv.fhir,
        `Specimen?accession=${encodeURIComponent(`https://sen.health.vn/fhir/sid/specimen-barcode|${barcode}`)}`,
      );
      assert.equal(specimens.body.entry.length, 1);
      assert.ok(specimens.body.entry[0].resource.receivedTime);
      const reports = await fhirFetch(site.srv.fhir, `DiagnosticReport?based-on=ServiceRequest/${orderId}`);
      assert.equal(reports.body.entry[0].resource.status, 'preliminary');
      assert.equal(reports.body.entry[0].resource.result.length, 5);
      const alerts = await fhirFetch(site.srv.fhir, `Communication?encounter=Encounter/${encounterId}&category=alert`);
      assert.equal(alerts.body.entry.length, 1);
      assert.equal(alerts.body.entry[0].resource.recipient[0].reference, `Practitioner/${doctorPractitionerId}`);
    });

    it('a new order appears on the open worklist without reload', async () => {
      const { page } = j;
      await page.getByRole('link', { name: '← Danh sách xét nghiệm' }).click();
      const table = page.getByRole('table', { name: 'Danh sách xét nghiệm' });
      await table.getByRole('row').filter({ hasText: patientName }).getByText('Đã duyệt').waitFor();
      const next = `Hồ Thị Mai ${randomInt(100, 1000)}`;
      await orderLab(next, '99.2302.2101');
      await table.getByRole('row').filter({ hasText: next }).getByText('Chờ lấy mẫu').waitFor({ timeout: 10_000 });
      await j.shot('lab-live');
    });

    it('a doctor signs the verified results off: the report is final', async () => {
      await signInAs(j.page, site.srv.url, 'bacsi1');
      await signOffLabResults(j.page, { baseUrl: site.srv.url, orderId, shot: (s) => j.shot(s) });
      const reports = await fhirFetch(site.srv.fhir, `DiagnosticReport?based-on=ServiceRequest/${orderId}`);
      assert.equal(reports.body.entry[0].resource.status, 'final');
    });
  },
);

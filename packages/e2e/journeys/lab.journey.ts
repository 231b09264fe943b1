import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { fhirFetch } from '../../server/test/harness.ts';
import { chromiumAvailable, Journey, launch, SKIP_NOTICE } from '../src/browser.ts';
import { apiStaff, type DemoSite, openVisit, orderServices, startDemoSite } from '../src/fixtures.ts';
import { signInAs } from './steps/imaging.ts';
import { labBloodCountStep, signOffLabResults } from './steps/lab.ts';

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
      const doctor = await apiStaff(site, { username: 'e2e.bacsi.lab', name: 'Lý Thu Hà', roles: ['doctor'] });
      doctorPractitionerId = doctor.practitionerId;
      orderLab = async (name, service) => {
        const visit = await openVisit(site, { name, gender: 'male', birthDate: '1975-06-20' }, 'bhyt');
        const [order] = await orderServices(site, doctor, visit.encounterId, [service]);
        return { order, encounter: visit.encounterId };
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

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
import { signXrayReport } from './steps/imaging.ts';

const TAG = [{ system: FACILITY_TAG_SYSTEM, code: HOSPITAL_ID }];

describe(
  'journey: imaging — the technician marks the chest X-ray done, the radiologist signs the report',
  { skip: !chromiumAvailable() && SKIP_NOTICE },
  () => {
    let site: DemoSite;
    let browser: Browser;
    let j: Journey;
    let patientName: string;
    let orderId: string;

    let orderXray: (name: string) => Promise<string>;

    before(async () => {
      site = await startDemoSite(1);
      const srv = site.srv;
      // a BHYT visit with a chest X-ray ordered by a doctor, through the API
      const doctorPractitioner = await fhirFetch(srv.fhir, 'Practitioner', {
        method: 'POST',
        body: {
          resourceType: 'Practitioner',
          active: true,
          name: [{ text: 'Võ Minh Tâm', family: 'Võ', given: ['Minh', 'Tâm'] }],
        },
      });
      const doctor = await staffLogin(srv, {
        username: 'e2e.bacsi.imaging',
        practitionerId: doctorPractitioner.body.id,
        roles: ['doctor'],
        facilityId: HOSPITAL_ID,
      });
      orderXray = async (name: string): Promise<string> => {
        const [family, ...given] = name.split(' ');
        const patient = await fhirFetch(srv.fhir, 'Patient', {
          method: 'POST',
          body: {
            resourceType: 'Patient',
            meta: { tag: TAG },
            name: [{ text: name, family, given }],
            gender: 'female',
            birthDate: '1982-09-15',
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
            parameter: [
              { name: 'service', valueCoding: { system: CATALOG_URLS.services, code: '99.2401.3004' } },
              { name: 'priority', valueCode: 'urgent' },
            ],
          },
        });
        assert.equal(order.status, 200, JSON.stringify(order.body));
        return order.body.entry[0].resource.id as string;
      };
      patientName = `Đặng Thị Hoa ${randomInt(100, 1000)}`;
      orderId = await orderXray(patientName);
      browser = await launch();
      j = await Journey.open(browser, 'imaging');
    });
    after(async () => {
      await j?.close();
      await browser?.close();
      await site?.close();
    });

    it('the X-ray goes from the worklist to a signed RAD report through the two roles', async () => {
      await signXrayReport(j.page, { baseUrl: site.srv.url, patientName, shot: (s) => j.shot(s) });
      const reports = await fhirFetch(site.srv.fhir, `DiagnosticReport?based-on=ServiceRequest/${orderId}`);
      const report = reports.body.entry[0].resource;
      assert.equal(report.status, 'final');
      assert.equal(report.category[0].coding[0].code, 'RAD');
      assert.equal(report.conclusion, 'Hình ảnh X-quang ngực thẳng bình thường');
    });

    it('a new order appears on the open worklist without reload', async () => {
      const { page } = j;
      await page.getByRole('link', { name: 'Về danh sách' }).click();
      // the only order is signed: the list of orders not done yet is empty
      await page.getByText('Không có chỉ định nào.').waitFor();
      const table = page.getByRole('table', { name: 'Danh sách chỉ định chẩn đoán hình ảnh' });
      const next = `Ngô Văn Phúc ${randomInt(100, 1000)}`;
      await orderXray(next);
      await table.getByRole('row').filter({ hasText: next }).getByText('Chờ chụp').waitFor({ timeout: 10_000 });
      await j.shot('imaging-live');
    });
  },
);

import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { fhirFetch } from '../../server/test/harness.ts';
import { chromiumAvailable, Journey, launch, SKIP_NOTICE } from '../src/browser.ts';
import { apiStaff, type DemoSite, openVisit, orderServices, startDemoSite } from '../src/fixtures.ts';
import { signXrayReport } from './steps/imaging.ts';

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
      // a BHYT visit with a chest X-ray ordered by a doctor, through the API
      const doctor = await apiStaff(site, { username: 'e2e.bacsi.imaging', name: 'Võ Minh Tâm', roles: ['doctor'] });
      orderXray = async (name: string): Promise<string> => {
        const visit = await openVisit(site, { name, gender: 'female', birthDate: '1982-09-15' }, 'bhyt');
        const [order] = await orderServices(site, doctor, visit.encounterId, ['99.2401.3004'], 'urgent');
        return order;
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

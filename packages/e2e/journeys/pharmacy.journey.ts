import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { CATALOG_URLS } from '../../server/src/capabilities/terminology/kinds.ts';
import { fhirFetch } from '../../server/test/harness.ts';
import { chromiumAvailable, Journey, launch, SKIP_NOTICE } from '../src/browser.ts';
import { apiStaff, type DemoSite, openVisit, startDemoSite } from '../src/fixtures.ts';
import { signInAs } from './steps/imaging.ts';
import { dispensePrescription } from './steps/pharmacy.ts';

const item = (code: string, dose: number, times: number, days: number): unknown => ({
  name: 'item',
  part: [
    { name: 'drug', valueCoding: { system: CATALOG_URLS.drugs, code } },
    { name: 'dosePerTime', valueDecimal: dose },
    { name: 'timesPerDay', valueInteger: times },
    { name: 'days', valueInteger: days },
  ],
});

describe(
  'journey: pharmacy — the pharmacist types the prescription code and dispenses it from the demo lots',
  { skip: !chromiumAvailable() && SKIP_NOTICE },
  () => {
    let site: DemoSite;
    let browser: Browser;
    let j: Journey;
    let code: string;
    let lines: string[];

    before(async () => {
      site = await startDemoSite(1);
      const srv = site.srv;
      const doctor = await apiStaff(site, { username: 'e2e.bacsi.pharmacy', name: 'Hồ Văn Lộc', roles: ['doctor'] });
      const visit = await openVisit(site, { name: 'Bùi Văn Nam', gender: 'male', birthDate: '1959-02-20' });
      const rx = await fhirFetch(srv.fhir, `Encounter/${visit.encounterId}/$prescribe`, {
        method: 'POST',
        headers: { authorization: `Bearer ${doctor.token}` },
        body: { resourceType: 'Parameters', parameter: [item('DEMO-T010', 1, 1, 7), item('DEMO-T001', 1, 3, 3)] },
      });
      assert.equal(rx.status, 200, JSON.stringify(rx.body));
      code = rx.body.parameter.find((p: { name: string }) => p.name === 'prescriptionCode').valueString;
      lines = rx.body.parameter
        .filter((p: { name: string }) => p.name === 'medicationRequest')
        .map((p: { resource: { id: string } }) => p.resource.id);
      browser = await launch();
      j = await Journey.open(browser, 'pharmacy');
    });
    after(async () => {
      await j?.close();
      await browser?.close();
      await site?.close();
    });

    it('signs in as the pharmacist and lands on the pharmacy', async () => {
      await signInAs(j.page, site.srv.url, 'duocsi');
      await j.page.getByRole('heading', { name: /^Nhà thuốc — phát thuốc/ }).waitFor();
      await j.shot('pharmacy');
    });

    it('dispenses the prescription by its code, first-expiring lots first', async () => {
      await dispensePrescription(j.page, code, (s) => j.shot(s));
      for (const id of lines) {
        const md = await fhirFetch(site.srv.fhir, `MedicationDispense?prescription=MedicationRequest/${id}`);
        assert.equal(md.body.entry.length, 1);
        const d = md.body.entry[0].resource;
        assert.equal(d.status, 'completed');
        // the demo's near-expiry lot of the pharmacy (NT…A) goes first
        const lot = d.extension[0].extension.find((e: { url: string }) => e.url === 'lotNumber').valueString;
        assert.match(lot, /^NT\d{3}A$/);
      }
    });

    it('the stock report shows the lots with their state', async () => {
      await j.page.getByRole('tab', { name: 'Tồn kho' }).click();
      const table = j.page.getByRole('table', { name: 'Báo cáo tồn kho theo thuốc và lô' });
      await table
        .getByText(/^Sắp hết hạn/)
        .first()
        .waitFor();
      await j.shot('stock-report');
    });
  },
);

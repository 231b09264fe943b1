import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { ehbOf } from '../../server/src/capabilities/ehb/plugin.ts';
import { CATALOG_URLS } from '../../server/src/capabilities/terminology/kinds.ts';
import { fhirFetch } from '../../server/test/harness.ts';
import { chromiumAvailable, Journey, launch, SKIP_NOTICE } from '../src/browser.ts';
import { apiStaff, type DemoSite, openVisit, startDemoSite } from '../src/fixtures.ts';
import { openEhbSubmission, resendEhbSubmission } from './steps/ehb.ts';
import { signInAs } from './steps/imaging.ts';

describe(
  'journey: e-health book — the IT administrator sees a closed visit waiting for the gateway and sends it again',
  { skip: !chromiumAvailable() && SKIP_NOTICE },
  () => {
    let site: DemoSite;
    let browser: Browser;
    let j: Journey;
    let encounterId: string;

    before(async () => {
      // the demo site has no e-health-book gateway configured: submissions wait, each try says why
      site = await startDemoSite(1);
      const srv = site.srv;
      const doctor = await apiStaff(site, { username: 'e2e.bacsi.ehb', name: 'Đỗ Minh Khoa', roles: ['doctor'] });
      const auth = { authorization: `Bearer ${doctor.token}` };
      const visit = await openVisit(site, { name: 'Vũ Thị Hoa', gender: 'female', birthDate: '1975-11-02' });
      encounterId = visit.encounterId;
      const ehb = ehbOf(srv.router);
      assert.ok(ehb);
      await ehb.runOnce(); // the feed's first run: the seeded visits are history
      const dx = await fhirFetch(srv.fhir, `Encounter/${encounterId}/$set-diagnoses`, {
        method: 'POST',
        headers: auth,
        body: {
          resourceType: 'Parameters',
          parameter: [{ name: 'main', valueCoding: { system: CATALOG_URLS.icd10, code: 'I10' } }],
        },
      });
      assert.equal(dx.status, 200, JSON.stringify(dx.body));
      const done = await fhirFetch(srv.fhir, `Encounter/${encounterId}/$conclude`, {
        method: 'POST',
        headers: auth,
        body: { resourceType: 'Parameters', parameter: [{ name: 'outcome', valueCode: 'improved' }] },
      });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      await ehb.runOnce(); // queued, and a first try that found no gateway
      browser = await launch();
      j = await Journey.open(browser, 'ehb');
    });
    after(async () => {
      await j?.close();
      await browser?.close();
      await site?.close();
    });

    it('signs in as the facility administrator and finds the visit waiting, with why', async () => {
      await signInAs(j.page, site.srv.url, 'quantri');
      await openEhbSubmission(j.page, encounterId, (s) => j.shot(s));
      const row = j.page.getByRole('row').filter({ hasText: encounterId });
      await row.getByText('Đang chờ gửi').first().waitFor();
      await row.getByText('Không kết nối được cổng').waitFor();
    });

    it('sends it again now and lists every attempt', async () => {
      await resendEhbSubmission(j.page, encounterId, (s) => j.shot(s));
    });
  },
);

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { chromiumAvailable, Journey, launch, SKIP_NOTICE } from '../src/browser.ts';
import { DEMO_PASSWORD, type DemoSite, demoTotp, startDemoSite } from '../src/fixtures.ts';

describe(
  'journey: a doctor signs in with the second factor and sees the department’s visits',
  { skip: !chromiumAvailable() && SKIP_NOTICE },
  () => {
    let site: DemoSite;
    let browser: Browser;
    let j: Journey;

    before(async () => {
      site = await startDemoSite();
      browser = await launch();
      j = await Journey.open(browser, 'doctor-sign-in');
    });
    after(async () => {
      await j?.close();
      await browser?.close();
      await site?.close();
    });

    it('asks a doctor for the 6-digit code after the password: the password alone does not sign in', async () => {
      await j.page.goto(site.srv.url);
      await j.page.getByRole('button', { name: 'Đăng nhập' }).click();
      await j.page.locator('#username').fill('bacsi1');
      await j.page.locator('#password').fill(DEMO_PASSWORD);
      await j.page.locator('button[type=submit]').first().click();
      await j.page.locator('#code').waitFor();
      assert.match(new URL(j.page.url()).pathname, /^\/oidc\/interaction\//, 'still on the sign-in pages');
      await j.shot('second-factor');
    });

    it('refuses a wrong code with a readable message', async () => {
      const right = demoTotp('bacsi1');
      await j.page.locator('#code').fill(right === '000000' ? '111111' : '000000');
      await j.page.locator('button[type=submit]').first().click();
      await j.page.getByText('Mã xác thực không đúng', { exact: false }).waitFor();
      await j.shot('wrong-code');
    });

    it('signs in with the right code and lands on the department’s recent visits, patients named', async () => {
      await j.page.locator('#code').fill(demoTotp('bacsi1'));
      await j.page.locator('button[type=submit]').first().click();
      // a doctor's home is the clinic queue; the department's visits are one menu item away
      await j.page.getByRole('heading', { name: 'Hàng đợi phòng khám' }).waitFor();
      await j.page.getByRole('link', { name: 'Lượt khám', exact: true }).click();
      await j.page.getByRole('heading', { name: 'Lượt khám gần đây của khoa' }).waitFor();
      assert.match(new URL(j.page.url()).pathname, /^\/visits$/);
      await j.page.getByText('Bác sĩ').first().waitFor();
      const table = j.page.getByRole('table', { name: 'Lượt khám gần đây của khoa' });
      await table.waitFor();
      assert.ok((await table.locator('tbody tr').count()) > 0, 'the seeded visits of the department are listed');
      assert.ok(((await table.locator('tbody tr').first().textContent()) ?? '').length > 0);
      await j.shot('doctor-visits');
    });

    it('finds a patient from the menu too', async () => {
      await j.page.getByRole('link', { name: 'Tìm bệnh nhân' }).click();
      await j.page.getByRole('heading', { name: 'Tìm bệnh nhân' }).waitFor();
      await j.shot('doctor-patient-search');
    });
  },
);

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { chromiumAvailable, Journey, launch, SKIP_NOTICE } from '../src/browser.ts';
import { DEMO_PASSWORD, type DemoSite, startDemoSite } from '../src/fixtures.ts';

if (!chromiumAvailable()) {
  console.log(SKIP_NOTICE);
}

describe(
  'journey: a receptionist signs in to the web app and finds a patient',
  { skip: !chromiumAvailable() && SKIP_NOTICE },
  () => {
    let site: DemoSite;
    let browser: Browser;
    let j: Journey;
    const username = 'tiepdon';

    before(async () => {
      site = await startDemoSite();
      browser = await launch();
      j = await Journey.open(browser, 'sign-in');
    });
    after(async () => {
      await j?.close();
      await browser?.close();
      await site?.close();
    });

    it('shows the Vietnamese sign-in screen first', async () => {
      await j.page.goto(site.srv.url);
      await j.page.getByRole('button', { name: 'Đăng nhập' }).waitFor();
      assert.equal(await j.page.locator('html').getAttribute('lang'), 'vi');
      await j.shot('sign-in-screen');
    });

    it('signs in through Sen’s own OpenID Connect pages (code + PKCE) and lands on the reception screen', async () => {
      await j.page.getByRole('button', { name: 'Đăng nhập' }).click();
      await j.page.waitForURL(/\/oidc\/interaction\//);
      await j.page.locator('#username').fill(username);
      await j.page.locator('#password').fill(DEMO_PASSWORD);
      await j.shot('login-form');
      await j.page.locator('button[type=submit]').first().click();
      await j.page.getByRole('heading', { name: 'Tiếp đón bệnh nhân' }).waitFor();
      assert.match(new URL(j.page.url()).pathname, /^\/reception$/);
      // the facility and the department are always visible
      await j.page.getByText('Bệnh viện Đa khoa Sen').first().waitFor();
      await j.page.getByText('Tiếp đón').first().waitFor();
      assert.doesNotMatch(j.page.url(), /code=|state=/, 'code and state are removed from the address bar');
      await j.shot('reception-home');
    });

    it('finds a patient by name typed without diacritics', async () => {
      const { rows } = await site.srv.store.db.query<{ family: string }>(
        "SELECT content::jsonb->'name'->0->>'family' AS family FROM resource WHERE type = 'Patient' AND NOT deleted LIMIT 1",
      );
      const family = rows[0].family;
      await j.page.getByRole('link', { name: 'Tìm bệnh nhân' }).click();
      const plain = family
        .normalize('NFD')
        .replace(/[\u0300-\u036f]/g, '')
        .replace(/đ/g, 'd')
        .replace(/Đ/g, 'D');
      await j.page.getByLabel('Họ tên hoặc số CCCD').fill(plain.toLowerCase());
      await j.page.getByRole('button', { name: 'Tìm', exact: true }).click();
      const table = j.page.getByRole('table', { name: 'Tìm bệnh nhân' });
      await table.waitFor();
      assert.ok((await table.locator('tbody tr').count()) > 0);
      assert.ok((await table.textContent())?.includes(family), `the result shows ${family} with its diacritics`);
      await j.shot('patient-found');
    });

    it('switches to English and back to Vietnamese', async () => {
      await j.page.getByText('English', { exact: true }).click();
      await j.page.getByRole('heading', { name: 'Find a patient' }).waitFor();
      await j.shot('english');
      await j.page.getByText('Tiếng Việt', { exact: true }).click();
      await j.page.getByRole('heading', { name: 'Tìm bệnh nhân' }).waitFor();
    });

    it('signs out (the session ends at the server too) and returns to the sign-in screen', async () => {
      await j.page.getByRole('button', { name: 'Đăng xuất' }).click();
      await j.page.getByRole('heading', { name: /Đăng xuất/ }).waitFor();
      await j.shot('sign-out-confirm');
      await j.page.getByRole('button', { name: /^Đăng xuất/ }).click();
      await j.page.getByRole('button', { name: 'Đăng nhập' }).waitFor();
      await j.shot('signed-out');
      // signing in again asks for the password: the server session is gone
      await j.page.getByRole('button', { name: 'Đăng nhập' }).click();
      await j.page.locator('#password').waitFor();
    });
  },
);

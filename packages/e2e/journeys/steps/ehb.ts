/**
 * Browser step of the national e-health-book feed, for the combined journey: on a facility administrator's page, the
 * IT screen lists the submission of a closed visit with its status, attempts and last error; its attempts show the
 * gateway's answers; "send now" sends it again at once.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { Shot } from './imaging.ts';

/** Opens the IT screen and finds the row of the episode whose MA_LK (the Encounter id) is given. */
export async function openEhbSubmission(page: Page, maLk: string, shot?: Shot): Promise<void> {
  await page.getByRole('navigation', { name: 'menu' }).getByRole('link', { name: 'Sổ sức khỏe điện tử' }).click();
  await page.getByRole('heading', { name: 'Gửi dữ liệu sổ sức khỏe điện tử' }).waitFor();
  const table = page.getByRole('table', { name: 'Gửi dữ liệu sổ sức khỏe điện tử' });
  const row = table.getByRole('row').filter({ hasText: maLk });
  await row.waitFor();
  await shot?.('ehb-submissions');
}

/**
 * For a submission the gateway has not taken yet: "send now" records one more attempt, and the attempts dialog shows
 * each one with the gateway's answer (or why there was none).
 */
export async function resendEhbSubmission(page: Page, maLk: string, shot?: Shot): Promise<void> {
  const table = page.getByRole('table', { name: 'Gửi dữ liệu sổ sức khỏe điện tử' });
  const row = table.getByRole('row').filter({ hasText: maLk });
  const before = Number(await row.locator('td').nth(5).innerText());
  await row.getByRole('button', { name: 'Gửi lại ngay' }).click();
  await row
    .locator('td')
    .nth(5)
    .getByText(String(before + 1), { exact: true })
    .waitFor();
  await row.getByRole('button', { name: 'Các lần gửi' }).click();
  const dialog = page.getByRole('dialog');
  const attempts = dialog.getByRole('table');
  await attempts.waitFor();
  assert.equal(await attempts.locator('tbody tr').count(), before + 1, 'every attempt is listed');
  await shot?.('ehb-attempts');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
}

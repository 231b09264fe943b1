/**
 * Browser step of the pharmacy (M7), for the combined journey: on a pharmacist's page, the prescription is found by
 * the code printed on it and dispensed from the pharmacy's lots, first expiring first.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { Shot } from './imaging.ts';

/** Finds the prescription by its code, checks its lines and the FEFO plan, dispenses it in full. */
export async function dispensePrescription(page: Page, code: string, shot?: Shot): Promise<void> {
  await page.getByRole('navigation', { name: 'menu' }).getByRole('link', { name: 'Nhà thuốc' }).click();
  await page.getByRole('heading', { name: /^Nhà thuốc — phát thuốc/ }).waitFor();
  const lookup = page.getByLabel('Mã đơn thuốc hoặc tên người bệnh');
  await lookup.fill(code);
  await lookup.press('Enter');
  const card = page.getByLabel(`Đơn thuốc ${code}`);
  await card.waitFor();
  await card
    .getByLabel('Trạng thái đơn', { exact: true })
    .getByText(/^(Chưa phát|Đã phát một phần)$/)
    .waitFor();
  const lines = card.getByRole('table', { name: 'Các thuốc trong đơn' });
  assert.ok((await lines.locator('tbody tr').count()) >= 1, 'the prescription has lines');
  // each line shows where its quantity will come from (the lot first expiring)
  await card.getByTestId('fefo-plan').first().waitFor();
  await shot?.('pharmacy-prescription');
  await card.getByRole('button', { name: 'Phát thuốc' }).click();
  await card.getByRole('status').filter({ hasText: 'Đã phát thuốc' }).waitFor();
  await card.getByLabel('Trạng thái đơn', { exact: true }).getByText('Đã phát đủ').waitFor();
  await shot?.('pharmacy-dispensed');
}

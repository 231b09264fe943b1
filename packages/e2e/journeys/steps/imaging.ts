/**
 * Browser steps of the imaging department (M6), for the combined journey: the radiology technician marks the X-ray
 * done and the radiologist writes and signs the report, each signed in through the real sign-in pages.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { DEMO_PASSWORD, demoTotp } from '../../src/fixtures.ts';

export type Shot = (step: string) => Promise<unknown>;

/** Signs out whoever is signed in (if anyone), then signs in a demo staff account with password and TOTP code. */
export async function signInAs(page: Page, baseUrl: string, username: string): Promise<void> {
  await page.goto(baseUrl);
  const signOut = page.getByRole('button', { name: 'Đăng xuất' });
  const signIn = page.getByRole('button', { name: 'Đăng nhập' });
  await signOut.or(signIn).first().waitFor();
  if (await signOut.isVisible()) {
    await signOut.click();
    await page.getByRole('button', { name: /^Đăng xuất/ }).click();
    await signIn.waitFor();
  }
  await signIn.click();
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(DEMO_PASSWORD);
  await page.locator('button[type=submit]').first().click();
  const code = page.locator('#code');
  if (await code.isVisible({ timeout: 5000 }).catch(() => false)) {
    await code.fill(demoTotp(username));
    await page.locator('button[type=submit]').first().click();
  }
  await page.getByRole('button', { name: 'Đăng xuất' }).waitFor();
}

async function openOrder(page: Page, patientName: string): Promise<void> {
  await page.getByRole('navigation', { name: 'menu' }).getByRole('link', { name: 'Chẩn đoán hình ảnh' }).click();
  await page.getByRole('heading', { name: 'Danh sách chỉ định chẩn đoán hình ảnh' }).waitFor();
  await page
    .getByRole('link', { name: `Mở chỉ định của ${patientName}` })
    .first()
    .click();
  await page.getByRole('heading', { name: /X-quang/ }).waitFor();
}

/** On a radiology technician's page: the worklist shows the order "Chờ chụp"; the exam is marked done. */
export async function markImagingDone(page: Page, patientName: string, shot?: Shot): Promise<void> {
  await page.getByRole('navigation', { name: 'menu' }).getByRole('link', { name: 'Chẩn đoán hình ảnh' }).click();
  const table = page.getByRole('table', { name: 'Danh sách chỉ định chẩn đoán hình ảnh' });
  const row = table.getByRole('row').filter({ hasText: patientName });
  await row.getByText('Chờ chụp').waitFor();
  await shot?.('imaging-worklist');
  await openOrder(page, patientName);
  await page.getByLabel('Ghi chú kỹ thuật (không bắt buộc)').fill('Tư thế thẳng, hít vào sâu');
  await page.getByRole('button', { name: 'Xác nhận đã chụp xong' }).click();
  await page.getByLabel('Trạng thái', { exact: true }).getByText('Đã chụp, chờ đọc').waitFor();
  await page.getByText(/Đã chụp lúc .*\(DX\)/).waitFor();
  await shot?.('imaging-done');
}

/** On a radiologist's page: opens the done exam, writes findings and conclusion, signs; the signed report shows. */
export async function writeAndSignReport(
  page: Page,
  patientName: string,
  report: { findings: string; conclusion: string },
  shot?: Shot,
): Promise<void> {
  await openOrder(page, patientName);
  await page.getByLabel('Trạng thái', { exact: true }).getByText('Đã chụp, chờ đọc').waitFor();
  await page.getByLabel('Mô tả').fill(report.findings);
  await page.getByLabel('Kết luận').fill(report.conclusion);
  await shot?.('imaging-report-draft');
  await page.getByRole('button', { name: 'Ký kết quả' }).click();
  const signed = page.getByLabel('Kết quả đã ký');
  await signed.waitFor();
  assert.equal(await page.getByTestId('imaging-conclusion').textContent(), report.conclusion);
  await page.getByLabel('Trạng thái', { exact: true }).getByText('Đã ký kết quả').waitFor();
  await shot?.('imaging-report-signed');
}

/**
 * The whole X-ray step: the technician (`ktv.cdha`) marks the exam done, then the radiologist (`bs.cdha`) writes and
 * signs the report. Leaves the radiologist signed in.
 */
export async function signXrayReport(
  page: Page,
  opts: { baseUrl: string; patientName: string; findings?: string; conclusion?: string; shot?: Shot },
): Promise<void> {
  await signInAs(page, opts.baseUrl, 'ktv.cdha');
  await markImagingDone(page, opts.patientName, opts.shot);
  await signInAs(page, opts.baseUrl, 'bs.cdha');
  await writeAndSignReport(
    page,
    opts.patientName,
    {
      findings:
        opts.findings ??
        'Hai phế trường sáng đều, không thấy tổn thương nhu mô. Bóng tim không to. Hai góc sườn hoành nhọn.',
      conclusion: opts.conclusion ?? 'Hình ảnh X-quang ngực thẳng bình thường',
    },
    opts.shot,
  );
}

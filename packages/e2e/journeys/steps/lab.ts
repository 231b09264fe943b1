/**
 * Browser steps of the laboratory (M5), for the combined journey: the lab technician collects the specimen (the
 * label with its Code 128 barcode shows), receives it in the lab, enters a blood count with one critical value
 * (flagged "Thấp nguy hiểm" before saving, an alert sent to the ordering doctor after) and verifies the results; a
 * doctor signs them off.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { type Shot, signInAs } from './imaging.ts';

/** The demo blood count with WBC critically low (1.5 G/L < 2): the other values are normal for an adult. */
export const BLOOD_COUNT_WITH_CRITICAL_WBC: Record<string, string> = {
  'Số lượng bạch cầu (WBC)': '1,5',
  'Số lượng hồng cầu (RBC)': '4.5',
  'Huyết sắc tố (Hemoglobin)': '135',
  Hematocrit: '0.42',
  'Số lượng tiểu cầu (PLT)': '250',
};

async function openLabOrder(page: Page, patientName: string, status: string, shot?: Shot): Promise<void> {
  await page.getByRole('navigation', { name: 'menu' }).getByRole('link', { name: 'Xét nghiệm', exact: true }).click();
  const table = page.getByRole('table', { name: 'Danh sách xét nghiệm' });
  await table.getByRole('row').filter({ hasText: patientName }).getByText(status).first().waitFor();
  await shot?.('lab-worklist');
  await table
    .getByRole('link', { name: `Mở (${patientName})` })
    .first()
    .click();
  await page.getByRole('heading', { name: /Tổng phân tích tế bào máu/ }).waitFor();
}

/**
 * On a lab technician's signed-in page: collects the blood count's specimen of this patient, sees the label, receives
 * it, enters the values (one critical) and verifies. Returns the specimen barcode.
 */
export async function collectAndResultBloodCount(
  page: Page,
  opts: { patientName: string; values?: Record<string, string>; shot?: Shot },
): Promise<string> {
  const values = opts.values ?? BLOOD_COUNT_WITH_CRITICAL_WBC;
  await openLabOrder(page, opts.patientName, 'Chờ lấy mẫu', opts.shot);
  await page.getByRole('button', { name: 'Lấy mẫu và in nhãn' }).click();
  const label = page.getByLabel('Nhãn ống mẫu');
  await label.waitFor();
  const barcode = (await label.locator('svg[data-barcode]').getAttribute('data-barcode')) ?? '';
  assert.match(barcode, /^\d{11,12}$/, 'a digits-only barcode');
  // JsBarcode drew the bars (rects) and the digits under them
  assert.ok((await label.locator('svg rect').count()) > 10, 'the barcode is drawn');
  await label.getByText(opts.patientName.toLocaleUpperCase('vi-VN'), { exact: false }).waitFor();
  await opts.shot?.('lab-label');
  await page.getByRole('button', { name: 'Nhận mẫu' }).click();
  await page.getByText('Đã nhận mẫu', { exact: true }).first().waitFor();
  for (const [name, value] of Object.entries(values)) {
    await page.getByLabel(name, { exact: true }).fill(value);
  }
  const wbc = page.getByRole('row').filter({ hasText: 'Số lượng bạch cầu (WBC)' });
  await wbc.getByText('Thấp nguy hiểm').waitFor();
  await opts.shot?.('lab-results-typed');
  await page.getByRole('button', { name: 'Lưu kết quả' }).click();
  await page.getByRole('alert').filter({ hasText: 'Giá trị nguy hiểm' }).waitFor();
  await page.getByText('Có kết quả', { exact: true }).first().waitFor();
  await opts.shot?.('lab-results-saved');
  await page.getByRole('button', { name: 'Duyệt kết quả' }).click();
  await page.getByText('Đã duyệt, chờ bác sĩ ký.').waitFor();
  await opts.shot?.('lab-verified');
  return barcode;
}

/** On a doctor's (or department head's) signed-in page: opens the verified order and signs the results off. */
export async function signOffLabResults(
  page: Page,
  opts: { baseUrl: string; orderId: string; shot?: Shot },
): Promise<void> {
  await page.goto(`${opts.baseUrl}/worklist/laboratory/${opts.orderId}`);
  await page.getByRole('heading', { name: /Tổng phân tích tế bào máu/ }).waitFor();
  await page.getByRole('button', { name: 'Ký duyệt kết quả' }).click();
  await page.getByText(/Bác sĩ đã ký lúc/).waitFor();
  await opts.shot?.('lab-signed');
}

/** The whole lab step: `ktv.xetnghiem` collects, receives, results and verifies. Leaves the technician signed in. */
export async function labBloodCountStep(
  page: Page,
  opts: { baseUrl: string; patientName: string; shot?: Shot },
): Promise<string> {
  await signInAs(page, opts.baseUrl, 'ktv.xetnghiem');
  return collectAndResultBloodCount(page, opts);
}

/**
 * Browser step of the analyzer quarantine (M5): on a lab technician's signed-in page, the message an analyzer sent
 * with a wrong barcode and its own test code waits in "Cách ly" with the reason; the technician opens it, types the
 * tube's real barcode and the Sen code for the analyzer's test code (remembered for that analyzer), and replays it:
 * the screen says the results are on the order.
 */
import type { Page } from 'playwright-core';
import type { Shot } from './imaging.ts';

export async function fixAndReplayAnalyzerMessage(
  page: Page,
  opts: { wrongBarcode: string; barcode: string; codes: Record<string, string>; shot?: Shot },
): Promise<void> {
  await page.getByRole('navigation', { name: 'menu' }).getByRole('link', { name: 'Tin nhắn máy xét nghiệm' }).click();
  await page.getByRole('heading', { name: 'Tin nhắn từ máy xét nghiệm (HL7 v2)' }).waitFor();
  const table = page.getByRole('table', { name: 'Tin nhắn từ máy xét nghiệm (HL7 v2)' });
  const row = table.getByRole('row').filter({ hasText: opts.wrongBarcode });
  await row.getByText(`Không có mẫu mã vạch '${opts.wrongBarcode}'`, { exact: false }).waitFor();
  await row.getByText('Cách ly').waitFor();
  await opts.shot?.('analyzer-quarantine');
  await row.getByRole('button', { name: 'Sửa' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByText('Sen đọc được gì từ tin nhắn').waitFor();
  await dialog.getByLabel('Mã vạch đúng').fill(opts.barcode);
  for (const [from, to] of Object.entries(opts.codes)) {
    await dialog.getByLabel(`Mã Sen cho ${from}`).fill(to);
    await dialog.getByLabel(`Nhớ ánh xạ ${from} cho máy này`).check();
  }
  await opts.shot?.('analyzer-fix');
  await dialog.getByRole('button', { name: 'Xử lý lại' }).click();
  await dialog.getByRole('status').filter({ hasText: 'Đã nhập kết quả vào chỉ định.' }).waitFor();
  await dialog.getByText('Đã nhập', { exact: true }).first().waitFor();
  await opts.shot?.('analyzer-replayed');
}

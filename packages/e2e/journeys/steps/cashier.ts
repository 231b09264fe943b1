/**
 * Browser steps of the cashier (M11, first part), for the combined journey: on a cashier's page, the visit is found
 * by the patient's name, its bill checked line by line, an invoice issued and paid by VietQR — the QR shown, the
 * payer's bank (the gateway simulator) pays, and the screen turns "paid" by itself (live channel, no reload) — then
 * the receipt is opened for printing.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { Shot } from './imaging.ts';

/** Opens the cashier screen and the patient's visit (found by name). */
export async function openVisitAtCashier(page: Page, patientName: string): Promise<void> {
  await page.getByRole('navigation', { name: 'menu' }).getByRole('link', { name: 'Thu ngân' }).click();
  await page.getByRole('heading', { name: 'Thu ngân — viện phí' }).waitFor();
  await page.getByLabel('Tìm lượt khám').fill(patientName);
  await page.getByRole('button', { name: 'Tìm', exact: true }).click();
  await page
    .getByRole('button', { name: `Mở ${patientName}` })
    .first()
    .click();
  await page.getByRole('heading', { name: patientName }).waitFor();
}

export interface VietQrPayment {
  /** The EMVCo payload the QR code carries. */
  qr: string;
  /** The receipt number shown once paid. */
  receipt: string;
}

/**
 * Pays the patient's open bill by VietQR. `patientPays` is the total the bill must show (e.g. '80.000 đ'); `pay` is
 * the payer's side, called once the QR is on screen (in the journeys: the payment simulator's "pay").
 */
export async function payByVietQr(
  page: Page,
  input: { patientName: string; patientPays: string; pay: (qr: string) => Promise<unknown>; shot?: Shot },
): Promise<VietQrPayment> {
  await openVisitAtCashier(page, input.patientName);
  const bill = page.getByRole('table', { name: 'Bảng kê chi phí' });
  await bill.waitFor();
  const total = bill.locator('tfoot').getByLabel('Người bệnh trả');
  await total.waitFor();
  assert.equal((await total.textContent())?.trim(), input.patientPays, 'the patient total of the bill');
  await input.shot?.('cashier-bill');
  await page.getByRole('button', { name: 'Lập hóa đơn thu tiền' }).click();
  const invoice = page.getByRole('region', { name: /^Hóa đơn HD\d+/ }).first();
  await invoice.getByLabel('Trạng thái').getByText('Chờ thanh toán').waitFor();
  await invoice.getByText(`Số tiền phải thu: ${input.patientPays}`).waitFor();
  await invoice.getByRole('button', { name: 'Thanh toán VietQR' }).click();
  const code = invoice.getByRole('img', { name: `Mã VietQR thanh toán ${input.patientPays}` });
  await code.waitFor();
  const qr = (await code.getAttribute('data-qr-value')) ?? '';
  // EMVCo: payload format 01, NAPAS 247 (A000000727), currency 704 (VND), CRC at the end
  assert.match(qr, /^000201/);
  assert.ok(qr.includes('A000000727'), 'a NAPAS 247 VietQR');
  assert.ok(qr.includes('5303704'), 'in đồng');
  assert.match(qr, /6304[0-9A-F]{4}$/);
  await invoice.getByRole('status').getByText('Đang chờ ngân hàng xác nhận…').waitFor();
  await input.shot?.('cashier-vietqr');
  await input.pay(qr);
  // the gateway's confirmation reaches the screen through the live channel
  const paid = invoice.getByRole('status').filter({ hasText: /Đã thanh toán — phiếu thu PT\d+/ });
  await paid.waitFor({ timeout: 15_000 });
  const receipt = /PT\d+/.exec((await paid.textContent()) ?? '')?.[0] ?? '';
  await invoice.getByLabel('Trạng thái').getByText('Đã thanh toán').waitFor();
  await input.shot?.('cashier-paid');
  await invoice.getByRole('link', { name: 'In phiếu thu' }).click();
  const doc = page.getByRole('document', { name: 'PHIẾU THU TIỀN' });
  await doc.getByRole('heading', { name: 'PHIẾU THU TIỀN' }).waitFor();
  await doc.getByText(receipt).waitFor();
  await doc.getByText('Chuyển khoản VietQR').waitFor();
  await doc.getByLabel('Số tiền đã thu').getByText(input.patientPays).waitFor();
  await input.shot?.('cashier-receipt');
  return { qr, receipt };
}

/**
 * Takes cash for the patient's open bill: the bill shows the BHYT share and the co-payment, the change is computed
 * from what the patient hands over, and the invoice turns paid with its receipt number.
 */
export async function takeCash(
  page: Page,
  input: { patientName: string; bhyt: string; patientPays: string; received: string; change: string; shot?: Shot },
): Promise<string> {
  await openVisitAtCashier(page, input.patientName);
  const bill = page.getByRole('table', { name: 'Bảng kê chi phí' });
  const foot = bill.locator('tfoot');
  await foot.waitFor();
  assert.equal((await foot.getByLabel('Người bệnh trả').textContent())?.trim(), input.patientPays);
  await foot.getByText(input.bhyt).first().waitFor();
  await page.getByText(/Mức hưởng \d — BHYT trả \d+%/).waitFor();
  await input.shot?.('cashier-bhyt-bill');
  await page.getByRole('button', { name: 'Lập hóa đơn thu tiền' }).click();
  const invoice = page.getByRole('region', { name: /^Hóa đơn HD\d+/ }).first();
  await invoice.getByText(`Số tiền phải thu: ${input.patientPays}`).waitFor();
  await invoice.getByRole('button', { name: 'Thu tiền mặt' }).click();
  await invoice.getByLabel('Tiền khách đưa (đ)').fill(input.received);
  await invoice.getByText(`Tiền trả lại: ${input.change}`).waitFor();
  await invoice.getByRole('button', { name: 'Xác nhận đã thu' }).click();
  const paid = invoice.getByRole('status').filter({ hasText: /Đã thanh toán — phiếu thu PT\d+/ });
  await paid.waitFor();
  await input.shot?.('cashier-cash-paid');
  return /PT\d+/.exec((await paid.textContent()) ?? '')?.[0] ?? '';
}

/** Refunds the patient's paid invoice with a reason; the invoice shows as cancelled with the reason. */
export async function refundInvoice(
  page: Page,
  input: { patientName: string; reason: string; shot?: Shot },
): Promise<void> {
  await openVisitAtCashier(page, input.patientName);
  const invoice = page
    .getByRole('region', { name: /^Hóa đơn HD\d+/ })
    .filter({ has: page.getByRole('button', { name: 'Hoàn tiền' }) })
    .first();
  await invoice.getByRole('button', { name: 'Hoàn tiền' }).click();
  await invoice.getByLabel('Lý do hoàn tiền').fill(input.reason);
  await invoice.getByRole('button', { name: 'Xác nhận hoàn tiền' }).click();
  const cancelled = page.getByRole('region', { name: /^Hóa đơn HD\d+/ }).filter({ hasText: input.reason });
  await cancelled.getByLabel('Trạng thái').getByText('Đã hủy').waitFor();
  await input.shot?.('cashier-refunded');
}

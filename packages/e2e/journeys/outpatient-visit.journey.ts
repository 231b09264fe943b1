import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { makeBhytCode, makeCccd } from '@sen/vn';
import type { Browser } from 'playwright-core';
import { BHYT_EXT } from '../../server/src/capabilities/coverage/service.ts';
import { FACILITY_TAG_SYSTEM } from '../../server/src/platform/gate/gate.ts';
import { demoStaffDirectory, HOSPITAL_ID } from '../../server/src/seed/demo-facility.ts';
import { demoId } from '../../server/src/seed/demo-builder.ts';
import { fhirFetch } from '../../server/test/harness.ts';
import { staffLogin } from '../../server/test/staff-login.ts';
import { chromiumAvailable, Journey, launch, SKIP_NOTICE } from '../src/browser.ts';
import { DEMO_PASSWORD, type DemoSite, demoTotp, startDemoSite } from '../src/fixtures.ts';
import { payByVietQr } from './steps/cashier.ts';
import { signInAs, signXrayReport } from './steps/imaging.ts';
import { labBloodCountStep, signOffLabResults } from './steps/lab.ts';
import { dispensePrescription } from './steps/pharmacy.ts';

/** Khoa Nội's examination room: no demo queue there, so the journey's patient is the first number. */
const ROOM_ID = demoId('loc', 'K02', 'r1');
const ROOM_NAME = 'Phòng khám Nội tổng hợp';
/** The Khoa Nội doctor of the demo (bacsi1–2 are Khoa Khám bệnh, bacsi3 Khoa Nội). */
const DOCTOR = 'bacsi3';

describe(
  'journey: an outpatient BHYT visit — call the number, vitals, diagnosis, orders, prescription; the lab, imaging, pharmacy and cashier; close',
  { skip: !chromiumAvailable() && SKIP_NOTICE },
  () => {
    let site: DemoSite;
    let browser: Browser;
    let j: Journey;
    /** The departments' screens, one staff member after another, beside the doctor's open chart. */
    let dept: Journey;
    let patientName: string;
    let encounterId: string;
    let prescriptionCode: string;

    before(async () => {
      site = await startDemoSite(5);
      const srv = site.srv;
      // the receptionist registers the patient and the BHYT visit through the API
      // (a receptionist of their own: the demo receptionist's practitioner already has an account)
      const receptionist = demoStaffDirectory().find((s) => s.role === 'receptionist');
      assert.ok(receptionist?.departmentId);
      const practitioner = await fhirFetch(srv.fhir, 'Practitioner', {
        method: 'POST',
        body: {
          resourceType: 'Practitioner',
          active: true,
          name: [{ text: 'Lê Thị Thu', family: 'Lê', given: ['Thị', 'Thu'] }],
        },
      });
      assert.equal(practitioner.status, 201, JSON.stringify(practitioner.body));
      const login = await staffLogin(srv, {
        username: 'e2e.tiepdon.outpatient',
        practitionerId: practitioner.body.id,
        roles: ['receptionist'],
        facilityId: HOSPITAL_ID,
        departmentIds: [receptionist.departmentId],
      });
      const auth = { authorization: `Bearer ${login.token}` };
      const serial = String(randomInt(0, 1_000_000)).padStart(6, '0');
      patientName = `Phạm Văn Hùng ${serial.slice(-3)}`;
      const patient = await fhirFetch(srv.fhir, 'Patient', {
        method: 'POST',
        headers: auth,
        body: {
          resourceType: 'Patient',
          identifier: [
            { system: 'http://fhir.hl7.org.vn/core/sid/cccd', value: makeCccd('079', 'male', 1965, serial) },
            {
              system: 'http://fhir.hl7.org.vn/core/sid/bhyt',
              value: makeBhytCode('HT', 3, '79', `79${serial}65`),
              period: { start: '2026-01-01', end: '2026-12-31' },
            },
          ],
          name: [{ text: patientName, family: 'Phạm', given: ['Văn', `Hùng ${serial.slice(-3)}`] }],
          gender: 'male',
          birthDate: '1965-04-12',
          address: [{ text: '12 Lê Lợi, Phường Sài Gòn, Thành phố Hồ Chí Minh' }],
        },
      });
      assert.equal(patient.status, 201, JSON.stringify(patient.body));
      // the card as the BHYT check at reception records it (the reception journey drives that check itself)
      const year = new Date().getFullYear();
      const coverage = await fhirFetch(srv.fhir, 'Coverage', {
        method: 'POST',
        body: {
          resourceType: 'Coverage',
          meta: { tag: [{ system: FACILITY_TAG_SYSTEM, code: HOSPITAL_ID }] },
          status: 'active',
          extension: [
            { url: BHYT_EXT.verification, valueCode: 'verified' },
            { url: BHYT_EXT.benefitLevel, valueInteger: 3 },
          ],
          beneficiary: { reference: `Patient/${patient.body.id}` },
          payor: [{ display: 'Bảo hiểm xã hội Việt Nam' }],
          period: { start: `${year}-01-01`, end: `${year}-12-31` },
        },
      });
      assert.equal(coverage.status, 201, JSON.stringify(coverage.body));
      const visit = await fhirFetch(srv.fhir, 'Encounter/$register-visit', {
        method: 'POST',
        headers: auth,
        body: {
          resourceType: 'Parameters',
          parameter: [
            { name: 'patient', valueReference: { reference: `Patient/${patient.body.id}` } },
            { name: 'visitType', valueCode: 'bhyt' },
            { name: 'reason', valueString: 'Đau đầu, chóng mặt; tái khám tăng huyết áp' },
            { name: 'location', valueReference: { reference: `Location/${ROOM_ID}` } },
            { name: 'coverage', valueReference: { reference: `Coverage/${coverage.body.id}` } },
          ],
        },
      });
      assert.equal(visit.status, 200, JSON.stringify(visit.body));
      const enc = visit.body.parameter.find((p: { name: string }) => p.name === 'encounter').resource;
      encounterId = enc.id;
      browser = await launch();
      // a tablet in landscape: the doctor's screens must work at this width
      j = await Journey.open(browser, 'outpatient-visit', { width: 1180, height: 820 });
      j.page.on('dialog', (d) => void d.accept());
    });
    after(async () => {
      await dept?.close();
      await j?.close();
      await browser?.close();
      await site?.close();
    });

    it('the doctor signs in with the second factor and lands on the clinic queue', async () => {
      const { page } = j;
      await page.goto(site.srv.url);
      await page.getByRole('button', { name: 'Đăng nhập' }).click();
      await page.locator('#username').fill(DOCTOR);
      await page.locator('#password').fill(DEMO_PASSWORD);
      await page.locator('button[type=submit]').first().click();
      await page.locator('#code').fill(demoTotp(DOCTOR));
      await page.locator('button[type=submit]').first().click();
      await page.getByRole('heading', { name: 'Hàng đợi phòng khám' }).waitFor();
      assert.match(new URL(page.url()).pathname, /^\/clinic$/);
      await j.shot('choose-room');
    });

    it('chooses the room once; the waiting list shows the registered patient', async () => {
      const { page } = j;
      await page.getByLabel('Phòng khám', { exact: true }).first().click();
      await page.getByRole('option', { name: ROOM_NAME }).click();
      const waiting = page.getByRole('table', { name: 'Đang chờ' });
      await waiting.getByText(patientName).waitFor();
      assert.equal(await page.evaluate(() => localStorage.getItem('sen.clinic.room')), ROOM_ID);
      await j.shot('queue');
    });

    it('calls the next number and opens the chart with the banner (age, sex, CCCD, BHYT, allergies)', async () => {
      const { page } = j;
      await page.getByRole('button', { name: /Gọi số tiếp theo/ }).click();
      await page.waitForURL(`**/clinic/visit/${encounterId}`);
      const banner = page.getByRole('region', { name: 'Thông tin bệnh nhân' });
      await banner.getByRole('heading', { name: patientName }).waitFor();
      await banner.getByText('Số 1').waitFor();
      assert.match((await banner.getByLabel('Tuổi').textContent()) ?? '', /^\d+ tuổi$/);
      await banner.getByText(/Giới tính:\s*Nam/).waitFor();
      assert.match((await banner.getByLabel('CCCD').textContent()) ?? '', /^079065\d{6}$/);
      assert.match((await banner.getByLabel('BHYT').textContent()) ?? '', /^HT379/);
      await banner.getByText('Chưa ghi nhận dị ứng').waitFor();
      await j.shot('chart');
    });

    it('records vital signs: BMI shown, high blood pressure flagged', async () => {
      const { page } = j;
      await page.getByLabel('Mạch (/min)').fill('82');
      await page.getByLabel('Huyết áp tâm thu (mmHg)').fill('150');
      await page.getByLabel('Huyết áp tâm trương (mmHg)').fill('95');
      await page.getByLabel('Chiều cao (cm)').fill('165');
      await page.getByLabel('Cân nặng (kg)').fill('70');
      await page.getByText('25,7 kg/m²').waitFor();
      await page.getByRole('button', { name: 'Lưu sinh hiệu' }).click();
      await page.getByText(/Đã lưu \d+ chỉ số/).waitFor();
      const recorded = page.getByRole('table', { name: 'Sinh hiệu đã ghi' });
      await recorded.getByText('150/95', { exact: false }).waitFor();
      await recorded
        .getByText(/^(Cao|Rất cao)$/)
        .first()
        .waitFor();
      await j.shot('vitals');
    });

    it('diagnoses I10 from the ICD-10 typeahead', async () => {
      const { page } = j;
      await page.getByRole('tab', { name: 'Chẩn đoán' }).click();
      const main = page.getByLabel('Chẩn đoán chính (ICD-10)', { exact: true }).first();
      await main.click();
      await main.fill('tang huyet ap');
      await page.getByRole('option', { name: /^I10 — / }).click();
      await page.getByRole('button', { name: 'Lưu chẩn đoán' }).click();
      await page.getByText('Đã lưu chẩn đoán.').waitFor();
      // the visit's diagnosis shows among the problems, marked as this visit's
      await page.getByRole('region', { name: 'Bệnh đang có' }).getByText(/I10/).waitFor();
      await j.shot('diagnosis');
    });

    it('orders a blood count and a chest X-ray, with price and BHYT shown; the order list follows', async () => {
      const { page } = j;
      await page.getByRole('tab', { name: 'Chỉ định' }).click();
      const search = page.getByRole('textbox', { name: 'Tìm dịch vụ' });
      await search.fill('tong phan tich te bao mau');
      await page.getByRole('checkbox', { name: /^Chọn Tổng phân tích tế bào máu/ }).check();
      await search.fill('x quang nguc');
      const xray = page.getByRole('checkbox', { name: /^Chọn Chụp X-quang ngực/ });
      await xray.first().check();
      await page.getByText(/^Đã chọn 2 dịch vụ/).waitFor();
      await page.getByRole('button', { name: 'Gửi chỉ định' }).click();
      await page.getByText('Đã gửi 2 chỉ định.').waitFor();
      const list = page.getByRole('table', { name: 'Chỉ định của lượt khám' });
      await list.getByText(/Tổng phân tích tế bào máu/).waitFor();
      await list.getByText(/X-quang ngực/).waitFor();
      assert.equal(await list.locator('tbody tr').count(), 2);
      await j.shot('orders');
    });

    it('prescribes amlodipine: quantity from dose × times × days, the e-prescription code given', async () => {
      const { page } = j;
      await page.getByRole('tab', { name: 'Kê đơn' }).click();
      await page.getByRole('textbox', { name: 'Tìm thuốc' }).fill('amlodipin');
      await page
        .getByRole('button', { name: /^Thêm Amlodipin/ })
        .first()
        .click();
      const item = page.getByRole('listitem', { name: /^Amlodipin/ });
      await item.getByLabel('Số ngày').fill('28');
      assert.match((await item.getByLabel('Số lượng').textContent()) ?? '', /= 28 Viên/);
      // a vitamin the BHYT fund pays half of: the patient's share is what the cashier collects later
      await page.getByRole('textbox', { name: 'Tìm thuốc' }).fill('vitamin b1');
      await page
        .getByRole('button', { name: /^Thêm Vitamin B1/ })
        .first()
        .click();
      const vitamin = page.getByRole('listitem', { name: /^Vitamin B1/ });
      await vitamin.getByLabel('Mỗi lần').fill('1');
      await vitamin.getByLabel('Lần/ngày').fill('1');
      await vitamin.getByLabel('Số ngày').fill('28');
      assert.match((await vitamin.getByLabel('Số lượng').textContent()) ?? '', /= 28 Viên/);
      await page.getByRole('button', { name: 'Kê đơn', exact: true }).click();
      const done = page.getByRole('status').filter({ hasText: 'Đã kê đơn' });
      const warned = page.getByRole('button', { name: 'Vẫn kê (xác nhận)' });
      await done.or(warned).first().waitFor();
      if (await warned.isVisible()) {
        await j.shot('prescription-warnings');
        await warned.click();
      }
      await done.waitFor();
      prescriptionCode = ((await done.getByLabel('Mã đơn thuốc').textContent()) ?? '').trim();
      assert.match(prescriptionCode, /^[0-9A-Za-z]{5}[0-9a-z]{7}-C$/);
      await j.shot('prescription');
    });

    it('prints the prescription page with the code as a QR', async () => {
      const { page } = j;
      await page.getByRole('link', { name: 'In đơn thuốc' }).first().click();
      await page.waitForURL(`**/clinic/prescription/${prescriptionCode}?encounter=${encounterId}`);
      const qr = page.getByRole('img', { name: `Mã QR của đơn thuốc ${prescriptionCode}` });
      await qr.waitFor();
      assert.equal(await qr.getAttribute('data-qr-value'), prescriptionCode);
      assert.ok(((await qr.locator('path').getAttribute('d')) ?? '').length > 100, 'the QR has modules drawn');
      const items = page.getByRole('table', { name: 'Thuốc' });
      await items.getByText(/Amlodipin/).waitFor();
      await items.getByRole('row').filter({ hasText: 'Amlodipin' }).getByText('28 Viên').waitFor();
      await page.getByRole('heading', { name: 'ĐƠN THUỐC' }).waitFor();
      await j.shot('prescription-print');
    });

    it('the lab collects the specimen and results a blood count with a critical value: the open chart alerts the doctor without reload', async () => {
      const { page } = j;
      await page.getByRole('link', { name: /Về bệnh án/ }).click();
      await page
        .getByRole('region', { name: 'Thông tin bệnh nhân' })
        .getByRole('heading', { name: patientName })
        .waitFor();
      await page.getByRole('tab', { name: /^Kết quả/ }).click();
      await page.getByText('Chưa có kết quả cận lâm sàng cho lượt khám này.').waitFor();
      dept = await Journey.open(browser, 'outpatient-visit-departments');
      dept.page.on('dialog', (d) => void d.accept());
      await labBloodCountStep(dept.page, {
        baseUrl: site.srv.url,
        patientName,
        shot: (s) => dept.shot(s),
      });
      // the doctor's page was not reloaded: the live channel brought the alert and the values
      const alert = page.getByRole('alert').filter({ hasText: 'Cảnh báo giá trị nguy hiểm' });
      await alert.waitFor({ timeout: 10_000 });
      assert.match((await alert.textContent()) ?? '', /WBC|bạch cầu/);
      const values = page.getByRole('table', { name: /^Kết quả Tổng phân tích tế bào máu/ });
      await values
        .getByRole('row')
        .filter({ hasText: 'Số lượng bạch cầu (WBC)' })
        .getByText('Rất thấp — nguy hiểm')
        .waitFor();
      await j.shot('critical-alert');
      await alert.getByRole('button', { name: 'Đã nhận cảnh báo' }).click();
      await page
        .getByRole('status')
        .filter({ hasText: /Đã xác nhận lúc/ })
        .waitFor();
      const comms = await fhirFetch(site.srv.fhir, `Communication?encounter=Encounter/${encounterId}&category=alert`);
      const acked = comms.body.entry.map((e: { resource: { status: string } }) => e.resource);
      assert.equal(acked.length, 1);
      assert.equal(acked[0].status, 'completed', 'the acknowledgement is recorded');
      await j.shot('critical-acknowledged');
    });

    it('the doctor signs the verified lab results off; the chart shows them signed', async () => {
      const { page } = j;
      const orders = await fhirFetch(site.srv.fhir, `ServiceRequest?encounter=Encounter/${encounterId}&_count=20`);
      const bloodCount = orders.body.entry
        .map((e: { resource: { id: string; code: { coding: { code: string }[] } } }) => e.resource)
        .find((o: { code: { coding: { code: string }[] } }) => o.code.coding[0].code === '99.2301.2001');
      assert.ok(bloodCount, 'the blood count order');
      await signOffLabResults(page, { baseUrl: site.srv.url, orderId: bloodCount.id, shot: (s) => j.shot(s) });
      await page.goto(`${site.srv.url}/clinic/visit/${encounterId}`);
      await page.getByRole('tab', { name: /^Kết quả/ }).click();
      await page
        .getByRole('region', { name: /Tổng phân tích tế bào máu/ })
        .getByText('Đã ký duyệt')
        .waitFor();
    });

    it('the radiology technician does the chest X-ray, the radiologist signs the report; it reaches the chart live', async () => {
      const { page } = j;
      await signXrayReport(dept.page, { baseUrl: site.srv.url, patientName, shot: (s) => dept.shot(s) });
      const report = page.getByRole('region', { name: /X-quang ngực/ });
      await report.getByText('Hình ảnh X-quang ngực thẳng bình thường').waitFor({ timeout: 10_000 });
      await report.getByText('Đã ký duyệt').waitFor();
      await j.shot('results');
    });

    it('concludes the visit: signed, finished, and the chart becomes read-only', async () => {
      const { page } = j;
      await page.getByRole('tab', { name: 'Kết luận' }).click();
      await page
        .getByLabel(/^Kết quả điều trị/)
        .first()
        .click();
      await page.getByRole('option', { name: 'Đỡ, giảm' }).click();
      await page.getByLabel('Lời dặn').fill('Uống thuốc đều, ăn nhạt, tái khám sau 4 tuần.');
      await page.getByRole('button', { name: 'Kết thúc khám và ký' }).click();
      await page.getByText('Lượt khám đã kết thúc và được ký: bệnh án chỉ xem, không sửa được.').waitFor();
      await page.getByRole('tab', { name: 'Sinh hiệu' }).click();
      assert.equal(await page.getByRole('button', { name: 'Lưu sinh hiệu' }).count(), 0, 'no form once finished');
      const enc = await fhirFetch(site.srv.fhir, `Encounter/${encounterId}`);
      assert.equal(enc.body.status, 'finished');
      await j.shot('concluded');
    });

    it('the pharmacy dispenses the prescription by its code, from the lots first expiring', async () => {
      await signInAs(dept.page, site.srv.url, 'duocsi');
      await dispensePrescription(dept.page, prescriptionCode, (s) => dept.shot(s));
      const dispensed = await fhirFetch(site.srv.fhir, `MedicationDispense?context=Encounter/${encounterId}`);
      assert.ok(dispensed.body.entry.length >= 2, 'both drugs handed out');
    });

    it('the cashier takes the patient’s share by VietQR, confirmed by the gateway simulator; receipt printed', async () => {
      await signInAs(dept.page, site.srv.url, 'thungan');
      // the blood count, the X-ray and amlodipine are within the BHYT scope and the visit is under 15 % of the base
      // salary (the fund pays all of it); the vitamin is paid at 50 %: 28 × 900 đ × 50 % = 12.600 đ
      const paid = await payByVietQr(dept.page, {
        patientName,
        patientPays: '12.600 đ',
        pay: async () => {
          const ref = [...site.payments.payments.keys()].at(-1);
          assert.ok(ref, 'the gateway was asked for the payment');
          const r = await site.payments.pay(ref);
          assert.equal(r.status, 200, JSON.stringify(r.body));
        },
        shot: (s) => dept.shot(s),
      });
      assert.match(paid.receipt, /^PT\d+/);
    });
  },
);

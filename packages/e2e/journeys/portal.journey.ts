// Journey: a patient on a phone signs in to the portal through the national-ID identity provider (the test provider,
// a real OpenID Connect server), books a slot, sees last visit's results with a trend chart and the prescription QR,
// and creates a share link a doctor elsewhere opens. Data is set up through Sen's API first.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { VN_CORE_SID } from '@sen/vn';
import {
  startTestNationalIdProvider,
  TEST_IDP_PASSWORD,
  type TestNationalIdProvider,
} from '../../server/src/platform/oauth/test-national-id-provider.ts';
import { freePort } from '../../server/src/platform/oauth/test-support.ts';
import { seedDemo } from '../../server/src/seed/seed.ts';
import { fhirFetch, startTestServer, TEST_CLIENT_SECRET, type TestServer } from '../../server/test/harness.ts';
import { SHARED_DIR } from '../../server/test/shared-data.ts';
import { chromiumAvailable, launch, SCREENSHOT_DIR, SKIP_NOTICE } from '../src/browser.ts';
import { buildWebApp } from '../src/fixtures.ts';

if (!chromiumAvailable()) {
  console.log(SKIP_NOTICE);
}

const NATIONAL_ID = '079190123456';
const ERX = '79999x4k8m2p-C';
const LOINC = 'http://loinc.org';
const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';

describe(
  'journey: a patient on a phone books a visit, follows results and shares the summary',
  { skip: !chromiumAvailable() && SKIP_NOTICE },
  () => {
    let srv: TestServer;
    let idp: TestNationalIdProvider;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    let patientId: string;
    let shot = 0;
    const dir = join(SCREENSHOT_DIR, 'portal');

    const snap = async (step: string): Promise<void> => {
      shot += 1;
      await page.screenshot({ path: join(dir, `${String(shot).padStart(2, '0')}-${step}.png`), fullPage: true });
    };
    const create = async (resource: Record<string, unknown>): Promise<string> => {
      const res = await fhirFetch(srv.fhir, String(resource.resourceType), { method: 'POST', body: resource });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.id as string;
    };

    before(async () => {
      buildWebApp();
      const idpPort = await freePort();
      srv = await startTestServer('pglite', {
        config: {
          security: {
            mode: 'demo',
            demoClientSecret: TEST_CLIENT_SECRET,
            sealIntervalMs: 0,
            nationalId: { issuer: `http://127.0.0.1:${idpPort}`, clientId: 'sen-benh-vien', clientSecret: 'bi-mat' },
          },
        },
      });
      idp = await startTestNationalIdProvider({
        port: idpPort,
        accounts: [{ sub: NATIONAL_ID, name: 'Trần Thị Lan' }],
        clients: [
          {
            clientId: 'sen-benh-vien',
            clientSecret: 'bi-mat',
            redirectUris: [`${srv.url}/oidc/national-id/callback`],
          },
        ],
      });
      await seedDemo(srv.router, { sharedDir: SHARED_DIR, patients: 10 }); // the hospital and its bookable hours

      // the patient and her last visits, through the API
      patientId = await create({
        resourceType: 'Patient',
        identifier: [{ system: VN_CORE_SID.cccd, value: NATIONAL_ID }],
        name: [{ text: 'Trần Thị Lan', family: 'Trần', given: ['Thị', 'Lan'] }],
        gender: 'female',
        birthDate: '1990-05-02',
      });
      const subject = { reference: `Patient/${patientId}` };
      const followUp = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
      const visitDates = ['2026-06-10', '2026-09-08', '2026-11-20'];
      const encounters: string[] = [];
      for (const [i, day] of visitDates.entries()) {
        const condition = await create({
          resourceType: 'Condition',
          subject,
          clinicalStatus: {
            coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
          },
          category: [
            {
              coding: [
                { system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis' },
              ],
            },
          ],
          code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'E11' }], text: 'Đái tháo đường type 2' },
        });
        encounters.push(
          await create({
            resourceType: 'Encounter',
            status: 'finished',
            class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
            subject,
            period: { start: `${day}T08:00:00+07:00`, end: `${day}T09:00:00+07:00` },
            serviceProvider: { display: 'Khoa Khám bệnh' },
            diagnosis: [{ condition: { reference: `Condition/${condition}` }, rank: 1 }],
            ...(i === visitDates.length - 1
              ? {
                  extension: [
                    { url: 'https://sen.health.vn/fhir/StructureDefinition/encounter-follow-up', valueDate: followUp },
                  ],
                }
              : {}),
          }),
        );
      }
      const lab = async (code: string, text: string, value: number, unit: string, i: number): Promise<string> =>
        create({
          resourceType: 'Observation',
          status: 'final',
          category: [{ coding: [{ system: OBS_CATEGORY, code: 'laboratory' }] }],
          code: { coding: [{ system: LOINC, code }], text },
          subject,
          encounter: { reference: `Encounter/${encounters[i]}` },
          effectiveDateTime: `${visitDates[i]}T08:30:00+07:00`,
          valueQuantity: { value, unit },
        });
      const glucose = [8.4, 7.6, 6.8];
      const hba1c = [8.2, 7.5, 6.9];
      let lastResults: string[] = [];
      for (let i = 0; i < visitDates.length; i++) {
        lastResults = [
          await lab('2345-7', 'Glucose máu', glucose[i], 'mmol/L', i),
          await lab('4548-4', 'HbA1c', hba1c[i], '%', i),
        ];
        await create({
          resourceType: 'Observation',
          status: 'final',
          category: [{ coding: [{ system: OBS_CATEGORY, code: 'vital-signs' }] }],
          code: { coding: [{ system: LOINC, code: '85354-9' }], text: 'Huyết áp' },
          subject,
          effectiveDateTime: `${visitDates[i]}T08:10:00+07:00`,
          component: [
            {
              code: { coding: [{ system: LOINC, code: '8480-6' }], text: 'Tâm thu' },
              valueQuantity: { value: 150 - i * 8, unit: 'mmHg' },
            },
            {
              code: { coding: [{ system: LOINC, code: '8462-4' }], text: 'Tâm trương' },
              valueQuantity: { value: 92 - i * 4, unit: 'mmHg' },
            },
          ],
        });
      }
      await create({
        resourceType: 'DiagnosticReport',
        status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'LAB' }] }],
        code: { text: 'Xét nghiệm sinh hóa máu' },
        subject,
        encounter: { reference: `Encounter/${encounters[2]}` },
        issued: `${visitDates[2]}T10:00:00+07:00`,
        result: lastResults.map((id) => ({ reference: `Observation/${id}` })),
      });
      for (const [drug, text] of [
        ['Metformin 500 mg', 'Uống 1 viên sau ăn sáng và tối, 30 ngày'],
        ['Amlodipin 5 mg', 'Uống 1 viên buổi sáng, 30 ngày'],
      ]) {
        await create({
          resourceType: 'MedicationRequest',
          status: 'active',
          intent: 'order',
          subject,
          encounter: { reference: `Encounter/${encounters[2]}` },
          authoredOn: `${visitDates[2]}T09:00:00+07:00`,
          groupIdentifier: { system: 'https://sen.health.vn/sid/e-prescription', value: ERX },
          medicationCodeableConcept: { text: drug },
          dosageInstruction: [{ text }],
          dispenseRequest: { quantity: { value: 60, unit: 'viên' } },
        });
      }

      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      browser = await launch();
      context = await browser.newContext({
        viewport: { width: 390, height: 844 },
        isMobile: true,
        hasTouch: true,
        deviceScaleFactor: 2,
        locale: 'vi-VN',
        timezoneId: 'Asia/Ho_Chi_Minh',
      });
      page = await context.newPage();
    });

    after(async () => {
      await context?.close();
      await browser?.close();
      await idp?.close();
      await srv?.close();
    });

    it('signs in through the national-ID identity provider and lands on My health', async () => {
      await page.goto(`${srv.url}/portal`);
      await page.getByRole('heading', { name: 'Sổ sức khỏe Sen' }).waitFor();
      assert.equal(await page.locator('html').getAttribute('lang'), 'vi');
      const manifest = await page.locator('link[rel="manifest"]').getAttribute('href');
      assert.equal(manifest, '/portal/manifest.webmanifest', 'installable: the web manifest is linked');
      await snap('sign-in');
      await page.getByRole('button', { name: 'Đăng nhập' }).click();
      await page.waitForURL(/\/oidc\/interaction\//);
      await page.getByRole('link', { name: /Đăng nhập bằng định danh điện tử/ }).click();
      await page.locator('#id_number').waitFor();
      await page.locator('#id_number').fill(NATIONAL_ID);
      await page.locator('#password').fill(TEST_IDP_PASSWORD);
      await snap('national-id-provider');
      await page.locator('button[type=submit]').first().click();
      await page.getByRole('heading', { name: 'Sức khỏe của tôi' }).waitFor();
      assert.equal(new URL(page.url()).pathname, '/portal');
      assert.doesNotMatch(page.url(), /code=|state=/);
      await page.getByText('Trần Thị Lan').first().waitFor();
      await snap('my-health');
    });

    it('shows last visit’s results with a trend chart and the prescription QR code', async () => {
      const glucose = page.locator('svg[data-trend="2345-7"]');
      await glucose.waitFor();
      assert.equal(await glucose.locator('circle').count(), 3, 'three glucose values on the chart');
      await page.locator('svg[data-trend="4548-4"]').waitFor();
      await page.getByRole('table', { name: 'Xét nghiệm sinh hóa máu' }).getByText('6.8 mmol/L').waitFor();
      const qr = page.locator(`svg[data-qr-value="${ERX}"]`);
      await qr.waitFor();
      assert.equal(await qr.getAttribute('aria-label'), 'Mã QR đơn thuốc');
      await page.getByText('Uống 1 viên sau ăn sáng và tối, 30 ngày').waitFor();
      await page
        .getByText(/Hẹn tái khám ngày/)
        .first()
        .waitFor();
      await page.getByRole('region', { name: 'Kết quả xét nghiệm' }).scrollIntoViewIfNeeded();
      await snap('results-trends-prescription');
    });

    it('books a free slot and gets a booking code with a check-in QR', async () => {
      await page.getByRole('link', { name: 'Đặt lịch' }).click();
      await page.getByRole('heading', { name: 'Đặt lịch khám' }).waitFor();
      await page.getByLabel('Phòng khám / bác sĩ').first().click();
      await page.getByRole('option').first().click();
      const slots = page.getByLabel('Khung giờ còn trống');
      await slots.waitFor();
      await slots.locator('label').first().click();
      await page.getByRole('textbox', { name: /Lý do khám/ }).fill('Tái khám đái tháo đường');
      await snap('booking-choose');
      await page.getByRole('button', { name: 'Đặt lịch', exact: true }).click();
      const done = page.getByRole('status', { name: 'Đã đặt lịch thành công' });
      await done.waitFor();
      const code = (await page.getByTestId('booking-code').textContent())?.trim() ?? '';
      assert.match(code, /^[0-9A-Z]{8}$/);
      await done.locator(`svg[data-qr-value="SEN-HEN:${code}"]`).waitFor();
      const booked = await fhirFetch(srv.fhir, `Appointment?patient=Patient/${patientId}`);
      assert.equal(booked.body.entry?.length, 1);
      assert.equal(booked.body.entry[0].resource.identifier[0].value, code);
      await snap('booked');
    });

    it('creates a share link whose QR opens the read-only summary', async () => {
      await page.getByRole('link', { name: 'Chia sẻ' }).click();
      await page.getByRole('heading', { name: 'Chia sẻ với bác sĩ' }).waitFor();
      await page.getByRole('textbox', { name: /Chia sẻ với ai/ }).fill('BS. nội tiết BV Chợ Rẫy');
      await page.getByRole('button', { name: 'Tạo liên kết chia sẻ' }).click();
      const ready = page.getByRole('status', { name: 'Liên kết đã sẵn sàng' });
      await ready.waitFor();
      const url = (await page.getByTestId('share-url').textContent())?.trim() ?? '';
      assert.ok(url.startsWith(`${srv.url}/share/`), url);
      await ready.locator(`svg[data-qr-value="${url}"]`).waitFor();
      await snap('share-link');
      const doc = (await (await fetch(url, { headers: { accept: 'application/fhir+json' } })).json()) as {
        type: string;
        entry: { resource: { resourceType: string } }[];
      };
      assert.equal(doc.type, 'document');
      assert.equal(doc.entry[0].resource.resourceType, 'Composition');
      // the doctor's phone opens the link as a page
      const doctor = await context.newPage();
      await doctor.goto(url);
      await doctor.getByText('Trần Thị Lan').first().waitFor();
      await doctor.screenshot({
        path: join(dir, `${String(++shot).padStart(2, '0')}-doctor-opens-link.png`),
        fullPage: true,
      });
      await doctor.close();
      await page.reload();
      await page.getByText(/2 lần mở/).waitFor(); // the JSON read and the doctor's page: both counted
      await snap('share-link-used');
    });

    it('lets a family member follow the record, and shows who looked at it under My rights', async () => {
      await page.getByRole('link', { name: 'Gia đình' }).click();
      await page.getByRole('heading', { name: 'Gia đình', exact: true }).waitFor();
      await page.getByRole('textbox', { name: 'Họ tên người thân' }).fill('Nguyễn Văn Hùng');
      await page.getByRole('textbox', { name: /Số định danh cá nhân/ }).fill('079088004321');
      await page.getByRole('button', { name: 'Cho phép xem' }).click();
      await page.getByText('Đã cho phép. Người thân có thể đăng nhập để xem.').waitFor();
      const granted = page.getByRole('region', { name: 'Người thân được xem hồ sơ của tôi' });
      await granted.getByText('Nguyễn Văn Hùng').waitFor();
      await snap('family-granted');
      await granted.getByRole('button', { name: 'Thu hồi' }).click();
      await granted.getByText(/đã thu hồi/).waitFor();

      await page.getByRole('link', { name: 'Quyền' }).click();
      await page.getByRole('heading', { name: 'Quyền của tôi' }).waitFor();
      const looked = page.getByRole('region', { name: 'Ai đã xem hồ sơ của tôi' });
      await looked
        .getByText(/Người nhận liên kết chia sẻ/)
        .first()
        .waitFor();
      await page.getByRole('button', { name: 'Tải PDF' }).waitFor();
      await page.getByRole('textbox', { name: 'Nội dung' }).fill('Địa chỉ của tôi đã đổi sang phường Bến Thành.');
      await page.getByRole('button', { name: 'Gửi yêu cầu' }).click();
      await page.getByText(/Giải quyết trước/).waitFor();
      await snap('my-rights');
    });
  },
);

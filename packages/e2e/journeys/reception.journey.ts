import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Locator } from 'playwright-core';
import QRCode from 'qrcode';
import type { Resource } from '@medplum/fhirtypes';
import { demoBhytCards, demoNewcomers } from '../../server/src/capabilities/coverage/demo-cards.ts';
import { type BhytSimulator, startBhytSimulator } from '../../server/src/capabilities/coverage/simulator.ts';
import {
  DEFAULT_DEMO_STAFF_PASSWORD,
  DEFAULT_DEMO_TOTP_SECRET,
  seedDemoAccounts,
} from '../../server/src/seed/demo-accounts.ts';
import { FACILITY_TAG_SYSTEM } from '../../server/src/platform/gate/gate.ts';
import { demoStaffDirectory, HOSPITAL_ID } from '../../server/src/seed/demo-facility.ts';
import { seedDemo } from '../../server/src/seed/seed.ts';
import { fhirFetch, startTestServer, type TestServer } from '../../server/test/harness.ts';
import { SHARED_DIR } from '../../server/test/shared-data.ts';
import { staffLogin } from '../../server/test/staff-login.ts';
import { CHROMIUM, CHROMIUM_FLAGS, chromiumAvailable, Journey, SCREENSHOT_DIR, SKIP_NOTICE } from '../src/browser.ts';
import { buildWebApp, DEMO_PASSWORD } from '../src/fixtures.ts';

if (!chromiumAvailable()) {
  console.log(SKIP_NOTICE);
}

const QUEUE_NUMBER_EXT = 'https://sen.health.vn/fhir/StructureDefinition/queue-number';
const CCCD_SYSTEM = 'http://fhir.hl7.org.vn/core/sid/cccd';
const ROOM = 'Phòng khám Nội 1';

/**
 * A camera that films a card's QR code: a Y4M video (what Chromium's fake capture device plays) whose frames show the
 * code black on white, as a webcam held over the card would.
 */
function qrVideo(dir: string, text: string): string {
  const [w, h, scale] = [640, 480, 6];
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const x0 = Math.floor((w - n * scale) / 2);
  const y0 = Math.floor((h - n * scale) / 2);
  const luma = Buffer.alloc(w * h, 235);
  for (let y = 0; y < n * scale; y++) {
    for (let x = 0; x < n * scale; x++) {
      if (qr.modules.get(Math.floor(y / scale), Math.floor(x / scale))) {
        luma[(y0 + y) * w + x0 + x] = 16;
      }
    }
  }
  const chroma = Buffer.alloc((w / 2) * (h / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), luma, chroma]);
  const file = join(dir, 'card-qr.y4m');
  writeFileSync(file, Buffer.concat([Buffer.from(`YUV4MPEG2 W${w} H${h} F10:1 Ip A1:1 C420jpeg\n`), frame, frame]));
  return file;
}

/**
 * The demo site as `npm start` runs it in demo mode: the demo hospital and staff accounts, and the local BHYT gateway
 * simulator that knows the demo newcomers' cards (startDemoSite has no gateway: every card would be unverified).
 */
async function startReceptionSite(): Promise<{ srv: TestServer; gateway: BhytSimulator; close(): Promise<void> }> {
  buildWebApp();
  const gateway = await startBhytSimulator({ cards: () => demoBhytCards() });
  const srv = await startTestServer('pglite', { config: { bhyt: { gatewayUrl: gateway.url } } });
  await seedDemo(srv.router, { sharedDir: SHARED_DIR, patients: 20 });
  if (!srv.security) {
    throw new Error('the test server has no security');
  }
  await seedDemoAccounts(srv.security.accounts, {
    mode: 'demo',
    password: DEFAULT_DEMO_STAFF_PASSWORD,
    totpSecret: DEFAULT_DEMO_TOTP_SECRET,
  });
  return {
    srv,
    gateway,
    close: async () => {
      await srv.close();
      await gateway.close();
    },
  };
}

describe(
  'journey: a receptionist scans a newcomer’s ID card, creates the record, checks the BHYT card and prints a queue ticket',
  { skip: !chromiumAvailable() && SKIP_NOTICE },
  () => {
    let site: Awaited<ReturnType<typeof startReceptionSite>>;
    let browser: Browser;
    let j: Journey;
    // the first demo newcomer: not among the seeded patients, BHYT card known (valid) to the gateway simulator
    const person = demoNewcomers()[0];
    // the second newcomer's card is read with the (fake) camera
    const second = demoNewcomers()[1];
    const videoDir = mkdtempSync(join(tmpdir(), 'sen-camera-'));
    let encounterId = '';
    let queueNumber = 0;
    let roomRef = '';

    before(async () => {
      site = await startReceptionSite();
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [
          ...CHROMIUM_FLAGS,
          '--use-fake-ui-for-media-stream',
          '--use-fake-device-for-media-stream',
          `--use-file-for-fake-video-capture=${qrVideo(videoDir, second.qr)}`,
        ],
      });
      rmSync(join(SCREENSHOT_DIR, 'reception'), { recursive: true, force: true });
      j = await Journey.open(browser, 'reception', { width: 1366, height: 900 });
      await j.context.grantPermissions(['camera'], { origin: site.srv.url });
    });
    after(async () => {
      await j?.close();
      await browser?.close();
      await site?.close();
      rmSync(videoDir, { recursive: true, force: true });
    });

    it('signs the receptionist in and lands on the reception screen with the scan field focused', async () => {
      await j.page.goto(site.srv.url);
      await j.page.getByRole('button', { name: 'Đăng nhập' }).click();
      await j.page.locator('#username').fill('tiepdon');
      await j.page.locator('#password').fill(DEMO_PASSWORD);
      await j.page.locator('button[type=submit]').first().click();
      await j.page.getByRole('heading', { name: 'Tiếp đón bệnh nhân' }).waitFor();
      assert.match(new URL(j.page.url()).pathname, /^\/reception$/);
      const focused = await j.page.evaluate(() => document.activeElement?.getAttribute('name'));
      assert.equal(focused, 'qr', 'a keyboard-wedge scanner can type into the scan field at once');
      await j.shot('reception-home');
    });

    it('reads the card QR the scanner types (ending with Enter) and shows what the card says', async () => {
      // a keyboard-wedge scanner types the text into the focused field and presses Enter
      await j.page.keyboard.insertText(person.qr);
      await j.page.keyboard.press('Enter');
      const card = j.page.getByRole('region', { name: 'Thông tin trên thẻ' });
      await card.waitFor();
      const text = (await card.textContent()) ?? '';
      assert.ok(text.includes(person.name), 'name with diacritics');
      assert.ok(text.includes(person.idNumber), 'the 12-digit ID number');
      const [y, m, d] = person.birthDate.split('-');
      assert.ok(text.includes(`${d}/${m}/${y}`), 'birth date day first');
      assert.ok(text.includes(person.sex === 'female' ? 'Nữ' : 'Nam'));
      assert.ok(text.includes(person.address));
      assert.equal(
        await j.page.getByLabel('Mã QR thẻ căn cước').inputValue(),
        '',
        'the field is ready for the next scan',
      );
      await j.shot('card-read');
    });

    it('finds no exact match for the newcomer and creates the record after confirmation', async () => {
      await j.page.getByRole('heading', { name: 'Hồ sơ có thể trùng khớp' }).waitFor();
      await j.page.getByRole('button', { name: 'Tạo hồ sơ mới' }).waitFor();
      assert.equal(await j.page.getByText('Đã tìm thấy hồ sơ trùng số định danh').count(), 0, 'no certain match');
      await j.shot('no-exact-match');
      await j.page.getByRole('button', { name: 'Tạo hồ sơ mới' }).click();
      await j.page.getByRole('button', { name: 'Xác nhận tạo hồ sơ' }).waitFor();
      await j.shot('confirm-new-record');
      await j.page.getByRole('button', { name: 'Xác nhận tạo hồ sơ' }).click();
      await j.page.getByText('Đã tạo hồ sơ mới.').waitFor();
      const { rows } = await site.srv.store.db.query<{ content: string }>(
        "SELECT content::text AS content FROM resource WHERE type = 'Patient' AND NOT deleted AND content::jsonb -> 'identifier' @> $1::jsonb",
        [JSON.stringify([{ system: CCCD_SYSTEM, value: person.idNumber }])],
      );
      assert.equal(rows.length, 1, 'one record with the card’s ID number');
      const patient = JSON.parse(rows[0].content) as { name: { text: string }[]; birthDate: string; gender: string };
      assert.equal(patient.name[0].text, person.name);
      assert.equal(patient.birthDate, person.birthDate);
      assert.equal(patient.gender, person.sex);
      await j.shot('record-created');
    });

    it('checks the BHYT card: verified, with the benefit level', async () => {
      const field = j.page.getByLabel('Số thẻ BHYT hoặc mã số BHXH');
      assert.equal(await j.page.evaluate(() => document.activeElement?.getAttribute('name')), 'bhyt', 'focus moved on');
      await field.fill('AB12');
      await j.page.getByRole('button', { name: 'Kiểm tra thẻ' }).click();
      await j.page.getByText('Số thẻ BHYT phải có 15 ký tự hoặc là mã số BHXH 10 chữ số.').waitFor();
      await field.fill(person.cardNumber);
      await j.page.getByRole('button', { name: 'Kiểm tra thẻ' }).click();
      const status = j.page.getByRole('status', { name: 'Kết quả kiểm tra thẻ' });
      await status.getByText('Đã xác minh', { exact: true }).waitFor();
      await status.getByText(`Mức hưởng ${person.cardNumber[2]}`, { exact: true }).waitFor();
      await j.shot('bhyt-verified');
    });

    it('registers a BHYT visit in a clinic room chosen from the list with its queue length', async () => {
      assert.equal(await j.page.getByRole('radio', { name: 'BHYT' }).isChecked(), true, 'BHYT is the default');
      await j.page.getByLabel('Lý do khám').fill('Sốt, ho 3 ngày');
      await j.page.getByRole('combobox', { name: 'Phòng khám' }).click();
      const option = j.page.getByRole('option', { name: new RegExp(`^${ROOM} ·`) });
      await option.waitFor();
      assert.match((await option.textContent()) ?? '', /\d+ đang chờ/, 'the option shows the room’s waiting count');
      await option.click();
      await j.shot('visit-form');
      await j.page.getByRole('button', { name: 'Đăng ký khám và in phiếu' }).click();
      await j.page.waitForURL(/\/reception\/ticket\//);
      encounterId = decodeURIComponent(new URL(j.page.url()).pathname.split('/').pop() ?? '');
      const { rows } = await site.srv.store.db.query<{ content: string }>(
        "SELECT content::text AS content FROM resource WHERE type = 'Encounter' AND id = $1",
        [encounterId],
      );
      const encounter = JSON.parse(rows[0].content) as {
        status: string;
        extension?: { url: string; valueInteger?: number }[];
        location: { location: { reference: string } }[];
      };
      assert.equal(encounter.status, 'arrived');
      queueNumber = encounter.extension?.find((x) => x.url === QUEUE_NUMBER_EXT)?.valueInteger ?? 0;
      assert.ok(queueNumber >= 1, 'the visit has a queue number');
      roomRef = encounter.location[0].location.reference;
    });

    it('shows the ticket with the big queue number, the room, the hospital and the patient’s year of birth', async () => {
      const ticket = j.page.getByRole('article', { name: 'Phiếu số thứ tự' });
      await ticket.waitFor();
      const number = j.page.getByTestId('queue-number');
      assert.equal(await number.textContent(), String(queueNumber).padStart(3, '0'));
      const text = (await ticket.textContent()) ?? '';
      assert.ok(text.includes('Bệnh viện Đa khoa Sen'), 'hospital name');
      assert.ok(text.includes(ROOM), 'room');
      assert.ok(text.includes(person.name), 'patient name');
      assert.ok(text.includes(`Năm sinh ${person.birthDate.slice(0, 4)}`), 'year of birth');
      assert.ok(!text.includes(person.idNumber), 'no ID number on the ticket');
      assert.equal(await ticket.getAttribute('data-paper'), '80mm', 'thermal roll by default');
      await j.shot('ticket-80mm');
      await j.page.getByText('A5', { exact: true }).click();
      assert.equal(await ticket.getAttribute('data-paper'), 'a5');
      const css = await j.page.locator('style').evaluateAll((s) => s.map((x) => x.textContent ?? '').join('\n'));
      assert.match(css, /@page \{ size: A5/);
      await j.shot('ticket-a5');
      await j.page.emulateMedia({ media: 'print' });
      await j.shot('ticket-a5-print');
      await j.page.emulateMedia({ media: 'screen' });
      await j.page.getByText('80 mm (máy in nhiệt)', { exact: true }).click();
    });

    it('scanning the same card again selects the record at once; a second visit in the same room is refused', async () => {
      await j.page.getByRole('button', { name: 'Tiếp đón bệnh nhân khác' }).click();
      await j.page.getByRole('heading', { name: 'Tiếp đón bệnh nhân' }).waitFor();
      await j.page.getByLabel('Mã QR thẻ căn cước').fill(person.qr);
      await j.page.keyboard.press('Enter');
      await j.page.getByText('Đã tìm thấy hồ sơ trùng số định danh và đã chọn hồ sơ này.').waitFor();
      // the insurance gateway goes down: the card is "not verified", and admission goes on as a BHYT visit
      site.gateway.setDown(true);
      await j.page.getByLabel('Số thẻ BHYT hoặc mã số BHXH').fill(person.bhxhNumber);
      await j.page.getByRole('button', { name: 'Kiểm tra thẻ' }).click();
      await j.page
        .getByRole('status', { name: 'Kết quả kiểm tra thẻ' })
        .getByText('Chưa xác minh — cổng giám định không phản hồi', { exact: true })
        .waitFor();
      site.gateway.setDown(false);
      assert.equal(await j.page.getByRole('radio', { name: 'BHYT' }).isChecked(), true);
      await j.page.getByRole('combobox', { name: 'Phòng khám' }).click();
      const option = j.page.getByRole('option', { name: new RegExp(`^${ROOM} ·`) });
      const waiting = Number(/(\d+) đang chờ/.exec((await option.textContent()) ?? '')?.[1]);
      assert.ok(waiting >= 1, 'the room’s count includes the patient registered a moment ago');
      await option.click();
      await j.page.getByRole('button', { name: 'Đăng ký khám và in phiếu' }).click();
      await j.page.getByText(/^Không đăng ký được:/).waitFor();
      assert.match(new URL(j.page.url()).pathname, /^\/reception$/, 'no second ticket');
      await j.shot('exact-match-and-refused');
    });

    it('the waiting-room display shows the room’s queue, and the number once a doctor calls it — never a name', async () => {
      await j.page.goto(`${site.srv.url}/display`);
      await j.page.getByRole('heading', { name: 'Mời bệnh nhân vào khám' }).waitFor();
      const room: Locator = j.page.getByRole('region', { name: ROOM, exact: true });
      await room.waitFor();
      const waiting = Number(/Đang chờ: (\d+)/.exec((await room.getByTestId('waiting').textContent()) ?? '')?.[1]);
      assert.ok(waiting >= 1, 'our patient is waiting');
      assert.equal(await j.page.getByRole('navigation').count(), 0, 'full screen, no menu');
      await j.shot('display-waiting');

      // a doctor of the department calls the next numbers in the room until ours comes
      // (a doctor of the department with an account of its own: the seeded doctors' accounts need their TOTP)
      const departmentId = demoStaffDirectory().find((s) => s.role === 'doctor')?.departmentId;
      assert.ok(departmentId);
      const practitioner = await site.srv.store.create({
        resourceType: 'Practitioner',
        active: true,
        name: [{ text: 'Bác sĩ Hành Trình', family: 'Hành', given: ['Trình'] }],
      } as Resource);
      const login = await staffLogin(site.srv, {
        username: 'bacsi-hanhtrinh',
        practitionerId: practitioner.stored.id,
        roles: ['doctor'],
        facilityId: HOSPITAL_ID,
        departmentIds: [departmentId],
      });
      let called: number | undefined;
      for (let i = 0; i < waiting && called !== queueNumber; i++) {
        const res = await fhirFetch(site.srv.fhir, 'Encounter/$call-next', {
          method: 'POST',
          headers: { authorization: `Bearer ${login.token}` },
          body: {
            resourceType: 'Parameters',
            parameter: [{ name: 'location', valueReference: { reference: roomRef } }],
          },
        });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        called = (res.body as { parameter?: { name: string; valueInteger?: number }[] }).parameter?.find(
          (p) => p.name === 'queueNumber',
        )?.valueInteger;
      }
      assert.equal(called, queueNumber, 'our number was called');
      // the screen follows the live channel: no reload
      await room
        .getByTestId('now-serving')
        .filter({ hasText: String(queueNumber).padStart(3, '0') })
        .waitFor({ timeout: 20_000 });
      const screen = (await j.page.locator('body').textContent()) ?? '';
      assert.ok(!screen.includes(person.name), 'no patient name on the waiting-room screen');
      await j.shot('display-called');
      // one department's screen: another department's rooms are not on it
      const other = demoStaffDirectory().find(
        (st) => st.departmentId && st.departmentId !== departmentId,
      )?.departmentId;
      await j.page.goto(`${site.srv.url}/display?department=${other}`);
      await j.page.getByText('Chưa có phòng khám nào.').waitFor();
      assert.equal(await j.page.getByRole('region', { name: ROOM, exact: true }).count(), 0);
      await j.page.goto(`${site.srv.url}/display?department=${departmentId}`);
      await j.page.getByRole('region', { name: ROOM, exact: true }).waitFor();
    });

    it('reads the next card with the camera in the browser (no picture kept)', async () => {
      await j.page.goto(`${site.srv.url}/reception`);
      await j.page.getByRole('heading', { name: 'Tiếp đón bệnh nhân' }).waitFor();
      await j.page.getByRole('button', { name: 'Quét bằng camera' }).click();
      const card = j.page.getByRole('region', { name: 'Thông tin trên thẻ' });
      await card.waitFor({ timeout: 20_000 });
      const text = (await card.textContent()) ?? '';
      assert.ok(text.includes(second.name), 'the name read from the video, diacritics intact');
      assert.ok(text.includes(second.idNumber));
      // the camera closes once the code is read (after the dialog's closing transition)
      await j.page.getByRole('dialog').waitFor({ state: 'detached' });
      await j.page.getByRole('heading', { name: 'Hồ sơ có thể trùng khớp' }).waitFor();
      await j.shot('camera-card-read');
      // F2: ready for the next card, wherever the focus was
      await j.page.getByRole('button', { name: 'Tạo hồ sơ mới' }).focus();
      await j.page.keyboard.press('F2');
      await card.waitFor({ state: 'detached' });
      assert.equal(await j.page.evaluate(() => document.activeElement?.getAttribute('name')), 'qr');
    });

    it('checks in a patient who booked in the portal: the QR on the phone brings the record and the booked room', async () => {
      const srv = site.srv;
      const create = async (resource: Record<string, unknown>): Promise<string> => {
        const r = await fhirFetch(srv.fhir, String(resource.resourceType), { method: 'POST', body: resource });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        return r.body.id as string;
      };
      const tag = [{ system: FACILITY_TAG_SYSTEM, code: HOSPITAL_ID }];
      const patientId = await create({
        resourceType: 'Patient',
        meta: { tag },
        name: [{ text: 'Lâm Thị Mai', family: 'Lâm', given: ['Thị', 'Mai'] }],
        gender: 'female',
        birthDate: '1990-03-08',
      });
      // the room's schedule and a slot in a few minutes, booked the way the portal books it
      const schedule = await create({ resourceType: 'Schedule', active: true, actor: [{ reference: roomRef }] });
      const start = Date.now() + 5 * 60_000;
      const slot = await create({
        resourceType: 'Slot',
        schedule: { reference: `Schedule/${schedule}` },
        status: 'free',
        start: new Date(start).toISOString(),
        end: new Date(start + 30 * 60_000).toISOString(),
      });
      const booked = await fhirFetch(srv.fhir, `Slot/${slot}/$book`, {
        method: 'POST',
        body: {
          resourceType: 'Parameters',
          parameter: [
            { name: 'patient', valueReference: { reference: `Patient/${patientId}` } },
            { name: 'reason', valueString: 'Khám sức khỏe định kỳ' },
          ],
        },
      });
      assert.equal(booked.status, 200, JSON.stringify(booked.body));
      const part = (name: string): { valueString?: string; resource?: { id: string } } =>
        booked.body.parameter.find((p: { name: string }) => p.name === name);
      const qr = part('checkinQr').valueString as string;
      const code = part('code').valueString as string;
      assert.equal(qr, `SEN-HEN:${code}`);

      await j.page.getByLabel('Mã QR thẻ căn cước').fill(qr);
      await j.page.keyboard.press('Enter');
      await j.page
        .getByRole('status')
        .filter({ hasText: `Đã check-in lịch hẹn ${code}` })
        .waitFor();
      await j.page.getByText('Lâm Thị Mai').first().waitFor();
      // the booked room is chosen and the reason the patient gave is filled in
      // the room list loads after the record: the booked room shows once it is there
      const roomBox = j.page.getByRole('combobox', { name: 'Phòng khám' });
      let chosen = '';
      for (let i = 0; i < 100 && !chosen.startsWith(`${ROOM} ·`); i += 1) {
        chosen = await roomBox.inputValue();
        if (!chosen.startsWith(`${ROOM} ·`)) {
          await j.page.waitForTimeout(100);
        }
      }
      assert.match(chosen, new RegExp(`^${ROOM} ·`));
      assert.equal(await j.page.getByLabel('Lý do khám').inputValue(), 'Khám sức khỏe định kỳ');
      await j.shot('appointment-checked-in');
      await j.page.getByRole('button', { name: 'Đăng ký khám và in phiếu' }).click();
      await j.page.waitForURL(/\/reception\/ticket\//);
      await j.page.getByRole('article', { name: 'Phiếu số thứ tự' }).getByText('Lâm Thị Mai').waitFor();
      const appt = await fhirFetch(srv.fhir, `Appointment/${part('appointment').resource?.id}`);
      assert.equal(appt.body.status, 'arrived');
      // the same QR a second time: already checked in, said in words
      await j.page.goto(`${srv.url}/reception`);
      await j.page.getByLabel('Mã QR thẻ căn cước').fill(qr);
      await j.page.keyboard.press('Enter');
      await j.page.getByRole('alert').filter({ hasText: 'đã check-in' }).waitFor();
      await j.shot('appointment-already-checked-in');
    });
  },
);

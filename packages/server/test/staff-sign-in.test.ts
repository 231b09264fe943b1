import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { testEngines } from '@sen/db/testing';
import { readConfig } from '../src/config.ts';
import { STAFF_ROLES, totpCode } from '../src/platform/auth/index.ts';
import { postForm } from '../src/platform/oauth/test-support.ts';
import {
  DEFAULT_DEMO_STAFF_PASSWORD,
  DEFAULT_DEMO_TOTP_SECRET,
  demoTotpSecret,
  seedDemoAccounts,
} from '../src/seed/demo-accounts.ts';
import { seedDemo } from '../src/seed/seed.ts';
import { fhirFetch, startTestServer, TEST_CLIENT_SECRET, type TestServer } from './harness.ts';
import { SHARED_DIR } from './shared-data.ts';
import { field, formAction, SignInDriver, type SmartApp, type SmartAppResult, startSmartApp } from './smart-app.ts';

const PASSWORD = DEFAULT_DEMO_STAFF_PASSWORD;
/** Access tokens live 3 s with no leeway on this server, so expiry is seen without waiting minutes. */
const ACCESS_TTL = 3;
const SCOPE = 'launch/patient patient/*.rs openid fhirUser offline_access';

/** A demo account's TOTP code, `ahead` steps after now (each sign-in must use a later step than the last). */
function code(username: string, ahead = 0): string {
  return totpCode(demoTotpSecret(DEFAULT_DEMO_TOTP_SECRET, username), new Date(Date.now() + ahead * 30_000));
}

function jwtClaims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
}

/** A router answer as plain JSON. */
function json<T>(body: unknown): T {
  return JSON.parse(typeof body === 'string' ? body : JSON.stringify(body)) as T;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

for (const engine of testEngines()) {
  describe(`staff sign-in pages, demo accounts and a SMART launch with fhirclient [${engine}]`, () => {
    let srv: TestServer;
    let app: SmartApp;
    let patient: Patient;

    before(async () => {
      srv = await startTestServer(engine, {
        config: {
          security: {
            mode: 'demo',
            demoClientSecret: TEST_CLIENT_SECRET,
            sealIntervalMs: 0,
            ttl: { accessToken: ACCESS_TTL },
            clockToleranceSeconds: 0,
          },
        },
      });
      await seedDemo(srv.router, { sharedDir: SHARED_DIR, patients: 6 });
      await seedDemoAccounts(srv.security!.accounts, { mode: 'demo' });
      const res = await srv.router.handle({ method: 'GET', path: 'Patient', query: [['_count', '1']] });
      const bundle = json<Bundle<Patient>>(res.body);
      patient = bundle.entry?.[0]?.resource as Patient;
      assert.ok(patient.id && patient.name?.[0]?.family);
      app = await startSmartApp(srv.fhir, 'vn-test-app', SCOPE);
      await srv.security!.authServer.registerAppClient({
        clientId: app.clientId,
        clientName: 'Ứng dụng thử nghiệm',
        redirectUris: [`${app.url}/app`],
        scope: 'patient/*.rs',
      });
    });
    after(async () => {
      await app.close();
      await srv.close();
    });

    /** The SMART launch through the real pages: password, TOTP code, patient picker, Allow; then the app's JSON. */
    async function launch(
      driver: SignInDriver,
      username: string,
      ahead = 0,
    ): Promise<{ result: SmartAppResult; pickerHtml: string }> {
      const login = await driver.go(`${app.url}/launch`);
      assert.equal(login.status, 200);
      assert.match(login.html, /Đăng nhập/);
      const mfa = await driver.go(new URL(formAction(login.html), srv.url).toString(), {
        username,
        password: PASSWORD,
      });
      assert.equal(mfa.status, 200);
      assert.match(mfa.html, /Xác thực hai lớp/);
      const picker = await driver.go(new URL(formAction(mfa.html), srv.url).toString(), {
        token: field(mfa.html, 'token') as string,
        form_token: field(mfa.html, 'form_token') as string,
        code: code(username, ahead),
      });
      assert.equal(picker.status, 200, picker.html);
      assert.match(picker.html, /Chọn bệnh nhân/);
      const family = patient.name?.[0]?.family as string;
      const found = await driver.go(`${picker.url}?q=${encodeURIComponent(family)}`);
      assert.equal(found.status, 200);
      assert.ok(found.html.includes(`value="${patient.id}"`), 'the patient is among the results');
      const done = await driver.go(new URL(formAction(found.html), srv.url).toString(), {
        patient: patient.id as string,
        form_token: field(found.html, 'form_token') as string,
      });
      assert.ok(
        done.appUrl?.startsWith(`${app.url}/app?`),
        `redirected to the app: ${done.status} ${/role="alert">([^<]*)/.exec(done.html)?.[1]}`,
      );
      const res = await fetch(done.appUrl as string);
      const body = (await res.json()) as SmartAppResult & { error?: string };
      assert.equal(res.status, 200, body.error);
      return { result: body, pickerHtml: found.html };
    }

    it('seeds one account per seeded staff member, every role covered, linked to the practitioner and department', async () => {
      const { rows } = await srv.store.db.query<{
        username: string;
        practitioner_id: string;
        roles: string[];
        department_ids: string[];
        mfa_enabled: boolean;
      }>('SELECT username, practitioner_id, roles, department_ids, mfa_enabled FROM staff_account ORDER BY username');
      const practitioners = await srv.store.db.query<{ id: string }>(
        "SELECT id FROM resource WHERE type = 'Practitioner' AND NOT deleted",
      );
      assert.equal(rows.length, practitioners.rows.length);
      assert.deepEqual(new Set(rows.map((r) => r.practitioner_id)), new Set(practitioners.rows.map((r) => r.id)));
      assert.deepEqual(new Set(rows.flatMap((r) => r.roles)), new Set(STAFF_ROLES));
      const roles = await srv.router.handle({ method: 'GET', path: 'PractitionerRole', query: [['_count', '100']] });
      const roleBundle = json<Bundle>(roles.body);
      for (const r of rows) {
        const pr = roleBundle.entry
          ?.map((e) => e.resource as { practitioner?: { reference?: string }; organization?: { reference?: string } })
          .find((x) => x.practitioner?.reference === `Practitioner/${r.practitioner_id}`);
        assert.ok(pr, r.username);
        if (r.roles[0] === 'facility-admin') {
          assert.deepEqual(r.department_ids, []);
        } else {
          assert.deepEqual(
            r.department_ids.map((d) => `Organization/${d}`),
            [pr.organization?.reference],
            r.username,
          );
        }
        assert.equal(r.mfa_enabled, !['receptionist', 'cashier'].includes(r.roles[0]), r.username);
      }
    });

    it('seeding the demo accounts again creates nothing and keeps the accounts as they are', async () => {
      const before = await srv.store.db.query<{ id: string; password_hash: string }>(
        'SELECT id, password_hash FROM staff_account ORDER BY id',
      );
      const again = await seedDemoAccounts(srv.security!.accounts, { mode: 'demo' });
      assert.equal(again.filter((a) => a.created).length, 0);
      assert.equal(again.length, before.rows.length);
      const afterRows = await srv.store.db.query<{ id: string; password_hash: string }>(
        'SELECT id, password_hash FROM staff_account ORDER BY id',
      );
      assert.deepEqual(afterRows.rows, before.rows);
    });

    it('refuses demo staff accounts in production mode, in the seed and in the configuration', async () => {
      await assert.rejects(seedDemoAccounts(srv.security!.accounts, { mode: 'production' }), /demo mode only/);
      assert.throws(
        () => readConfig({ SEN_MODE: 'production', SEN_DEMO_STAFF_PASSWORD: 'Another-pass-2026!' }),
        /SEN_DEMO_STAFF_PASSWORD/,
      );
      assert.equal(readConfig({}).demoStaffPassword, DEFAULT_DEMO_STAFF_PASSWORD);
    });

    it('completes a standalone launch of fhirclient: password, TOTP, patient picker, then Patient read', async () => {
      const driver = new SignInDriver(srv.url);
      const { result } = await launch(driver, 'bacsi1');
      assert.equal(result.patient.resourceType, 'Patient');
      assert.equal(result.patient.id, patient.id);
      assert.equal(result.tokenResponse.patient, patient.id);
      const claims = jwtClaims(result.tokenResponse.access_token);
      assert.equal(claims.patient, patient.id);
      assert.match(String(claims.fhirUser), /\/Practitioner\/sen-demo-s-01$/);
      assert.deepEqual(jwtClaims(result.tokenResponse.id_token as string).amr, ['pwd', 'otp']);
      // the patient/ scopes reach the launch patient only
      const other = await srv.router.handle({ method: 'GET', path: 'Patient', query: [['_count', '6']] });
      const otherId = json<Bundle>(other.body)
        .entry?.map((e) => e.resource?.id)
        .find((id) => id !== patient.id);
      const auth = { authorization: `Bearer ${result.tokenResponse.access_token}` };
      const denied = await fhirFetch(srv.fhir, `Patient/${otherId}`, { headers: auth });
      assert.equal(denied.status, 404);
      assert.equal(denied.body.resourceType, 'OperationOutcome');
      const search = await fhirFetch(srv.fhir, 'Patient', { headers: auth });
      assert.deepEqual(
        search.body.entry.map((e: { resource: Patient }) => e.resource.id),
        [patient.id],
      );
      // the picker's search and check were audited as the doctor
      const audit = await srv.store.db.query<{ n: string }>(
        "SELECT count(*)::text AS n FROM audit_event WHERE who = 'Practitioner/sen-demo-s-01' AND detail->>'via' = 'smart-launch-patient-picker'",
      );
      assert.ok(Number(audit.rows[0].n) >= 2);
    });

    it('lets the clinician pick the launch patient by a name without diacritics or by ID, and checks the choice', async () => {
      const driver = new SignInDriver(srv.url);
      const login = await driver.go(`${app.url}/launch`);
      const mfa = await driver.go(new URL(formAction(login.html), srv.url).toString(), {
        username: 'truongkhoa',
        password: PASSWORD,
      });
      const picker = await driver.go(new URL(formAction(mfa.html), srv.url).toString(), {
        token: field(mfa.html, 'token') as string,
        form_token: field(mfa.html, 'form_token') as string,
        code: code('truongkhoa'),
      });
      assert.match(picker.html, /<label for="q">Tìm theo họ tên hoặc mã/);
      const folded = (patient.name?.[0]?.family as string)
        .normalize('NFD')
        .replace(/[\u0300-\u036f]/g, '')
        .replace(/đ/g, 'd')
        .replace(/Đ/g, 'D');
      const byName = await driver.go(`${picker.url}?q=${encodeURIComponent(folded)}`);
      assert.ok(byName.html.includes(`value="${patient.id}"`));
      const byId = await driver.go(`${picker.url}?q=${encodeURIComponent(patient.id as string)}`);
      assert.equal([...byId.html.matchAll(/name="patient"/g)].length, 1);
      assert.ok(byId.html.includes(`value="${patient.id}"`));
      const none = await driver.go(`${picker.url}?q=khongcoai`);
      assert.match(none.html, /Không tìm thấy bệnh nhân/);
      const confirm = new URL(formAction(byId.html), srv.url).toString();
      const unknown = await driver.go(confirm, {
        patient: 'no-such-patient',
        form_token: field(byId.html, 'form_token') as string,
      });
      assert.equal(unknown.status, 400);
      assert.equal(unknown.appUrl, undefined);
      assert.match(unknown.html, /Hãy chọn một bệnh nhân bạn được phép xem/);
      const forged = await driver.go(confirm, { patient: patient.id as string, form_token: 'x'.repeat(43) });
      assert.equal(forged.status, 403);
      assert.equal(forged.appUrl, undefined);
      const ok = await driver.go(confirm, {
        patient: patient.id as string,
        form_token: field(byId.html, 'form_token') as string,
      });
      assert.ok(ok.appUrl?.startsWith(`${app.url}/app?code=`));
    });

    it('does not let a doctor finish signing in with the password alone', async () => {
      const driver = new SignInDriver(srv.url);
      const login = await driver.go(`${app.url}/launch`);
      const mfa = await driver.go(new URL(formAction(login.html), srv.url).toString(), {
        username: 'bacsi2',
        password: PASSWORD,
      });
      assert.equal(mfa.status, 200);
      assert.equal(mfa.appUrl, undefined);
      assert.match(mfa.html, /autocomplete="one-time-code"/);
      const wrong = await driver.go(new URL(formAction(mfa.html), srv.url).toString(), {
        token: field(mfa.html, 'token') as string,
        form_token: field(mfa.html, 'form_token') as string,
        code: code('bacsi2') === '000000' ? '111111' : '000000',
      });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.appUrl, undefined);
      assert.match(wrong.html, /Mã xác thực không đúng/);
      const empty = await driver.go(new URL(formAction(mfa.html), srv.url).toString(), {
        token: field(mfa.html, 'token') as string,
        form_token: field(mfa.html, 'form_token') as string,
        code: '',
      });
      assert.equal(empty.status, 401);
      // and without the CSRF token the step is refused outright
      const forged = await driver.go(new URL(formAction(mfa.html), srv.url).toString(), {
        token: field(mfa.html, 'token') as string,
        code: code('bacsi2'),
      });
      assert.equal(forged.status, 403);
      assert.equal(forged.appUrl, undefined);
    });

    it('makes a doctor without an authenticator enrol one (QR code and secret) before the sign-in finishes', async () => {
      const accounts = srv.security!.accounts;
      const account = await accounts.create({
        username: 'bs.moi',
        practitionerId: 'sen-demo-s-03',
        facilityId: 'another-facility',
        roles: ['doctor'],
        password: 'Bác-sĩ-mới-2026',
      });
      const driver = new SignInDriver(srv.url);
      const login = await driver.go(`${app.url}/launch`);
      const enrol = await driver.go(new URL(formAction(login.html), srv.url).toString(), {
        username: 'bs.moi',
        password: 'Bác-sĩ-mới-2026',
      });
      assert.equal(enrol.status, 200);
      assert.match(enrol.html, /Thiết lập xác thực hai lớp/);
      assert.match(enrol.html, /<svg role="img" aria-labelledby="qr-title"[^>]*>/);
      assert.match(enrol.html, /<path/);
      const secret = (/<code id="secret"[^>]*>([A-Z2-7 ]+)<\/code>/.exec(enrol.html)?.[1] ?? '').replace(/ /g, '');
      assert.match(secret, /^[A-Z2-7]{32}$/);
      const action = new URL(formAction(enrol.html), srv.url).toString();
      const post = (c: string, html: string) =>
        driver.go(action, {
          token: field(html, 'token') as string,
          form_token: field(html, 'form_token') as string,
          code: c,
        });
      const wrong = await post(totpCode(secret, new Date()) === '123456' ? '654321' : '123456', enrol.html);
      assert.equal(wrong.status, 401);
      assert.ok(wrong.html.includes(secret.replace(/(.{4})(?=.)/g, '$1 ')), 'the same secret is shown again');
      assert.equal((await accounts.findAccount(account.id))?.mfaEnabled, false);
      const ok = await post(totpCode(secret, new Date()), wrong.html);
      assert.equal(ok.status, 200, ok.html.slice(0, 400));
      assert.match(ok.html, /Chọn bệnh nhân/, 'the sign-in went on to the launch');
      assert.equal((await accounts.findAccount(account.id))?.mfaEnabled, true);
    });

    it('locks an account after repeated wrong passwords on the sign-in page', async () => {
      const driver = new SignInDriver(srv.url);
      const login = await driver.go(`${app.url}/launch`);
      const action = new URL(formAction(login.html), srv.url).toString();
      for (let i = 0; i < 5; i++) {
        const r = await driver.go(action, { username: 'dieuduong1', password: `wrong-password-${i}` });
        assert.equal(r.status, 401);
        assert.match(r.html, /Sai tên đăng nhập hoặc mật khẩu/);
      }
      const locked = await driver.go(action, { username: 'dieuduong1', password: PASSWORD });
      assert.equal(locked.status, 401);
      assert.equal(locked.appUrl, undefined);
      assert.match(locked.html, /tạm khoá/);
    });

    it('refuses an expired access token with 401, then accepts the one a refresh gives', async () => {
      const { result } = await launch(new SignInDriver(srv.url), 'bacsi3');
      const exp = Number(jwtClaims(result.tokenResponse.access_token).exp);
      assert.ok(exp - Date.now() / 1000 <= ACCESS_TTL + 1);
      await sleep(Math.max(0, exp * 1000 - Date.now()) + 1100);
      const expired = await fhirFetch(srv.fhir, `Patient/${patient.id}`, {
        headers: { authorization: `Bearer ${result.tokenResponse.access_token}` },
      });
      assert.equal(expired.status, 401);
      assert.equal(expired.body.resourceType, 'OperationOutcome');
      assert.match(expired.headers.get('www-authenticate') ?? '', /invalid_token/);
      const refreshed = await postForm(`${srv.url}/oidc/token`, {
        grant_type: 'refresh_token',
        refresh_token: result.tokenResponse.refresh_token as string,
        client_id: app.clientId,
      });
      assert.equal(refreshed.status, 200, refreshed.text);
      const read = await fhirFetch(srv.fhir, `Patient/${patient.id}`, {
        headers: { authorization: `Bearer ${String(refreshed.json.access_token)}` },
      });
      assert.equal(read.status, 200);
      assert.equal(read.body.id, patient.id);
    });

    it('refuses a revoked access token with 401', async () => {
      const { result } = await launch(new SignInDriver(srv.url), 'bacsi4');
      const auth = { authorization: `Bearer ${result.tokenResponse.access_token}` };
      assert.equal((await fhirFetch(srv.fhir, `Patient/${patient.id}`, { headers: auth })).status, 200);
      const revoked = await postForm(`${srv.url}/oidc/token/revocation`, {
        token: result.tokenResponse.access_token,
        token_type_hint: 'access_token',
        client_id: app.clientId,
      });
      assert.equal(revoked.status, 200);
      const after = await fhirFetch(srv.fhir, `Patient/${patient.id}`, { headers: auth });
      assert.equal(after.status, 401);
      assert.equal(after.body.resourceType, 'OperationOutcome');
    });

    it('lists sessions on /account and signs out everywhere: sessions, refresh tokens and access tokens end', async () => {
      const driver = new SignInDriver(srv.url);
      const { result } = await launch(driver, 'bacsi5');
      const page = await driver.go(`${srv.url}/account`);
      assert.equal(page.status, 200);
      assert.match(page.html, /Phiên đăng nhập/);
      assert.match(page.html, /thiết bị này/);
      assert.match(page.html, /127\.0\.0\.1/);
      assert.match(page.html, /Đăng xuất khỏi mọi thiết bị/);
      // no CSRF token: refused, nothing ends
      const forged = await driver.go(`${srv.url}/account/sign-out-everywhere`, { form_token: '' });
      assert.equal(forged.status, 403);
      assert.equal((await driver.go(`${srv.url}/account`)).status, 200);
      const out = await driver.go(`${srv.url}/account/sign-out-everywhere`, {
        form_token: field(page.html, 'form_token') as string,
      });
      assert.equal(out.status, 200);
      assert.match(out.html, /Đã đăng xuất khỏi mọi thiết bị/);
      const refresh = await postForm(`${srv.url}/oidc/token`, {
        grant_type: 'refresh_token',
        refresh_token: result.tokenResponse.refresh_token as string,
        client_id: app.clientId,
      });
      assert.equal(refresh.status, 400);
      assert.equal(refresh.json.error, 'invalid_grant');
      const read = await fhirFetch(srv.fhir, `Patient/${patient.id}`, {
        headers: { authorization: `Bearer ${result.tokenResponse.access_token}` },
      });
      assert.equal(read.status, 401);
      const again = await driver.go(`${srv.url}/account`);
      assert.match(again.html, /action="\/account\/login"/, 'signed out of the account page too');
    });

    it('changes the password on /account under the policy, and the old one stops working', async () => {
      const driver = new SignInDriver(srv.url);
      const form = await driver.go(`${srv.url}/account`);
      const signedIn = await driver.go(`${srv.url}/account/login`, {
        form_token: field(form.html, 'form_token') as string,
        username: 'bacsi6',
        password: PASSWORD,
        totp: code('bacsi6'),
      });
      assert.equal(signedIn.status, 200, signedIn.html.slice(0, 300));
      assert.match(signedIn.html, /bacsi6/);
      const token = field(signedIn.html, 'form_token') as string;
      const weak = await driver.go(`${srv.url}/account/password`, {
        form_token: token,
        current: PASSWORD,
        new: 'short',
        confirm: 'short',
      });
      assert.equal(weak.status, 400);
      assert.match(weak.html, /chưa đạt yêu cầu/);
      const wrongCurrent = await driver.go(`${srv.url}/account/password`, {
        form_token: token,
        current: 'not-the-password',
        new: 'Mật-khẩu-mới-2026',
        confirm: 'Mật-khẩu-mới-2026',
      });
      assert.equal(wrongCurrent.status, 400);
      assert.match(wrongCurrent.html, /Mật khẩu hiện tại không đúng/);
      const changed = await driver.go(`${srv.url}/account/password`, {
        form_token: token,
        current: PASSWORD,
        new: 'Mật-khẩu-mới-2026',
        confirm: 'Mật-khẩu-mới-2026',
      });
      assert.equal(changed.status, 200);
      assert.match(changed.html, /Đã đổi mật khẩu/);
      const accounts = srv.security!.accounts;
      const old = await accounts.authenticate({ username: 'bacsi6', password: PASSWORD, ip: '127.0.0.2' });
      assert.equal(old.ok, false);
      assert.equal(!old.ok && old.reason, 'invalid');
      const fresh = await accounts.authenticate({ username: 'bacsi6', password: 'Mật-khẩu-mới-2026', ip: '127.0.0.2' });
      assert.equal(!fresh.ok && fresh.reason, 'mfa-required');
    });

    it('lets a receptionist (no MFA required) sign in on /account with the password alone', async () => {
      const driver = new SignInDriver(srv.url);
      const form = await driver.go(`${srv.url}/account`);
      const r = await driver.go(`${srv.url}/account/login`, {
        form_token: field(form.html, 'form_token') as string,
        username: 'tiepdon',
        password: PASSWORD,
      });
      assert.equal(r.status, 200);
      assert.match(r.html, /tiepdon/);
      const bad = await driver.go(`${srv.url}/account/login`, {
        form_token: 'x'.repeat(43),
        username: 'tiepdon',
        password: PASSWORD,
      });
      assert.equal(bad.status, 403);
    });
  });
}

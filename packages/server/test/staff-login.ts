import type { StaffRole } from '../src/platform/auth/index.ts';
import { totpCode } from '../src/platform/auth/totp.ts';
import { authorizeRequest, Browser, postForm } from '../src/platform/oauth/test-support.ts';
import type { TestServer } from './harness.ts';

export interface StaffLogin {
  accountId: string;
  practitionerId: string;
  token: string;
}

const PASSWORD = 'Sen-kiểm-thử-Mật-khẩu-2026';

/**
 * A staff member signs in the way the web app does: an account with TOTP enrolled, then the authorization code flow
 * with PKCE at the server's own /oidc (sign-in form with password and code), and the code exchanged for a token.
 */
export async function staffLogin(
  srv: TestServer,
  input: { username: string; practitionerId: string; roles: StaffRole[]; facilityId: string; departmentIds?: string[] },
): Promise<StaffLogin> {
  const accounts = srv.security?.accounts;
  if (!accounts) {
    throw new Error('the test server has no sign-in');
  }
  const account = await accounts.create({ ...input, password: PASSWORD });
  const enrolment = await accounts.enrolMfa({ accountId: account.id });
  if (!enrolment) {
    throw new Error('MFA enrolment failed');
  }
  const confirmed = await accounts.confirmMfa({
    accountId: account.id,
    code: totpCode(enrolment.secret, new Date()),
    ip: '127.0.0.1',
  });
  if (!confirmed.ok) {
    throw new Error(`MFA confirmation failed: ${confirmed.reason}`);
  }
  const browser = new Browser();
  const redirectUri = `${srv.url}/`;
  const auth = authorizeRequest({
    issuer: `${srv.url}/oidc`,
    audience: srv.fhir,
    redirectUri,
    scope: 'openid fhirUser user/*.cruds',
  });
  const { verifier } = auth;
  const page = await browser.follow(auth.url, srv.url);
  if (page.res.status !== 200 || !/\/oidc\/interaction\/[^/]+$/.test(page.url)) {
    throw new Error(`no sign-in page: ${page.res.status}`);
  }
  await page.res.text();
  const loginUrl = `${page.url}/login`;
  // the next time step: the enrolment used up the current one (a code is accepted once)
  const totp = totpCode(enrolment.secret, new Date(Date.now() + 30_000));
  const ok = await browser.request(loginUrl, { form: { username: input.username, password: PASSWORD, totp } });
  if (ok.status !== 303) {
    throw new Error(`sign-in failed: ${ok.status}`);
  }
  const back = await browser.follow(loginUrl, srv.url, ok);
  const code = new URL(back.url).searchParams.get('code');
  if (!code) {
    throw new Error(`no authorization code: ${back.url}`);
  }
  const res = await postForm(`${srv.url}/oidc/token`, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: redirectUri,
    client_id: 'sen-web',
    code_verifier: verifier,
  });
  const token = res.json.access_token;
  if (res.status !== 200 || typeof token !== 'string') {
    throw new Error(`token exchange failed: ${res.status}`);
  }
  return { accountId: account.id, practitionerId: input.practitionerId, token };
}

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { testEngines } from '@sen/db/testing';
import { startTestServer, type TestServer } from '../../../test/harness.ts';
import { Browser, pkcePair } from './test-support.ts';

// The sign-in form is a cookie flow: a form posted from another site, or without the page's token, is refused.
for (const engine of testEngines()) {
  describe(`CSRF protection of the sign-in forms [${engine}]`, () => {
    let srv: TestServer;
    let browser: Browser;
    let loginUrl: string;
    let token: string;

    before(async () => {
      srv = await startTestServer(engine);
      browser = new Browser();
      const auth = new URL(`${srv.url}/oidc/auth`);
      auth.search = new URLSearchParams({
        client_id: 'sen-web',
        response_type: 'code',
        redirect_uri: `${srv.url}/`,
        scope: 'openid fhirUser',
        state: randomBytes(8).toString('hex'),
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
      }).toString();
      const page = await browser.follow(auth.toString(), srv.url);
      assert.equal(page.res.status, 200);
      const html = await page.res.text();
      const m = /<form[^>]*method="post"[^>]*><input type="hidden" name="csrf" value="([^"]+)">/.exec(html);
      assert.ok(m, 'the form carries a CSRF token');
      token = m[1];
      loginUrl = `${page.url}/login`;
    });
    after(async () => {
      await srv.close();
    });

    const post = (form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(loginUrl, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          cookie: browser.cookieHeader(loginUrl),
          ...headers,
        },
        body: new URLSearchParams(form).toString(),
      });

    it('refuses a post without the token, even with the session cookie', async () => {
      const res = await post({ username: 'bs.an', password: 'whatever-password' });
      assert.equal(res.status, 403);
      assert.match(await res.text(), /Yêu cầu bị từ chối.*Request refused/s);
    });

    it('refuses a wrong token', async () => {
      const res = await post({ username: 'bs.an', password: 'whatever-password', csrf: `${token.slice(0, -2)}xx` });
      assert.equal(res.status, 403);
    });

    it('refuses a cross-site post even with the right token', async () => {
      const evil = await post(
        { username: 'bs.an', password: 'whatever-password', csrf: token },
        { origin: 'https://evil.example' },
      );
      assert.equal(evil.status, 403);
      const fetchMeta = await post(
        { username: 'bs.an', password: 'whatever-password', csrf: token },
        { 'sec-fetch-site': 'cross-site' },
      );
      assert.equal(fetchMeta.status, 403);
    });

    it('processes the form posted from its own page (here: a wrong password, 401)', async () => {
      const res = await post(
        { username: 'bs.an', password: 'whatever-password', csrf: token },
        { origin: srv.url, 'sec-fetch-site': 'same-origin' },
      );
      assert.equal(res.status, 401);
      assert.match(await res.text(), /Sai tên đăng nhập/);
    });
  });
}

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { testEngines } from '@sen/db/testing';
import Fastify from 'fastify';
import { startTestServer, type TestServer } from '../../../test/harness.ts';
import { registerCsrf } from './csrf.ts';
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
      // Origin: null (a page with Referrer-Policy: no-referrer) counts only when the browser says same-origin
      const nullOrigin = await post(
        { username: 'bs.an', password: 'whatever-password', csrf: token },
        { origin: 'null', 'sec-fetch-site': 'cross-site' },
      );
      assert.equal(nullOrigin.status, 403);
      const nullNoSite = await post(
        { username: 'bs.an', password: 'whatever-password', csrf: token },
        { origin: 'null' },
      );
      assert.equal(nullNoSite.status, 403);
    });

    it('processes a same-origin post that a browser sends with Origin: null (the pages send no referrer)', async () => {
      const res = await post(
        { username: 'bs.an', password: 'whatever-password', csrf: token },
        { origin: 'null', 'sec-fetch-site': 'same-origin' },
      );
      assert.equal(res.status, 401);
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

describe('CSRF protection of a form page without an interaction', () => {
  it('binds the token to a cookie of its own and refuses it with another cookie or none', async () => {
    const app = Fastify({ logger: false });
    await app.register(async (scope) => {
      scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_r, body, done) =>
        done(null, body),
      );
      registerCsrf(scope, { key: Buffer.alloc(32, 3), origin: 'http://127.0.0.1' });
      scope.get('/page', async (_req, reply) =>
        reply.type('text/html; charset=utf-8').send('<form method="post" action="/page"><button>OK</button></form>'),
      );
      scope.post('/page', async () => ({ ok: true }));
    });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const page = await fetch(`${base}/page`);
      const setCookie = page.headers.getSetCookie().find((c) => c.startsWith('sen_csrf='));
      assert.ok(setCookie, 'the page sets its CSRF cookie');
      assert.match(setCookie, /HttpOnly; SameSite=Strict/);
      const cookie = setCookie.split(';')[0];
      const token = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1];
      assert.ok(token);
      const post = (headers: Record<string, string>, form: Record<string, string>): Promise<Response> =>
        fetch(`${base}/page`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
          body: new URLSearchParams(form).toString(),
        });
      assert.equal((await post({ cookie }, { csrf: token })).status, 200);
      assert.equal((await post({}, { csrf: token })).status, 403, 'without the cookie');
      const other = `sen_csrf=${'A'.repeat(32)}`;
      assert.equal((await post({ cookie: other }, { csrf: token })).status, 403, 'with another browser’s cookie');
      assert.equal((await post({ cookie }, {})).status, 403, 'without the field');
    } finally {
      await app.close();
    }
  });
});

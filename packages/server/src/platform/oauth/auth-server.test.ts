import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { eachEngine } from '@sen/db/testing';
import { OutcomeError } from '@sen/fhir';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createAuthServer } from './provider.ts';
import {
  basic,
  Browser,
  jwtHeader,
  authorizeRequest,
  jwtPayload,
  pkcePair,
  postForm,
  type Running,
  startAuthApp,
  TEST_SECRET_KEY,
} from './test-support.ts';

const ACCOUNTS: Record<string, { password: string; claims: Record<string, unknown> }> = {
  'benh.nhan': { password: 'Mật-khẩu-đúng-1', claims: { fhirUser: 'Patient/pat-1', patient: 'pat-1' } },
  'bs.an': { password: 'Mật-khẩu-đúng-2', claims: { fhirUser: 'Practitioner/prac-1' } },
};
const accountOptions = {
  // Test doubles of the account store: accept the fixed accounts above.
  authenticate: async (username: string, password: string) =>
    ACCOUNTS[username]?.password === password
      ? { accountId: `acct:${username}` }
      : { error: 'Sai tên đăng nhập hoặc mật khẩu. / Wrong username or password.' },
  findAccount: async (id: string) => {
    const a = ACCOUNTS[id.replace(/^acct:/, '')];
    return a ? { accountId: id, claims: () => a.claims } : undefined;
  },
};

async function demoToken(r: Running, scope = 'system/*.cruds'): Promise<Record<string, unknown>> {
  const res = await postForm(
    `${r.issuer}/token`,
    { grant_type: 'client_credentials', scope },
    { authorization: basic('sen-demo', 'sen-demo-secret') },
  );
  assert.equal(res.status, 200, res.text);
  return res.json;
}

async function rejects401(p: Promise<unknown>, text?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof OutcomeError, String(err));
    assert.equal(err.status, 401);
    if (text) {
      assert.match(err.message, text);
    }
    return true;
  });
}

/** Runs the authorization code flow with PKCE in a browser; returns the token response. */
async function codeFlow(
  r: Running,
  options: {
    clientId?: string;
    redirectUri?: string;
    scope: string;
    username: string;
    password?: string;
    launch?: string;
    consent?: boolean;
  },
): Promise<{ tokens: Record<string, unknown>; browser: Browser }> {
  const browser = new Browser();
  const clientId = options.clientId ?? 'sen-web';
  const redirectUri = options.redirectUri ?? `${r.base}/app/callback`;
  const auth = authorizeRequest({
    issuer: r.issuer,
    audience: r.fhirBase,
    redirectUri,
    scope: options.scope,
    clientId,
    extra: options.launch ? { launch: options.launch } : undefined,
  });
  const { verifier, state } = auth;

  let step = await browser.follow(auth.url, r.base);
  assert.equal(step.res.status, 200, 'the sign-in page');
  const loginHtml = await step.res.text();
  assert.match(loginHtml, /Đăng nhập/);
  assert.match(loginHtml, /Sign in/);
  assert.match(step.url, /\/oidc\/interaction\/[^/]+$/);
  const loginUrl = `${step.url}/login`;

  const wrong = await browser.request(loginUrl, { form: { username: options.username, password: 'sai' } });
  assert.equal(wrong.status, 401);
  assert.match(await wrong.text(), /Sai tên đăng nhập/);

  const ok = await browser.request(loginUrl, {
    form: { username: options.username, password: options.password ?? ACCOUNTS[options.username].password },
  });
  assert.equal(ok.status, 303);
  step = await browser.follow(loginUrl, r.base, ok);
  if (options.consent) {
    assert.equal(step.res.status, 200, 'the consent page');
    const html = await step.res.text();
    assert.match(html, /Cho phép/);
    const confirm = await browser.request(`${step.url}/confirm`, { method: 'POST', form: {} });
    assert.equal(confirm.status, 303);
    step = await browser.follow(`${step.url}/confirm`, r.base, confirm);
  }
  assert.ok(step.url.startsWith(redirectUri), `back at the app: ${step.url}`);
  const cb = new URL(step.url);
  assert.equal(cb.searchParams.get('state'), state);
  assert.equal(cb.searchParams.get('iss'), r.issuer);
  const code = cb.searchParams.get('code');
  assert.ok(code);

  const noVerifier = await postForm(`${r.issuer}/token`, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: redirectUri,
    client_id: clientId,
  });
  assert.equal(noVerifier.status, 400, 'PKCE is required');

  const res = await postForm(`${r.issuer}/token`, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: redirectUri,
    client_id: clientId,
    code_verifier: verifier,
  });
  assert.equal(res.status, 200, res.text);
  return { tokens: res.json, browser };
}

eachEngine('authorization server', (h) => {
  let r: Running;
  before(async () => {
    r = await startAuthApp(h.db(), accountOptions);
  });
  after(async () => {
    await r?.close();
  });

  test('client_credentials for sen-demo (client_secret_basic) gives an RFC 9068 JWT for the FHIR API', async () => {
    const t = await demoToken(r);
    assert.equal(t.token_type, 'Bearer');
    assert.equal(t.scope, 'system/*.cruds');
    assert.equal(t.expires_in, 900);
    const token = t.access_token as string;
    assert.equal(jwtHeader(token).typ, 'at+jwt');
    assert.equal(jwtHeader(token).alg, 'RS256');
    const claims = jwtPayload(token);
    assert.equal(claims.aud, r.fhirBase);
    assert.equal(claims.iss, r.issuer);
    assert.equal(claims.client_id, 'sen-demo');
    const v = await r.server.verifyAccessToken(token);
    assert.equal(v.sub, 'sen-demo');
    assert.equal(v.clientId, 'sen-demo');
    assert.deepEqual(v.scopes, ['system/*.cruds']);
    assert.equal(v.patient, undefined);
  });

  test('narrower SMART scopes are granted, scopes beyond the client’s allowance are not', async () => {
    const t = await demoToken(r, 'system/Patient.rs system/Observation.read user/*.rs patient/*.cruds foo');
    assert.deepEqual(String(t.scope).split(' ').sort(), ['system/Observation.read', 'system/Patient.rs']);
    const bad = await postForm(
      `${r.issuer}/token`,
      { grant_type: 'client_credentials', scope: 'system/*.cruds' },
      { authorization: basic('sen-demo', 'wrong-secret') },
    );
    assert.equal(bad.status, 401);
    assert.equal(bad.json.error, 'invalid_client');
  });

  test('verifyAccessToken rejects a tampered, an expired, a foreign-audience and a garbage token', async () => {
    const token = (await demoToken(r)).access_token as string;
    const [h0, p0, s0] = token.split('.');
    const payload = JSON.parse(Buffer.from(p0, 'base64url').toString('utf8')) as Record<string, unknown>;
    payload.scope = 'system/*.cruds user/*.cruds';
    const tampered = [h0, Buffer.from(JSON.stringify(payload)).toString('base64url'), s0].join('.');
    await rejects401(r.server.verifyAccessToken(tampered), /invalid/);
    const sig = Buffer.from(s0, 'base64url');
    sig[10] ^= 1;
    await rejects401(r.server.verifyAccessToken([h0, p0, sig.toString('base64url')].join('.')), /invalid/);

    const exp = jwtPayload(token).exp as number;
    await rejects401(r.server.verifyAccessToken(token, { now: new Date((exp + 60) * 1000) }), /expired/);
    await r.server.verifyAccessToken(token, { now: new Date((exp - 60) * 1000) });
    // Verified once (and remembered), it still expires.
    await rejects401(r.server.verifyAccessToken(token, { now: new Date((exp + 60) * 1000) }), /expired/);

    // Same keys (same database), another FHIR base: its tokens are not for this API.
    const other = await startAuthApp(h.db(), { fhirBase: 'http://other.example/fhir' });
    try {
      const foreign = (await demoToken(other)).access_token as string;
      assert.equal(jwtPayload(foreign).aud, 'http://other.example/fhir');
      assert.equal(jwtHeader(foreign).kid, jwtHeader(token).kid);
      await rejects401(r.server.verifyAccessToken(foreign), /invalid/);
    } finally {
      await other.close();
    }
    await rejects401(r.server.verifyAccessToken('not-a-jwt'));
    await rejects401(r.server.verifyAccessToken(''));
  });

  test('introspection says active; after revocation it says inactive and verifyAccessToken refuses', async () => {
    const token = (await demoToken(r)).access_token as string;
    const auth = { authorization: basic('sen-demo', 'sen-demo-secret') };
    const active = await postForm(`${r.issuer}/token/introspection`, { token }, auth);
    assert.equal(active.status, 200, active.text);
    assert.equal(active.json.active, true);
    assert.equal(active.json.client_id, 'sen-demo');
    assert.equal(active.json.scope, 'system/*.cruds');
    assert.equal(active.json.aud, r.fhirBase);

    const garbage = await postForm(`${r.issuer}/token/introspection`, { token: 'nonsense' }, auth);
    assert.deepEqual(garbage.json, { active: false });
    const unauthenticated = await postForm(`${r.issuer}/token/introspection`, { token });
    assert.equal(unauthenticated.status, 400);

    const revoked = await postForm(`${r.issuer}/token/revocation`, { token }, auth);
    assert.equal(revoked.status, 200, revoked.text);
    const inactive = await postForm(`${r.issuer}/token/introspection`, { token }, auth);
    assert.deepEqual(inactive.json, { active: false });
    await rejects401(r.server.verifyAccessToken(token), /revoked/);

    // Another server over the same database learns the revocation when it refreshes.
    const other = await createAuthServer({
      db: h.db(),
      issuer: r.issuer,
      fhirBase: r.fhirBase,
      mode: 'demo',
      secretKey: TEST_SECRET_KEY,
      refreshIntervalMs: 0,
    });
    try {
      await rejects401(other.verifyAccessToken(token), /revoked/);
      const fresh = (await demoToken(r)).access_token as string;
      await other.verifyAccessToken(fresh);
      await postForm(`${r.issuer}/token/revocation`, { token: fresh }, auth);
      await other.verifyAccessToken(fresh); // not refreshed yet
      await other.refresh();
      await rejects401(other.verifyAccessToken(fresh), /revoked/);
    } finally {
      await other.close();
    }
  });

  test('SMART Backend Services: private_key_jwt client_credentials for a registered client', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS384');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'hospital-b-1', alg: 'RS384', use: 'sig' };
    await r.server.registerBackendClient({ clientId: 'hospital-b', jwks: { keys: [jwk] }, scope: 'system/*.rs' });
    const assertion = (): Promise<string> =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'RS384', kid: 'hospital-b-1', typ: 'JWT' })
        .setIssuer('hospital-b')
        .setSubject('hospital-b')
        .setAudience(`${r.issuer}/token`)
        .setJti(randomBytes(12).toString('hex'))
        .setIssuedAt()
        .setExpirationTime('4m')
        .sign(privateKey);
    const form = (clientAssertion: string, scope: string): Record<string, string> => ({
      grant_type: 'client_credentials',
      scope,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: clientAssertion,
    });
    const a = await assertion();
    const res = await postForm(`${r.issuer}/token`, form(a, 'system/*.rs system/Patient.cruds system/Encounter.rs'));
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(String(res.json.scope).split(' ').sort(), ['system/*.rs', 'system/Encounter.rs']);
    const v = await r.server.verifyAccessToken(res.json.access_token as string);
    assert.equal(v.clientId, 'hospital-b');
    assert.equal(v.sub, 'hospital-b');

    const replay = await postForm(`${r.issuer}/token`, form(a, 'system/*.rs'));
    assert.equal(replay.status, 401, 'an assertion is used once');
    const { privateKey: otherKey } = await generateKeyPair('RS384');
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS384', kid: 'hospital-b-1' })
      .setIssuer('hospital-b')
      .setSubject('hospital-b')
      .setAudience(`${r.issuer}/token`)
      .setJti(randomBytes(12).toString('hex'))
      .setExpirationTime('4m')
      .sign(otherKey);
    assert.equal((await postForm(`${r.issuer}/token`, form(forged, 'system/*.rs'))).status, 401);

    await assert.rejects(
      r.server.registerBackendClient({ clientId: 'sen-demo', jwks: { keys: [jwk] }, scope: 'system/*.rs' }),
      /reserved/,
    );
    await assert.rejects(
      r.server.registerBackendClient({ clientId: 'x', jwks: { keys: [jwk] }, scope: 'system/Nope.rs' }),
      /SMART resource scope/,
    );
  });

  test('the demo client exists in demo mode only', async () => {
    const base = {
      db: h.db(),
      issuer: 'http://127.0.0.1:9/oidc',
      fhirBase: 'http://127.0.0.1:9/fhir/R4',
      refreshIntervalMs: 0,
    };
    await assert.rejects(
      createAuthServer({ ...base, mode: 'production', secretKey: TEST_SECRET_KEY, demoClientSecret: 'x' }),
      /demo mode only/,
    );
    await assert.rejects(createAuthServer({ ...base, mode: 'production' }), /SEN_SECRET_KEY is required/);
    const prod = await startAuthApp(h.db(), { mode: 'production' });
    try {
      const res = await postForm(
        `${prod.issuer}/token`,
        { grant_type: 'client_credentials', scope: 'system/*.cruds' },
        { authorization: basic('sen-demo', 'sen-demo-secret') },
      );
      assert.equal(res.status, 401);
      assert.equal(res.json.error, 'invalid_client');
    } finally {
      await prod.close();
    }
  });

  test('signing keys persist across a restart; rotation keeps older tokens verifiable', async () => {
    const jwks = async (x: Running): Promise<string[]> =>
      ((await (await fetch(`${x.issuer}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    const before = await jwks(r);
    assert.equal(before.length, 2);

    const restarted = await startAuthApp(h.db(), accountOptions);
    // Another server of r's issuer that loaded the keys before the rotation (and reloads at once on an unknown kid).
    const third = await createAuthServer({
      db: h.db(),
      issuer: r.issuer,
      fhirBase: r.fhirBase,
      mode: 'demo',
      secretKey: TEST_SECRET_KEY,
      refreshIntervalMs: 0,
      keyReloadIntervalMs: 0,
    });
    try {
      assert.deepEqual(await jwks(restarted), before, 'same keys after a restart');
      const oldToken = (await demoToken(r)).access_token as string;
      assert.ok(before.includes(jwtHeader(oldToken).kid as string));

      const newKids = await restarted.server.rotateKeys();
      assert.equal(newKids.length, 2);
      const rotated = await jwks(restarted);
      assert.equal(rotated.length, 4);
      for (const kid of [...before, ...newKids]) {
        assert.ok(rotated.includes(kid));
      }
      const fromRestarted = (await demoToken(restarted)).access_token as string;
      assert.ok(newKids.includes(jwtHeader(fromRestarted).kid as string), 'signed with the new key');
      await restarted.server.verifyAccessToken(fromRestarted);

      // r has not seen the rotation yet: it still signs with the old key; refresh() brings in the new one.
      assert.equal(jwtHeader((await demoToken(r)).access_token as string).kid, jwtHeader(oldToken).kid);
      await r.server.refresh();
      assert.deepEqual((await jwks(r)).sort(), [...rotated].sort());
      const newToken = (await demoToken(r)).access_token as string;
      assert.ok(newKids.includes(jwtHeader(newToken).kid as string));
      await r.server.verifyAccessToken(oldToken);
      await r.server.verifyAccessToken(newToken);
      // An unknown kid makes a server reload the verification keys.
      await third.verifyAccessToken(newToken);
      await third.verifyAccessToken(oldToken);
      const openid = (await (await fetch(`${r.base}/.well-known/openid-configuration`)).json()) as Record<
        string,
        unknown
      >;
      assert.equal(openid.jwks_uri, `${r.issuer}/jwks`);
    } finally {
      await restarted.close();
      await third.close();
    }
  });

  test('smart-configuration and openid-configuration', async () => {
    for (const url of [`${r.base}/.well-known/smart-configuration`, `${r.fhirBase}/.well-known/smart-configuration`]) {
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      const c = (await res.json()) as Record<string, unknown>;
      assert.equal(c.issuer, r.issuer);
      assert.equal(c.authorization_endpoint, `${r.issuer}/auth`);
      assert.equal(c.token_endpoint, `${r.issuer}/token`);
      assert.equal(c.introspection_endpoint, `${r.issuer}/token/introspection`);
      assert.equal(c.revocation_endpoint, `${r.issuer}/token/revocation`);
      assert.equal(c.jwks_uri, `${r.issuer}/jwks`);
      assert.deepEqual(c.code_challenge_methods_supported, ['S256']);
      assert.deepEqual(c.response_types_supported, ['code']);
      for (const m of ['client_secret_basic', 'private_key_jwt']) {
        assert.ok((c.token_endpoint_auth_methods_supported as string[]).includes(m));
      }
      for (const g of ['authorization_code', 'client_credentials', 'refresh_token']) {
        assert.ok((c.grant_types_supported as string[]).includes(g));
      }
      for (const s of ['openid', 'fhirUser', 'launch/patient', 'offline_access', 'patient/*.rs', 'system/*.cruds']) {
        assert.ok((c.scopes_supported as string[]).includes(s), s);
      }
      for (const cap of [
        'launch-ehr',
        'launch-standalone',
        'client-public',
        'client-confidential-symmetric',
        'client-confidential-asymmetric',
        'context-standalone-patient',
        'permission-v2',
        'permission-patient',
        'permission-user',
        'sso-openid-connect',
      ]) {
        assert.ok((c.capabilities as string[]).includes(cap), cap);
      }
    }
    for (const url of [`${r.base}/.well-known/openid-configuration`, `${r.issuer}/.well-known/openid-configuration`]) {
      const d = (await (await fetch(url)).json()) as Record<string, unknown>;
      assert.equal(d.issuer, r.issuer);
      assert.equal(d.token_endpoint, `${r.issuer}/token`);
      assert.equal(d.authorization_endpoint, `${r.issuer}/auth`);
      assert.ok((d.scopes_supported as string[]).includes('fhirUser'));
      assert.ok((d.claims_supported as string[]).includes('fhirUser'));
    }
  });

  test('authorization code + PKCE for sen-web: sign-in, tokens with fhirUser and patient, refresh, revocation', async () => {
    const { tokens } = await codeFlow(r, {
      scope: 'openid fhirUser launch/patient offline_access patient/*.rs user/Observation.rs',
      username: 'benh.nhan',
    });
    assert.equal(tokens.token_type, 'Bearer');
    assert.equal(tokens.patient, 'pat-1');
    assert.equal(tokens.fhirUser, `${r.fhirBase}/Patient/pat-1`);
    const scopes = String(tokens.scope).split(' ');
    for (const s of ['openid', 'fhirUser', 'launch/patient', 'offline_access', 'patient/*.rs', 'user/Observation.rs']) {
      assert.ok(scopes.includes(s), s);
    }
    const idToken = jwtPayload(tokens.id_token as string);
    assert.equal(idToken.sub, 'acct:benh.nhan');
    assert.equal(idToken.fhirUser, `${r.fhirBase}/Patient/pat-1`);
    assert.equal(idToken.aud, 'sen-web');

    const v = await r.server.verifyAccessToken(tokens.access_token as string);
    assert.equal(v.sub, 'acct:benh.nhan');
    assert.equal(v.clientId, 'sen-web');
    assert.equal(v.patient, 'pat-1');
    assert.equal(v.fhirUser, `${r.fhirBase}/Patient/pat-1`);
    assert.ok(v.scopes.includes('patient/*.rs'));
    assert.equal(jwtPayload(tokens.access_token as string).aud, r.fhirBase);

    // Refresh: a new access token and a new (rotated) refresh token, same context.
    const refreshed = await postForm(`${r.issuer}/token`, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token as string,
      client_id: 'sen-web',
    });
    assert.equal(refreshed.status, 200, refreshed.text);
    assert.notEqual(refreshed.json.refresh_token, tokens.refresh_token);
    assert.equal(refreshed.json.patient, 'pat-1');
    const v2 = await r.server.verifyAccessToken(refreshed.json.access_token as string);
    assert.equal(v2.patient, 'pat-1');
    assert.equal(v2.sub, 'acct:benh.nhan');

    // Revoking the refresh token ends the grant: no more refresh, and its access tokens stop too.
    const rev = await postForm(`${r.issuer}/token/revocation`, {
      token: refreshed.json.refresh_token as string,
      token_type_hint: 'refresh_token',
      client_id: 'sen-web',
    });
    assert.equal(rev.status, 200, rev.text);
    const again = await postForm(`${r.issuer}/token`, {
      grant_type: 'refresh_token',
      refresh_token: refreshed.json.refresh_token as string,
      client_id: 'sen-web',
    });
    assert.equal(again.status, 400);
    assert.equal(again.json.error, 'invalid_grant');
    await rejects401(r.server.verifyAccessToken(refreshed.json.access_token as string), /revoked/);
    await rejects401(r.server.verifyAccessToken(tokens.access_token as string), /revoked/);
  });

  test('a staff user: fhirUser without patient context; PKCE and aud are enforced', async () => {
    const { tokens } = await codeFlow(r, { scope: 'openid fhirUser user/*.rs', username: 'bs.an' });
    assert.equal(tokens.patient, undefined);
    assert.equal(tokens.refresh_token, undefined, 'no offline_access, no refresh token');
    const v = await r.server.verifyAccessToken(tokens.access_token as string);
    assert.equal(v.fhirUser, `${r.fhirBase}/Practitioner/prac-1`);
    assert.deepEqual(v.scopes.filter((s) => s.includes('/')).sort(), ['user/*.rs']);

    // "Sign out everywhere": the sessions and grants end, and so do the access tokens under them.
    const second = await codeFlow(r, { scope: 'openid offline_access user/*.rs', username: 'bs.an' });
    assert.ok(second.tokens.refresh_token);
    assert.equal(await r.server.revokeAccount('acct:bs.an'), 2);
    await rejects401(r.server.verifyAccessToken(tokens.access_token as string), /revoked/);
    await rejects401(r.server.verifyAccessToken(second.tokens.access_token as string), /revoked/);
    const refresh = await postForm(`${r.issuer}/token`, {
      grant_type: 'refresh_token',
      refresh_token: second.tokens.refresh_token as string,
      client_id: 'sen-web',
    });
    assert.equal(refresh.json.error, 'invalid_grant');
    const { rows } = await h.db().query(`SELECT 1 FROM oauth_store WHERE account_id = 'acct:bs.an'`);
    assert.equal(rows.length, 0);

    const browser = new Browser();
    const auth = (params: Record<string, string>): string => {
      const u = new URL(`${r.issuer}/auth`);
      u.search = new URLSearchParams({
        client_id: 'sen-web',
        response_type: 'code',
        redirect_uri: `${r.base}/app/callback`,
        scope: 'openid user/*.rs',
        state: 's',
        ...params,
      }).toString();
      return u.toString();
    };
    const noPkce = await browser.request(auth({}));
    assert.equal(noPkce.status, 303);
    assert.match(noPkce.headers.get('location') ?? '', /error=invalid_request/);
    const { challenge } = pkcePair();
    const wrongAud = await browser.request(
      auth({ code_challenge: challenge, code_challenge_method: 'S256', aud: 'https://elsewhere.example/fhir' }),
    );
    assert.equal(wrongAud.status, 303);
    assert.match(wrongAud.headers.get('location') ?? '', /error=invalid_request/);
  });

  test('a third-party SMART app: consent page, EHR launch context', async () => {
    await r.server.registerAppClient({
      clientId: 'smart-app',
      clientName: 'Ứng dụng SMART <thử>',
      redirectUris: [`${r.base}/app/smart`],
      scope: 'patient/*.rs user/*.rs',
    });
    const launch = await r.server.createLaunch({ patient: 'pat-9', encounter: 'enc-9' });
    const { tokens } = await codeFlow(r, {
      clientId: 'smart-app',
      redirectUri: `${r.base}/app/smart`,
      scope: 'launch openid fhirUser patient/Observation.rs patient/*.cruds',
      username: 'bs.an',
      launch,
      consent: true,
    });
    assert.equal(tokens.patient, 'pat-9');
    assert.equal(tokens.encounter, 'enc-9');
    assert.equal(tokens.fhirUser, `${r.fhirBase}/Practitioner/prac-1`);
    const v = await r.server.verifyAccessToken(tokens.access_token as string);
    assert.equal(v.patient, 'pat-9');
    assert.equal(v.clientId, 'smart-app');
    assert.deepEqual(v.scopes.filter((s) => s.includes('/')).sort(), ['patient/Observation.rs']);
  });
});

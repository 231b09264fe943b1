import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { eachEngine } from '@sen/db/testing';
import Fastify from 'fastify';
import { createAdapter, purgeExpired } from './adapter.ts';
import { loadOrCreateKeys, resolveSecretKey, rotateKeys } from './keys.ts';
import { registerAuthServer } from './plugin.ts';
import { createAuthServer } from './provider.ts';
import { basic, freePort, postForm, TEST_SECRET_KEY } from './test-support.ts';

const KEK = Buffer.from(TEST_SECRET_KEY, 'base64');

test('the key-encryption key: from configuration, required in production, generated once in demo', async () => {
  assert.deepEqual(await resolveSecretKey({ mode: 'production', value: TEST_SECRET_KEY }), KEK);
  await assert.rejects(resolveSecretKey({ mode: 'production' }), /SEN_SECRET_KEY is required/);
  await assert.rejects(resolveSecretKey({ mode: 'demo', value: 'dG9vIHNob3J0' }), /32 bytes/);
  const dir = await mkdtemp(join(tmpdir(), 'sen-oauth-'));
  try {
    const k1 = await resolveSecretKey({ mode: 'demo', dataDir: dir });
    assert.equal(k1.length, 32);
    const file = join(dir, 'secret.key');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await readFile(file, 'utf8')).trim(), k1.toString('base64'));
    assert.deepEqual(await resolveSecretKey({ mode: 'demo', dataDir: dir }), k1, 'kept across restarts');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

eachEngine('oauth store', (h) => {
  test('adapter: upsert, find, consume, expiry, uid lookup, destroy, revoke by grant', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const revokedGrants: string[] = [];
    const Adapter = createAdapter(h.db(), {
      now: () => now,
      onGrantRevoked: async (g) => {
        revokedGrants.push(g);
      },
    });
    const codes = new Adapter('AuthorizationCode');
    const sessions = new Adapter('Session');
    const secretCode = 'code-value-that-is-a-bearer-secret';
    await codes.upsert(secretCode, { jti: secretCode, grantId: 'g1', accountId: 'a1', kind: 'AuthorizationCode' }, 60);
    const found = await codes.find(secretCode);
    assert.equal(found?.jti, secretCode);
    assert.equal(found?.accountId, 'a1');
    assert.equal(found?.consumed, undefined);

    const { rows } = await h
      .db()
      .query<{ id: string; payload: unknown }>(`SELECT id, payload FROM oauth_store WHERE model = 'AuthorizationCode'`);
    assert.equal(rows.length, 1);
    assert.ok(!JSON.stringify(rows).includes(secretCode), 'the code is neither the key nor in the payload');

    await codes.consume(secretCode);
    assert.equal(typeof (await codes.find(secretCode))?.consumed, 'number');

    now += 61_000;
    assert.equal(await codes.find(secretCode), undefined, 'expired');
    assert.equal(await purgeExpired(h.db(), new Date(now)), 1);

    await sessions.upsert('cookie-id', { jti: 'cookie-id', uid: 'uid-1', accountId: 'a1', kind: 'Session' }, 600);
    assert.equal((await sessions.findByUid('uid-1'))?.jti, 'cookie-id');
    await sessions.destroy('cookie-id');
    assert.equal(await sessions.findByUid('uid-1'), undefined);

    const refresh = new Adapter('RefreshToken');
    await refresh.upsert('rt-1', { jti: 'rt-1', grantId: 'g2', kind: 'RefreshToken' }, 600);
    await codes.upsert('c-2', { jti: 'c-2', grantId: 'g2', kind: 'AuthorizationCode' }, 60);
    await refresh.revokeByGrantId('g2');
    assert.equal(await refresh.find('rt-1'), undefined);
    assert.equal(await codes.find('c-2'), undefined);
    assert.deepEqual(revokedGrants, ['g2']);

    const clients = new Adapter('Client');
    await clients.upsert('hospital-x', { client_id: 'hospital-x', grant_types: ['client_credentials'] });
    assert.equal((await clients.find('hospital-x'))?.client_id, 'hospital-x');
    now += 365 * 24 * 3600 * 1000;
    assert.ok(await clients.find('hospital-x'), 'registered clients do not expire');
  });

  test('signing keys: sealed at rest, one current key per algorithm, rotation retires the previous ones', async () => {
    const db = h.db();
    const keys = await loadOrCreateKeys(db, KEK);
    const current = keys.keys.filter((k) => !k.retiredAt);
    assert.deepEqual(current.map((k) => k.alg).sort(), ['ES256', 'RS256']);
    const { rows } = await db.query<{ private_jwk: string }>('SELECT private_jwk FROM oauth_key');
    for (const r of rows) {
      assert.match(r.private_jwk, /^v1\./);
      assert.ok(!r.private_jwk.includes('"d"'));
    }
    for (const k of keys.publicJwks().keys) {
      assert.equal(k.d, undefined, 'the public JWKS has no private part');
    }
    await assert.rejects(loadOrCreateKeys(db, Buffer.alloc(32, 9)), /SEN_SECRET_KEY is not the key/);

    const again = await loadOrCreateKeys(db, KEK);
    assert.deepEqual(
      again.keys.map((k) => k.kid),
      keys.keys.map((k) => k.kid),
    );
    const kids = await rotateKeys(db, KEK, { retentionSeconds: 3600 });
    const rotated = await loadOrCreateKeys(db, KEK);
    assert.deepEqual(
      rotated.keys.filter((k) => !k.retiredAt).map((k) => k.kid),
      kids,
    );
    assert.equal(rotated.keys.length, 4);
    const providerJwks = rotated.providerJwks().keys;
    assert.deepEqual(
      providerJwks.slice(0, 2).map((k) => k.kid),
      kids,
      'signing keys first',
    );
    assert.deepEqual(providerJwks[3].key_ops, ['verify'], 'retired keys only verify');
    const later = await loadOrCreateKeys(db, KEK, new Date(Date.now() + 2 * 3600 * 1000));
    assert.deepEqual(
      later.keys.map((k) => k.kid),
      kids,
      'retired keys leave after the retention',
    );
  });

  test('mounted in an app that has its own body parsers, the provider still reads its bodies', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = await createAuthServer({
      db: h.db(),
      issuer: `${base}/oidc`,
      fhirBase: `${base}/fhir/R4`,
      mode: 'demo',
      secretKey: TEST_SECRET_KEY,
      refreshIntervalMs: 0,
    });
    const app = Fastify({ logger: false });
    // Like app.ts: JSON and form bodies parsed as strings by the parent.
    app.removeContentTypeParser(['application/json']);
    app.addContentTypeParser(['application/json'], { parseAs: 'string' }, (_r, b, done) => done(null, b));
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_r, b, done) =>
      done(null, b),
    );
    app.get('/fhir/R4/metadata', async () => ({ resourceType: 'CapabilityStatement' }));
    await registerAuthServer(app, server);
    await app.listen({ host: '127.0.0.1', port });
    try {
      const res = await postForm(
        `${base}/oidc/token`,
        { grant_type: 'client_credentials', scope: 'system/*.rs' },
        { authorization: basic('sen-demo', 'sen-demo-secret') },
      );
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.scope, 'system/*.rs');
      assert.equal((await server.verifyAccessToken(res.json.access_token as string)).clientId, 'sen-demo');
      assert.equal((await fetch(`${base}/fhir/R4/metadata`)).status, 200);
      assert.equal((await fetch(`${base}/fhir/R4/.well-known/smart-configuration`)).status, 200);
      const unknown = await fetch(`${base}/oidc/nothing-here`, { headers: { accept: 'application/json' } });
      assert.equal(unknown.status, 404);
      await unknown.arrayBuffer();
      // Client auth by a forged Host header still sees the issuer's URLs.
      const discovery = (await (
        await fetch(`${base}/oidc/.well-known/openid-configuration`, {
          headers: { 'x-forwarded-host': 'evil.example' },
        })
      ).json()) as Record<string, unknown>;
      assert.equal(discovery.token_endpoint, `${base}/oidc/token`);
    } finally {
      await app.close();
      await server.close();
    }
  });
});

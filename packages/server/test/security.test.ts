import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { testEngines } from '@sen/db/testing';
import { clientCredentialsToken, fhirFetch, startTestServer, TEST_CLIENT_SECRET, type TestServer } from './harness.ts';

const noAuth = { authorization: '' };

for (const engine of testEngines()) {
  describe(`sign-in, gate and audit on the FHIR API [${engine}]`, () => {
    let srv: TestServer;
    before(async () => {
      srv = await startTestServer(engine);
    });
    after(async () => {
      await srv.close();
    });

    it('refuses a request without a token with 401, an OperationOutcome and WWW-Authenticate', async () => {
      const res = await fhirFetch(srv.fhir, 'Patient', { headers: noAuth });
      assert.equal(res.status, 401);
      assert.equal(res.body.resourceType, 'OperationOutcome');
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
    });

    it('refuses a tampered or foreign token with 401', async () => {
      const t = srv.token as string;
      const [h, p, sig] = t.split('.');
      const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
      payload.scope = 'system/*.cruds user/*.cruds';
      const forged = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${sig}`;
      assert.equal(
        (await fhirFetch(srv.fhir, 'Patient', { headers: { authorization: `Bearer ${forged}` } })).status,
        401,
      );
      assert.equal(
        (await fhirFetch(srv.fhir, 'Patient', { headers: { authorization: 'Bearer not-a-token' } })).status,
        401,
      );
    });

    it('publishes the CapabilityStatement with SMART OAuth URIs, and SMART discovery, without a token', async () => {
      const cs = await fhirFetch(srv.fhir, 'metadata', { headers: noAuth });
      assert.equal(cs.status, 200);
      const ext = JSON.stringify(cs.body.rest[0].security);
      assert.match(ext, /oauth-uris/);
      assert.match(ext, /\/oidc\/token/);
      const smart = await fetch(`${srv.fhir}/.well-known/smart-configuration`).then((r) => r.json());
      assert.ok(smart.capabilities.includes('permission-v2'));
    });

    it('gives a system client exactly its scopes: read-only cannot write', async () => {
      const ro = await clientCredentialsToken(srv.url, 'system/*.rs', TEST_CLIENT_SECRET);
      const h = { authorization: `Bearer ${ro}` };
      assert.equal((await fhirFetch(srv.fhir, 'Patient', { headers: h })).status, 200);
      const w = await fhirFetch(srv.fhir, 'Patient', { method: 'POST', body: { resourceType: 'Patient' }, headers: h });
      assert.equal(w.status, 403);
      assert.equal(w.body.resourceType, 'OperationOutcome');
    });

    it('leaves one audit record for every API call, denied ones included, searchable as AuditEvent', async () => {
      const before = await srv.security!.audit.search({ count: 1000 });
      const p = await fhirFetch(srv.fhir, 'Patient', {
        method: 'POST',
        body: { resourceType: 'Patient', name: [{ family: 'Kiểm' }] },
      });
      await fhirFetch(srv.fhir, `Patient/${p.body.id}`);
      await fhirFetch(srv.fhir, `Observation?subject=Patient/${p.body.id}`);
      await fhirFetch(srv.fhir, 'Patient/does-not-exist');
      const afterRows = await srv.security!.audit.search({ count: 1000 });
      const added = afterRows.rows.length - before.rows.length;
      assert.equal(added, 4);
      const actions = afterRows.rows.slice(0, 4).map((r) => `${r.action}:${r.outcome}`);
      assert.deepEqual(actions.sort(), ['create:success', 'read:denied', 'read:success', 'search:success'].sort());
      const read = afterRows.rows.find((r) => r.action === 'read' && r.outcome === 'success');
      assert.equal(read?.patient, p.body.id);
      assert.equal(read?.who, 'Device/sen-demo');
      const ae = await fhirFetch(srv.fhir, `AuditEvent?patient=Patient/${p.body.id}`);
      assert.equal(ae.status, 200);
      assert.ok(ae.body.entry.length >= 1);
      assert.equal(ae.body.entry[0].resource.resourceType, 'AuditEvent');
      const sealed = await srv.security!.audit.seal();
      assert.ok(sealed);
      const verified = await srv.security!.audit.verify();
      assert.equal(verified.ok, true);
    });

    it('never lets anyone write the audit trail through the API', async () => {
      const res = await fhirFetch(srv.fhir, 'AuditEvent', {
        method: 'POST',
        body: {
          resourceType: 'AuditEvent',
          type: { code: 'rest' },
          recorded: new Date().toISOString(),
          agent: [],
          source: { observer: {} },
        },
      });
      assert.equal(res.status, 403);
    });
  });
}

describe('no patient data in the logs', () => {
  it('logs nothing of names, ID numbers or search values through a full API run, errors included', async () => {
    let logs = '';
    const stream = new Writable({
      write(chunk, _enc, cb) {
        logs += chunk.toString();
        cb();
      },
    });
    const srv = await startTestServer('pglite', { config: { logLevel: 'debug', logStream: stream } });
    const url = srv.url;
    try {
      const token = await clientCredentialsToken(url);
      const fhir = `${url}/fhir/R4`;
      const h = { authorization: `Bearer ${token}` };
      const secretName = 'Nguyễn Thị Bí Mật';
      const cccd = '079190123456';
      const created = await fhirFetch(fhir, 'Patient', {
        method: 'POST',
        headers: h,
        body: {
          resourceType: 'Patient',
          name: [{ text: secretName }],
          identifier: [{ system: 'http://fhir.hl7.org.vn/core/sid/cccd', value: cccd }],
        },
      });
      assert.equal(created.status, 201);
      await fhirFetch(fhir, `Patient?name=${encodeURIComponent(secretName)}&identifier=${cccd}`, { headers: h });
      await fhirFetch(fhir, 'Patient', {
        method: 'POST',
        headers: h,
        body: { resourceType: 'Patient', name: [{ text: secretName }], gender: cccd },
      });
      await fhirFetch(fhir, `Patient?bogus-param=${cccd}`, { headers: h });
      await fhirFetch(fhir, `Patient/${cccd}`, { headers: h });
      await fhirFetch(fhir, 'Patient', {
        method: 'POST',
        headers: { ...h, 'content-type': 'application/fhir+json' },
        body: `{"resourceType":"Patient","name":"${secretName}"`,
      });
      await fhirFetch(fhir, `Patient?name=${cccd}`, { headers: { authorization: 'Bearer bad' } });
      assert.ok(logs.length > 0, 'the server logged something');
      assert.ok(!logs.includes(secretName), 'a patient name reached the logs');
      assert.ok(!logs.includes(cccd), 'an ID number reached the logs');
      assert.ok(!logs.includes(token), 'a token reached the logs');
    } finally {
      await srv.close();
    }
  });
});

describe('hardening: security headers and strict CORS', () => {
  it('sends security headers everywhere and CORS headers only to listed origins', async () => {
    const srv = await startTestServer('pglite', { config: { corsOrigins: ['https://app.benhvien.vn'] } });
    const url = srv.url;
    try {
      const home = await fetch(`${url}/`);
      assert.equal(home.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(home.headers.get('x-frame-options'), 'DENY');
      assert.match(home.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      const token = await clientCredentialsToken(url);
      const api = await fetch(`${url}/fhir/R4/Patient`, {
        headers: { authorization: `Bearer ${token}`, origin: 'https://app.benhvien.vn' },
      });
      assert.equal(api.status, 200);
      assert.equal(api.headers.get('cache-control'), 'no-store');
      assert.equal(api.headers.get('access-control-allow-origin'), 'https://app.benhvien.vn');
      assert.equal(api.headers.get('access-control-allow-credentials'), null);
      const other = await fetch(`${url}/fhir/R4/Patient`, {
        headers: { authorization: `Bearer ${token}`, origin: 'https://evil.example' },
      });
      assert.equal(other.headers.get('access-control-allow-origin'), null);
      const preflight = await fetch(`${url}/fhir/R4/Patient`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://app.benhvien.vn',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization',
        },
      });
      assert.equal(preflight.status, 204);
      assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /Authorization/);
      const refused = await fetch(`${url}/fhir/R4/Patient`, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      assert.equal(refused.status, 403);
    } finally {
      await srv.close();
    }
  });
});

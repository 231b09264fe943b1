import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testEngines } from '@sen/db/testing';
import { fhirFetch, startTestServer, type TestServer } from './harness.ts';

const patient = {
  resourceType: 'Patient',
  name: [{ family: 'Lê', given: ['Thị', 'Hoa'] }],
  gender: 'female',
  birthDate: '1975-04-30',
};

for (const engine of testEngines()) {
  describe(`FHIR REST interactions [${engine}]`, () => {
    let srv: TestServer;
    const f = (path: string, init?: Parameters<typeof fhirFetch>[2]) => fhirFetch(srv.fhir, path, init);
    before(async () => {
      srv = await startTestServer(engine);
    });
    after(async () => {
      await srv.close();
    });

    it('creates a resource with server id, version 1, and Location/ETag/Last-Modified headers', async () => {
      const res = await f('Patient', { method: 'POST', body: patient });
      assert.equal(res.status, 201);
      assert.match(res.body.id, /^[0-9a-f-]{36}$/);
      assert.equal(res.body.meta.versionId, '1');
      assert.ok(res.body.meta.lastUpdated);
      assert.equal(res.headers.get('etag'), 'W/"1"');
      assert.equal(res.headers.get('location'), `${srv.fhir}/Patient/${res.body.id}/_history/1`);
      assert.ok(res.headers.get('last-modified'));
      assert.match(res.headers.get('content-type') ?? '', /application\/fhir\+json/);
    });

    it('ignores a client-supplied id on create', async () => {
      const res = await f('Patient', { method: 'POST', body: { ...patient, id: 'mine' } });
      assert.equal(res.status, 201);
      assert.notEqual(res.body.id, 'mine');
    });

    it('reads, vreads, and answers 304 to If-None-Match with the current version', async () => {
      const c = await f('Patient', { method: 'POST', body: patient });
      const r = await f(`Patient/${c.body.id}`);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.name, patient.name);
      const v = await f(`Patient/${c.body.id}/_history/1`);
      assert.equal(v.status, 200);
      assert.equal(v.body.meta.versionId, '1');
      const nm = await f(`Patient/${c.body.id}`, { headers: { 'if-none-match': 'W/"1"' } });
      assert.equal(nm.status, 304);
    });

    it('updates with a new version and keeps the old one readable', async () => {
      const c = await f('Patient', { method: 'POST', body: patient });
      const u = await f(`Patient/${c.body.id}`, { method: 'PUT', body: { ...c.body, gender: 'other' } });
      assert.equal(u.status, 200);
      assert.equal(u.body.meta.versionId, '2');
      assert.equal(u.body.gender, 'other');
      const v1 = await f(`Patient/${c.body.id}/_history/1`);
      assert.equal(v1.body.gender, 'female');
    });

    it('creates on update with a client id (update-as-create)', async () => {
      const u = await f('Patient/client-chosen-1', { method: 'PUT', body: { ...patient, id: 'client-chosen-1' } });
      assert.equal(u.status, 201);
      assert.equal(u.body.id, 'client-chosen-1');
      assert.equal(u.body.meta.versionId, '1');
    });

    it('rejects an update whose body id differs from the URL with 400', async () => {
      const u = await f('Patient/abc', { method: 'PUT', body: { ...patient, id: 'xyz' } });
      assert.equal(u.status, 400);
      assert.equal(u.body.resourceType, 'OperationOutcome');
    });

    it('rejects update with stale If-Match with 412 and changes nothing', async () => {
      const c = await f('Patient', { method: 'POST', body: patient });
      await f(`Patient/${c.body.id}`, { method: 'PUT', body: { ...c.body, gender: 'male' } });
      const stale = await f(`Patient/${c.body.id}`, {
        method: 'PUT',
        body: { ...c.body, gender: 'other' },
        headers: { 'if-match': 'W/"1"' },
      });
      assert.equal(stale.status, 412);
      assert.equal(stale.body.resourceType, 'OperationOutcome');
      const r = await f(`Patient/${c.body.id}`);
      assert.equal(r.body.gender, 'male');
      assert.equal(r.body.meta.versionId, '2');
      const ok = await f(`Patient/${c.body.id}`, {
        method: 'PUT',
        body: { ...c.body, gender: 'other' },
        headers: { 'if-match': 'W/"2"' },
      });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.meta.versionId, '3');
    });

    it('never loses a write under concurrent updates of one resource', async () => {
      const c = await f('Patient', { method: 'POST', body: patient });
      const n = 12;
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          f(`Patient/${c.body.id}`, { method: 'PUT', body: { ...c.body, name: [{ family: `Writer${i}` }] } }),
        ),
      );
      assert.ok(results.every((r) => r.status === 200));
      const versions = results.map((r) => Number(r.body.meta.versionId)).sort((a, b) => a - b);
      assert.deepEqual(
        versions,
        Array.from({ length: n }, (_, i) => i + 2),
      );
      const h = await f(`Patient/${c.body.id}/_history?_count=100`);
      assert.equal(h.body.entry.length, n + 1);
    });

    it('deletes softly: read answers 410, history keeps every version, delete is idempotent', async () => {
      const c = await f('Patient', { method: 'POST', body: patient });
      const d = await f(`Patient/${c.body.id}`, { method: 'DELETE' });
      assert.equal(d.status, 200);
      const r = await f(`Patient/${c.body.id}`);
      assert.equal(r.status, 410);
      assert.equal(r.body.resourceType, 'OperationOutcome');
      const v1 = await f(`Patient/${c.body.id}/_history/1`);
      assert.equal(v1.status, 200);
      const h = await f(`Patient/${c.body.id}/_history`);
      assert.equal(h.body.type, 'history');
      assert.equal(h.body.entry.length, 2);
      assert.equal(h.body.entry[0].request.method, 'DELETE');
      const again = await f(`Patient/${c.body.id}`, { method: 'DELETE' });
      assert.equal(again.status, 200);
      const s = await f(`Patient?_id=${c.body.id}`);
      assert.equal(s.body.entry.length, 0);
      // a deleted resource can be brought back by an update
      const back = await f(`Patient/${c.body.id}`, { method: 'PUT', body: { ...c.body } });
      assert.equal(back.status, 201);
      assert.equal(back.body.meta.versionId, '3');
    });

    it('answers 404 for an unknown id and an unknown type', async () => {
      const a = await f('Patient/does-not-exist');
      assert.equal(a.status, 404);
      assert.equal(a.body.issue[0].code, 'not-found');
      const b = await f('Bogus/1');
      assert.equal(b.status, 404);
    });

    it('answers 400 for malformed JSON and 422 with an expression for an invalid resource, storing nothing', async () => {
      const bad = await f('Patient', { method: 'POST', body: '{"resourceType": "Patient", ' });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.resourceType, 'OperationOutcome');
      const before = await f('Patient?_summary=count');
      const inv = await f('Patient', { method: 'POST', body: { resourceType: 'Patient', gender: 'unknown-gender' } });
      assert.equal(inv.status, 422);
      assert.ok(inv.body.issue.some((i: { expression?: string[] }) => i.expression?.includes('Patient.gender')));
      const card = await f('Observation', {
        method: 'POST',
        body: { resourceType: 'Observation', code: { text: 'x' } },
      });
      assert.equal(card.status, 422);
      const afterCount = await f('Patient?_summary=count');
      assert.equal(afterCount.body.total, before.body.total);
    });

    it('answers 400 when the body type does not match the URL', async () => {
      const r = await f('Observation', { method: 'POST', body: patient });
      assert.equal(r.status, 400);
    });

    it('answers 415 for an unsupported content type and 406 for an unsupported Accept', async () => {
      const r = await fetch(`${srv.fhir}/Patient`, {
        method: 'POST',
        headers: { 'content-type': 'application/xml' },
        body: '<Patient/>',
      });
      assert.equal(r.status, 415);
      const x = await f('Patient', { headers: { accept: 'application/fhir+xml' } });
      assert.equal(x.status, 406);
    });

    it('accepts application/json and answers in kind', async () => {
      const r = await f('Patient', {
        method: 'POST',
        body: patient,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
      });
      assert.equal(r.status, 201);
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    });

    it('honours Prefer: return=minimal and return=OperationOutcome', async () => {
      const m = await f('Patient', { method: 'POST', body: patient, headers: { prefer: 'return=minimal' } });
      assert.equal(m.status, 201);
      assert.equal(m.body, undefined);
      assert.ok(m.headers.get('location'));
      const o = await f('Patient', { method: 'POST', body: patient, headers: { prefer: 'return=OperationOutcome' } });
      assert.equal(o.body.resourceType, 'OperationOutcome');
    });

    it('pretty-prints with _pretty=true', async () => {
      const c = await f('Patient', { method: 'POST', body: patient });
      const r = await fetch(`${srv.fhir}/Patient/${c.body.id}?_pretty=true`, {
        headers: { authorization: `Bearer ${srv.token}` },
      });
      const text = await r.text();
      assert.ok(text.includes('\n  "resourceType": "Patient"'));
    });

    it('conditional create returns the existing match (200) or creates (201), and 412 on several matches', async () => {
      const body = {
        ...patient,
        identifier: [{ system: 'http://fhir.hl7.org.vn/core/sid/cccd', value: '001175000001' }],
      };
      const h = { 'if-none-exist': 'identifier=http://fhir.hl7.org.vn/core/sid/cccd|001175000001' };
      const a = await f('Patient', { method: 'POST', body, headers: h });
      assert.equal(a.status, 201);
      const b = await f('Patient', { method: 'POST', body, headers: h });
      assert.equal(b.status, 200);
      assert.equal(b.body.id, a.body.id);
      const many = await f('Patient', { method: 'POST', body: patient, headers: { 'if-none-exist': 'family=Lê' } });
      assert.equal(many.status, 412);
    });

    it('concurrent conditional creates with the same criteria create exactly one resource', async () => {
      const body = { ...patient, identifier: [{ system: 'urn:test:cc', value: 'race-1' }] };
      const h = { 'if-none-exist': 'identifier=urn:test:cc|race-1' };
      const results = await Promise.all(
        Array.from({ length: 8 }, () => f('Patient', { method: 'POST', body, headers: h })),
      );
      assert.equal(results.filter((r) => r.status === 201).length, 1);
      assert.equal(new Set(results.map((r) => r.body.id)).size, 1);
    });

    it('conditional update creates on no match, updates on one, 412 on several', async () => {
      const body = { ...patient, identifier: [{ system: 'urn:test:cu', value: 'cu-1' }] };
      const a = await f('Patient?identifier=urn:test:cu|cu-1', { method: 'PUT', body });
      assert.equal(a.status, 201);
      const b = await f('Patient?identifier=urn:test:cu|cu-1', { method: 'PUT', body: { ...body, gender: 'male' } });
      assert.equal(b.status, 200);
      assert.equal(b.body.id, a.body.id);
      assert.equal(b.body.meta.versionId, '2');
      const many = await f('Patient?family=Lê', { method: 'PUT', body: patient });
      assert.equal(many.status, 412);
    });

    it('conditional delete removes the matches', async () => {
      const body = { ...patient, identifier: [{ system: 'urn:test:cd', value: 'cd-1' }] };
      const a = await f('Patient', { method: 'POST', body });
      const d = await f('Patient?identifier=urn:test:cd|cd-1', { method: 'DELETE' });
      assert.equal(d.status, 200);
      assert.equal((await f(`Patient/${a.body.id}`)).status, 410);
    });

    it('applies a JSON Patch, honours If-Match, and refuses a failing test op with 422', async () => {
      const c = await f('Patient', { method: 'POST', body: patient });
      const ct = { 'content-type': 'application/json-patch+json' };
      const p = await f(`Patient/${c.body.id}`, {
        method: 'PATCH',
        body: [
          { op: 'replace', path: '/gender', value: 'male' },
          { op: 'add', path: '/active', value: true },
        ],
        headers: ct,
      });
      assert.equal(p.status, 200);
      assert.equal(p.body.gender, 'male');
      assert.equal(p.body.active, true);
      assert.equal(p.body.meta.versionId, '2');
      const stale = await f(`Patient/${c.body.id}`, {
        method: 'PATCH',
        body: [{ op: 'remove', path: '/active' }],
        headers: { ...ct, 'if-match': 'W/"1"' },
      });
      assert.equal(stale.status, 412);
      const t = await f(`Patient/${c.body.id}`, {
        method: 'PATCH',
        body: [{ op: 'test', path: '/gender', value: 'female' }],
        headers: ct,
      });
      assert.equal(t.status, 422);
      const invalid = await f(`Patient/${c.body.id}`, {
        method: 'PATCH',
        body: [{ op: 'replace', path: '/gender', value: 'nope' }],
        headers: ct,
      });
      assert.equal(invalid.status, 422);
    });

    it('serves type and system history with _since and _count, and a next link', async () => {
      const start = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 5));
      for (let i = 0; i < 3; i++) {
        await f('Practitioner', {
          method: 'POST',
          body: { resourceType: 'Practitioner', name: [{ family: `Hist${i}` }] },
        });
      }
      const t = await f(`Practitioner/_history?_since=${encodeURIComponent(start)}&_count=2`);
      assert.equal(t.status, 200);
      assert.equal(t.body.entry.length, 2);
      const next = t.body.link.find((l: { relation: string }) => l.relation === 'next');
      assert.ok(next);
      const page2 = await fetch(next.url, { headers: { authorization: `Bearer ${srv.token}` } }).then((r) => r.json());
      assert.equal(page2.entry.length, 1);
      const sys = await f(`_history?_since=${encodeURIComponent(start)}`);
      assert.equal(sys.body.entry.length, 3);
    });

    it('publishes a CapabilityStatement covering every R4 resource type with its search parameters', async () => {
      const m = await f('metadata');
      assert.equal(m.status, 200);
      assert.equal(m.body.resourceType, 'CapabilityStatement');
      assert.equal(m.body.fhirVersion, '4.0.1');
      const types = m.body.rest[0].resource.map((r: { type: string }) => r.type);
      assert.ok(types.length >= 145, `only ${types.length} types`);
      const obs = m.body.rest[0].resource.find((r: { type: string }) => r.type === 'Observation');
      assert.ok(obs.searchParam.some((p: { name: string }) => p.name === 'code-value-quantity'));
    });

    it('serves /healthz and /readyz', async () => {
      const h = await fetch(`${srv.url}/healthz`);
      assert.equal(h.status, 200);
      const r = await fetch(`${srv.url}/readyz`).then((x) => x.json());
      assert.equal(r.status, 'ready');
    });
  });
}

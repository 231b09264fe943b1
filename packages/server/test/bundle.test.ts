import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testEngines } from '@sen/db/testing';
import { type FhirResult, fhirFetch, startTestServer, type TestServer } from './harness.ts';

const NPI = 'http://hl7.org/fhir/sid/us-npi';
const SYNTHEA = 'https://github.com/synthetichealth/synthea';
const IDS = 'urn:sen:test:bundle';
const LOINC = 'http://loinc.org';
const AMB = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' };

type Res = Record<string, any> & { resourceType: string };
type Entry = Record<string, any>;

const ident = (value: string): { system: string; value: string }[] => [{ system: IDS, value }];
const byIdent = (value: string): string => `identifier=${encodeURIComponent(`${IDS}|${value}`)}`;

function post(resource: Res, fullUrl?: string, ifNoneExist?: string): Entry {
  return {
    ...(fullUrl ? { fullUrl } : {}),
    resource,
    request: { method: 'POST', url: resource.resourceType, ...(ifNoneExist ? { ifNoneExist } : {}) },
  };
}

function bundle(type: string, entry: Entry[]): Res {
  return { resourceType: 'Bundle', type, entry };
}

/** `Patient/123/_history/1` → `Patient/123`. */
function refOf(location: string): string {
  return location.split('/').slice(0, 2).join('/');
}

for (const engine of testEngines()) {
  describe(`FHIR batch and transaction [${engine}]`, () => {
    let srv: TestServer;
    const f = (path: string, init?: Parameters<typeof fhirFetch>[2]): Promise<FhirResult> =>
      fhirFetch(srv.fhir, path, init);
    const submit = (b: Res, headers?: Record<string, string>): Promise<FhirResult> =>
      f('', { method: 'POST', body: b, headers });

    async function create(r: Res): Promise<Res> {
      const res = await f(r.resourceType, { method: 'POST', body: r });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body;
    }

    /** Ids matching a search (up to 100). */
    async function ids(path: string): Promise<string[]> {
      const res = await f(`${path}${path.includes('?') ? '&' : '?'}_count=100`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return (res.body.entry ?? []).map((e: Entry) => e.resource.id as string);
    }

    before(async () => {
      srv = await startTestServer(engine);
    });
    after(async () => {
      await srv.close();
    });

    describe('transaction', () => {
      it('rewrites urn:uuid references and answers 201 entries with locations in entry order', async () => {
        const pUrl = 'urn:uuid:7f0c5f7e-3a57-4d69-9a4c-1c2f0e000001';
        const eUrl = 'urn:uuid:7f0c5f7e-3a57-4d69-9a4c-1c2f0e000002';
        // observations first: references may point forward in the Bundle
        const res = await submit(
          bundle('transaction', [
            post(
              {
                resourceType: 'Observation',
                status: 'final',
                code: { coding: [{ system: LOINC, code: '8867-4' }] },
                subject: { reference: pUrl },
                encounter: { reference: eUrl },
                valueQuantity: { value: 88, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
              },
              'urn:uuid:7f0c5f7e-3a57-4d69-9a4c-1c2f0e000003',
            ),
            post(
              {
                resourceType: 'Observation',
                status: 'final',
                code: { coding: [{ system: LOINC, code: '8310-5' }] },
                subject: { reference: pUrl },
                encounter: { reference: eUrl },
                hasMember: [{ reference: 'urn:uuid:7f0c5f7e-3a57-4d69-9a4c-1c2f0e000003' }],
              },
              'urn:uuid:7f0c5f7e-3a57-4d69-9a4c-1c2f0e000004',
            ),
            post({ resourceType: 'Encounter', status: 'finished', class: AMB, subject: { reference: pUrl } }, eUrl),
            post({ resourceType: 'Patient', identifier: ident('tx-uuid'), name: [{ family: 'Giao Dịch' }] }, pUrl),
          ]),
        );
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.resourceType, 'Bundle');
        assert.equal(res.body.type, 'transaction-response');
        const entries: Entry[] = res.body.entry;
        assert.equal(entries.length, 4);
        const types = ['Observation', 'Observation', 'Encounter', 'Patient'];
        entries.forEach((e, i) => {
          assert.match(e.response.status, /^201/);
          assert.match(e.response.location, new RegExp(`^${types[i]}/[0-9a-f-]{36}/_history/1$`));
          assert.equal(e.response.etag, 'W/"1"');
        });
        const [o1, o2, enc, pat] = entries.map((e) => refOf(e.response.location));
        const obs1 = (await f(o1)).body;
        assert.equal(obs1.subject.reference, pat);
        assert.equal(obs1.encounter.reference, enc);
        const obs2 = (await f(o2)).body;
        assert.equal(obs2.hasMember[0].reference, o1);
        assert.equal((await f(enc)).body.subject.reference, pat);
        // the rewritten references are indexed: searchable by the new ids
        assert.equal((await ids(`Observation?subject=${pat}`)).length, 2);
        assert.deepEqual(await ids(`Patient?${byIdent('tx-uuid')}`), [pat.split('/')[1]]);
      });

      it('is all or nothing: one invalid entry fails the whole Bundle with an OperationOutcome naming it', async () => {
        const pUrl = 'urn:uuid:0d2e51b6-2a4e-4c53-9f39-5a8d5c000001';
        const res = await submit(
          bundle('transaction', [
            post({ resourceType: 'Patient', identifier: ident('atomic-1') }, pUrl),
            post({
              resourceType: 'Observation',
              status: 'final',
              code: { text: 'atomic' },
              subject: { reference: pUrl },
            }),
            post({ resourceType: 'Patient', identifier: ident('atomic-2'), gender: 'not-a-gender' }),
          ]),
        );
        assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}`);
        assert.equal(res.body.resourceType, 'OperationOutcome');
        const text = JSON.stringify(res.body.issue);
        assert.match(text, /Bundle\.entry\[2\]/);
        assert.deepEqual(await ids(`Patient?${byIdent('atomic-1')}`), []);
        assert.deepEqual(await ids(`Patient?${byIdent('atomic-2')}`), []);
        assert.deepEqual(await ids('Observation?code:text=atomic'), []);
      });

      it('rolls back entries already written when a later one fails', async () => {
        const victim = await create({ resourceType: 'Patient', identifier: ident('rollback-victim'), gender: 'male' });
        const res = await submit(
          bundle('transaction', [
            { resource: { ...victim, gender: 'female' }, request: { method: 'PUT', url: `Patient/${victim.id}` } },
            { request: { method: 'DELETE', url: `Patient?${byIdent('rollback-victim')}` } },
            post({ resourceType: 'Patient', identifier: ident('rollback-new') }),
            {
              resource: { resourceType: 'Patient', id: 'mismatch', identifier: ident('rollback-put') },
              request: { method: 'PUT', url: 'Patient/other-id' },
            },
          ]),
        );
        assert.equal(res.status, 400);
        assert.equal(res.body.resourceType, 'OperationOutcome');
        const now = await f(`Patient/${victim.id}`);
        assert.equal(now.status, 200);
        assert.equal(now.body.gender, 'male');
        assert.equal(now.body.meta.versionId, '1');
        assert.deepEqual(await ids(`Patient?${byIdent('rollback-new')}`), []);
      });

      it('resolves conditional references to the single match', async () => {
        const doc = await create({ resourceType: 'Practitioner', identifier: [{ system: NPI, value: '9990001' }] });
        const res = await submit(
          bundle('transaction', [
            post(
              { resourceType: 'Patient', identifier: ident('cond-ref') },
              'urn:uuid:2b6d6bde-4a1c-4a1e-8c3a-7e0a0c000001',
            ),
            post({
              resourceType: 'Encounter',
              status: 'finished',
              class: AMB,
              subject: { reference: 'urn:uuid:2b6d6bde-4a1c-4a1e-8c3a-7e0a0c000001' },
              participant: [{ individual: { reference: `Practitioner?identifier=${NPI}|9990001` } }],
            }),
            post({
              resourceType: 'Observation',
              status: 'final',
              code: { text: 'cond-ref' },
              performer: [{ reference: `Practitioner?identifier=${NPI}|9990001` }],
            }),
          ]),
        );
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const enc = (await f(refOf(res.body.entry[1].response.location))).body;
        assert.equal(enc.participant[0].individual.reference, `Practitioner/${doc.id}`);
        const o = (await f(refOf(res.body.entry[2].response.location))).body;
        assert.equal(o.performer[0].reference, `Practitioner/${doc.id}`);
        assert.equal((await ids(`Encounter?participant=Practitioner/${doc.id}`)).length, 1);
      });

      it('fails with 412 when a conditional reference is ambiguous and with 4xx when it matches nothing', async () => {
        await create({ resourceType: 'Practitioner', identifier: [{ system: NPI, value: '9990002' }] });
        await create({ resourceType: 'Practitioner', identifier: [{ system: NPI, value: '9990002' }] });
        const entry = (npi: string): Entry[] => [
          post({ resourceType: 'Patient', identifier: ident(`cond-ref-${npi}`) }),
          post({
            resourceType: 'Observation',
            status: 'final',
            code: { text: 'cond-ref-bad' },
            performer: [{ reference: `Practitioner?identifier=${NPI}|${npi}` }],
          }),
        ];
        const ambiguous = await submit(bundle('transaction', entry('9990002')));
        assert.equal(ambiguous.status, 412);
        assert.equal(ambiguous.body.resourceType, 'OperationOutcome');
        assert.match(JSON.stringify(ambiguous.body.issue), /Bundle\.entry\[1\]/);
        const none = await submit(bundle('transaction', entry('9990003')));
        assert.ok(none.status >= 400 && none.status < 500, `status ${none.status}`);
        assert.equal(none.body.resourceType, 'OperationOutcome');
        assert.deepEqual(await ids(`Patient?${byIdent('cond-ref-9990002')}`), []);
        assert.deepEqual(await ids(`Patient?${byIdent('cond-ref-9990003')}`), []);
      });

      it('ifNoneExist reuses an existing resource and points references at it', async () => {
        const existing = await create({ resourceType: 'Patient', identifier: ident('ine-1') });
        const pUrl = 'urn:uuid:5c0f6d8a-8e2b-4a55-b1e1-0f3c2d000001';
        const res = await submit(
          bundle('transaction', [
            post({ resourceType: 'Patient', identifier: ident('ine-1') }, pUrl, byIdent('ine-1')),
            post({ resourceType: 'Observation', status: 'final', code: { text: 'ine' }, subject: { reference: pUrl } }),
            post({ resourceType: 'Patient', identifier: ident('ine-2') }, undefined, byIdent('ine-2')),
          ]),
        );
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const [p, o, fresh] = res.body.entry;
        assert.match(p.response.status, /^200/);
        assert.equal(refOf(p.response.location), `Patient/${existing.id}`);
        assert.match(o.response.status, /^201/);
        assert.match(fresh.response.status, /^201/);
        const obs = (await f(refOf(o.response.location))).body;
        assert.equal(obs.subject.reference, `Patient/${existing.id}`);
        assert.deepEqual(await ids(`Patient?${byIdent('ine-1')}`), [existing.id]);
        assert.equal((await ids(`Patient?${byIdent('ine-2')}`)).length, 1);
      });

      it('processes PUT, DELETE and GET entries', async () => {
        const toDelete = await create({ resourceType: 'Patient', identifier: ident('tx-del') });
        const toUpdate = await create({ resourceType: 'Patient', identifier: ident('tx-upd'), gender: 'male' });
        const res = await submit(
          bundle('transaction', [
            { resource: { ...toUpdate, gender: 'female' }, request: { method: 'PUT', url: `Patient/${toUpdate.id}` } },
            { request: { method: 'DELETE', url: `Patient/${toDelete.id}` } },
            {
              resource: { resourceType: 'Patient', id: 'tx-client-id', identifier: ident('tx-put-new') },
              request: { method: 'PUT', url: 'Patient/tx-client-id' },
            },
            { request: { method: 'GET', url: `Patient/${toUpdate.id}` } },
            { request: { method: 'GET', url: `Patient?${byIdent('tx-put-new')}` } },
          ]),
        );
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const [put, del, putNew, read, search] = res.body.entry;
        assert.match(put.response.status, /^200/);
        assert.equal(put.response.etag, 'W/"2"');
        assert.match(del.response.status, /^(200|204)/);
        assert.match(putNew.response.status, /^201/);
        assert.equal(putNew.resource.id, 'tx-client-id');
        assert.match(read.response.status, /^200/);
        assert.equal(read.resource.gender, 'female', 'GET runs after PUT');
        assert.equal(search.resource.resourceType, 'Bundle');
        assert.deepEqual(
          search.resource.entry.map((e: Entry) => e.resource.id),
          ['tx-client-id'],
        );
        assert.equal((await f(`Patient/${toDelete.id}`)).status, 410);
        assert.equal((await f(`Patient/${toUpdate.id}`)).body.meta.versionId, '2');
      });

      it('processes DELETE, then POST, then PUT, then GET, whatever the entry order', async () => {
        const old = await create({ resourceType: 'Patient', identifier: ident('order-del') });
        const res = await submit(
          bundle('transaction', [
            // GET first in the Bundle, but it runs last: it sees the POST and the PUT
            { request: { method: 'GET', url: `Patient?${byIdent('order-get')}` } },
            // conditional PUT runs after the POST below, so it updates what the POST created
            {
              resource: { resourceType: 'Patient', identifier: ident('order-get'), gender: 'female' },
              request: { method: 'PUT', url: `Patient?${byIdent('order-get')}` },
            },
            post({ resourceType: 'Patient', identifier: ident('order-get'), gender: 'male' }),
            // ifNoneExist matching the resource being deleted: the DELETE runs first, so this creates
            post({ resourceType: 'Patient', identifier: ident('order-del') }, undefined, byIdent('order-del')),
            { request: { method: 'DELETE', url: `Patient/${old.id}` } },
          ]),
        );
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const [get, put, created, conditional, del] = res.body.entry;
        assert.match(del.response.status, /^(200|204)/);
        assert.match(created.response.status, /^201/);
        assert.match(put.response.status, /^200/, 'the PUT found the resource the POST created');
        assert.equal(refOf(put.response.location), refOf(created.response.location));
        assert.match(conditional.response.status, /^201/, 'ifNoneExist is evaluated after the DELETE');
        assert.notEqual(refOf(conditional.response.location), `Patient/${old.id}`);
        assert.deepEqual(
          get.resource.entry.map((e: Entry) => [e.resource.id, e.resource.gender]),
          [[refOf(created.response.location).split('/')[1], 'female']],
        );
        assert.equal((await f(`Patient/${old.id}`)).status, 410);
        assert.equal((await ids(`Patient?${byIdent('order-del')}`)).length, 1);
      });

      it('refuses duplicate fullUrls', async () => {
        const u = 'urn:uuid:9a1b1c1d-0000-4000-8000-000000000001';
        const res = await submit(
          bundle('transaction', [
            post({ resourceType: 'Patient', identifier: ident('dup-1') }, u),
            post({ resourceType: 'Patient', identifier: ident('dup-2') }, u),
          ]),
        );
        assert.equal(res.status, 400);
        assert.equal(res.body.resourceType, 'OperationOutcome');
        assert.deepEqual(await ids(`Patient?${byIdent('dup-1')}`), []);
      });

      it('refuses a urn:uuid reference that names no entry', async () => {
        const res = await submit(
          bundle('transaction', [
            post({ resourceType: 'Patient', identifier: ident('dangling') }),
            post({
              resourceType: 'Observation',
              status: 'final',
              code: { text: 'dangling' },
              subject: { reference: 'urn:uuid:00000000-0000-4000-8000-00000000dead' },
            }),
          ]),
        );
        assert.equal(res.status, 400);
        assert.equal(res.body.resourceType, 'OperationOutcome');
        assert.deepEqual(await ids(`Patient?${byIdent('dangling')}`), []);
      });
    });

    describe('batch', () => {
      it('processes entries independently, reporting a status per entry', async () => {
        const res = await submit(
          bundle('batch', [
            post({ resourceType: 'Patient', identifier: ident('batch-ok-1') }),
            post({ resourceType: 'Patient', identifier: ident('batch-bad'), gender: 'not-a-gender' }),
            { request: { method: 'GET', url: 'Patient/does-not-exist' } },
            {
              resource: { resourceType: 'Patient', id: 'batch-put-1', identifier: ident('batch-ok-2') },
              request: { method: 'PUT', url: 'Patient/batch-put-1' },
            },
            { request: { method: 'GET', url: 'Patient?shoe-size=42' } },
          ]),
        );
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.type, 'batch-response');
        const statuses = res.body.entry.map((e: Entry) => e.response.status.slice(0, 3));
        assert.deepEqual(statuses, ['201', '422', '404', '201', '400']);
        assert.equal(res.body.entry[1].response.outcome.resourceType, 'OperationOutcome');
        assert.equal(res.body.entry[2].response.outcome.resourceType, 'OperationOutcome');
        assert.equal((await ids(`Patient?${byIdent('batch-ok-1')}`)).length, 1);
        assert.deepEqual(await ids(`Patient?${byIdent('batch-ok-2')}`), ['batch-put-1']);
        assert.deepEqual(await ids(`Patient?${byIdent('batch-bad')}`), []);
      });

      it('is idempotent with POST + ifNoneExist, like the Synthea hospital bundles', async () => {
        const hospital = (): Res =>
          bundle('batch', [
            post(
              {
                resourceType: 'Organization',
                identifier: [{ system: SYNTHEA, value: 'org-bv-115' }],
                name: 'Bệnh viện 115',
              },
              'urn:uuid:org-bv-115',
              `identifier=${SYNTHEA}|org-bv-115`,
            ),
            post(
              {
                resourceType: 'Location',
                identifier: [{ system: SYNTHEA, value: 'loc-bv-115' }],
                name: 'Khoa Khám bệnh',
              },
              'urn:uuid:loc-bv-115',
              `identifier=${SYNTHEA}|loc-bv-115`,
            ),
            post(
              {
                resourceType: 'Practitioner',
                identifier: [{ system: NPI, value: '9990115' }],
                name: [{ family: 'Hà' }],
              },
              'urn:uuid:pr-9990115',
              `identifier=${NPI}|9990115`,
            ),
          ]);
        const first = await submit(hospital());
        assert.equal(first.status, 200, JSON.stringify(first.body));
        assert.deepEqual(
          first.body.entry.map((e: Entry) => e.response.status.slice(0, 3)),
          ['201', '201', '201'],
        );
        const second = await submit(hospital());
        assert.equal(second.status, 200);
        assert.deepEqual(
          second.body.entry.map((e: Entry) => e.response.status.slice(0, 3)),
          ['200', '200', '200'],
        );
        assert.deepEqual(
          second.body.entry.map((e: Entry) => refOf(e.response.location)),
          first.body.entry.map((e: Entry) => refOf(e.response.location)),
        );
        assert.equal((await ids(`Organization?identifier=${SYNTHEA}|org-bv-115`)).length, 1);
        assert.equal((await ids(`Location?identifier=${SYNTHEA}|loc-bv-115`)).length, 1);
        assert.equal((await ids(`Practitioner?identifier=${NPI}|9990115`)).length, 1);
        // the same as a transaction is idempotent too
        const tx = await submit({ ...hospital(), type: 'transaction' });
        assert.equal(tx.status, 200, JSON.stringify(tx.body));
        assert.deepEqual(
          tx.body.entry.map((e: Entry) => e.response.status.slice(0, 3)),
          ['200', '200', '200'],
        );
        assert.equal((await ids(`Organization?identifier=${SYNTHEA}|org-bv-115`)).length, 1);
      });

      it('resolves conditional references per entry', async () => {
        const doc = await create({ resourceType: 'Practitioner', identifier: [{ system: NPI, value: '9990200' }] });
        const res = await submit(
          bundle('batch', [
            post({
              resourceType: 'Observation',
              status: 'final',
              code: { text: 'batch-cond' },
              performer: [{ reference: `Practitioner?identifier=${NPI}|9990200` }],
            }),
            post({
              resourceType: 'Observation',
              status: 'final',
              code: { text: 'batch-cond' },
              performer: [{ reference: `Practitioner?identifier=${NPI}|0000000` }],
            }),
          ]),
        );
        assert.equal(res.status, 200);
        assert.match(res.body.entry[0].response.status, /^201/);
        assert.match(res.body.entry[1].response.status, /^4/);
        const o = (await f(refOf(res.body.entry[0].response.location))).body;
        assert.equal(o.performer[0].reference, `Practitioner/${doc.id}`);
      });
    });

    describe('bad bundles', () => {
      it('refuses a body that is not a Bundle', async () => {
        const res = await submit({ resourceType: 'Patient' });
        assert.equal(res.status, 400);
        assert.equal(res.body.resourceType, 'OperationOutcome');
      });

      it('refuses Bundle types other than batch and transaction', async () => {
        for (const type of ['collection', 'searchset', 'document', undefined]) {
          const res = await submit({ resourceType: 'Bundle', type, entry: [post({ resourceType: 'Patient' })] });
          assert.equal(res.status, 400, String(type));
          assert.equal(res.body.resourceType, 'OperationOutcome');
        }
      });

      it('refuses an entry without a request, a method or a url, storing nothing', async () => {
        for (const type of ['transaction', 'batch']) {
          for (const bad of [
            { resource: { resourceType: 'Patient', identifier: ident(`noreq-${type}`) } },
            { resource: { resourceType: 'Patient' }, request: { url: 'Patient' } },
            { resource: { resourceType: 'Patient' }, request: { method: 'POST' } },
            { resource: { resourceType: 'Patient' }, request: { method: 'FETCH', url: 'Patient' } },
          ]) {
            const res = await submit(
              bundle(type, [post({ resourceType: 'Patient', identifier: ident(`noreq-ok-${type}`) }), bad]),
            );
            assert.equal(res.status, 400, `${type} ${JSON.stringify(bad)}`);
            assert.equal(res.body.resourceType, 'OperationOutcome');
            assert.match(JSON.stringify(res.body.issue), /entry/);
          }
          assert.deepEqual(await ids(`Patient?${byIdent(`noreq-ok-${type}`)}`), []);
        }
      });

      it('accepts an empty transaction', async () => {
        const res = await submit(bundle('transaction', []));
        assert.equal(res.status, 200);
        assert.equal(res.body.type, 'transaction-response');
      });
    });
  });
}

for (const engine of testEngines()) {
  describe(`transaction edge cases [${engine}]`, () => {
    let srv: TestServer;
    before(async () => {
      srv = await startTestServer(engine);
    });
    after(async () => {
      await srv.close();
    });

    it('gives two entries with the same ifNoneExist one resource, and lets others refer to both', async () => {
      const ident = { system: 'urn:test:dup-ine', value: 'd1' };
      const tx = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000001',
            request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=urn:test:dup-ine|d1' },
            resource: { resourceType: 'Patient', identifier: [ident] },
          },
          {
            fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000002',
            request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=urn:test:dup-ine|d1' },
            resource: { resourceType: 'Patient', identifier: [ident] },
          },
          {
            request: { method: 'POST', url: 'Observation' },
            resource: {
              resourceType: 'Observation',
              status: 'final',
              code: { text: 'x' },
              subject: { reference: 'urn:uuid:00000000-0000-4000-8000-000000000002' },
            },
          },
        ],
      };
      const res = await fhirFetch(srv.fhir, '', { method: 'POST', body: tx });
      assert.equal(res.status, 200);
      const found = await fhirFetch(srv.fhir, 'Patient?identifier=urn:test:dup-ine|d1');
      assert.equal(found.body.entry.length, 1);
      const id = found.body.entry[0].resource.id;
      assert.equal(res.body.entry[2].resource.subject.reference, `Patient/${id}`);
    });

    it('lets entries refer to a conditional update by its urn:uuid fullUrl', async () => {
      const tx = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            fullUrl: 'urn:uuid:00000000-0000-4000-8000-0000000000a1',
            request: { method: 'PUT', url: 'Patient?identifier=urn:test:cput|c1' },
            resource: { resourceType: 'Patient', identifier: [{ system: 'urn:test:cput', value: 'c1' }] },
          },
          {
            request: { method: 'POST', url: 'Observation' },
            resource: {
              resourceType: 'Observation',
              status: 'final',
              code: { text: 'y' },
              subject: { reference: 'urn:uuid:00000000-0000-4000-8000-0000000000a1' },
            },
          },
        ],
      };
      const res = await fhirFetch(srv.fhir, '', { method: 'POST', body: tx });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const p = await fhirFetch(srv.fhir, 'Patient?identifier=urn:test:cput|c1');
      assert.equal(res.body.entry[1].resource.subject.reference, `Patient/${p.body.entry[0].resource.id}`);
    });

    it('accepts entry request urls written as absolute URLs of this server', async () => {
      const tx = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            request: { method: 'POST', url: `${srv.fhir}/Patient` },
            resource: { resourceType: 'Patient', gender: 'male' },
          },
        ],
      };
      const res = await fhirFetch(srv.fhir, '', { method: 'POST', body: tx });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.match(res.body.entry[0].response.status, /^201/);
    });
  });
}

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testEngines } from '@sen/db/testing';
import { Client } from 'fhir-kit-client';
import { startTestServer, type TestServer } from './harness.ts';

// A published FHIR client library drives the server, not only our own HTTP helpers.
for (const engine of testEngines()) {
  describe(`fhir-kit-client against Sen [${engine}]`, () => {
    let srv: TestServer;
    let client: Client;
    before(async () => {
      srv = await startTestServer(engine);
      client = new Client({ baseUrl: srv.fhir, bearerToken: srv.token });
    });
    after(async () => {
      await srv.close();
    });

    it('reads the CapabilityStatement', async () => {
      const cs = (await client.capabilityStatement()) as any;
      assert.equal(cs.resourceType, 'CapabilityStatement');
      assert.equal(cs.fhirVersion, '4.0.1');
    });

    it('creates, reads, updates, patches, vreads and deletes a patient', async () => {
      const created = (await client.create({
        resourceType: 'Patient',
        body: { resourceType: 'Patient', name: [{ family: 'Phạm', given: ['Minh', 'Châu'] }], gender: 'female' },
      })) as any;
      assert.ok(created.id);
      const read = (await client.read({ resourceType: 'Patient', id: created.id })) as any;
      assert.equal(read.name[0].family, 'Phạm');
      const updated = (await client.update({
        resourceType: 'Patient',
        id: created.id,
        body: { ...read, birthDate: '1990-09-02' },
      })) as any;
      assert.equal(updated.meta.versionId, '2');
      const patched = (await client.patch({
        resourceType: 'Patient',
        id: created.id,
        jsonPatch: [{ op: 'replace', path: '/gender', value: 'other' }],
      })) as any;
      assert.equal(patched.gender, 'other');
      const v1 = (await client.vread({ resourceType: 'Patient', id: created.id, version: '1' })) as any;
      assert.equal(v1.birthDate, undefined);
      const history = (await client.history({ resourceType: 'Patient', id: created.id })) as any;
      assert.equal(history.entry.length, 3);
      await client.delete({ resourceType: 'Patient', id: created.id });
      await assert.rejects(
        client.read({ resourceType: 'Patient', id: created.id }),
        (err: any) => err.response?.status === 410,
      );
    });

    it('searches without diacritics and pages with nextPage', async () => {
      const body = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: Array.from({ length: 7 }, (_, i) => ({
          request: { method: 'POST', url: 'Patient' },
          resource: { resourceType: 'Patient', name: [{ family: 'Đặng', given: [`Khách${i}`] }] },
        })),
      };
      const tx = (await client.transaction({ body: body as any })) as any;
      assert.equal(tx.type, 'transaction-response');
      let page = (await client.search({
        resourceType: 'Patient',
        searchParams: { family: 'dang', _count: '3' },
      })) as any;
      const seen: string[] = [];
      for (;;) {
        seen.push(...page.entry.map((e: any) => e.resource.id));
        const next = client.nextPage({ bundle: page });
        if (!next) {
          break;
        }
        page = await next;
      }
      assert.equal(seen.length, 7);
      assert.equal(new Set(seen).size, 7);
    });

    it('runs Patient/$everything as an operation', async () => {
      const p = (await client.create({
        resourceType: 'Patient',
        body: { resourceType: 'Patient', name: [{ family: 'Bùi' }] },
      })) as any;
      await client.create({
        resourceType: 'Observation',
        body: {
          resourceType: 'Observation',
          status: 'final',
          code: { text: 'Mạch' },
          subject: { reference: `Patient/${p.id}` },
        },
      });
      const all = (await client.operation({
        name: '$everything',
        resourceType: 'Patient',
        id: p.id,
        method: 'GET',
      })) as any;
      assert.deepEqual(all.entry.map((e: any) => e.resource.resourceType).sort(), ['Observation', 'Patient']);
    });

    it('surfaces an OperationOutcome for an invalid resource', async () => {
      await assert.rejects(
        client.create({ resourceType: 'Patient', body: { resourceType: 'Patient', gender: 'nam' } as any }),
        (err: any) => err.response?.status === 422 && err.response?.data?.resourceType === 'OperationOutcome',
      );
    });
  });
}

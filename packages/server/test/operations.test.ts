import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testEngines } from '@sen/db/testing';
import { clientCredentialsToken, fhirFetch, startTestServer, TEST_CLIENT_SECRET, type TestServer } from './harness.ts';

for (const engine of testEngines()) {
  describe(`registered FHIR operations [${engine}]`, () => {
    let srv: TestServer;
    before(async () => {
      srv = await startTestServer(engine);
      srv.router.operations.register({
        name: 'echo-count',
        resourceTypes: ['Patient'],
        levels: ['type', 'instance'],
        methods: ['GET', 'POST'],
        access: { action: 'read' },
        handler: async ({ input, id }) => ({
          status: 200,
          body: {
            resourceType: 'Parameters',
            parameter: [
              { name: 'count', valueInteger: input.integer('count') ?? 0 },
              ...(id ? [{ name: 'id', valueString: id }] : []),
            ],
          },
        }),
      });
      srv.router.operations.register({
        name: 'ping',
        resourceTypes: [],
        levels: ['system'],
        methods: ['POST'],
        access: { action: 'read', resourceType: 'Organization' },
        handler: async () => ({ status: 200, body: { resourceType: 'Parameters', parameter: [{ name: 'pong' }] } }),
      });
    });
    after(async () => {
      await srv.close();
    });

    it('calls a type-level operation with query parameters and with a Parameters body', async () => {
      const g = await fhirFetch(srv.fhir, 'Patient/$echo-count?count=3');
      assert.equal(g.status, 200);
      assert.equal(g.body.parameter[0].valueInteger, 3);
      const p = await fhirFetch(srv.fhir, 'Patient/$echo-count', {
        method: 'POST',
        body: { resourceType: 'Parameters', parameter: [{ name: 'count', valueInteger: 7 }] },
      });
      assert.equal(p.status, 200);
      assert.equal(p.body.parameter[0].valueInteger, 7);
    });

    it('answers a malformed parameter with 400 and a non-Parameters body with 400', async () => {
      const bad = await fhirFetch(srv.fhir, 'Patient/$echo-count?count=x');
      assert.equal(bad.status, 400);
      assert.match(bad.body.issue[0].diagnostics, /count/);
      const notParams = await fhirFetch(srv.fhir, 'Patient/$echo-count', {
        method: 'POST',
        body: { resourceType: 'Patient' },
      });
      assert.equal(notParams.status, 400);
    });

    it('checks that the instance exists (404) and passes its id', async () => {
      assert.equal((await fhirFetch(srv.fhir, 'Patient/nope/$echo-count')).status, 404);
      const pt = await fhirFetch(srv.fhir, 'Patient', { method: 'POST', body: { resourceType: 'Patient' } });
      const r = await fhirFetch(srv.fhir, `Patient/${pt.body.id}/$echo-count`);
      assert.equal(r.status, 200);
      assert.equal(r.body.parameter[1].valueString, pt.body.id);
    });

    it('refuses an unknown operation (400, not-supported), a wrong method (405) and a call the gate denies (403)', async () => {
      const unknown = await fhirFetch(srv.fhir, 'Observation/$echo-count');
      assert.equal(unknown.status, 400);
      assert.equal(unknown.body.issue[0].code, 'not-supported');
      assert.equal((await fhirFetch(srv.fhir, '$ping')).status, 405);
      assert.equal(
        (await fhirFetch(srv.fhir, '$ping', { method: 'POST', body: { resourceType: 'Parameters' } })).status,
        200,
      );
      const narrow = await clientCredentialsToken(srv.url, 'system/Observation.rs', TEST_CLIENT_SECRET);
      const denied = await fhirFetch(srv.fhir, 'Patient/$echo-count', {
        headers: { authorization: `Bearer ${narrow}` },
      });
      assert.equal(denied.status, 403);
      assert.equal(denied.body.resourceType, 'OperationOutcome');
    });

    it('lists registered operations in the CapabilityStatement', async () => {
      const cs = await fhirFetch(srv.fhir, 'metadata');
      const patient = cs.body.rest[0].resource.find((r: { type: string }) => r.type === 'Patient');
      assert.deepEqual(
        patient.operation.map((o: { name: string }) => o.name),
        [
          'everything',
          'match',
          'merge',
          'portal-record',
          'summary',
          'summary-pdf',
          'family',
          'grant-access',
          'revoke-access',
          'share-link',
          'share-links',
          'revoke-share',
          'rights-request',
          'rights-queue',
          'rights-answer',
          'rights-requests',
          'break-glass',
          'echo-count',
        ],
      );
      const opsOf = (type: string): string[] =>
        cs.body.rest[0].resource
          .find((r: { type: string }) => r.type === type)
          .operation.map((o: { name: string }) => o.name);
      for (const name of ['record-vitals', 'set-diagnoses', 'history', 'order', 'prescribe', 'conclude']) {
        assert.ok(opsOf('Encounter').includes(name), `Encounter/$${name} is listed`);
      }
      for (const [type, names] of Object.entries({
        ServiceRequest: ['orderable', 'lab-worklist', 'collect-specimen', 'imaging-worklist', 'imaging-report'],
        MedicationRequest: ['drug-search', 'replace-prescription', 'dispensable'],
        MedicationDispense: ['dispense'],
        Specimen: ['receive'],
        Communication: ['acknowledge'],
        Invoice: ['pay-cash', 'vietqr', 'refund'],
      })) {
        for (const name of names) {
          assert.ok(opsOf(type).includes(name), `${type}/$${name} is listed`);
        }
      }
      const system = cs.body.rest[0].operation.map((o: { name: string }) => o.name);
      for (const name of ['ping', 'analyzer-replay', 'analyzer-discard']) {
        assert.ok(system.includes(name), `$${name} is listed at system level`);
      }
    });
  });
}

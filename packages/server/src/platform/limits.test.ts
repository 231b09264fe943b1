import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testEngines } from '@sen/db/testing';
import {
  type FhirResult,
  fhirFetch,
  startTestServer,
  TEST_CLIENT_SECRET,
  type TestServer,
} from '../../test/harness.ts';

// Request limits on the FHIR API through real HTTP: per-client token bucket (429) and the body size limit (413).
for (const engine of testEngines()) {
  describe(`request limits [${engine}]`, () => {
    let srv: TestServer;
    before(async () => {
      srv = await startTestServer(engine, {
        config: {
          bodyLimit: 8 * 1024,
          security: {
            mode: 'demo',
            demoClientSecret: TEST_CLIENT_SECRET,
            sealIntervalMs: 0,
            rateLimit: { clientPerMinute: 60, burstSeconds: 5 },
          },
        },
      });
    });
    after(async () => {
      await srv.close();
    });

    it('answers a too-large body with 413 and an OperationOutcome', async () => {
      const big = { resourceType: 'Patient', name: [{ family: 'x'.repeat(20_000) }] };
      const res = await fhirFetch(srv.fhir, 'Patient', { method: 'POST', body: big });
      assert.equal(res.status, 413);
      assert.equal(res.body.resourceType, 'OperationOutcome');
      assert.equal(res.body.issue[0].code, 'too-costly');
    });

    it('throttles a client past its burst with 429, Retry-After and an OperationOutcome', async () => {
      const statuses: number[] = [];
      let last: FhirResult | undefined;
      for (let i = 0; i < 7; i++) {
        last = await fhirFetch(srv.fhir, 'Patient?_count=1');
        statuses.push(last.status);
      }
      assert.deepEqual(statuses.slice(0, 5), [200, 200, 200, 200, 200], 'the burst of 5 passes');
      assert.equal(statuses[5], 429);
      assert.equal(last?.status, 429);
      assert.equal(last?.body.resourceType, 'OperationOutcome');
      assert.equal(last?.body.issue[0].code, 'throttled');
      assert.ok(Number(last?.headers.get('retry-after')) >= 1);
      const metadata = await fhirFetch(srv.fhir, 'metadata');
      assert.equal(metadata.status, 200, 'the public CapabilityStatement is not throttled');
    });
  });
}

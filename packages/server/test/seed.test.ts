import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testEngines } from '@sen/db/testing';
import { seedDemo } from '../src/seed/seed.ts';
import { fhirFetch, startTestServer, type TestServer } from './harness.ts';
import { SHARED_DIR } from './shared-data.ts';

for (const engine of testEngines()) {
  describe(`demo seed [${engine}]`, () => {
    let srv: TestServer;
    before(async () => {
      srv = await startTestServer(engine);
    });
    after(async () => {
      await srv.close();
    });

    it('loads the demo facility, staff and 50 Vietnamese patients with visits, vitals and labs', async () => {
      const first = await seedDemo(srv.router, { sharedDir: SHARED_DIR });
      assert.ok(first.created > 600);
      const org = await fhirFetch(srv.fhir, `Organization?name=${encodeURIComponent('Bệnh viện Đa khoa Sen')}`);
      assert.equal(org.body.entry.length, 1);
      const patients = await fhirFetch(srv.fhir, 'Patient?_summary=count');
      assert.equal(patients.body.total, 50);
      const withCccd = await fhirFetch(
        srv.fhir,
        'Patient?identifier=http://fhir.hl7.org.vn/core/sid/cccd|&_summary=count',
      );
      assert.equal(withCccd.body.total, 50);
      const roles = await fhirFetch(srv.fhir, 'PractitionerRole?_summary=count');
      assert.ok(roles.body.total >= 10);
      const enc = await fhirFetch(srv.fhir, 'Encounter?_summary=count');
      assert.ok(enc.body.total >= 50);
      const vitals = await fhirFetch(srv.fhir, 'Observation?category=vital-signs&_summary=count');
      assert.ok(vitals.body.total > 100);
      const labs = await fhirFetch(srv.fhir, 'Observation?category=laboratory&_summary=count');
      assert.ok(labs.body.total > 0);
      // Vietnamese names are found without diacritics
      const nguyen = await fhirFetch(srv.fhir, 'Patient?family=nguyen&_summary=count');
      const nguyenExact = await fhirFetch(
        srv.fhir,
        `Patient?family:exact=${encodeURIComponent('Nguyễn')}&_summary=count`,
      );
      assert.equal(nguyen.body.total, nguyenExact.body.total);
    });

    it('is idempotent: seeding again adds nothing and writes no new versions', async () => {
      const before = await fhirFetch(srv.fhir, '_history?_count=1');
      const again = await seedDemo(srv.router, { sharedDir: SHARED_DIR });
      assert.equal(again.created, 0);
      const afterH = await fhirFetch(srv.fhir, '_history?_count=1');
      assert.equal(afterH.body.entry[0].fullUrl, before.body.entry[0].fullUrl);
      assert.equal(afterH.body.entry[0].response.etag, before.body.entry[0].response.etag);
    });
  });
}

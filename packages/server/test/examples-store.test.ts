import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { testEngines } from '@sen/db/testing';
import { EXAMPLE_EXCLUSIONS } from '@sen/fhir/example-exclusions.ts';
import { fhirFetch, startTestServer, type TestServer } from './harness.ts';
import { hasShared, readJson, sharedPath } from './shared-data.ts';

// Real data written by others: every HL7 R4 example goes through the API (validated, then stored
// with its own id by update-as-create) and can be read back.
const DIR = sharedPath('testdata', 'fhir-r4-examples');
const available = hasShared('testdata', 'fhir-r4-examples');

describe('HL7 R4 examples are validated and stored', { skip: available ? false : 'shared examples not found' }, () => {
  const files = available
    ? readdirSync(DIR)
        .filter((f) => f.endsWith('.json') && f !== 'package.json')
        .sort()
    : [];
  for (const engine of testEngines()) {
    describe(`[${engine}]`, () => {
      let srv: TestServer;
      before(async () => {
        srv = await startTestServer(engine);
      });
      after(async () => {
        await srv.close();
      });

      it('stores every valid example and refuses only the known-invalid ones', async () => {
        const rejected: string[] = [];
        let stored = 0;
        for (const file of files) {
          const r = readJson(`${DIR}/${file}`);
          const res = await fhirFetch(srv.fhir, `${r.resourceType}/${r.id}`, {
            method: 'PUT',
            body: r,
            headers: { prefer: 'return=minimal' },
          });
          if (res.status === 200 || res.status === 201) {
            stored++;
          } else {
            rejected.push(`${file}: ${res.status}`);
          }
        }
        console.log(
          `  stored ${stored}/${files.length} examples (${((100 * stored) / files.length).toFixed(1)}%); refused: ${rejected.join('; ') || 'none'}`,
        );
        // AuditEvents are written only by the server itself (the tamper-evident trail): the API refuses them with 403
        const auditRefused = rejected.filter((x) => x.startsWith('AuditEvent-'));
        assert.ok(
          auditRefused.every((x) => x.endsWith(': 403')),
          auditRefused.join('; '),
        );
        const unexpected = rejected.filter((x) => !EXAMPLE_EXCLUSIONS[x.split(':')[0]] && !x.startsWith('AuditEvent-'));
        assert.deepEqual(unexpected, []);
      });

      it('reads a sample back unchanged apart from meta', async () => {
        for (const file of ['Patient-example.json', 'Observation-example.json', 'MedicationRequest-medrx0302.json']) {
          const r = readJson(`${DIR}/${file}`);
          const res = await fhirFetch(srv.fhir, `${r.resourceType}/${r.id}`);
          assert.equal(res.status, 200, file);
          const { meta: _a, ...got } = res.body;
          const { meta: _b, ...want } = r;
          assert.deepEqual(got, want, file);
        }
      });

      it('finds examples through their references and codes', async () => {
        const obs = await fhirFetch(srv.fhir, 'Observation?subject=Patient/example&_summary=count');
        assert.ok(obs.body.total > 0);
        const weight = await fhirFetch(srv.fhir, 'Observation?code=http://loinc.org|29463-7&_summary=count');
        assert.ok(weight.body.total >= 1);
        const withPatient = await fhirFetch(srv.fhir, 'Observation?_id=example&_include=Observation:subject');
        assert.equal(withPatient.body.entry.length, 2);
      });
    });
  }
});

import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { testEngines } from '@sen/db/testing';
import { fhirFetch, startTestServer, type TestServer } from './harness.ts';
import { hasShared, listJson, readJson, sharedPath } from './shared-data.ts';

// Real data written by others: the Synthea bundles in ../shared/testdata/synthea (batch bundles of
// organisations, locations and practitioners with ifNoneExist, then patient transactions whose
// references are urn:uuid: fullUrls and conditional references such as Practitioner?identifier=…).
const DIR = sharedPath('testdata', 'synthea');
const available = hasShared('testdata', 'synthea');

interface Oracle {
  counts: Map<string, number>;
  patients: { id: string; family: string; given: string; obsCount: number; file: string }[];
  codeCounts: Map<string, number>;
  encountersSince2015: number;
}

/** Counts computed from the files themselves, independently of Sen. */
function buildOracle(files: string[]): Oracle {
  const counts = new Map<string, number>();
  const codeCounts = new Map<string, number>();
  const patients: Oracle['patients'] = [];
  let encountersSince2015 = 0;
  for (const f of files) {
    const b = readJson(f);
    let patient: { family: string; given: string } | undefined;
    let obsCount = 0;
    for (const e of b.entry ?? []) {
      const r = e.resource;
      counts.set(r.resourceType, (counts.get(r.resourceType) ?? 0) + 1);
      if (r.resourceType === 'Patient') {
        patient = { family: r.name[0].family, given: r.name[0].given[0] };
      }
      if (r.resourceType === 'Observation') {
        obsCount++;
        for (const c of r.code?.coding ?? []) {
          if (c.system === 'http://loinc.org') {
            codeCounts.set(c.code, (codeCounts.get(c.code) ?? 0) + 1);
          }
        }
      }
      if (
        r.resourceType === 'Encounter' &&
        r.period?.start &&
        Date.parse(r.period.start) >= Date.parse('2015-01-01T00:00:00Z')
      ) {
        encountersSince2015++;
      }
    }
    if (b.type === 'transaction' && patient) {
      patients.push({ id: '', ...patient, obsCount, file: basename(f) });
    }
  }
  return { counts, patients, codeCounts, encountersSince2015 };
}

describe(
  'Synthea bundles load and search',
  {
    skip: available ? false : 'shared Synthea data not found (../shared/testdata/synthea)',
  },
  () => {
    const all = available ? listJson(DIR) : [];
    const batches = all.filter((f) => /hospitalInformation|practitionerInformation/.test(f));
    const patientsFiles = all.filter((f) => !batches.includes(f));
    for (const engine of testEngines()) {
      describe(`[${engine}]`, () => {
        let srv: TestServer;
        let oracle: Oracle;
        const f = (path: string, init?: Parameters<typeof fhirFetch>[2]) => fhirFetch(srv.fhir, path, init);
        before(async () => {
          srv = await startTestServer(engine);
          oracle = buildOracle([...batches, ...patientsFiles]);
        });
        after(async () => {
          await srv.close();
        });

        it('loads the two batch bundles first (conditional creates), twice without duplicates', async () => {
          for (const file of batches) {
            const res = await f('', { method: 'POST', body: readJson(file), headers: { prefer: 'return=minimal' } });
            assert.equal(res.status, 200);
            assert.equal(res.body.type, 'batch-response');
            const failed = res.body.entry.filter(
              (e: { response: { status: string } }) => !/^20[01]/.test(e.response.status),
            );
            assert.deepEqual(failed, [], `${basename(file)}: ${JSON.stringify(failed[0])}`);
          }
          const again = await f('', {
            method: 'POST',
            body: readJson(batches[0]),
            headers: { prefer: 'return=minimal' },
          });
          assert.ok(
            again.body.entry.every((e: { response: { status: string } }) => e.response.status.startsWith('200')),
          );
        });

        it('loads every patient transaction bundle, resolving urn:uuid and conditional references', async () => {
          for (const file of patientsFiles) {
            const res = await f('', { method: 'POST', body: readJson(file), headers: { prefer: 'return=minimal' } });
            assert.equal(res.status, 200, `${basename(file)}: ${JSON.stringify(res.body).slice(0, 400)}`);
            assert.equal(res.body.type, 'transaction-response');
          }
        });

        it('stores exactly the resources of the files, per type', async () => {
          for (const [type, expected] of oracle.counts) {
            const res = await f(`${type}?_summary=count`);
            assert.equal(res.body.total, expected, `${type}: ${res.body.total} stored, ${expected} in the files`);
          }
        });

        it('finds each patient by name and counts their observations', async () => {
          for (const p of oracle.patients.slice(0, 10)) {
            const res = await f(`Patient?family=${encodeURIComponent(p.family)}&given=${encodeURIComponent(p.given)}`);
            assert.equal(res.body.entry.length, 1, `${p.family} ${p.given}`);
            const id = res.body.entry[0].resource.id;
            const obs = await f(`Observation?subject=Patient/${id}&_count=5&_total=accurate`);
            assert.equal(obs.body.total, p.obsCount);
            assert.equal(obs.body.entry.length, Math.min(5, p.obsCount));
            const chained = await f(
              `Observation?subject:Patient.family=${encodeURIComponent(p.family)}&subject:Patient.given=${encodeURIComponent(p.given)}&_summary=count`,
            );
            assert.equal(chained.body.total, p.obsCount);
          }
        });

        it('searches observations by LOINC code and encounters by date like the files say', async () => {
          const top = [...oracle.codeCounts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
          for (const [code, n] of top) {
            const res = await f(`Observation?code=http://loinc.org|${code}&_summary=count`);
            assert.equal(res.body.total, n, `LOINC ${code}`);
          }
          const enc = await f('Encounter?date=ge2015-01-01&_summary=count');
          assert.ok(enc.body.total >= oracle.encountersSince2015, `${enc.body.total} < ${oracle.encountersSince2015}`);
        });

        it('resolved conditional references point at stored practitioners and organisations', async () => {
          const enc = await f('Encounter?_count=20&_include=Encounter:participant&_include=Encounter:service-provider');
          const included = enc.body.entry.filter((e: { search: { mode: string } }) => e.search.mode === 'include');
          assert.ok(
            included.some((e: { resource: { resourceType: string } }) => e.resource.resourceType === 'Practitioner'),
          );
          assert.ok(
            included.some((e: { resource: { resourceType: string } }) => e.resource.resourceType === 'Organization'),
          );
          for (const e of enc.body.entry.filter((x: { search: { mode: string } }) => x.search.mode === 'match')) {
            for (const p of e.resource.participant ?? []) {
              assert.match(p.individual.reference, /^Practitioner\/[0-9a-f-]+$/);
            }
          }
        });

        it('returns a patient with everything in their compartment', async () => {
          const p = oracle.patients[0];
          const res = await f(`Patient?family=${encodeURIComponent(p.family)}&given=${encodeURIComponent(p.given)}`);
          const id = res.body.entry[0].resource.id;
          const all = await f(`Patient/${id}/$everything?_count=5000`);
          const obs = all.body.entry.filter(
            (e: { resource: { resourceType: string } }) => e.resource.resourceType === 'Observation',
          );
          assert.equal(obs.length, p.obsCount);
        });
      });
    }
  },
);

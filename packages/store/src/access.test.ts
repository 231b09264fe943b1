import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import { eachEngine } from '@sen/db/testing';
import { loadDefinitions, parseSearchRequest } from '@sen/fhir';
import type { AccessPolicy } from './access.ts';
import { searchRows } from './search.ts';
import { FhirStore } from './store.ts';

loadDefinitions();
const HIV = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HIV' };

eachEngine('store: access filters in SQL', (h) => {
  let store: FhirStore;
  const ids: Record<string, string> = {};
  const search = (type: string, query: string, access?: AccessPolicy) =>
    searchRows(store, parseSearchRequest(type, new URLSearchParams(query).entries()), store.db, access);

  before(async () => {
    store = new FhirStore(h.db());
    const mk = async (key: string, r: Resource) => {
      ids[key] = (await store.create(r)).stored.id;
    };
    await mk('doctor', { resourceType: 'Practitioner', name: [{ family: 'Võ' }] } as Resource);
    await mk('a', { resourceType: 'Patient', name: [{ family: 'An' }] } as Resource);
    await mk('b', { resourceType: 'Patient', name: [{ family: 'Bình' }] } as Resource);
    for (const p of ['a', 'b']) {
      await mk(`${p}-hr`, {
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
        subject: { reference: `Patient/${ids[p]}` },
        performer: [{ reference: `Practitioner/${ids.doctor}` }],
      } as Resource);
      await mk(`${p}-hiv`, {
        resourceType: 'Observation',
        status: 'final',
        meta: { security: [HIV] },
        code: { coding: [{ system: 'http://loinc.org', code: '25836-8' }] },
        subject: { reference: `Patient/${ids[p]}` },
      } as Resource);
    }
  });

  const patientA: AccessPolicy = (type) =>
    ['Practitioner', 'Organization'].includes(type) ? undefined : { patientIds: [ids.a] };

  it('shows a patient only their own compartment, with a right total', async () => {
    const r = await search('Observation', '_total=accurate', patientA);
    assert.equal(r.total, 2);
    assert.deepEqual(r.rows.map((x) => x.id).sort(), [ids['a-hr'], ids['a-hiv']].sort());
    const p = await search('Patient', '_total=accurate', patientA);
    assert.deepEqual(
      p.rows.map((x) => x.id),
      [ids.a],
    );
  });

  it('lets nothing of another patient through _include, _revinclude, _has or a chain', async () => {
    const inc = await search(
      'Observation',
      `_id=${ids['a-hr']}&_include=Observation:subject&_include=Observation:performer`,
      patientA,
    );
    assert.deepEqual(inc.included.map((x) => x.type).sort(), ['Patient', 'Practitioner']);
    const rev = await search('Patient', `_revinclude=Observation:subject`, patientA);
    assert.ok(rev.included.every((x) => [ids['a-hr'], ids['a-hiv']].includes(x.id)));
    const has = await search('Patient', `_has:Observation:subject:code=8867-4`, patientA);
    assert.deepEqual(
      has.rows.map((x) => x.id),
      [ids.a],
    );
    const chain = await search('Observation', `subject:Patient.name=binh`, patientA);
    assert.equal(chain.rows.length, 0);
  });

  it('hides sensitive records outside the treating team, also from _has', async () => {
    const clinician: AccessPolicy = () => ({ excludeLabels: { codes: ['HIV', 'PSY'], unlessPatientIn: [ids.a] } });
    const r = await search('Observation', '_total=accurate', clinician);
    assert.equal(r.total, 3);
    assert.ok(!r.rows.some((x) => x.id === ids['b-hiv']));
    const has = await search('Patient', '_has:Observation:subject:code=25836-8', clinician);
    assert.deepEqual(
      has.rows.map((x) => x.id),
      [ids.a],
    );
  });

  it('denies a whole type, also inside includes', async () => {
    const noPractitioners: AccessPolicy = (type) => (type === 'Practitioner' ? 'deny' : undefined);
    const none = await search('Practitioner', '', noPractitioners);
    assert.equal(none.rows.length, 0);
    const inc = await search('Observation', `_id=${ids['a-hr']}&_include=Observation:performer`, noPractitioners);
    assert.equal(inc.included.length, 0);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import { testEngines } from '@sen/db/testing';
import { OutcomeError } from '@sen/fhir';
import { startTestServer, type TestServer } from '../../../test/harness.ts';
import type { FhirRequest, FhirResponse } from '../../fhir/types.ts';
import { createAccessContext } from './context.ts';
import { breakGlass, type Principal } from './gate.ts';
import { parseScopes } from './scopes.ts';

// Patient A cannot see patient B by any path — proven on the FHIR layer with the gate bound to each caller.
for (const engine of testEngines()) {
  describe(`access gate on every FHIR path [${engine}]`, () => {
    let srv: TestServer;
    const id: Record<string, string> = {};
    const now = new Date();
    const patientA = (): Principal => ({
      kind: 'patient',
      accountId: 'acc-a',
      patientId: id.a,
      guardianOf: [],
      scopes: parseScopes('patient/*.rs'),
    });
    const call = async (
      principal: Principal | undefined,
      method: FhirRequest['method'],
      url: string,
      body?: unknown,
    ): Promise<FhirResponse | OutcomeError> => {
      const [path, qs] = url.split('?');
      try {
        return await srv.router.handle({
          method,
          path,
          query: qs ? [...new URLSearchParams(qs).entries()] : [],
          body,
          access: principal ? createAccessContext(principal, now) : undefined,
        });
      } catch (err) {
        if (err instanceof OutcomeError) {
          return err;
        }
        throw err;
      }
    };
    const bodyOf = (r: FhirResponse | OutcomeError): any => {
      assert.ok(!(r instanceof OutcomeError), r instanceof OutcomeError ? `${r.status} ${r.message}` : '');
      const b = (r as FhirResponse).body;
      return typeof b === 'string' ? JSON.parse(b) : JSON.parse(JSON.stringify(b));
    };
    const statusOf = (r: FhirResponse | OutcomeError): number => (r instanceof OutcomeError ? r.status : r.status);
    const idsIn = (bundle: any): string[] =>
      (bundle.entry ?? []).map((e: any) => `${e.resource.resourceType}/${e.resource.id}`).sort();

    before(async () => {
      srv = await startTestServer(engine);
      const mk = async (key: string, r: Resource): Promise<void> => {
        id[key] = (await srv.store.create(r)).stored.id;
      };
      await mk('doctor', { resourceType: 'Practitioner', name: [{ family: 'Lương' }] } as Resource);
      await mk('a', { resourceType: 'Patient', name: [{ family: 'Âu' }] } as Resource);
      await mk('b', { resourceType: 'Patient', name: [{ family: 'Bạch' }] } as Resource);
      for (const p of ['a', 'b']) {
        await mk(`${p}-enc`, {
          resourceType: 'Encounter',
          status: 'finished',
          class: { code: 'AMB' },
          subject: { reference: `Patient/${id[p]}` },
        } as Resource);
        await mk(`${p}-obs`, {
          resourceType: 'Observation',
          status: 'final',
          code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
          subject: { reference: `Patient/${id[p]}` },
          encounter: { reference: `Encounter/${id[`${p}-enc`]}` },
          performer: [{ reference: `Practitioner/${id.doctor}` }],
        } as Resource);
        await mk(`${p}-hiv`, {
          resourceType: 'Observation',
          status: 'final',
          meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HIV' }] },
          code: { text: 'HIV RNA' },
          subject: { reference: `Patient/${id[p]}` },
        } as Resource);
      }
    });
    after(async () => {
      await srv.close();
    });

    it('read and vread of B answer 404 to A; A reads their own', async () => {
      assert.equal(statusOf(await call(patientA(), 'GET', `Observation/${id['b-obs']}`)), 404);
      assert.equal(statusOf(await call(patientA(), 'GET', `Observation/${id['b-obs']}/_history/1`)), 404);
      assert.equal(statusOf(await call(patientA(), 'GET', `Patient/${id.b}`)), 404);
      assert.equal(bodyOf(await call(patientA(), 'GET', `Observation/${id['a-obs']}`)).id, id['a-obs']);
    });

    it('search, totals and paging show only A', async () => {
      const b = bodyOf(await call(patientA(), 'GET', 'Observation?_total=accurate&_count=1'));
      assert.equal(b.total, 2);
      const all = bodyOf(await call(patientA(), 'GET', 'Observation?_count=50'));
      assert.deepEqual(idsIn(all), [`Observation/${id['a-hiv']}`, `Observation/${id['a-obs']}`].sort());
      const patients = bodyOf(await call(patientA(), 'GET', 'Patient'));
      assert.deepEqual(idsIn(patients), [`Patient/${id.a}`]);
    });

    it('_include, _revinclude, _has and chains reveal nothing of B', async () => {
      const inc = bodyOf(
        await call(patientA(), 'GET', `Encounter?_revinclude=Observation:encounter&_include=Encounter:subject`),
      );
      assert.ok(idsIn(inc).every((x) => !x.endsWith(id.b) && !x.endsWith(id['b-obs']) && !x.endsWith(id['b-enc'])));
      const has = bodyOf(await call(patientA(), 'GET', `Patient?_has:Observation:subject:code=8867-4`));
      assert.deepEqual(idsIn(has), [`Patient/${id.a}`]);
      const chain = bodyOf(await call(patientA(), 'GET', `Observation?subject:Patient.name=bach`));
      assert.equal(chain.entry.length, 0);
      const practitioner = bodyOf(
        await call(patientA(), 'GET', `Observation?_id=${id['a-obs']}&_include=Observation:performer`),
      );
      assert.ok(idsIn(practitioner).includes(`Practitioner/${id.doctor}`), 'the directory stays visible');
    });

    it('history and $everything of B answer 404; history across resources is refused', async () => {
      assert.equal(statusOf(await call(patientA(), 'GET', `Observation/${id['b-obs']}/_history`)), 404);
      assert.equal(statusOf(await call(patientA(), 'GET', `Patient/${id.b}/$everything`)), 404);
      assert.equal(statusOf(await call(patientA(), 'GET', `Patient/${id.b}/Observation`)), 404);
      assert.equal(statusOf(await call(patientA(), 'GET', 'Observation/_history')), 403);
      assert.equal(statusOf(await call(patientA(), 'GET', '_history')), 403);
      const mine = bodyOf(await call(patientA(), 'GET', `Patient/${id.a}/$everything`));
      assert.ok(idsIn(mine).includes(`Observation/${id['a-obs']}`));
      assert.ok(idsIn(mine).every((x) => !x.endsWith(id['b-obs'])));
    });

    it('a bundle cannot reach B either, and A cannot write clinical data', async () => {
      const res = bodyOf(
        await call(patientA(), 'POST', '', {
          resourceType: 'Bundle',
          type: 'batch',
          entry: [
            { request: { method: 'GET', url: `Observation/${id['b-obs']}` } },
            { request: { method: 'GET', url: `Observation?subject=Patient/${id.b}` } },
          ],
        }),
      );
      assert.match(res.entry[0].response.status, /^404/);
      assert.equal(res.entry[1].resource.entry.length, 0);
      const write = await call(patientA(), 'POST', 'Observation', {
        resourceType: 'Observation',
        status: 'final',
        code: { text: 'x' },
        subject: { reference: `Patient/${id.a}` },
      });
      assert.equal(statusOf(write), 403);
      const tx = await call(patientA(), 'POST', '', {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            request: { method: 'POST', url: 'Observation' },
            resource: {
              resourceType: 'Observation',
              status: 'final',
              code: { text: 'x' },
              subject: { reference: `Patient/${id.b}` },
            },
          },
        ],
      });
      assert.equal(statusOf(tx), 403);
    });

    it('hides sensitive results outside the treating team, and break-the-glass opens one record', async () => {
      const doctor = (grants = [] as ReturnType<typeof breakGlass>[]): Principal => ({
        kind: 'staff',
        accountId: 'acc-d',
        practitionerId: id.doctor,
        roles: ['doctor'],
        facilityId: '79999',
        departmentIds: ['K01'],
        scopes: parseScopes('user/*.cruds'),
        careTeamPatientIds: new Set([id.a]),
        breakGlass: grants,
      });
      const list = bodyOf(await call(doctor(), 'GET', 'Observation?_count=50'));
      assert.ok(idsIn(list).includes(`Observation/${id['a-hiv']}`));
      assert.ok(!idsIn(list).includes(`Observation/${id['b-hiv']}`));
      assert.equal(statusOf(await call(doctor(), 'GET', `Observation/${id['b-hiv']}`)), 403);
      const ctx = createAccessContext(doctor([breakGlass(id.b, 'Cấp cứu: bệnh nhân bất tỉnh', now)]), now);
      const opened = await srv.router.handle({
        method: 'GET',
        path: `Observation/${id['b-hiv']}`,
        query: [],
        access: ctx,
      });
      assert.equal(opened.status, 200);
      assert.equal(ctx.notes.breakGlass, true);
      const receptionist: Principal = { ...doctor(), roles: ['receptionist'] } as Principal;
      assert.equal(
        statusOf(
          await call(receptionist, 'POST', 'Condition', {
            resourceType: 'Condition',
            subject: { reference: `Patient/${id.a}` },
          }),
        ),
        403,
      );
    });
  });
}

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { testEngines } from '@sen/db/testing';
import { canonicalJson } from '../src/capabilities/clinical/signature.ts';
import { CATALOG_URLS } from '../src/capabilities/terminology/kinds.ts';
import { VISIT_TYPE_SYSTEM } from '../src/capabilities/visits/encounter.ts';
import { FACILITY_TAG_SYSTEM } from '../src/platform/gate/gate.ts';
import { HOSPITAL_ID } from '../src/seed/demo-facility.ts';
import { seedDemo } from '../src/seed/seed.ts';
import { fhirFetch, startTestServer, type TestServer } from './harness.ts';
import { SHARED_DIR } from './shared-data.ts';
import { staffLogin } from './staff-login.ts';

const TAG = [{ system: FACILITY_TAG_SYSTEM, code: HOSPITAL_ID }];
const K07 = 'sen-demo-dept-k07';
const XRAY = '99.2401.3004'; // Chụp X-quang ngực thẳng
const ULTRASOUND = '99.2401.3001'; // Siêu âm ổ bụng

type P = { name: string; [k: string]: unknown };
const params = (...parameter: P[]): unknown => ({ resourceType: 'Parameters', parameter });
const partOf = (p: { part?: P[] }, name: string): any => p.part?.find((x) => x.name === name);

for (const engine of testEngines()) {
  describe(`imaging: worklist, exam done, report signed by the radiologist [${engine}]`, () => {
    let srv: TestServer;
    let doctor: string;
    let technician: string;
    let radiologist: string;
    let pharmacist: string;
    const call = (token: string, path: string, body?: unknown) =>
      fhirFetch(srv.fhir, path, {
        method: body === undefined ? 'GET' : 'POST',
        body,
        headers: { authorization: `Bearer ${token}` },
      });

    async function orderFor(visitType: 'bhyt' | 'fee', service: string, priority = 'routine'): Promise<string> {
      const pt = await fhirFetch(srv.fhir, 'Patient', {
        method: 'POST',
        body: {
          resourceType: 'Patient',
          meta: { tag: TAG },
          name: [{ family: 'Lê', given: ['Văn Cường'] }],
          birthDate: '1975-07-07',
          gender: 'male',
        },
      });
      const enc = await fhirFetch(srv.fhir, 'Encounter', {
        method: 'POST',
        body: {
          resourceType: 'Encounter',
          meta: { tag: TAG },
          status: 'in-progress',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
          type: [{ coding: [{ system: VISIT_TYPE_SYSTEM, code: visitType }] }],
          subject: { reference: `Patient/${pt.body.id}` },
        },
      });
      const r = await call(
        doctor,
        `Encounter/${enc.body.id}/$order`,
        params(
          { name: 'service', valueCoding: { system: CATALOG_URLS.services, code: service } },
          { name: 'priority', valueCode: priority },
        ),
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.entry[0].resource.id;
    }

    async function worklist(
      token: string,
      query = '',
    ): Promise<{ id: string; state: string; priority: string; patient?: string }[]> {
      const r = await call(token, `ServiceRequest/$imaging-worklist${query}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.parameter.map((p: any) => ({
        id: partOf(p, 'order').resource.id,
        state: partOf(p, 'state').valueCode,
        priority: partOf(p, 'order').resource.priority,
        patient: partOf(p, 'patient')?.resource.name[0].family,
      }));
    }

    before(async () => {
      srv = await startTestServer(engine);
      await seedDemo(srv.router, { sharedDir: SHARED_DIR, patients: 1 });
      const login = (username: string, practitionerId: string, roles: any[], departmentIds?: string[]) =>
        staffLogin(srv, { username, practitionerId, roles, facilityId: HOSPITAL_ID, departmentIds }).then(
          (l) => l.token,
        );
      doctor = await login('bs.imaging', 'sen-demo-s-01', ['doctor']);
      technician = await login('ktv.imaging', 'sen-demo-s-16', ['radiology-technician'], [K07]);
      radiologist = await login('bsc.imaging', 'sen-demo-s-14', ['radiologist'], [K07]);
      pharmacist = await login('ds.imaging', 'sen-demo-s-15', ['pharmacist']);
    });
    after(async () => {
      await srv?.close();
    });

    it('lists the imaging orders of the department by priority; an unpaid fee-paying order waits for payment', async () => {
      const routine = await orderFor('bhyt', XRAY);
      const stat = await orderFor('bhyt', ULTRASOUND, 'stat');
      const unpaid = await orderFor('fee', XRAY);
      const list = await worklist(technician);
      const mine = list.filter((i) => [routine, stat, unpaid].includes(i.id));
      assert.deepEqual(
        mine.map((i) => [i.id, i.state]),
        [
          [stat, 'scheduled'],
          [routine, 'scheduled'],
          [unpaid, 'awaiting-payment'],
        ],
      );
      assert.equal(mine[0].patient, 'Lê');
      const held = await worklist(technician, '?state=awaiting-payment');
      assert.ok(held.some((i) => i.id === unpaid) && held.every((i) => i.state === 'awaiting-payment'));
      const refused = await call(technician, `ServiceRequest/${unpaid}/$imaging-done`, params());
      assert.equal(refused.status, 409);
      assert.match(refused.body.issue[0].details.text, /^Chờ thanh toán \/ Awaiting payment/);
      const bad = await call(technician, 'ServiceRequest/$imaging-worklist?state=nonsense');
      assert.equal(bad.status, 400);
    });

    it('the technician marks the exam done, the radiologist writes, then signs a final RAD report the doctor sees', async () => {
      const order = await orderFor('bhyt', XRAY, 'urgent');
      const early = await call(
        radiologist,
        `ServiceRequest/${order}/$imaging-report`,
        params({ name: 'findings', valueString: 'x' }),
      );
      assert.equal(early.status, 409, 'no report before the exam');
      assert.equal((await call(pharmacist, `ServiceRequest/${order}/$imaging-done`, params())).status, 403);

      const done = await call(
        technician,
        `ServiceRequest/${order}/$imaging-done`,
        params({ name: 'note', valueString: 'Bệnh nhân hợp tác tốt' }),
      );
      assert.equal(done.status, 200, JSON.stringify(done.body));
      const study = done.body;
      assert.equal(study.resourceType, 'ImagingStudy');
      assert.equal(study.status, 'available');
      assert.equal(study.basedOn[0].reference, `ServiceRequest/${order}`);
      assert.equal(study.modality[0].code, 'DX');
      assert.deepEqual(
        study.meta.tag.filter((t: any) => t.system === FACILITY_TAG_SYSTEM),
        TAG,
      );
      assert.equal((await call(technician, `ServiceRequest/${order}/$imaging-done`, params())).status, 409);
      assert.equal((await worklist(technician)).find((i) => i.id === order)?.state, 'done');

      const byTech = await call(
        technician,
        `ServiceRequest/${order}/$imaging-report`,
        params({ name: 'findings', valueString: 'x' }),
      );
      assert.equal(byTech.status, 403);
      const onlyConclusion = await call(
        radiologist,
        `ServiceRequest/${order}/$imaging-report`,
        params({ name: 'conclusion', valueString: 'Chưa mô tả' }),
      );
      assert.equal(onlyConclusion.status, 200, JSON.stringify(onlyConclusion.body));
      assert.equal(onlyConclusion.body.parameter[0].resource.presentedForm, undefined);
      const findings = 'Hai phế trường sáng đều. Bóng tim không to. Góc sườn hoành hai bên nhọn.';
      const draft = await call(
        radiologist,
        `ServiceRequest/${order}/$imaging-report`,
        params({ name: 'findings', valueString: findings }),
      );
      assert.equal(draft.status, 200, JSON.stringify(draft.body));
      const prelim = draft.body.parameter.find((p: P) => p.name === 'report').resource;
      assert.equal(prelim.status, 'preliminary');
      assert.equal(prelim.conclusion, undefined, 'the new draft replaces the old one');
      assert.equal((await worklist(radiologist)).find((i) => i.id === order)?.state, 'preliminary');
      const noConclusion = await call(
        radiologist,
        `ServiceRequest/${order}/$imaging-report`,
        params({ name: 'findings', valueString: findings }, { name: 'sign', valueBoolean: true }),
      );
      assert.equal(noConclusion.status, 422);

      const signed = await call(
        radiologist,
        `ServiceRequest/${order}/$imaging-report`,
        params(
          { name: 'findings', valueString: findings },
          { name: 'conclusion', valueString: 'Hình ảnh X-quang ngực bình thường' },
          { name: 'sign', valueBoolean: true },
        ),
      );
      assert.equal(signed.status, 200, JSON.stringify(signed.body));
      const get = (n: string): any => signed.body.parameter.find((p: P) => p.name === n);
      const report = get('report').resource;
      assert.equal(report.id, prelim.id, 'the draft becomes the signed report');
      assert.equal(report.status, 'final');
      assert.equal(report.category[0].coding[0].system, 'http://terminology.hl7.org/CodeSystem/v2-0074');
      assert.equal(report.category[0].coding[0].code, 'RAD');
      assert.equal(report.basedOn[0].reference, `ServiceRequest/${order}`);
      assert.equal(report.encounter.reference.startsWith('Encounter/'), true);
      assert.equal(report.subject.reference.startsWith('Patient/'), true);
      assert.equal(report.conclusion, 'Hình ảnh X-quang ngực bình thường');
      assert.equal(report.resultsInterpreter[0].reference, 'Practitioner/sen-demo-s-14');
      assert.equal(report.imagingStudy[0].reference, `ImagingStudy/${study.id}`);
      assert.ok(report.issued);
      const text = Buffer.from(report.presentedForm[0].data, 'base64').toString('utf8');
      assert.equal(text, findings);
      assert.equal(get('order').resource.status, 'completed');
      // the signature covers the report and the study as stored: anyone can recompute the hash
      const provenance = get('provenance').resource;
      const storedReport = (await call(doctor, `DiagnosticReport/${report.id}`)).body;
      const storedStudy = (await call(doctor, `ImagingStudy/${study.id}`)).body;
      const h = createHash('sha256');
      for (const r of [storedReport, storedStudy].sort((a, b) =>
        `${a.resourceType}/${a.id}` < `${b.resourceType}/${b.id}` ? -1 : 1,
      )) {
        const { meta, ...rest } = r;
        h.update(`${r.resourceType}/${r.id}/_history/${meta.versionId}\n${canonicalJson(rest)}\n`);
      }
      assert.equal(get('contentHash').valueString, `sha256:${h.digest('hex')}`);
      assert.equal(provenance.signature[0].who.reference, 'Practitioner/sen-demo-s-14');
      assert.ok(provenance.target.some((t: any) => t.reference.startsWith(`DiagnosticReport/${report.id}/_history/`)));

      const onChart = await call(doctor, `DiagnosticReport?based-on=ServiceRequest/${order}`);
      assert.equal(onChart.body.entry[0].resource.status, 'final');
      assert.equal((await worklist(technician)).find((i) => i.id === order)?.state, 'final');
      const again = await call(
        radiologist,
        `ServiceRequest/${order}/$imaging-report`,
        params({ name: 'conclusion', valueString: 'khác' }),
      );
      assert.equal(again.status, 409);
    });

    it('refuses the imaging operations on a lab order', async () => {
      const pt = await fhirFetch(srv.fhir, 'Patient', {
        method: 'POST',
        body: { resourceType: 'Patient', meta: { tag: TAG } },
      });
      const sr = await fhirFetch(srv.fhir, 'ServiceRequest', {
        method: 'POST',
        body: {
          resourceType: 'ServiceRequest',
          meta: { tag: TAG },
          status: 'active',
          intent: 'order',
          category: [{ coding: [{ system: 'http://snomed.info/sct', code: '108252007' }] }],
          subject: { reference: `Patient/${pt.body.id}` },
        },
      });
      const r = await call(technician, `ServiceRequest/${sr.body.id}/$imaging-done`, params());
      assert.equal(r.status, 422);
    });
  });
}

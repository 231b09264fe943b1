import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { testEngines } from '@sen/db/testing';
import { parseErxCode } from '@sen/vn/erx-code.ts';
import { CATALOG_URLS } from '../src/capabilities/terminology/kinds.ts';
import { FACILITY_TAG_SYSTEM } from '../src/platform/gate/gate.ts';
import { HOSPITAL_ID } from '../src/seed/demo-facility.ts';
import { seedDemo } from '../src/seed/seed.ts';
import { canonicalJson } from '../src/capabilities/clinical/signature.ts';
import { fhirFetch, startTestServer, type TestServer } from './harness.ts';
import { SHARED_DIR } from './shared-data.ts';
import { staffLogin } from './staff-login.ts';

const TAG = [{ system: FACILITY_TAG_SYSTEM, code: HOSPITAL_ID }];
const ICD = CATALOG_URLS.icd10;
const DRUGS = CATALOG_URLS.drugs;
const SERVICES = CATALOG_URLS.services;

type P = { name: string; [k: string]: unknown };
const params = (...parameter: P[]): unknown => ({ resourceType: 'Parameters', parameter });
const item = (code: string, dose: number, times: number, days: number, extra: P[] = []): P => ({
  name: 'item',
  part: [
    { name: 'drug', valueCoding: { system: DRUGS, code } },
    { name: 'dosePerTime', valueDecimal: dose },
    { name: 'timesPerDay', valueInteger: times },
    { name: 'days', valueInteger: days },
    ...extra,
  ],
});
const partOf = (p: { part: P[] }, name: string): any => p.part.find((x) => x.name === name);

for (const engine of testEngines()) {
  describe(`clinical: outpatient encounter, orders, prescriptions [${engine}]`, () => {
    let srv: TestServer;
    let doctor: string;
    let receptionist: string;
    let nurse: string;
    let otherDoctor: string;
    const as = (token: string) => ({ authorization: `Bearer ${token}` });
    const call = (token: string, path: string, body?: unknown, method = 'POST') =>
      fhirFetch(srv.fhir, path, {
        method: body === undefined && method === 'POST' ? 'GET' : method,
        body,
        headers: as(token),
      });

    async function newVisit(
      birthDate = '1970-05-01',
      gender = 'male',
    ): Promise<{ patient: string; encounter: string }> {
      const pt = await fhirFetch(srv.fhir, 'Patient', {
        method: 'POST',
        body: {
          resourceType: 'Patient',
          meta: { tag: TAG },
          name: [{ family: 'Nguyễn', given: ['Văn An'] }],
          birthDate,
          gender,
        },
      });
      assert.equal(pt.status, 201);
      const enc = await fhirFetch(srv.fhir, 'Encounter', {
        method: 'POST',
        body: {
          resourceType: 'Encounter',
          meta: { tag: TAG },
          status: 'in-progress',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
          subject: { reference: `Patient/${pt.body.id}` },
        },
      });
      assert.equal(enc.status, 201);
      return { patient: pt.body.id, encounter: enc.body.id };
    }

    before(async () => {
      srv = await startTestServer(engine);
      await seedDemo(srv.router, { sharedDir: SHARED_DIR, patients: 1 });
      const login = (username: string, practitionerId: string, roles: any[], facilityId = HOSPITAL_ID) =>
        staffLogin(srv, { username, practitionerId, roles, facilityId }).then((l) => l.token);
      doctor = await login('bs.clinical', 'sen-demo-s-01', ['doctor']);
      receptionist = await login('tn.clinical', 'sen-demo-s-11', ['receptionist']);
      nurse = await login('dd.clinical', 'sen-demo-s-07', ['nurse']);
      otherDoctor = await login('bs.khac', 'other-doctor', ['doctor'], 'other-hospital');
    });
    after(async () => {
      await srv?.close();
    });

    it('records vital signs as LOINC/UCUM Observations with BMI and H/L flags; impossible values are 400', async () => {
      const { encounter } = await newVisit();
      const r = await call(
        nurse,
        `Encounter/${encounter}/$record-vitals`,
        params(
          { name: 'pulse', valueDecimal: 88 },
          { name: 'systolic', valueDecimal: 165 },
          { name: 'diastolic', valueDecimal: 95 },
          { name: 'temperature', valueDecimal: 36.8 },
          { name: 'spo2', valueDecimal: 89 },
          { name: 'height', valueDecimal: 165 },
          { name: 'weight', valueDecimal: 70 },
        ),
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const obs = r.body.entry.map((e: any) => e.resource);
      const byCode = (c: string) => obs.find((o: any) => o.code.coding[0].code === c);
      assert.equal(obs.length, 7);
      const bp = byCode('85354-9');
      assert.equal(bp.component[0].code.coding[0].code, '8480-6');
      assert.equal(bp.component[0].valueQuantity.code, 'mm[Hg]');
      assert.equal(bp.component[0].interpretation[0].coding[0].code, 'H');
      assert.equal(bp.interpretation[0].coding[0].code, 'H');
      assert.equal(byCode('59408-5').interpretation[0].coding[0].code, 'LL');
      assert.equal(byCode('8867-4').interpretation, undefined);
      assert.equal(byCode('39156-5').valueQuantity.value, 25.7);
      assert.equal(byCode('39156-5').interpretation[0].coding[0].code, 'H');
      assert.equal(byCode('8310-5').valueQuantity.code, 'Cel');
      assert.equal(obs[0].category[0].coding[0].code, 'vital-signs');
      assert.deepEqual(obs[0].meta.tag, TAG);
      const stored = await call(doctor, `Observation?encounter=Encounter/${encounter}`, undefined, 'GET');
      assert.equal(stored.body.entry.length, 7);
      const bad = await call(
        nurse,
        `Encounter/${encounter}/$record-vitals`,
        params({ name: 'temperature', valueDecimal: 55 }),
      );
      assert.equal(bad.status, 400);
      assert.match(bad.body.issue[0].details.text, /Nhiệt độ 55/);
      const half = await call(
        nurse,
        `Encounter/${encounter}/$record-vitals`,
        params({ name: 'systolic', valueDecimal: 120 }),
      );
      assert.equal(half.status, 400);
      assert.match(half.body.issue[0].details.text, /tâm thu và tâm trương/);
    });

    it('sets ICD-10 diagnoses with ranks; coding rules give 422 with the Vietnamese message; a receptionist gets 403', async () => {
      const { encounter } = await newVisit('1960-01-01', 'female');
      const never = await call(
        doctor,
        `Encounter/${encounter}/$set-diagnoses`,
        params({ name: 'main', valueCoding: { system: ICD, code: 'E11' } }),
      );
      assert.equal(never.status, 422);
      assert.equal(never.body.issue[0].details.coding[0].code, 'never-use');
      assert.match(never.body.issue[0].details.text, /Không được dùng mã E11/);
      const notMain = await call(
        doctor,
        `Encounter/${encounter}/$set-diagnoses`,
        params({ name: 'main', valueCoding: { system: ICD, code: 'W19' } }),
      );
      assert.equal(notMain.status, 422);
      assert.equal(notMain.body.issue[0].details.coding[0].code, 'not-main');
      const wrongSystem = await call(
        doctor,
        `Encounter/${encounter}/$set-diagnoses`,
        params({ name: 'main', valueCoding: { system: 'http://snomed.info/sct', code: '38341003' } }),
      );
      assert.equal(wrongSystem.status, 400);
      const refused = await call(
        receptionist,
        `Encounter/${encounter}/$set-diagnoses`,
        params({ name: 'main', valueCoding: { system: ICD, code: 'I10' } }),
      );
      assert.equal(refused.status, 403);
      const ok = await call(
        doctor,
        `Encounter/${encounter}/$set-diagnoses`,
        params(
          { name: 'main', valueCoding: { system: ICD, code: 'I10' } },
          { name: 'secondary', valueCoding: { system: ICD, code: 'E78.5' } },
        ),
      );
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      const enc = ok.body.parameter.find((p: P) => p.name === 'encounter').resource;
      const conds = ok.body.parameter.filter((p: P) => p.name === 'condition').map((p: any) => p.resource);
      assert.equal(enc.diagnosis.length, 2);
      assert.equal(enc.diagnosis[0].rank, 1);
      assert.equal(enc.diagnosis[0].condition.reference, `Condition/${conds[0].id}`);
      assert.equal(conds[0].code.coding[0].code, 'I10');
      assert.equal(conds[0].code.coding[0].display, 'Tăng huyết áp vô căn (nguyên phát)');
      assert.equal(conds[0].category[0].coding[0].code, 'encounter-diagnosis');
      // replaced: E78.5 withdrawn, J06.9 added
      const again = await call(
        doctor,
        `Encounter/${encounter}/$set-diagnoses`,
        params(
          { name: 'main', valueCoding: { system: ICD, code: 'I10' } },
          { name: 'secondary', valueCoding: { system: ICD, code: 'J06.9' } },
        ),
      );
      assert.equal(again.status, 200);
      const conds2 = again.body.parameter.filter((p: P) => p.name === 'condition').map((p: any) => p.resource);
      assert.equal(conds2[0].id, conds[0].id);
      const old = await call(doctor, `Condition/${conds[1].id}`, undefined, 'GET');
      assert.equal(old.body.verificationStatus.coding[0].code, 'entered-in-error');
    });

    it('keeps history and examination in one ClinicalImpression per encounter', async () => {
      const { encounter } = await newVisit();
      const r = await call(
        doctor,
        `Encounter/${encounter}/$history`,
        params(
          { name: 'chiefComplaint', valueString: 'Đau đầu 3 ngày' },
          { name: 'pastHistory', valueString: 'Tăng huyết áp 5 năm' },
        ),
      );
      assert.equal(r.status, 200);
      assert.equal(r.body.resourceType, 'ClinicalImpression');
      const r2 = await call(
        doctor,
        `Encounter/${encounter}/$history`,
        params({ name: 'examination', valueString: 'Tim đều, phổi trong' }),
      );
      assert.equal(r2.body.id, r.body.id);
      const parts = r2.body.extension[0].extension;
      assert.deepEqual(
        parts.map((e: any) => [e.url, e.valueString]),
        [
          ['chiefComplaint', 'Đau đầu 3 ngày'],
          ['pastHistory', 'Tăng huyết áp 5 năm'],
          ['examination', 'Tim đều, phổi trong'],
        ],
      );
      assert.equal((await call(doctor, `Encounter/${encounter}/$history`, params())).status, 400);
    });

    it('lists orderable services with price, BHYT and executing department, and the order sets from data', async () => {
      const r = await call(doctor, 'ServiceRequest/$orderable?q=cong%20thuc%20mau', undefined, 'GET');
      assert.equal(r.status, 200);
      const services = r.body.parameter.filter((p: P) => p.name === 'service');
      const ctm = services.find((s: any) => partOf(s, 'code').valueCoding.code === '99.2301.2001');
      assert.ok(ctm, 'the blood count is found by its everyday name');
      assert.equal(partOf(ctm, 'category').valueCode, 'lab');
      assert.equal(partOf(ctm, 'price').valueDecimal, 80000);
      assert.equal(partOf(ctm, 'bhytCovered').valueBoolean, true);
      assert.equal(partOf(ctm, 'bhytRate').valueDecimal, 100);
      assert.equal(partOf(ctm, 'department').valueString, 'Khoa Xét nghiệm');
      const xq = await call(doctor, 'ServiceRequest/$orderable?q=x-quang%20nguc&category=imaging', undefined, 'GET');
      const xs = xq.body.parameter.filter((p: P) => p.name === 'service');
      assert.equal(partOf(xs[0], 'code').valueCoding.code, '99.2401.3004');
      assert.equal(partOf(xs[0], 'department').valueString, 'Khoa Chẩn đoán hình ảnh');
      const sets = await call(doctor, 'ServiceRequest/$orderable?q=kham%20suc%20khoe', undefined, 'GET');
      const ksk = sets.body.parameter.find((p: any) => p.name === 'orderSet');
      assert.equal(partOf(ksk, 'name').valueString, 'Khám sức khỏe tổng quát');
      assert.match(partOf(ksk, 'services').valueString, /^99\.2301\.2001,/);
      const consult = await call(doctor, 'ServiceRequest/$orderable?q=kham%20noi', undefined, 'GET');
      assert.equal(consult.body.parameter?.filter((p: P) => p.name === 'service').length ?? 0, 0);
      assert.equal((await call(doctor, 'ServiceRequest/$orderable?category=xray', undefined, 'GET')).status, 400);
    });

    it('orders services and order sets as ServiceRequests to the executing department', async () => {
      const { encounter, patient } = await newVisit();
      const r = await call(
        doctor,
        `Encounter/${encounter}/$order`,
        params(
          { name: 'service', valueCoding: { system: SERVICES, code: '99.2301.2001' } },
          { name: 'orderSet', valueCode: 'SOT-HH' },
          { name: 'priority', valueCode: 'urgent' },
        ),
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const srs = r.body.entry.map((e: any) => e.resource);
      assert.equal(srs.length, 2, 'the blood count in the set is not ordered twice');
      const xray = srs.find((s: any) => s.code.coding[0].code === '99.2401.3004');
      assert.equal(xray.status, 'active');
      assert.equal(xray.intent, 'order');
      assert.equal(xray.priority, 'urgent');
      assert.equal(xray.performer[0].display, 'Khoa Chẩn đoán hình ảnh');
      assert.equal(xray.subject.reference, `Patient/${patient}`);
      assert.equal(xray.requester.reference, 'Practitioner/sen-demo-s-01');
      assert.equal(xray.category[0].coding[1].code, 'imaging');
      const dept = await call(doctor, xray.performer[0].reference, undefined, 'GET');
      assert.equal(dept.body.identifier[0].value, 'K07');
      const consult = await call(
        doctor,
        `Encounter/${encounter}/$order`,
        params({ name: 'service', valueCoding: { system: SERVICES, code: '99.1899.1001' } }),
      );
      assert.equal(consult.status, 422);
      const unknown = await call(
        doctor,
        `Encounter/${encounter}/$order`,
        params({ name: 'service', valueCoding: { system: SERVICES, code: '99.9999.9999' } }),
      );
      assert.equal(unknown.status, 400);
      assert.equal(
        (await call(receptionist, `Encounter/${encounter}/$order`, params({ name: 'orderSet', valueCode: 'SOT-HH' })))
          .status,
        403,
      );
    });

    it('finds drugs by ingredient or brand without diacritics', async () => {
      const r = await call(doctor, 'MedicationRequest/$drug-search?q=amlodipin', undefined, 'GET');
      assert.equal(r.status, 200);
      const d = r.body.parameter[0];
      assert.equal(partOf(d, 'code').valueCoding.code, 'DEMO-T010');
      assert.equal(partOf(d, 'ingredient').valueString, 'Amlodipin');
      assert.equal(partOf(d, 'strength').valueString, '5 mg');
      assert.equal(partOf(d, 'price').valueDecimal, 600);
      assert.equal(partOf(d, 'bhytCovered').valueBoolean, true);
      const brand = await call(doctor, 'MedicationRequest/$drug-search?q=senlodi', undefined, 'GET');
      assert.equal(partOf(brand.body.parameter[0], 'code').valueCoding.code, 'DEMO-T010');
    });

    it('prescribes with the national code, computed quantity, and checks that need acknowledging', async () => {
      const { encounter, patient } = await newVisit();
      await call(
        doctor,
        `Encounter/${encounter}/$set-diagnoses`,
        params({ name: 'main', valueCoding: { system: ICD, code: 'I10' } }),
      );
      const allergy = await fhirFetch(srv.fhir, 'AllergyIntolerance', {
        method: 'POST',
        body: {
          resourceType: 'AllergyIntolerance',
          meta: { tag: TAG },
          clinicalStatus: {
            coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }],
          },
          patient: { reference: `Patient/${patient}` },
          code: { text: 'Amoxicilin' },
        },
      });
      assert.equal(allergy.status, 201);
      const warned = await call(
        doctor,
        `Encounter/${encounter}/$prescribe`,
        params(
          item('DEMO-T004', 1, 2, 5),
          item('DEMO-T005', 1, 2, 5),
          item('DEMO-T031', 1, 1, 30),
          item('DEMO-T020', 1, 1, 30),
        ),
      );
      assert.equal(warned.status, 422);
      const codes = warned.body.issue.map((i: any) => i.details.coding[0].code).sort();
      assert.deepEqual(codes, [
        'allergy:DEMO-T004',
        'allergy:DEMO-T005',
        'duplicate:amoxicilin',
        'interaction:DEMO-T020+DEMO-T031',
      ]);
      assert.match(
        warned.body.issue.find((i: any) => i.details.coding[0].code.startsWith('interaction')).details.text,
        /clopidogrel/,
      );
      const tooLong = await call(doctor, `Encounter/${encounter}/$prescribe`, params(item('DEMO-T001', 1, 3, 31)));
      assert.equal(tooLong.status, 200, 'hypertension (I10) is on the chronic list: up to 90 days');
      const over90 = await call(doctor, `Encounter/${encounter}/$prescribe`, params(item('DEMO-T010', 1, 1, 91)));
      assert.equal(over90.status, 422);
      assert.equal(over90.body.issue[0].details.coding[0].code, 'day-limit:DEMO-T010');
      const ok = await call(
        doctor,
        `Encounter/${encounter}/$prescribe`,
        params(
          item('DEMO-T010', 1, 1, 30, [{ name: 'instructions', valueString: 'Uống buổi sáng' }]),
          item('DEMO-T031', 1, 1, 30),
          item('DEMO-T020', 0.5, 2, 7),
          { name: 'acknowledge', valueString: 'interaction:DEMO-T020+DEMO-T031' },
        ),
      );
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      const code = ok.body.parameter[0].valueString;
      assert.deepEqual(parseErxCode(code)?.facilityCode, '79999');
      assert.match(code, /^79999[0-9a-z]{7}-C$/);
      const mrs = ok.body.parameter.filter((p: P) => p.name === 'medicationRequest').map((p: any) => p.resource);
      assert.equal(mrs.length, 3);
      assert.ok(mrs.every((m: any) => m.groupIdentifier.value === code && m.status === 'active'));
      assert.equal(mrs[0].dispenseRequest.quantity.value, 30);
      assert.equal(mrs[2].dispenseRequest.quantity.value, 7);
      assert.equal(mrs[0].dosageInstruction[0].route.text, 'Uống');
      assert.equal(mrs[0].detectedIssue.length, 1);
      const di = await call(doctor, mrs[0].detectedIssue[0].reference, undefined, 'GET');
      assert.equal(di.body.code.coding[0].code, 'interaction:DEMO-T020+DEMO-T031');
      const { rows } = await srv.store.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM erx_code WHERE code = $1',
        [code],
      );
      assert.equal(rows[0].n, 1);
      assert.equal(
        (await call(nurse, `Encounter/${encounter}/$prescribe`, params(item('DEMO-T001', 1, 3, 3)))).status,
        403,
      );
    });

    it('needs weight and an accompanying adult for a child under 72 months', async () => {
      const birth = new Date(Date.now() - 3 * 365 * 86_400_000).toISOString().slice(0, 10);
      const { encounter } = await newVisit(birth);
      const r = await call(doctor, `Encounter/${encounter}/$prescribe`, params(item('DEMO-T002', 1, 3, 3)));
      assert.equal(r.status, 422);
      assert.deepEqual(
        r.body.issue.map((i: any) => i.details.coding[0].code),
        ['child-weight', 'child-guardian'],
      );
      const ack = await call(
        doctor,
        `Encounter/${encounter}/$prescribe`,
        params(item('DEMO-T002', 1, 3, 3), { name: 'acknowledge', valueString: 'child-weight' }),
      );
      assert.equal(ack.status, 422, 'legal requirements cannot be acknowledged away');
      await call(nurse, `Encounter/${encounter}/$record-vitals`, params({ name: 'weight', valueDecimal: 14 }));
      const ok = await call(
        doctor,
        `Encounter/${encounter}/$prescribe`,
        params(item('DEMO-T002', 1, 3, 3), { name: 'guardian', valueString: 'Nguyễn Thị Mẹ' }),
      );
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      const child = ok.body.parameter[1].resource.extension.find((e: any) => e.url.endsWith('erx-child'));
      assert.equal(child.extension.find((e: any) => e.url === 'weight').valueQuantity.value, 14);
      assert.equal(child.extension.find((e: any) => e.url === 'guardian').valueString, 'Nguyễn Thị Mẹ');
    });

    it('refuses every change to a sent prescription (409) and replaces it with a linked new one', async () => {
      const { encounter } = await newVisit();
      const ok = await call(doctor, `Encounter/${encounter}/$prescribe`, params(item('DEMO-T001', 1, 3, 5)));
      const code = ok.body.parameter[0].valueString;
      const mr = ok.body.parameter[1].resource;
      const put = await call(
        doctor,
        `MedicationRequest/${mr.id}`,
        { ...mr, dosageInstruction: [{ text: 'khác' }] },
        'PUT',
      );
      assert.equal(put.status, 409, JSON.stringify(put.body));
      assert.match(put.body.issue[0].diagnostics, new RegExp(`Đơn thuốc ${code} đã gửi`));
      const patch = await fhirFetch(srv.fhir, `MedicationRequest/${mr.id}`, {
        method: 'PATCH',
        body: [{ op: 'replace', path: '/status', value: 'cancelled' }],
        headers: { ...as(doctor), 'content-type': 'application/json-patch+json' },
      });
      assert.equal(patch.status, 409);
      // a doctor may not delete at all (403 from the gate); a client that may delete is refused by the guard
      assert.equal((await call(doctor, `MedicationRequest/${mr.id}`, undefined, 'DELETE')).status, 403);
      assert.equal((await fhirFetch(srv.fhir, `MedicationRequest/${mr.id}`, { method: 'DELETE' })).status, 409);
      const bundle = await call(doctor, '', {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { request: { method: 'PUT', url: `MedicationRequest/${mr.id}` }, resource: { ...mr, note: [{ text: 'x' }] } },
        ],
      });
      assert.equal(bundle.status, 409, JSON.stringify(bundle.body));
      const system = await fhirFetch(srv.fhir, `MedicationRequest/${mr.id}`, {
        method: 'PUT',
        body: { ...mr, status: 'stopped' },
      });
      assert.equal(system.status, 409, 'the server’s own clients are refused too');
      const rep = await call(
        doctor,
        'MedicationRequest/$replace-prescription',
        params({ name: 'prescriptionCode', valueString: code }, item('DEMO-T001', 1, 2, 5)),
      );
      assert.equal(rep.status, 200, JSON.stringify(rep.body));
      const newCode = rep.body.parameter[0].valueString;
      assert.notEqual(newCode, code);
      const newMr = rep.body.parameter.find((p: P) => p.name === 'medicationRequest').resource;
      assert.equal(newMr.priorPrescription.reference, `MedicationRequest/${mr.id}`);
      assert.equal(newMr.dispenseRequest.quantity.value, 10);
      const old = await call(doctor, `MedicationRequest/${mr.id}`, undefined, 'GET');
      assert.equal(old.body.status, 'stopped');
      assert.equal(old.body.dosageInstruction[0].text, mr.dosageInstruction[0].text);
      const twice = await call(
        doctor,
        'MedicationRequest/$replace-prescription',
        params({ name: 'prescriptionCode', valueString: code }, item('DEMO-T001', 1, 2, 5)),
      );
      assert.equal(twice.status, 409);
      const missing = await call(
        doctor,
        'MedicationRequest/$replace-prescription',
        params({ name: 'prescriptionCode', valueString: '79999zzzzzzz-C' }, item('DEMO-T001', 1, 2, 5)),
      );
      assert.equal(missing.status, 404);
    });

    it('concludes with a signature over a SHA-256 content hash; a finished encounter is refused edits and amended as a new version', async () => {
      const { encounter } = await newVisit();
      const early = await call(
        doctor,
        `Encounter/${encounter}/$conclude`,
        params({ name: 'outcome', valueCode: 'improved' }),
      );
      assert.equal(early.status, 422, 'no main diagnosis yet');
      await call(
        doctor,
        `Encounter/${encounter}/$set-diagnoses`,
        params({ name: 'main', valueCoding: { system: ICD, code: 'I10' } }),
      );
      await call(nurse, `Encounter/${encounter}/$record-vitals`, params({ name: 'pulse', valueDecimal: 70 }));
      assert.equal(
        (await call(nurse, `Encounter/${encounter}/$conclude`, params({ name: 'outcome', valueCode: 'improved' })))
          .status,
        403,
      );
      assert.equal(
        (await call(doctor, `Encounter/${encounter}/$conclude`, params({ name: 'outcome', valueCode: 'cured' })))
          .status,
        400,
      );
      const r = await call(
        doctor,
        `Encounter/${encounter}/$conclude`,
        params(
          { name: 'outcome', valueCode: 'improved' },
          { name: 'advice', valueString: 'Ăn nhạt, tái khám sau 1 tháng' },
        ),
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const enc = r.body.parameter[0].resource;
      const prov = r.body.parameter[1].resource;
      assert.equal(enc.status, 'finished');
      assert.ok(enc.period.end);
      assert.equal(prov.agent[0].who.reference, 'Practitioner/sen-demo-s-01');
      assert.equal(prov.agent[0].role[0].coding[0].code, 'doctor');
      assert.ok(prov.target.some((t: any) => t.reference === `Encounter/${encounter}/_history/${enc.meta.versionId}`));
      assert.ok(prov.target.some((t: any) => t.reference.startsWith('Observation/')));
      // recompute the hash from the signed versions
      const h = createHash('sha256');
      const refs = prov.target.map((t: any) => t.reference).sort();
      for (const ref of refs) {
        const v = await call(doctor, ref, undefined, 'GET');
        const { meta: _m, ...rest } = v.body;
        h.update(`${ref}\n${canonicalJson(rest)}\n`);
      }
      const hex = h.digest('hex');
      assert.equal(r.body.parameter[2].valueString, `sha256:${hex}`);
      assert.equal(prov.signature[0].data, Buffer.from(hex, 'hex').toString('base64'));
      // no edit of a finished encounter on any path
      assert.equal(
        (await call(doctor, `Encounter/${encounter}`, { ...enc, status: 'in-progress' }, 'PUT')).status,
        409,
      );
      assert.equal((await fhirFetch(srv.fhir, `Encounter/${encounter}`, { method: 'DELETE' })).status, 409);
      assert.equal(
        (await call(nurse, `Encounter/${encounter}/$record-vitals`, params({ name: 'pulse', valueDecimal: 71 })))
          .status,
        409,
      );
      assert.equal(
        (
          await call(
            doctor,
            `Encounter/${encounter}/$set-diagnoses`,
            params({ name: 'main', valueCoding: { system: ICD, code: 'J06.9' } }),
          )
        ).status,
        409,
      );
      assert.equal(
        (await call(doctor, `Encounter/${encounter}/$conclude`, params({ name: 'outcome', valueCode: 'recovered' })))
          .status,
        409,
      );
      const amend = await call(
        doctor,
        `Encounter/${encounter}/$conclude`,
        params(
          { name: 'outcome', valueCode: 'referred' },
          { name: 'amendReason', valueString: 'Ghi nhầm kết quả khám' },
        ),
      );
      assert.equal(amend.status, 200, JSON.stringify(amend.body));
      const amended = amend.body.parameter[0].resource;
      const prov2 = amend.body.parameter[1].resource;
      assert.equal(Number(amended.meta.versionId), Number(enc.meta.versionId) + 1);
      assert.equal(prov2.entity[0].what.reference, `Encounter/${encounter}/_history/${enc.meta.versionId}`);
      assert.equal(prov2.reason[0].text, 'Ghi nhầm kết quả khám');
      const before = await call(doctor, `Encounter/${encounter}/_history/${enc.meta.versionId}`, undefined, 'GET');
      assert.equal(
        before.body.extension.find((e: any) => e.url.endsWith('encounter-outcome')).valueCoding.code,
        'improved',
      );
    });

    it('keeps another facility’s doctor out of the chart (404)', async () => {
      const { encounter } = await newVisit();
      const r = await call(nurse, `Encounter/${encounter}/$record-vitals`, params({ name: 'pulse', valueDecimal: 70 }));
      const obsId = r.body.entry[0].resource.id;
      assert.equal((await call(otherDoctor, `Encounter/${encounter}`, undefined, 'GET')).status, 404);
      assert.equal((await call(otherDoctor, `Observation/${obsId}`, undefined, 'GET')).status, 404);
      assert.equal(
        (await call(otherDoctor, `Encounter/${encounter}/$record-vitals`, params({ name: 'pulse', valueDecimal: 70 })))
          .status,
        404,
      );
      assert.equal(
        (
          await call(
            otherDoctor,
            `Encounter/${encounter}/$set-diagnoses`,
            params({ name: 'main', valueCoding: { system: ICD, code: 'I10' } }),
          )
        ).status,
        404,
      );
    });
  });
}

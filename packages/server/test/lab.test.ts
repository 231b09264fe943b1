import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testEngines } from '@sen/db/testing';
import { AnalyzerImportError, importAnalyzerResults } from '../src/capabilities/lab/analyzer-import.ts';
import { barcodeValid, checkDigit } from '../src/capabilities/lab/model.ts';
import { CATALOG_URLS } from '../src/capabilities/terminology/kinds.ts';
import { VISIT_TYPE_SYSTEM } from '../src/capabilities/visits/encounter.ts';
import { createAccessContext } from '../src/platform/gate/context.ts';
import { FACILITY_TAG_SYSTEM } from '../src/platform/gate/gate.ts';
import { HOSPITAL_ID } from '../src/seed/demo-facility.ts';
import { seedDemo } from '../src/seed/seed.ts';
import { fhirFetch, startTestServer, type TestServer } from './harness.ts';
import { SHARED_DIR } from './shared-data.ts';
import { staffLogin } from './staff-login.ts';

const TAG = [{ system: FACILITY_TAG_SYSTEM, code: HOSPITAL_ID }];
const SERVICES = CATALOG_URLS.services;
const BLOOD_COUNT = '99.2301.2001';
const GLUCOSE = '99.2302.2101';
const CREATININE = '99.2302.2104';
const ELECTROLYTES = '99.2302.2109';
const XRAY = '99.2401.3004';
const WBC = '9900019';
const RBC = '9900020';
const HB = '9900021';
const HCT = '9900022';
const PLT = '9900023';

type P = { name: string; [k: string]: unknown };
const params = (...parameter: P[]): unknown => ({ resourceType: 'Parameters', parameter });
const result = (code: string, value: string, extra: P[] = []): P => ({
  name: 'result',
  part: [{ name: 'code', valueCode: code }, { name: 'value', valueString: value }, ...extra],
});
const flagOf = (o: any): string | undefined => o.interpretation?.[0]?.coding?.[0]?.code;
const labCode = (o: any): string | undefined =>
  o.code.coding.find((c: any) => c.system === CATALOG_URLS.labIndicators)?.code;

for (const engine of testEngines()) {
  describe(`lab: worklist, specimen, results, flags, critical alerts, sign-off [${engine}]`, () => {
    let srv: TestServer;
    let doctor: string;
    let tech: string;
    let receptionist: string;
    let otherTech: string;
    const DOCTOR_ID = 'sen-demo-s-01';
    const as = (token: string) => ({ authorization: `Bearer ${token}` });
    const call = (token: string, path: string, body?: unknown, method?: string) =>
      fhirFetch(srv.fhir, path, { method: method ?? (body === undefined ? 'GET' : 'POST'), body, headers: as(token) });
    const text = (r: { body: any }): string => r.body.issue?.[0]?.details?.text ?? '';

    async function newVisit(
      opts: { birthDate?: string; gender?: string; visitType?: string; room?: string } = {},
    ): Promise<{ patient: string; encounter: string }> {
      const pt = await fhirFetch(srv.fhir, 'Patient', {
        method: 'POST',
        body: {
          resourceType: 'Patient',
          meta: { tag: TAG },
          name: [{ family: 'Trần', given: ['Thị Lan'] }],
          birthDate: opts.birthDate ?? '1980-03-01',
          gender: opts.gender ?? 'male',
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
          ...(opts.visitType ? { type: [{ coding: [{ system: VISIT_TYPE_SYSTEM, code: opts.visitType }] }] } : {}),
          ...(opts.room
            ? { location: [{ location: { reference: `Location/${opts.room}`, display: 'Phòng khám Nội 1' } }] }
            : {}),
          subject: { reference: `Patient/${pt.body.id}` },
        },
      });
      assert.equal(enc.status, 201);
      return { patient: pt.body.id, encounter: enc.body.id };
    }

    async function order(encounter: string, service: string, priority = 'routine'): Promise<any> {
      const r = await call(
        doctor,
        `Encounter/${encounter}/$order`,
        params(
          { name: 'service', valueCoding: { system: SERVICES, code: service } },
          { name: 'priority', valueCode: priority },
        ),
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.entry[0].resource;
    }

    /** Ordered, collected and received: the order's id and the specimen's barcode. */
    async function received(
      service: string,
      opts: Parameters<typeof newVisit>[0] = {},
    ): Promise<{ sr: string; barcode: string; patient: string; encounter: string }> {
      const v = await newVisit(opts);
      const sr = await order(v.encounter, service);
      const s = await call(tech, `ServiceRequest/${sr.id}/$collect-specimen`, params());
      assert.equal(s.status, 201, JSON.stringify(s.body));
      const barcode = s.body.accessionIdentifier.value;
      const r = await call(tech, 'Specimen/$receive', params({ name: 'barcode', valueString: barcode }));
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return { sr: sr.id, barcode, ...v };
    }

    before(async () => {
      srv = await startTestServer(engine);
      await seedDemo(srv.router, { sharedDir: SHARED_DIR, patients: 1 });
      const login = (username: string, practitionerId: string, roles: any[], facilityId = HOSPITAL_ID) =>
        staffLogin(srv, { username, practitionerId, roles, facilityId }).then((l) => l.token);
      doctor = await login('bs.lab', DOCTOR_ID, ['doctor']);
      tech = await login('ktv.lab', 'sen-demo-s-12', ['lab-technician']);
      receptionist = await login('td.lab', 'sen-demo-s-11', ['receptionist']);
      otherTech = await login('ktv.khac', 'other-tech', ['lab-technician'], 'other-hospital');
    });
    after(async () => {
      await srv?.close();
    });

    it('runs an order from the worklist to a signed report, with a critical value alerting the ordering doctor', async () => {
      const v = await newVisit({ room: 'lab-test-room' });
      const routine = await order(v.encounter, BLOOD_COUNT);
      const urgent = await order(v.encounter, GLUCOSE, 'urgent');
      const list = await call(tech, 'ServiceRequest/$lab-worklist?status=ordered');
      assert.equal(list.status, 200, JSON.stringify(list.body));
      const ids = list.body.entry.filter((e: any) => e.search.mode === 'match').map((e: any) => e.resource.id);
      assert.ok(ids.indexOf(urgent.id) >= 0 && ids.indexOf(urgent.id) < ids.indexOf(routine.id), 'urgent first');
      assert.ok(list.body.entry.some((e: any) => e.resource.resourceType === 'Patient' && e.resource.id === v.patient));
      const inRoom = await call(tech, 'ServiceRequest/$lab-worklist?room=lab-test-room');
      assert.deepEqual(
        inRoom.body.entry.filter((e: any) => e.search.mode === 'match').map((e: any) => e.resource.id),
        [urgent.id, routine.id],
      );
      const yesterday = new Date(Date.now() - 86_400_000 + 7 * 3_600_000).toISOString().slice(0, 10);
      const before = await call(tech, `ServiceRequest/$lab-worklist?date=${yesterday}`);
      assert.ok(!before.body.entry.some((e: any) => e.resource.id === routine.id), 'orders of today only');
      const onlyUrgent = await call(tech, 'ServiceRequest/$lab-worklist?priority=urgent');
      assert.ok(onlyUrgent.body.entry.every((e: any) => e.search.mode !== 'match' || e.resource.priority === 'urgent'));

      const collected = await call(tech, `ServiceRequest/${routine.id}/$collect-specimen`, params());
      assert.equal(collected.status, 201, JSON.stringify(collected.body));
      const specimen = collected.body;
      const barcode: string = specimen.accessionIdentifier.value;
      assert.equal(specimen.accessionIdentifier.system, 'https://sen.health.vn/fhir/sid/specimen-barcode');
      assert.match(barcode, /^\d{11}$/);
      assert.ok(barcodeValid(barcode));
      assert.equal(specimen.request[0].reference, `ServiceRequest/${routine.id}`);
      assert.equal(specimen.subject.reference, `Patient/${v.patient}`);
      const again = await call(tech, `ServiceRequest/${routine.id}/$collect-specimen`, params());
      assert.equal(again.status, 409);
      const second = await call(tech, `ServiceRequest/${urgent.id}/$collect-specimen`, params());
      assert.notEqual(second.body.accessionIdentifier.value, barcode, 'barcodes are unique');

      const early = await call(tech, `ServiceRequest/${routine.id}/$enter-results`, params(result(WBC, '5')));
      assert.equal(early.status, 409);
      assert.match(text(early), /chưa được nhận/);
      const rec = await call(tech, 'Specimen/$receive', params({ name: 'barcode', valueString: barcode }));
      assert.equal(rec.status, 200, JSON.stringify(rec.body));
      assert.ok(rec.body.entry[0].resource.receivedTime);
      assert.equal(
        (await call(tech, 'Specimen/$receive', params({ name: 'barcode', valueString: barcode }))).status,
        409,
      );

      const form = await call(tech, `ServiceRequest/${routine.id}/$lab-form`);
      assert.equal(form.status, 200);
      const rows = form.body.parameter.filter((p: any) => p.name === 'indicator');
      assert.deepEqual(
        rows.map((r: any) => r.part.find((x: any) => x.name === 'code').valueCode),
        [WBC, RBC, HB, HCT, PLT],
      );
      const hbRow = rows.find((r: any) => r.part[0].valueCode === HB);
      assert.equal(hbRow.part.find((x: any) => x.name === 'low').valueDecimal, 130, 'male adult range');
      assert.equal(hbRow.part.find((x: any) => x.name === 'unit').valueString, 'g/L');

      const entered = await call(
        tech,
        `ServiceRequest/${routine.id}/$enter-results`,
        params(
          result(WBC, '1,5'),
          result(RBC, '4.6'),
          result(HB, '128'),
          result(HCT, '0.44'),
          result(PLT, '250', [{ name: 'unit', valueString: 'G/L' }]),
        ),
      );
      assert.equal(entered.status, 200, JSON.stringify(entered.body));
      const res = entered.body.entry.map((e: any) => e.resource);
      const report = res.find((r: any) => r.resourceType === 'DiagnosticReport');
      const obs = res.filter((r: any) => r.resourceType === 'Observation');
      const alerts = res.filter((r: any) => r.resourceType === 'Communication');
      assert.equal(report.status, 'preliminary');
      assert.equal(report.basedOn[0].reference, `ServiceRequest/${routine.id}`);
      assert.equal(report.encounter.reference, `Encounter/${v.encounter}`);
      assert.equal(report.subject.reference, `Patient/${v.patient}`);
      assert.equal(report.category[0].coding[0].code, 'LAB');
      assert.equal(report.category[0].coding[0].system, 'http://terminology.hl7.org/CodeSystem/v2-0074');
      assert.equal(report.result.length, 5);
      const byCode = (c: string) => obs.find((o: any) => labCode(o) === c);
      assert.equal(byCode(WBC).valueQuantity.value, 1.5);
      assert.equal(byCode(WBC).valueQuantity.code, '10*9/L');
      assert.equal(flagOf(byCode(WBC)), 'LL');
      assert.equal(flagOf(byCode(HB)), 'L');
      assert.equal(flagOf(byCode(PLT)), 'N');
      assert.equal(byCode(HB).referenceRange[0].low.value, 130);
      assert.equal(byCode(HB).code.coding[0].system, 'http://loinc.org');
      assert.equal(byCode(HB).status, 'preliminary');
      assert.equal(alerts.length, 1);
      const alert = alerts[0];
      assert.equal(alert.recipient[0].reference, `Practitioner/${DOCTOR_ID}`);
      assert.equal(alert.encounter.reference, `Encounter/${v.encounter}`);
      assert.equal(alert.category[0].coding[0].code, 'alert');
      assert.equal(alert.status, 'in-progress');
      assert.match(alert.payload[0].contentString, /bạch cầu.*1\.5.*LL/);
      // the doctor's chart finds it by encounter
      const onChart = await call(doctor, `Communication?encounter=Encounter/${v.encounter}&status=in-progress`);
      assert.equal(onChart.body.entry.length, 1);

      const resulted = await call(tech, 'ServiceRequest/$lab-worklist?status=resulted');
      assert.ok(resulted.body.entry.some((e: any) => e.resource.id === routine.id));

      assert.equal(
        (await call(doctor, `ServiceRequest/${routine.id}/$sign-results`, params())).status,
        409,
        'not verified',
      );
      assert.equal((await call(doctor, `ServiceRequest/${routine.id}/$verify-results`, params())).status, 403);
      const verified = await call(tech, `ServiceRequest/${routine.id}/$verify-results`, params());
      assert.equal(verified.status, 200, JSON.stringify(verified.body));
      assert.ok(verified.body.extension.some((e: any) => e.url.endsWith('/lab-verification')));
      const late = await call(tech, `ServiceRequest/${routine.id}/$enter-results`, params(result(WBC, '6')));
      assert.equal(late.status, 409);
      assert.equal(
        (await call(tech, `ServiceRequest/${routine.id}/$sign-results`, params())).status,
        403,
        'technician',
      );
      const signed = await call(doctor, `ServiceRequest/${routine.id}/$sign-results`, params());
      assert.equal(signed.status, 200, JSON.stringify(signed.body));
      assert.equal(signed.body.status, 'final');
      assert.equal(signed.body.resultsInterpreter[0].reference, `Practitioner/${DOCTOR_ID}`);
      const finalObs = await call(doctor, `Observation?based-on=ServiceRequest/${routine.id}`);
      assert.equal(finalObs.body.entry.length, 5);
      assert.ok(finalObs.body.entry.every((e: any) => e.resource.status === 'final'));
      const sr = await call(doctor, `ServiceRequest/${routine.id}`);
      assert.equal(sr.body.status, 'completed');

      assert.equal((await call(receptionist, `Communication/${alert.id}/$acknowledge`, params())).status, 403);
      const ack = await call(doctor, `Communication/${alert.id}/$acknowledge`, params());
      assert.equal(ack.status, 200, JSON.stringify(ack.body));
      assert.equal(ack.body.status, 'completed');
      assert.ok(ack.body.received);
      const ackExt = ack.body.extension.find((e: any) => e.url.endsWith('/alert-acknowledgement'));
      assert.equal(
        ackExt.extension.find((e: any) => e.url === 'by').valueReference.reference,
        `Practitioner/${DOCTOR_ID}`,
      );
      const twice = await call(doctor, `Communication/${alert.id}/$acknowledge`, params());
      assert.equal(twice.status, 409);
      assert.match(text(twice), /đã được xác nhận/);
    });

    it('answers bad input with readable 400/404/409/422', async () => {
      const { sr, encounter } = await received(BLOOD_COUNT);
      const unknown = await call(tech, `ServiceRequest/${sr}/$enter-results`, params(result('9900001', '5')));
      assert.equal(unknown.status, 400);
      assert.match(text(unknown), /không thuộc xét nghiệm/);
      const nan = await call(tech, `ServiceRequest/${sr}/$enter-results`, params(result(WBC, 'nhiều')));
      assert.equal(nan.status, 400);
      assert.match(text(nan), /phải là số/);
      const unit = await call(
        tech,
        `ServiceRequest/${sr}/$enter-results`,
        params(result(WBC, '5', [{ name: 'unit', valueString: 'mmol/L' }])),
      );
      assert.equal(unit.status, 400);
      assert.match(text(unit), /Đơn vị/);
      const none = await call(tech, `ServiceRequest/${sr}/$enter-results`, params());
      assert.equal(none.status, 400);
      const twice = await call(tech, `ServiceRequest/${sr}/$enter-results`, params(result(WBC, '5'), result(WBC, '6')));
      assert.equal(twice.status, 400);
      const partial = await call(tech, `ServiceRequest/${sr}/$enter-results`, params(result(WBC, '5')));
      assert.equal(partial.status, 200);
      const incomplete = await call(tech, `ServiceRequest/${sr}/$verify-results`, params());
      assert.equal(incomplete.status, 409);
      assert.match(text(incomplete), /Chưa đủ kết quả/);
      // entering a value again replaces the unverified one (same Observation)
      const first = partial.body.entry.find((e: any) => e.resource.resourceType === 'Observation').resource;
      const replaced = await call(tech, `ServiceRequest/${sr}/$enter-results`, params(result(WBC, '7')));
      const again = replaced.body.entry.find((e: any) => e.resource.resourceType === 'Observation').resource;
      assert.equal(again.id, first.id);
      assert.equal(again.valueQuantity.value, 7);

      assert.equal((await call(tech, 'ServiceRequest/nope/$collect-specimen', params())).status, 404);
      const xray = await order(encounter, XRAY);
      const notLab = await call(tech, `ServiceRequest/${xray.id}/$lab-form`);
      assert.equal(notLab.status, 422);
      assert.match(text(notLab), /không phải chỉ định xét nghiệm/);
      const badBarcode = await call(tech, 'Specimen/$receive', params({ name: 'barcode', valueString: '12345' }));
      assert.equal(badBarcode.status, 400);
      const body = '2001019999';
      const unknownBarcode = await call(
        tech,
        'Specimen/$receive',
        params({ name: 'barcode', valueString: body + checkDigit(body) }),
      );
      assert.equal(unknownBarcode.status, 404);
      assert.equal((await call(tech, 'Specimen/$receive', params())).status, 400);
      assert.equal((await call(tech, 'ServiceRequest/$lab-worklist?status=done')).status, 400);
      assert.equal((await call(tech, 'ServiceRequest/$lab-worklist?date=03-12-2026')).status, 400);
      assert.equal((await call(receptionist, `ServiceRequest/${sr}/$collect-specimen`, params())).status, 403);
      const notAlert = await fhirFetch(srv.fhir, 'Communication', {
        method: 'POST',
        body: { resourceType: 'Communication', meta: { tag: TAG }, status: 'in-progress' },
      });
      assert.equal((await call(doctor, `Communication/${notAlert.body.id}/$acknowledge`, params())).status, 422);
    });

    it('flags by the range for the patient’s sex and age, and critical limits', async () => {
      const enter = async (service: string, who: Parameters<typeof newVisit>[0], code: string, value: string) => {
        const { sr } = await received(service, who);
        const r = await call(tech, `ServiceRequest/${sr}/$enter-results`, params(result(code, value)));
        assert.equal(r.status, 200, JSON.stringify(r.body));
        const o = r.body.entry.find((e: any) => e.resource.resourceType === 'Observation').resource;
        return {
          flag: flagOf(o),
          alerts: r.body.entry.filter((e: any) => e.resource.resourceType === 'Communication').length,
          o,
        };
      };
      const man = { gender: 'male', birthDate: '1980-01-01' };
      const woman = { gender: 'female', birthDate: '1980-01-01' };
      const child = { gender: 'female', birthDate: `${new Date().getUTCFullYear() - 10}-01-01` };
      assert.equal((await enter(BLOOD_COUNT, man, HB, '125')).flag, 'L');
      assert.equal((await enter(BLOOD_COUNT, woman, HB, '125')).flag, 'N');
      const kid = await enter(BLOOD_COUNT, child, HB, '118');
      assert.equal(kid.flag, 'N');
      assert.equal(kid.o.referenceRange[0].low.value, 115);
      assert.equal((await enter(CREATININE, man, '9900004', '90')).flag, 'N');
      assert.equal((await enter(CREATININE, woman, '9900004', '90')).flag, 'H');
      const lowHb = await enter(BLOOD_COUNT, woman, HB, '65');
      assert.equal(lowHb.flag, 'LL');
      assert.equal(lowHb.alerts, 1);
      const potassium = await enter(ELECTROLYTES, man, '9900016', '6.8');
      assert.equal(potassium.flag, 'HH');
      assert.equal(potassium.alerts, 1);
      const high = await enter(GLUCOSE, man, '9900001', '9.1');
      assert.equal(high.flag, 'H');
      assert.equal(high.alerts, 0);
    });

    it('refuses another facility and holds unpaid fee-paying orders', async () => {
      const v = await newVisit();
      const sr = await order(v.encounter, GLUCOSE);
      const other = await call(otherTech, `ServiceRequest/${sr.id}/$collect-specimen`, params());
      assert.ok(other.status === 404 || other.status === 403, String(other.status));
      const otherList = await call(otherTech, 'ServiceRequest/$lab-worklist');
      assert.equal(otherList.status, 200);
      assert.ok(!otherList.body.entry.some((e: any) => e.resource.id === sr.id));

      const fee = await newVisit({ visitType: 'fee' });
      const held = await order(fee.encounter, GLUCOSE);
      const list = await call(tech, 'ServiceRequest/$lab-worklist?status=ordered');
      const row = list.body.entry.find((e: any) => e.resource.id === held.id);
      assert.ok(row.resource.extension.some((e: any) => e.url.endsWith('/awaiting-payment') && e.valueBoolean));
      const refused = await call(tech, `ServiceRequest/${held.id}/$collect-specimen`, params());
      assert.equal(refused.status, 409);
      assert.match(text(refused), /Chờ thanh toán/);
      assert.match(text(refused), /Awaiting payment/);
    });

    it('hands out unique barcodes to concurrent collections', async () => {
      const v = await newVisit();
      const orders = [];
      for (const service of [GLUCOSE, CREATININE, ELECTROLYTES, BLOOD_COUNT]) {
        orders.push(await order(v.encounter, service));
      }
      const collected = await Promise.all(
        orders.map((o) => call(tech, `ServiceRequest/${o.id}/$collect-specimen`, params())),
      );
      assert.deepEqual(
        collected.map((c) => c.status),
        [201, 201, 201, 201],
      );
      const codes = collected.map((c) => c.body.accessionIdentifier.value as string);
      assert.equal(new Set(codes).size, 4);
      assert.ok(codes.every(barcodeValid));
    });

    it('imports analyzer results by barcode (contract 2): preliminary, flagged, critical alerts, typed errors', async () => {
      const access = createAccessContext({
        kind: 'system',
        clientId: 'analyzer-test',
        facilityId: HOSPITAL_ID,
        scopes: [{ context: 'system', type: '*', interactions: new Set(['c', 'r', 'u', 's']) }],
      });
      const v = await newVisit();
      const sr = await order(v.encounter, ELECTROLYTES);
      const s = await call(tech, `ServiceRequest/${sr.id}/$collect-specimen`, params());
      const barcode = s.body.accessionIdentifier.value;
      const out = await importAnalyzerResults(srv.router, access, {
        barcode,
        analyzer: 'AU480',
        messageControlId: 'MSG0001',
        results: [
          { code: '2951-2', system: 'LN', value: '138', unit: 'mmol/L' },
          {
            code: '2823-3',
            system: 'http://loinc.org',
            value: '7.1',
            unit: 'mmol/L',
            observedAt: '2026-12-03T08:00:00+07:00',
          },
          { code: '9900017', value: '101' },
        ],
      });
      assert.equal(out.critical, true);
      assert.equal(out.observationIds.length, 3);
      const dr = await call(doctor, `DiagnosticReport/${out.diagnosticReportId}`);
      assert.equal(dr.body.status, 'preliminary');
      assert.equal(dr.body.basedOn[0].reference, `ServiceRequest/${sr.id}`);
      const k = await call(doctor, `Observation/${out.observationIds[1]}`);
      assert.equal(k.body.status, 'preliminary');
      assert.equal(flagOf(k.body), 'HH');
      assert.equal(k.body.device.display, 'AU480');
      const alerts = await call(doctor, `Communication?encounter=Encounter/${v.encounter}`);
      assert.equal(alerts.body.entry.length, 1);
      const after = await call(tech, `ServiceRequest/${sr.id}`);
      assert.equal(after.body.extension.find((e: any) => e.url.endsWith('/lab-status')).valueCode, 'resulted');

      const fail = async (input: any, code: string) => {
        await assert.rejects(
          importAnalyzerResults(srv.router, access, { analyzer: 'AU480', messageControlId: 'X', ...input }),
          (err: unknown) => err instanceof AnalyzerImportError && err.code === code,
        );
      };
      await fail({ barcode: '999', results: [{ code: '2951-2', value: '1' }] }, 'unknown-specimen');
      await fail({ barcode, results: [{ code: '718-7', system: 'LN', value: '1' }] }, 'unknown-test');
      await fail({ barcode, results: [{ code: '2951-2', system: 'LN', value: 'x' }] }, 'invalid-value');
      assert.equal((await call(tech, `ServiceRequest/${sr.id}/$verify-results`, params())).status, 200);
      await fail({ barcode, results: [{ code: '2951-2', system: 'LN', value: '140' }] }, 'no-pending-order');
    });
  });
}

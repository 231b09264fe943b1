import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testEngines } from '@sen/db/testing';
import { CATALOG_URLS } from '../src/capabilities/terminology/kinds.ts';
import { FACILITY_TAG_SYSTEM } from '../src/platform/gate/gate.ts';
import { vietnamDay } from '@sen/vn';
import { HOSPITAL_ID } from '../src/seed/demo-facility.ts';
import { seedDemo } from '../src/seed/seed.ts';
import { addDispensed, takeFromLot } from '../src/capabilities/pharmacy/stock.ts';
import { fhirFetch, startTestServer, type TestServer } from './harness.ts';
import { SHARED_DIR } from './shared-data.ts';
import { staffLogin } from './staff-login.ts';

const TAG = [{ system: FACILITY_TAG_SYSTEM, code: HOSPITAL_ID }];
const DRUGS = CATALOG_URLS.drugs;
const PHARMACY = 'sen-demo-loc-k08-r1'; // Nhà thuốc bệnh viện
const STORE = 'sen-demo-loc-k08-r2'; // Kho dược
const K08 = 'sen-demo-dept-k08';

type P = { name: string; [k: string]: unknown };
const params = (...parameter: P[]): unknown => ({ resourceType: 'Parameters', parameter });
const item = (code: string, dose: number, times: number, days: number): P => ({
  name: 'item',
  part: [
    { name: 'drug', valueCoding: { system: DRUGS, code } },
    { name: 'dosePerTime', valueDecimal: dose },
    { name: 'timesPerDay', valueInteger: times },
    { name: 'days', valueInteger: days },
  ],
});
const day = (offset: number): string => vietnamDay(new Date(Date.now() + offset * 86_400_000));
const stock = (
  drug: string,
  lot: string,
  expiry: string,
  quantity: number | string,
  unitPrice: number | string,
): P => ({
  name: 'item',
  part: [
    { name: 'drug', valueCoding: { system: DRUGS, code: drug } },
    { name: 'lot', valueString: lot },
    { name: 'expiry', valueDate: expiry },
    { name: typeof quantity === 'number' ? 'quantity' : 'quantity', valueDecimal: Number(quantity) },
    typeof unitPrice === 'number'
      ? { name: 'unitPrice', valueDecimal: unitPrice }
      : { name: 'unitPrice', valueString: unitPrice },
  ],
});
const line = (mr: string, quantity: number, lot?: string): P => ({
  name: 'line',
  part: [
    { name: 'medicationRequest', valueReference: { reference: `MedicationRequest/${mr}` } },
    { name: 'quantity', valueDecimal: quantity },
    ...(lot ? [{ name: 'lot', valueString: lot }] : []),
  ],
});
const partOf = (p: { part?: P[] }, name: string): any => p.part?.find((x) => x.name === name);
const partsOf = (p: { part?: P[] }, name: string): any[] => (p.part ?? []).filter((x) => x.name === name);

for (const engine of testEngines()) {
  describe(`pharmacy: dispensing, stock receipts and the stock report [${engine}]`, () => {
    let srv: TestServer;
    let doctor: string;
    let pharmacist: string;
    let nurse: string;
    let demoReport: { status: number; body: any };
    const call = (token: string, path: string, body?: unknown) =>
      fhirFetch(srv.fhir, path, {
        method: body === undefined ? 'GET' : 'POST',
        body,
        headers: { authorization: `Bearer ${token}` },
      });

    /** A visit with a sent prescription; returns its code and lines by drug code. */
    async function prescription(
      ...items: P[]
    ): Promise<{ code: string; lines: Map<string, string>; encounter: string }> {
      const pt = await fhirFetch(srv.fhir, 'Patient', {
        method: 'POST',
        body: {
          resourceType: 'Patient',
          meta: { tag: TAG },
          name: [{ family: 'Trần', given: ['Thị Bình'] }],
          birthDate: '1968-03-02',
          gender: 'female',
        },
      });
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
      const r = await call(doctor, `Encounter/${enc.body.id}/$prescribe`, params(...items));
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const code = r.body.parameter.find((p: P) => p.name === 'prescriptionCode').valueString;
      const lines = new Map<string, string>();
      for (const p of r.body.parameter.filter((x: P) => x.name === 'medicationRequest')) {
        lines.set(p.resource.medicationCodeableConcept.coding[0].code, p.resource.id);
      }
      return { code, lines, encounter: enc.body.id };
    }

    async function lotsOf(
      drug: string,
      warehouse = PHARMACY,
    ): Promise<{ lotNumber: string; quantity: number; id: string; state: string }[]> {
      const r = await call(
        pharmacist,
        `Medication/$stock-report?warehouse=${warehouse}&drug=${drug}&includeEmpty=true`,
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.parameter
        .filter((p: P) => p.name === 'row')
        .map((p: any) => ({
          lotNumber: partOf(p, 'lotNumber').valueString,
          quantity: partOf(p, 'quantity').valueDecimal,
          id: partOf(p, 'lotId').valueString,
          state: partOf(p, 'state').valueCode,
        }));
    }

    before(async () => {
      srv = await startTestServer(engine);
      await seedDemo(srv.router, { sharedDir: SHARED_DIR, patients: 1 });
      demoReport = await fhirFetch(srv.fhir, `Medication/$stock-report?warehouse=${PHARMACY}`);
      // the tests below count every lot themselves: start them from empty warehouses
      await srv.store.db.query('DELETE FROM stock_movement');
      await srv.store.db.query('DELETE FROM stock_lot');
      const login = (username: string, practitionerId: string, roles: any[], departmentIds?: string[]) =>
        staffLogin(srv, { username, practitionerId, roles, facilityId: HOSPITAL_ID, departmentIds }).then(
          (l) => l.token,
        );
      doctor = await login('bs.pharmacy', 'sen-demo-s-01', ['doctor']);
      pharmacist = await login('ds.pharmacy', 'sen-demo-s-15', ['pharmacist'], [K08]);
      nurse = await login('dd.pharmacy', 'sen-demo-s-07', ['nurse']);
    });
    after(async () => {
      await srv?.close();
    });

    it('the demo seed stocks every demo drug in the pharmacy, one lot of each near expiry', async () => {
      assert.equal(demoReport.status, 200, JSON.stringify(demoReport.body));
      const rows = demoReport.body.parameter.filter((p: P) => p.name === 'row');
      const drugs = new Set(rows.map((r: any) => partOf(r, 'drug').valueCoding.code));
      assert.ok(drugs.has('DEMO-T001') && drugs.size >= 30, `drugs: ${drugs.size}`);
      assert.equal(rows.filter((r: any) => partOf(r, 'state').valueCode === 'near-expiry').length, drugs.size);
      const t001 = rows.find((r: any) => partOf(r, 'drug').valueCoding.code === 'DEMO-T001');
      assert.equal(partOf(t001, 'unitPrice').valueString, '360', '80 % of the catalog price 450');
    });

    it('receives goods with exact decimal prices; expired lots, bad prices and non-pharmacists are refused', async () => {
      const r = await call(
        pharmacist,
        'Medication/$receive-stock',
        params(
          { name: 'warehouse', valueString: STORE },
          { name: 'receiptNumber', valueString: 'PN-0001' },
          stock('DEMO-T010', 'R-01', day(400), 3, '0.1'),
          stock('DEMO-T010', 'R-02', day(500), 7, '0.2'),
          stock('DEMO-T011', 'R-03', day(600), 3, '1234567.89'),
        ),
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
      // 3 × 0.1 + 7 × 0.2 + 3 × 1234567.89 = 3703705.37 exactly (binary floating point gives 0.30000000000000004 for the first)
      assert.equal(r.body.parameter.find((p: P) => p.name === 'totalValue').valueString, '3703705.37');
      assert.equal(r.body.parameter.filter((p: P) => p.name === 'lot').length, 3);
      // the same lot again tops it up
      const again = await call(
        pharmacist,
        'Medication/$receive-stock',
        params({ name: 'warehouse', valueString: STORE }, stock('DEMO-T010', 'R-01', day(400), 2, '0.1')),
      );
      assert.equal(again.status, 200);
      assert.equal((await lotsOf('DEMO-T010', STORE)).find((l) => l.lotNumber === 'R-01')?.quantity, 5);
      const otherExpiry = await call(
        pharmacist,
        'Medication/$receive-stock',
        params({ name: 'warehouse', valueString: STORE }, stock('DEMO-T010', 'R-01', day(401), 2, '0.1')),
      );
      assert.equal(otherExpiry.status, 422);
      assert.match(otherExpiry.body.issue[0].details.text, /đã có trong kho với hạn dùng/);
      const expired = await call(
        pharmacist,
        'Medication/$receive-stock',
        params({ name: 'warehouse', valueString: STORE }, stock('DEMO-T010', 'OLD', day(-1), 2, '100')),
      );
      assert.equal(expired.status, 422);
      assert.match(expired.body.issue[0].details.text, /đã hết hạn/);
      const badPrice = await call(
        pharmacist,
        'Medication/$receive-stock',
        params({ name: 'warehouse', valueString: STORE }, stock('DEMO-T010', 'X', day(100), 2, '12.345')),
      );
      assert.equal(badPrice.status, 400);
      assert.equal(badPrice.body.issue[0].expression[0], 'item[0].unitPrice');
      const unknownDrug = await call(
        pharmacist,
        'Medication/$receive-stock',
        params({ name: 'warehouse', valueString: STORE }, stock('NO-SUCH', 'X', day(100), 2, '1')),
      );
      assert.equal(unknownDrug.status, 400);
      const byNurse = await call(
        nurse,
        'Medication/$receive-stock',
        params({ name: 'warehouse', valueString: STORE }, stock('DEMO-T010', 'X', day(100), 2, '1')),
      );
      assert.equal(byNurse.status, 403);
      const otherDept = await call(
        pharmacist,
        'Medication/$receive-stock',
        params({ name: 'warehouse', valueString: 'sen-demo-loc-k06-r1' }, stock('DEMO-T010', 'X', day(100), 2, '1')),
      );
      assert.equal(otherDept.status, 403);
    });

    it('finds a prescription by code or patient, dispenses partly FEFO, then from a chosen lot, never above the prescription', async () => {
      const rx = await prescription(item('DEMO-T001', 1, 2, 5), item('DEMO-T004', 1, 3, 5)); // 10 and 15
      const received = await call(
        pharmacist,
        'Medication/$receive-stock',
        params(
          { name: 'warehouse', valueString: PHARMACY },
          stock('DEMO-T001', 'A-LATE', day(700), 6, 450.5),
          stock('DEMO-T001', 'B-SOON', day(300), 8, 400),
          stock('DEMO-T004', 'C-1', day(500), 20, '1100.25'),
        ),
      );
      assert.equal(received.status, 200, JSON.stringify(received.body));
      assert.equal(received.body.parameter.find((p: P) => p.name === 'totalValue').valueString, '27908');

      const found = await call(
        pharmacist,
        `MedicationRequest/$dispensable?code=${rx.code.toUpperCase()}&warehouse=${PHARMACY}`,
      );
      assert.equal(found.status, 200, JSON.stringify(found.body));
      const p = found.body.parameter[0];
      assert.equal(partOf(p, 'code').valueString, rx.code);
      assert.equal(partOf(p, 'status').valueCode, 'ready');
      assert.equal(partOf(p, 'patient').valueReference.display, 'Trần Thị Bình');
      const lines = partsOf(p, 'line');
      assert.equal(lines.length, 2);
      const t001 = lines.find((l) => partOf(l, 'medicationRequest').resource.id === rx.lines.get('DEMO-T001'));
      assert.equal(partOf(t001, 'prescribed').valueDecimal, 10);
      assert.equal(partOf(t001, 'remaining').valueDecimal, 10);
      // first expiring first
      assert.deepEqual(
        partsOf(t001, 'lot').map((l) => partOf(l, 'lotNumber').valueString),
        ['B-SOON', 'A-LATE'],
      );
      const patientId = partOf(p, 'patient').valueReference.reference.split('/')[1];
      const byPatient = await call(pharmacist, `MedicationRequest/$dispensable?patient=${patientId}`);
      assert.equal(byPatient.status, 200);
      assert.equal(partOf(byPatient.body.parameter[0], 'code').valueString, rx.code);
      const missing = await call(pharmacist, 'MedicationRequest/$dispensable?code=79999zzzzzzzzn');
      assert.equal(missing.status, 404);

      // 7 of 10 without choosing a lot: all from B-SOON (expires first)
      const first = await call(
        pharmacist,
        'MedicationDispense/$dispense',
        params(
          { name: 'prescriptionCode', valueString: rx.code },
          { name: 'warehouse', valueString: PHARMACY },
          line(rx.lines.get('DEMO-T001') as string, 7),
        ),
      );
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const [md] = first.body.parameter.filter((x: P) => x.name === 'medicationDispense').map((x: any) => x.resource);
      assert.equal(md.status, 'completed');
      assert.equal(md.context.reference, `Encounter/${rx.encounter}`);
      assert.equal(md.authorizingPrescription[0].reference, `MedicationRequest/${rx.lines.get('DEMO-T001')}`);
      assert.equal(md.medicationCodeableConcept.coding[0].code, 'DEMO-T001');
      assert.equal(md.medicationCodeableConcept.coding[0].system, DRUGS);
      assert.equal(md.quantity.value, 7);
      assert.equal(md.location.reference, `Location/${PHARMACY}`);
      assert.equal(md.performer[0].actor.reference, 'Practitioner/sen-demo-s-15');
      const lot = md.extension[0].extension;
      assert.equal(lot.find((e: any) => e.url === 'lotNumber').valueString, 'B-SOON');
      assert.equal(lot.find((e: any) => e.url === 'expirationDate').valueDate, day(300));
      assert.deepEqual(
        md.meta.tag.filter((t: any) => t.system === FACILITY_TAG_SYSTEM),
        TAG,
      );
      assert.equal(
        partOf(
          first.body.parameter.find((x: P) => x.name === 'line'),
          'remaining',
        ).valueDecimal,
        3,
      );
      assert.equal((await lotsOf('DEMO-T001')).find((l) => l.lotNumber === 'B-SOON')?.quantity, 1);

      // 4 more would exceed the prescription (3 left)
      const over = await call(
        pharmacist,
        'MedicationDispense/$dispense',
        params(
          { name: 'prescriptionCode', valueString: rx.code },
          { name: 'warehouse', valueString: PHARMACY },
          line(rx.lines.get('DEMO-T001') as string, 4),
        ),
      );
      assert.equal(over.status, 422);
      assert.match(over.body.issue[0].details.text, /chỉ còn được phát 3/);
      // two lines for the same drug adding up above what is left: refused too
      const split = await call(
        pharmacist,
        'MedicationDispense/$dispense',
        params(
          { name: 'prescriptionCode', valueString: rx.code },
          { name: 'warehouse', valueString: PHARMACY },
          line(rx.lines.get('DEMO-T001') as string, 2),
          line(rx.lines.get('DEMO-T001') as string, 2),
        ),
      );
      assert.equal(split.status, 422);

      // the remaining 3 from the lot the pharmacist picks
      const lotA = (await lotsOf('DEMO-T001')).find((l) => l.lotNumber === 'A-LATE')?.id as string;
      const second = await call(
        pharmacist,
        'MedicationDispense/$dispense',
        params(
          { name: 'prescriptionCode', valueString: rx.code },
          { name: 'warehouse', valueString: PHARMACY },
          line(rx.lines.get('DEMO-T001') as string, 3, lotA),
        ),
      );
      assert.equal(second.status, 200, JSON.stringify(second.body));
      assert.equal((await lotsOf('DEMO-T001')).find((l) => l.lotNumber === 'A-LATE')?.quantity, 3);
      const list = await call(doctor, `MedicationDispense?prescription=MedicationRequest/${rx.lines.get('DEMO-T001')}`);
      assert.equal(list.body.entry.length, 2);

      const status = await call(pharmacist, `MedicationRequest/$dispensable?code=${rx.code}`);
      assert.equal(partOf(status.body.parameter[0], 'status').valueCode, 'partial');
      // the rest of the prescription (T004: 15) with no lines given
      const rest = await call(
        pharmacist,
        'MedicationDispense/$dispense',
        params({ name: 'prescriptionCode', valueString: rx.code }, { name: 'warehouse', valueString: PHARMACY }),
      );
      assert.equal(rest.status, 200, JSON.stringify(rest.body));
      assert.equal(rest.body.parameter.find((x: P) => x.name === 'complete').valueBoolean, true);
      const done = await call(
        pharmacist,
        'MedicationDispense/$dispense',
        params({ name: 'prescriptionCode', valueString: rx.code }, { name: 'warehouse', valueString: PHARMACY }),
      );
      assert.equal(done.status, 409);
      assert.match(done.body.issue[0].details.text, /đã phát đủ/);
      const byNurse = await call(
        nurse,
        'MedicationDispense/$dispense',
        params({ name: 'prescriptionCode', valueString: rx.code }, { name: 'warehouse', valueString: PHARMACY }),
      );
      assert.equal(byNurse.status, 403);
    });

    it('never dispenses from an expired lot, skips it when choosing FEFO, and refuses a replaced prescription', async () => {
      const rx = await prescription(item('DEMO-T003', 1, 2, 2)); // 4
      // a lot that has expired since it was received (the receipt itself refuses expired goods)
      await srv.store.db.query(
        `INSERT INTO stock_lot (facility_id, warehouse_id, drug_code, drug_display, lot_number, expiry, quantity, unit_price)
         VALUES ($1, $2, 'DEMO-T003', 'Senbupro', 'EXPIRED-1', $3::date, 50, 900)`,
        [HOSPITAL_ID, PHARMACY, day(-3)],
      );
      const expired = (await lotsOf('DEMO-T003')).find((l) => l.lotNumber === 'EXPIRED-1');
      assert.equal(expired?.state, 'expired');
      const refused = await call(
        pharmacist,
        'MedicationDispense/$dispense',
        params(
          { name: 'prescriptionCode', valueString: rx.code },
          { name: 'warehouse', valueString: PHARMACY },
          line(rx.lines.get('DEMO-T003') as string, 4, expired?.id),
        ),
      );
      assert.equal(refused.status, 422);
      assert.match(refused.body.issue[0].details.text, /đã hết hạn ngày .*không được phát/);
      const fefo = await call(
        pharmacist,
        'MedicationDispense/$dispense',
        params({ name: 'prescriptionCode', valueString: rx.code }, { name: 'warehouse', valueString: PHARMACY }),
      );
      assert.equal(fefo.status, 409, 'only the expired lot holds DEMO-T003');
      assert.match(fefo.body.issue[0].details.text, /Không đủ tồn kho/);
      assert.equal((await lotsOf('DEMO-T003')).find((l) => l.lotNumber === 'EXPIRED-1')?.quantity, 50);

      const replaced = await call(
        doctor,
        'MedicationRequest/$replace-prescription',
        params({ name: 'prescriptionCode', valueString: rx.code }, item('DEMO-T001', 1, 2, 2)),
      );
      assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
      const newCode = replaced.body.parameter.find((p: P) => p.name === 'prescriptionCode').valueString;
      const old = await call(
        pharmacist,
        'MedicationDispense/$dispense',
        params({ name: 'prescriptionCode', valueString: rx.code }, { name: 'warehouse', valueString: PHARMACY }),
      );
      assert.equal(old.status, 409);
      assert.ok(old.body.issue[0].details.text.includes(newCode));
    });

    it('concurrent dispenses never take a lot below zero nor a line above its prescription', async () => {
      await call(
        pharmacist,
        'Medication/$receive-stock',
        params({ name: 'warehouse', valueString: PHARMACY }, stock('DEMO-T005', 'RACE-1', day(200), 10, 500)),
      );
      // three prescriptions of 6 each race for 10 in stock: one wins, the others find too little
      const rxs = await Promise.all([1, 2, 3].map(() => prescription(item('DEMO-T005', 1, 2, 3))));
      const results = await Promise.all(
        rxs.map((rx) =>
          call(
            pharmacist,
            'MedicationDispense/$dispense',
            params({ name: 'prescriptionCode', valueString: rx.code }, { name: 'warehouse', valueString: PHARMACY }),
          ),
        ),
      );
      assert.deepEqual(
        results.map((r) => r.status).sort(),
        [200, 409, 409],
        JSON.stringify(results.map((r) => r.body.issue?.[0]?.details?.text)),
      );
      assert.equal((await lotsOf('DEMO-T005')).find((l) => l.lotNumber === 'RACE-1')?.quantity, 4);
      const { rows } = await srv.store.db.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM stock_lot WHERE quantity < 0`,
      );
      assert.equal(rows[0].n, '0');

      // one prescription dispensed by three pharmacists at once: exactly one dispense goes through
      await call(
        pharmacist,
        'Medication/$receive-stock',
        params({ name: 'warehouse', valueString: PHARMACY }, stock('DEMO-T006', 'RACE-2', day(200), 100, 500)),
      );
      const rx = await prescription(item('DEMO-T006', 1, 2, 3));
      const same = await Promise.all(
        [1, 2, 3].map(() =>
          call(
            pharmacist,
            'MedicationDispense/$dispense',
            params(
              { name: 'prescriptionCode', valueString: rx.code },
              { name: 'warehouse', valueString: PHARMACY },
              line(rx.lines.get('DEMO-T006') as string, 6),
            ),
          ),
        ),
      );
      assert.equal(same.filter((r) => r.status === 200).length, 1, JSON.stringify(same.map((r) => r.status)));
      assert.ok(same.every((r) => [200, 409, 422].includes(r.status)));
      const dispenses = await call(
        pharmacist,
        `MedicationDispense?prescription=MedicationRequest/${rx.lines.get('DEMO-T006')}`,
      );
      assert.equal(dispenses.body.entry.length, 1);
      assert.equal((await lotsOf('DEMO-T006')).find((l) => l.lotNumber === 'RACE-2')?.quantity, 94);
    });

    it('the stock statements themselves hold under racing transactions (no check before them to lean on)', async () => {
      const { rows } = await srv.store.db.query<{ id: string }>(
        `INSERT INTO stock_lot (facility_id, warehouse_id, drug_code, drug_display, lot_number, expiry, quantity, unit_price)
         VALUES ($1, $2, 'DEMO-T008', 'Sencipro', 'RACE-SQL', $3::date, 10, 1500) RETURNING id::text AS id`,
        [HOSPITAL_ID, STORE, day(100)],
      );
      const lotId = rows[0].id;
      const takes = await Promise.all(
        [1, 2, 3].map((n) =>
          srv.store.db.transaction(async (q) => {
            const left = await takeFromLot(q, lotId, '4', day(0), { reference: `test-${n}` });
            await new Promise((r) => setTimeout(r, 20)); // hold the row lock a while
            return left;
          }),
        ),
      );
      assert.deepEqual(takes.filter((t) => t !== undefined).sort(), ['2', '6']);
      const adds = await Promise.all(
        [1, 2, 3].map(() => srv.store.db.transaction((q) => addDispensed(q, `race-mr-${engine}`, '10', '4'))),
      );
      assert.deepEqual(adds.filter((a) => a !== undefined).sort(), ['4', '8']);
    });

    it('reports stock per drug, lot and warehouse with value and near-expiry', async () => {
      await call(
        pharmacist,
        'Medication/$receive-stock',
        params(
          { name: 'warehouse', valueString: PHARMACY },
          stock('DEMO-T007', 'NEAR-1', day(30), 4, '2500.5'),
          stock('DEMO-T007', 'FAR-1', day(365), 2, '2400'),
        ),
      );
      const r = await call(
        pharmacist,
        `Medication/$stock-report?warehouse=${PHARMACY}&drug=DEMO-T007&nearExpiryDays=60`,
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const rows = r.body.parameter.filter((p: P) => p.name === 'row');
      assert.deepEqual(
        rows.map((x: any) => [
          partOf(x, 'lotNumber').valueString,
          partOf(x, 'state').valueCode,
          partOf(x, 'value').valueString,
        ]),
        [
          ['NEAR-1', 'near-expiry', '10002'],
          ['FAR-1', 'ok', '4800'],
        ],
      );
      assert.equal(partOf(rows[0], 'daysLeft').valueInteger, 30);
      assert.equal(r.body.parameter.find((p: P) => p.name === 'totalValue').valueString, '14802');
      const all = await call(pharmacist, 'Medication/$stock-report');
      assert.equal(all.status, 200);
      assert.ok(all.body.parameter.filter((p: P) => p.name === 'row').length >= 8);
      const bad = await call(pharmacist, 'Medication/$stock-report?nearExpiryDays=-1');
      assert.equal(bad.status, 400);
    });
  });
}

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ServiceRequest } from '@medplum/fhirtypes';
import { testEngines } from '@sen/db/testing';
import { QRPay } from 'vietnam-qr-pay';
import { SIGNATURE_HEADER, sign, WEBHOOK_PATH } from '../src/capabilities/billing/gateway.ts';
import { awaitingPayment, setPayFirst } from '../src/capabilities/billing/hold.ts';
import { readConfig } from '../src/config.ts';
import { computeShares, type LineInput, type ShareContext } from '../src/capabilities/billing/shares.ts';
import { type PaymentSimulator, startPaymentSimulator } from '../src/capabilities/billing/simulator.ts';
import { BHYT_EXT } from '../src/capabilities/coverage/service.ts';
import { CATALOG_URLS } from '../src/capabilities/terminology/kinds.ts';
import { VISIT_COVERAGE_EXT, VISIT_TYPE_SYSTEM } from '../src/capabilities/visits/encounter.ts';
import { FACILITY_TAG_SYSTEM } from '../src/platform/gate/gate.ts';
import { HOSPITAL_ID } from '../src/seed/demo-facility.ts';
import { seedDemo } from '../src/seed/seed.ts';
import { fhirFetch, startTestServer, type TestServer } from './harness.ts';
import { SHARED_DIR } from './shared-data.ts';
import { staffLogin } from './staff-login.ts';

const TAG = [{ system: FACILITY_TAG_SYSTEM, code: HOSPITAL_ID }];
const SERVICES = CATALOG_URLS.services;
const DRUGS = CATALOG_URLS.drugs;

/** The worked examples: the BHYT share, co-payment and outside-scope part, line by line, in whole đồng. */
describe('billing: BHYT shares (worked examples)', () => {
  const ctx = (over: Partial<ShareContext> = {}): ShareContext => ({
    benefitLevel: 4,
    route: 'right-route',
    facilityLevel: 'provincial',
    ...over,
  });
  const line = (
    key: string,
    unitPrice: number | string,
    quantity: number | string = 1,
    paymentRate = 100,
  ): LineInput => ({
    key,
    unitPrice,
    quantity,
    paymentRate,
  });
  const pick = (r: ReturnType<typeof computeShares>, key: string) => {
    const l = r.lines.find((x) => x.key === key)!;
    return [l.amount, l.bhyt, l.copay, l.outOfScope, l.patient];
  };

  it('level 4 (80 %), right route: X-ray 65,400 + CT 522,000 + 20 tablets × 450 → fund 477,120, patient 119,280', () => {
    const r = computeShares([line('xq', 65400), line('ct', 522000), line('para', 450, 20)], ctx());
    assert.equal(r.percent, '80');
    assert.equal(r.smallAmount, false);
    // 65,400 × 80 % = 52,320 ; 522,000 × 80 % = 417,600 ; 9,000 × 80 % = 7,200
    assert.deepEqual(pick(r, 'xq'), ['65400', '52320', '13080', '0', '13080']);
    assert.deepEqual(pick(r, 'ct'), ['522000', '417600', '104400', '0', '104400']);
    assert.deepEqual(pick(r, 'para'), ['9000', '7200', '1800', '0', '1800']);
    assert.deepEqual(r.totals, {
      amount: '596400',
      inScope: '596400',
      bhyt: '477120',
      copay: '119280',
      outOfScope: '0',
      patient: '119280',
    });
  });

  it('small amount: a right-route visit under 15 % of the base salary (351,000 đ) is paid 100 % by the fund', () => {
    // blood count 46,200 + glucose 21,500 = 67,700 < 2,340,000 × 15 % = 351,000
    const r = computeShares([line('ctm', 46200), line('glu', 21500)], ctx());
    assert.equal(r.smallAmount, true);
    assert.deepEqual(r.totals, {
      amount: '67700',
      inScope: '67700',
      bhyt: '67700',
      copay: '0',
      outOfScope: '0',
      patient: '0',
    });
    // exactly the threshold is not "below" it
    const at = computeShares([line('x', 351000)], ctx());
    assert.equal(at.smallAmount, false);
    assert.equal(at.totals.bhyt, '280800');
    // the threshold follows the configured base salary
    assert.equal(computeShares([line('ctm', 46200)], ctx({ baseSalary: 200000 })).smallAmount, false);
  });

  it('level 3 (95 %) with a 50 % payment rate: half the price is outside the scope, the co-payment is 5 % of the rest', () => {
    const r = computeShares([line('hba1c', 101000, 1, 50), line('ct', 522000)], ctx({ benefitLevel: 3 }));
    // 101,000 × 50 % = 50,500 in scope: fund 47,975, co-payment 2,525; 50,500 outside the scope
    assert.deepEqual(pick(r, 'hba1c'), ['101000', '47975', '2525', '50500', '53025']);
    assert.deepEqual(pick(r, 'ct'), ['522000', '495900', '26100', '0', '26100']);
    assert.equal(r.totals.patient, '79125');
  });

  it('routes: wrong-route outpatient at a provincial or central hospital is not covered; emergency counts as right route', () => {
    const lines = [line('ct', 522000)];
    const wrong = computeShares(lines, ctx({ route: 'wrong-route' }));
    assert.deepEqual(pick(wrong, 'ct'), ['522000', '0', '0', '522000', '522000']);
    assert.equal(computeShares(lines, ctx({ route: 'wrong-route', facilityLevel: 'central' })).totals.bhyt, '0');
    // district level ("thông tuyến"): the benefit level applies; no small-amount rule off route
    assert.equal(computeShares(lines, ctx({ route: 'wrong-route', facilityLevel: 'district' })).totals.bhyt, '417600');
    const smallWrong = computeShares([line('ctm', 46200)], ctx({ route: 'wrong-route', facilityLevel: 'district' }));
    assert.equal(smallWrong.smallAmount, false);
    assert.equal(smallWrong.totals.bhyt, '36960');
    for (const route of ['emergency', 'referral'] as const) {
      assert.equal(computeShares(lines, ctx({ route, facilityLevel: 'central' })).totals.bhyt, '417600', route);
    }
    // wrong-route inpatient at central level: 40 % of the 80 % level = 32 %
    const inpatient = computeShares(
      [line('bed', 1000000)],
      ctx({ route: 'wrong-route', facilityLevel: 'central', inpatient: true }),
    );
    assert.equal(inpatient.percent, '32');
    assert.equal(inpatient.totals.bhyt, '320000');
  });

  it('levels 1, 2, 5 pay 100 %, 3 and 4 pay 100 % at commune level; no card: the patient pays it all outside the scope', () => {
    for (const benefitLevel of [1, 2, 5]) {
      assert.equal(computeShares([line('ct', 522000)], ctx({ benefitLevel })).totals.patient, '0');
    }
    assert.equal(
      computeShares([line('ct', 522000)], ctx({ benefitLevel: 4, facilityLevel: 'commune' })).totals.patient,
      '0',
    );
    const fee = computeShares([line('ct', 900000), line('x', 120000)], ctx({ benefitLevel: undefined }));
    assert.deepEqual(fee.totals, {
      amount: '1020000',
      inScope: '0',
      bhyt: '0',
      copay: '0',
      outOfScope: '1020000',
      patient: '1020000',
    });
  });

  it('rounds to whole đồng half up per line and keeps every line exact (fund + co-payment + outside = amount)', () => {
    // 12,345 × 95 % = 11,727.75 → 11,728 ; 0.5 × 1,001 = 500.5 → 501 ; 0.1 + 0.2 never meets a float
    const r = computeShares(
      [line('a', 12345), line('b', 1001, '0.5'), line('c', '0.1', 3), line('big', 400000)],
      ctx({ benefitLevel: 3 }),
    );
    assert.deepEqual(pick(r, 'a'), ['12345', '11728', '617', '0', '617']);
    assert.deepEqual(pick(r, 'b'), ['501', '476', '25', '0', '25']);
    assert.deepEqual(pick(r, 'c'), ['0', '0', '0', '0', '0']);
    for (const l of r.lines) {
      assert.equal(Number(l.bhyt) + Number(l.copay) + Number(l.outOfScope), Number(l.amount));
    }
    assert.throws(() => computeShares([line('neg', -1)], ctx()), RangeError);
    assert.throws(() => computeShares([line('nan', 'abc')], ctx()), RangeError);
    assert.throws(() => computeShares([line('rate', 1, 1, 120)], ctx()), RangeError);
  });
});

describe('billing: configuration (SEN_PAY_BEFORE_EXECUTION, SEN_PAYMENT_*, SEN_BHYT_*)', () => {
  it('pays first by default, with the demo gateway secret in demo mode only', () => {
    const demo = readConfig({});
    assert.equal(demo.billing.payFirst, true);
    assert.equal(demo.billing.secret, 'sen-demo-payment-secret');
    assert.equal(readConfig({ SEN_PAY_BEFORE_EXECUTION: 'false' }).billing.payFirst, false);
    assert.equal(readConfig({ SEN_BHYT_FACILITY_LEVEL: 'district' }).billing.facilityLevel, 'district');
    assert.equal(readConfig({ SEN_BHYT_BASE_SALARY: '2500000' }).billing.baseSalary, 2500000);
    assert.throws(() => readConfig({ SEN_BHYT_FACILITY_LEVEL: 'regional' }), /SEN_BHYT_FACILITY_LEVEL/);
  });

  it('refuses the demo secret in production, and a gateway without a secret; never falls back to the demo secret', () => {
    const prod = { SEN_MODE: 'production', SEN_SECRET_KEY: Buffer.alloc(32, 7).toString('base64') };
    assert.throws(() => readConfig({ ...prod, SEN_PAYMENT_SECRET: 'sen-demo-payment-secret' }), /demo secret/);
    assert.throws(
      () => readConfig({ ...prod, SEN_PAYMENT_GATEWAY_URL: 'https://pay.example.vn' }),
      /SEN_PAYMENT_SECRET/,
    );
    const own = readConfig({
      ...prod,
      SEN_PAYMENT_GATEWAY_URL: 'https://pay.example.vn',
      SEN_PAYMENT_SECRET: 'x'.repeat(40),
    });
    assert.equal(own.billing.secret, 'x'.repeat(40));
    const none = readConfig(prod);
    assert.notEqual(none.billing.secret, 'sen-demo-payment-secret');
    assert.ok(none.billing.secret.length >= 40);
  });
});

for (const engine of testEngines()) {
  describe(`billing: pay-first hold (contract 3) [${engine}]`, () => {
    let srv: TestServer;
    const create = async (body: Record<string, unknown>): Promise<any> => {
      const r = await fhirFetch(srv.fhir, String(body.resourceType), {
        method: 'POST',
        body: { meta: { tag: TAG }, ...body },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body;
    };
    async function visitWithOrder(
      visitType: string,
      emergencyClass = false,
    ): Promise<{ patient: string; encounter: string; order: ServiceRequest }> {
      const pt = await create({
        resourceType: 'Patient',
        name: [{ family: 'Trần', given: ['Thị Hoa'] }],
        birthDate: '1980-02-02',
      });
      const enc = await create({
        resourceType: 'Encounter',
        status: 'in-progress',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: emergencyClass ? 'EMER' : 'AMB' },
        type: [{ coding: [{ system: VISIT_TYPE_SYSTEM, code: visitType }] }],
        subject: { reference: `Patient/${pt.id}` },
      });
      const order = await create({
        resourceType: 'ServiceRequest',
        status: 'active',
        intent: 'order',
        code: { coding: [{ system: SERVICES, code: '99.2301.2001' }] },
        subject: { reference: `Patient/${pt.id}` },
        encounter: { reference: `Encounter/${enc.id}` },
      });
      return { patient: pt.id, encounter: enc.id, order };
    }

    before(async () => {
      srv = await startTestServer(engine);
    });
    after(async () => {
      setPayFirst(srv.router, true);
      await srv?.close();
    });

    it('holds a fee-paying order until a balanced invoice has its charge; BHYT and emergency orders never', async () => {
      const fee = await visitWithOrder('fee');
      const bhyt = await visitWithOrder('bhyt');
      const emergencyFee = await visitWithOrder('fee', true);
      const emergency = await visitWithOrder('emergency', true);
      const all = [fee.order, bhyt.order, emergencyFee.order, emergency.order];
      assert.deepEqual([...(await awaitingPayment(srv.router, all))], [fee.order.id]);

      const charge = await create({
        resourceType: 'ChargeItem',
        status: 'billable',
        code: { coding: [{ system: SERVICES, code: '99.2301.2001' }] },
        subject: { reference: `Patient/${fee.patient}` },
        context: { reference: `Encounter/${fee.encounter}` },
        supportingInformation: [{ reference: `ServiceRequest/${fee.order.id}` }],
      });
      const invoice = {
        resourceType: 'Invoice',
        status: 'issued',
        subject: { reference: `Patient/${fee.patient}` },
        lineItem: [{ chargeItemReference: { reference: `ChargeItem/${charge.id}` } }],
      };
      const issued = await create(invoice);
      // issued but not paid: still held
      assert.deepEqual([...(await awaitingPayment(srv.router, [fee.order]))], [fee.order.id]);
      const paid = await fhirFetch(srv.fhir, `Invoice/${issued.id}`, {
        method: 'PUT',
        body: { ...issued, status: 'balanced' },
      });
      assert.equal(paid.status, 200);
      assert.equal((await awaitingPayment(srv.router, [fee.order])).size, 0);
      // refunded (invoice cancelled): held again
      const cancelled = await fhirFetch(srv.fhir, `Invoice/${issued.id}`, {
        method: 'PUT',
        body: { ...paid.body, status: 'cancelled', cancelledReason: 'Hoàn tiền' },
      });
      assert.equal(cancelled.status, 200);
      assert.deepEqual([...(await awaitingPayment(srv.router, [fee.order]))], [fee.order.id]);
    });

    it('holds nothing when the pay-first rule is off (SEN_PAY_BEFORE_EXECUTION=false)', async () => {
      const fee = await visitWithOrder('fee');
      setPayFirst(srv.router, false);
      try {
        assert.equal((await awaitingPayment(srv.router, [fee.order])).size, 0);
      } finally {
        setPayFirst(srv.router, true);
      }
      assert.equal((await awaitingPayment(srv.router, [fee.order])).size, 1);
    });
  });
}

for (const engine of testEngines()) {
  describe(`billing: charges, invoice, cash, VietQR through the gateway, refund [${engine}]`, () => {
    let srv: TestServer;
    let sim: PaymentSimulator;
    let doctor: string;
    let cashier: string;
    const SECRET = 'billing-test-secret';
    const as = (token: string) => ({ authorization: `Bearer ${token}` });
    const op = (token: string, path: string, parameter: unknown[] = []) =>
      fhirFetch(srv.fhir, path, {
        method: 'POST',
        body: { resourceType: 'Parameters', parameter },
        headers: as(token),
      });
    const get = (token: string, path: string) => fhirFetch(srv.fhir, path, { headers: as(token) });
    const create = async (body: Record<string, unknown>): Promise<any> => {
      const r = await fhirFetch(srv.fhir, String(body.resourceType), {
        method: 'POST',
        body: { meta: { tag: TAG }, ...body },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body;
    };
    const param = (p: any, name: string): any => p.parameter.find((x: any) => x.name === name);
    const charges = (p: any): any[] =>
      p.parameter.filter((x: any) => x.name === 'chargeItem').map((x: any) => x.resource);
    const share = (c: any, k: string) =>
      c.extension.find((e: any) => e.url.endsWith('charge-share')).extension.find((e: any) => e.url === k);
    const totals = (p: any) =>
      Object.fromEntries(param(p, 'totals').part.map((x: any) => [x.name, x.valueMoney.value]));

    async function visit(
      visitType: 'bhyt' | 'fee',
      benefitLevel?: number,
    ): Promise<{ patient: string; encounter: string }> {
      const pt = await create({
        resourceType: 'Patient',
        name: [{ family: 'Lê', given: ['Văn Minh'] }],
        birthDate: '1975-03-04',
        gender: 'male',
      });
      const ext: unknown[] = [];
      if (benefitLevel) {
        const year = new Date().getUTCFullYear();
        const cov = await create({
          resourceType: 'Coverage',
          status: 'active',
          extension: [
            { url: BHYT_EXT.verification, valueCode: 'verified' },
            { url: BHYT_EXT.benefitLevel, valueInteger: benefitLevel },
          ],
          beneficiary: { reference: `Patient/${pt.id}` },
          payor: [{ display: 'Bảo hiểm xã hội Việt Nam' }],
          period: { start: `${year - 1}-01-01`, end: `${year + 1}-12-31` },
        });
        ext.push({ url: VISIT_COVERAGE_EXT, valueReference: { reference: `Coverage/${cov.id}` } });
      }
      const enc = await create({
        resourceType: 'Encounter',
        ...(ext.length ? { extension: ext } : {}),
        status: 'in-progress',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        type: [{ coding: [{ system: VISIT_TYPE_SYSTEM, code: visitType }] }],
        subject: { reference: `Patient/${pt.id}` },
      });
      return { patient: pt.id, encounter: enc.id };
    }
    async function order(encounter: string, ...codes: string[]): Promise<any[]> {
      const r = await op(
        doctor,
        `Encounter/${encounter}/$order`,
        codes.map((code) => ({ name: 'service', valueCoding: { system: SERVICES, code } })),
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.entry.map((e: any) => e.resource);
    }
    async function dispense(v: { patient: string; encounter: string }, code: string, quantity: number): Promise<any> {
      return create({
        resourceType: 'MedicationDispense',
        status: 'completed',
        medicationCodeableConcept: { coding: [{ system: DRUGS, code }] },
        subject: { reference: `Patient/${v.patient}` },
        context: { reference: `Encounter/${v.encounter}` },
        quantity: { value: quantity },
        whenHandedOver: new Date().toISOString(),
      });
    }

    before(async () => {
      sim = await startPaymentSimulator({ secret: SECRET });
      srv = await startTestServer(engine, {
        config: { billing: { gatewayUrl: sim.url, secret: SECRET, facilityLevel: 'provincial' } },
      });
      await seedDemo(srv.router, { sharedDir: SHARED_DIR, patients: 1 });
      doctor = (
        await staffLogin(srv, {
          username: 'bs.billing',
          practitionerId: 'sen-demo-s-01',
          roles: ['doctor'],
          facilityId: HOSPITAL_ID,
        })
      ).token;
      cashier = (
        await staffLogin(srv, {
          username: 'tn.billing',
          practitionerId: 'billing-cashier',
          roles: ['cashier'],
          facilityId: HOSPITAL_ID,
        })
      ).token;
    });
    after(async () => {
      await srv?.close();
      await sim?.close();
    });

    it('charges a BHYT visit (level 4) from its orders and dispensed drugs, line by line, and writes nothing when called again', async () => {
      const v = await visit('bhyt', 4);
      await order(v.encounter, '99.2401.3004', '99.2401.3006'); // chest X-ray 65,400; CT head 522,000 (BHYT prices)
      await dispense(v, 'DEMO-T001', 20); // paracetamol 450 × 20
      const r = await op(cashier, `Encounter/${v.encounter}/$charges`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const list = charges(r.body);
      assert.equal(list.length, 3);
      const xray = list.find((c) => c.code.coding[0].code === '99.2401.3004');
      assert.equal(xray.priceOverride.value, 65400);
      assert.equal(share(xray, 'bhyt').valueMoney.value, 52320);
      assert.equal(share(xray, 'copay').valueMoney.value, 13080);
      assert.equal(share(xray, 'percent').valueDecimal, 80);
      assert.equal(xray.context.reference, `Encounter/${v.encounter}`);
      assert.match(xray.supportingInformation[0].reference, /^ServiceRequest\//);
      const drug = list.find((c) => c.code.coding[0].system === DRUGS);
      assert.equal(drug.quantity.value, 20);
      assert.match(drug.service[0].reference, /^MedicationDispense\//);
      assert.deepEqual(totals(r.body), {
        amount: 596400,
        inScope: 596400,
        bhyt: 477120,
        copay: 119280,
        outOfScope: 0,
        patient: 119280,
      });
      assert.equal(param(r.body, 'benefitLevel').valueInteger, 4);
      // two cashiers at once: still one charge per order
      const v2 = await visit('bhyt', 4);
      await order(v2.encounter, '99.2301.2001');
      const both = await Promise.all([1, 2].map(() => op(cashier, `Encounter/${v2.encounter}/$charges`)));
      assert.deepEqual(
        both.map((x) => charges(x.body).length),
        [1, 1],
      );
      assert.equal((await get(cashier, `ChargeItem?context=Encounter/${v2.encounter}`)).body.entry.length, 1);
      // again: same lines, same versions (no write, so no live event storm)
      const again = await op(cashier, `Encounter/${v.encounter}/$charges`);
      assert.deepEqual(
        charges(again.body)
          .map((c) => c.meta.versionId)
          .sort(),
        list.map((c) => c.meta.versionId).sort(),
      );
      // the route can be given: wrong route at this provincial hospital, outpatient → not covered
      const wrong = await op(cashier, `Encounter/${v.encounter}/$charges`, [
        { name: 'route', valueCode: 'wrong-route' },
      ]);
      assert.equal(totals(wrong.body).bhyt, 0);
      assert.equal(totals(wrong.body).patient, 596400);
      const back = await op(cashier, `Encounter/${v.encounter}/$charges`, [
        { name: 'route', valueCode: 'right-route' },
      ]);
      assert.equal(totals(back.body).bhyt, 477120);
      const bad = await op(cashier, `Encounter/${v.encounter}/$charges`, [{ name: 'route', valueCode: 'sideways' }]);
      assert.equal(bad.status, 400);
      assert.match(bad.body.issue[0].details.text, /phải là .* \/ must be one of/);
    });

    it('takes cash: invoice issued → balanced with a receipt number, change computed; refunds need a cashier and a reason', async () => {
      const v = await visit('bhyt', 4);
      await order(v.encounter, '99.2401.3006'); // CT 522,000 → patient 104,400
      const doctorTry = await op(doctor, `Encounter/${v.encounter}/$invoice`);
      assert.equal(doctorTry.status, 403);
      const issued = await op(cashier, `Encounter/${v.encounter}/$invoice`);
      assert.equal(issued.status, 200, JSON.stringify(issued.body));
      const inv = param(issued.body, 'invoice').resource;
      assert.equal(inv.status, 'issued');
      assert.equal(inv.totalGross.value, 522000);
      assert.equal(inv.totalNet.value, 104400);
      assert.match(inv.identifier[0].value, /^HD\d{10}$/);
      const comps = inv.lineItem[0].priceComponent.map((c: any) => [c.type, c.code.coding[0].code, c.amount.value]);
      assert.deepEqual(comps, [
        ['base', 'amount', 522000],
        ['deduction', 'bhyt', 417600],
        ['informational', 'copay', 104400],
        ['informational', 'out-of-scope', 0],
      ]);
      assert.equal(charges(issued.body)[0].status, 'billed');
      const short = await op(cashier, `Invoice/${inv.id}/$pay-cash`, [{ name: 'received', valueDecimal: 100000 }]);
      assert.equal(short.status, 422);
      assert.match(short.body.issue[0].details.text, /ít hơn số phải trả/);
      const paid = await op(cashier, `Invoice/${inv.id}/$pay-cash`, [{ name: 'received', valueDecimal: 105000 }]);
      assert.equal(paid.status, 200, JSON.stringify(paid.body));
      const balanced = param(paid.body, 'invoice').resource;
      const payment = param(paid.body, 'payment').resource;
      assert.equal(balanced.status, 'balanced');
      assert.equal(payment.paymentAmount.value, 104400);
      assert.match(payment.identifier[0].value, /^PT\d{10}$/);
      assert.equal(payment.formCode.coding[0].code, 'cash');
      assert.match(payment.processNote[0].text, /trả lại 600 đ/);
      const twice = await op(cashier, `Invoice/${inv.id}/$pay-cash`);
      assert.equal(twice.status, 409);

      const byDoctor = await op(doctor, `Invoice/${inv.id}/$refund`, [{ name: 'reason', valueString: 'Không chụp' }]);
      assert.equal(byDoctor.status, 403);
      const noReason = await op(cashier, `Invoice/${inv.id}/$refund`);
      assert.equal(noReason.status, 400);
      assert.match(noReason.body.issue[0].details.text, /lý do/);
      const refund = await op(cashier, `Invoice/${inv.id}/$refund`, [
        { name: 'reason', valueString: 'Người bệnh không chụp CT' },
      ]);
      assert.equal(refund.status, 200, JSON.stringify(refund.body));
      assert.equal(param(refund.body, 'invoice').resource.status, 'cancelled');
      const back = param(refund.body, 'refund').resource;
      assert.equal(back.paymentAmount.value, -104400);
      assert.match(back.disposition, /Người bệnh không chụp CT/);
      assert.equal(back.requestor.reference, 'Practitioner/billing-cashier');
      // audited: who refunded which invoice (the denied attempt by the doctor too)
      const audit = await srv.security!.audit.search({ count: 200 });
      const refunds = audit.rows.filter(
        (r) => r.action === 'operation' && r.resourceType === 'Invoice' && r.resourceId === inv.id,
      );
      assert.ok(
        refunds.some((r) => r.who === 'Practitioner/billing-cashier' && r.outcome === 'success'),
        JSON.stringify(refunds.map((r) => [r.who, r.outcome, r.detail])),
      );
      assert.ok(refunds.some((r) => r.who === 'Practitioner/sen-demo-s-01' && r.outcome === 'denied'));
      const again = await op(cashier, `Invoice/${inv.id}/$refund`, [{ name: 'reason', valueString: 'lần nữa' }]);
      assert.equal(again.status, 409);
      // the refunded charges can be billed again
      const stored = await get(cashier, `ChargeItem?context=Encounter/${v.encounter}`);
      assert.equal(stored.body.entry[0].resource.status, 'billable');
    });

    it('drops the unpaid charge of a revoked order, counts an emergency as right route, and keeps other facilities out', async () => {
      const v = await visit('bhyt', 4);
      const [ct, xray] = await order(v.encounter, '99.2401.3006', '99.2401.3004');
      const first = await op(cashier, `Encounter/${v.encounter}/$charges`);
      assert.equal(charges(first.body).length, 2);
      const revoked = await fhirFetch(srv.fhir, `ServiceRequest/${ct.id}`, {
        method: 'PUT',
        body: { ...ct, status: 'revoked' },
      });
      assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
      const after = await op(cashier, `Encounter/${v.encounter}/$charges`);
      const left = charges(after.body);
      assert.deepEqual(
        left.map((c: any) => c.supportingInformation[0].reference),
        [`ServiceRequest/${xray.id}`],
      );
      // 65,400 alone is under 351,000: the small-amount rule now pays it all
      assert.equal(param(after.body, 'smallAmount').valueBoolean, true);
      assert.equal(totals(after.body).patient, 0);
      const stored = await get(cashier, `ChargeItem?context=Encounter/${v.encounter}`);
      assert.ok(stored.body.entry.some((e: any) => e.resource.status === 'aborted'));

      const emergency = await create({
        resourceType: 'Encounter',
        status: 'in-progress',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'EMER' },
        type: [{ coding: [{ system: VISIT_TYPE_SYSTEM, code: 'emergency' }] }],
        subject: { reference: `Patient/${v.patient}` },
        extension: (await get(cashier, `Encounter/${v.encounter}`)).body.extension,
      });
      await order(emergency.id, '99.2401.3006');
      const em = await op(cashier, `Encounter/${emergency.id}/$charges`);
      assert.equal(param(em.body, 'route').valueCode, 'emergency');
      assert.equal(totals(em.body).bhyt, 417600);

      const elsewhere = (
        await staffLogin(srv, {
          username: 'tn.khac',
          practitionerId: 'other-cashier',
          roles: ['cashier'],
          facilityId: 'other-hospital',
        })
      ).token;
      // another hospital's cashier: the visit does not exist for them (the gate answers 404, as for a read)
      const denied = await op(elsewhere, `Encounter/${v.encounter}/$charges`);
      assert.equal(denied.status, 404);
      assert.equal((await op(elsewhere, `Encounter/${v.encounter}/$invoice`)).status, 404);
      const unknown = await op(cashier, 'Encounter/no-such-visit/$charges');
      assert.equal(unknown.status, 404);
    });

    it('VietQR: EMVCo payload, the gateway simulator pays, the signed webhook balances the invoice and releases the held order', async () => {
      const v = await visit('fee');
      const [ctm] = await order(v.encounter, '99.2301.2001'); // blood count, service price 80,000
      assert.deepEqual([...(await awaitingPayment(srv.router, [ctm]))], [ctm.id]);
      const issued = await op(cashier, `Encounter/${v.encounter}/$invoice`);
      const inv = param(issued.body, 'invoice').resource;
      assert.equal(inv.totalNet.value, 80000);
      assert.equal(totals(issued.body).outOfScope, 80000);
      const qr = await op(cashier, `Invoice/${inv.id}/$vietqr`);
      assert.equal(qr.status, 200, JSON.stringify(qr.body));
      const payload = param(qr.body, 'qr').valueString;
      const parsed = new QRPay(payload);
      assert.equal(parsed.isValid, true); // CRC checked by the library's parser
      assert.equal(parsed.provider.guid, 'A000000727'); // NAPAS 247
      assert.equal(parsed.amount, '80000');
      assert.equal(parsed.currency, '704');
      assert.equal(parsed.additionalData.billNumber, inv.identifier[0].value);
      assert.equal(parsed.consumer.bankBin, param(qr.body, 'bankBin').valueString);
      // asking again gives the same pending payment
      const same = await op(cashier, `Invoice/${inv.id}/$vietqr`);
      assert.equal(param(same.body, 'intent').valueString, param(qr.body, 'intent').valueString);
      const [ref] = [...sim.payments.entries()].find(([, p]) => p.intentId === param(qr.body, 'intent').valueString)!;

      // a payer who sends the wrong amount: refused, still unpaid
      const wrong = await sim.pay(ref, { amount: '8000' });
      assert.equal(wrong.status, 422);
      assert.equal((await get(cashier, `Invoice/${inv.id}`)).body.status, 'issued');
      // a forged confirmation: 401
      const forged = JSON.stringify({ eventId: 'x1', intentId: param(qr.body, 'intent').valueString, amount: '80000' });
      const bad = await fetch(`${srv.url}${WEBHOOK_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: sign('not-the-secret', forged) },
        body: forged,
      });
      assert.equal(bad.status, 401);
      assert.equal(((await bad.json()) as any).issue[0].code, 'security');
      const unsigned = await fetch(`${srv.url}${WEBHOOK_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: forged,
      });
      assert.equal(unsigned.status, 401);

      const ok = await sim.pay(ref);
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      const after = (await get(cashier, `Invoice/${inv.id}`)).body;
      assert.equal(after.status, 'balanced');
      assert.equal((await awaitingPayment(srv.router, [ctm])).size, 0);
      const paymentRef = after.extension.find((e: any) => e.url.endsWith('invoice-payment')).valueReference.reference;
      const payment = (await get(cashier, paymentRef)).body;
      assert.equal(payment.formCode.coding[0].code, 'vietqr');
      assert.equal(payment.paymentAmount.value, 80000);
      assert.equal(payment.paymentIdentifier.value, (ok.body as any).confirmation.transactionId);

      // the same confirmation again (a gateway retry): the first answer, nothing recorded twice
      const replayBody = JSON.stringify((ok.body as any).confirmation);
      const replay = await fetch(`${srv.url}${WEBHOOK_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: sign(SECRET, replayBody) },
        body: replayBody,
      });
      assert.equal(replay.status, 200);
      assert.equal(((await replay.json()) as any).meta.tag[0].code, 'duplicate');
      const receipts = await srv.store.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM billing_payment_intent WHERE invoice_id = $1 AND status = 'paid'`,
        [inv.id],
      );
      assert.equal(receipts.rows[0].n, 1);
      assert.equal((await get(cashier, `Invoice/${inv.id}`)).body.meta.versionId, after.meta.versionId);
      // a new confirmation for a bill already paid: 409 (the gateway must return the money)
      const late = await sim.pay(ref);
      assert.equal(late.status, 409);
    });
  });
}

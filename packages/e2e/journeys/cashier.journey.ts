import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { awaitingPayment } from '../../server/src/capabilities/billing/hold.ts';
import { type PaymentSimulator, startPaymentSimulator } from '../../server/src/capabilities/billing/simulator.ts';
import { CATALOG_URLS } from '../../server/src/capabilities/terminology/kinds.ts';
import { BHYT_EXT } from '../../server/src/capabilities/coverage/service.ts';
import { VISIT_COVERAGE_EXT, VISIT_TYPE_SYSTEM } from '../../server/src/capabilities/visits/encounter.ts';
import { FACILITY_TAG_SYSTEM } from '../../server/src/platform/gate/gate.ts';
import {
  DEFAULT_DEMO_STAFF_PASSWORD,
  DEFAULT_DEMO_TOTP_SECRET,
  seedDemoAccounts,
} from '../../server/src/seed/demo-accounts.ts';
import { HOSPITAL_ID } from '../../server/src/seed/demo-facility.ts';
import { seedDemo } from '../../server/src/seed/seed.ts';
import { fhirFetch, startTestServer, type TestServer } from '../../server/test/harness.ts';
import { SHARED_DIR } from '../../server/test/shared-data.ts';
import { staffLogin } from '../../server/test/staff-login.ts';
import { chromiumAvailable, Journey, launch, SKIP_NOTICE } from '../src/browser.ts';
import { buildWebApp } from '../src/fixtures.ts';
import { payByVietQr, refundInvoice, takeCash } from './steps/cashier.ts';
import { signInAs } from './steps/imaging.ts';

const TAG = [{ system: FACILITY_TAG_SYSTEM, code: HOSPITAL_ID }];
const SECRET = 'cashier-journey-secret';
const PATIENT = 'Đinh Thị Thu Hà';
const INSURED = 'Phan Văn Khải';

describe(
  'journey: cashier — a fee-paying visit paid by VietQR, confirmed by the gateway simulator, receipt printed',
  { skip: !chromiumAvailable() && SKIP_NOTICE },
  () => {
    let srv: TestServer;
    let sim: PaymentSimulator;
    let browser: Browser;
    let j: Journey;
    let order: { id: string; encounter: { reference: string } };
    let patientId: string;

    before(async () => {
      buildWebApp();
      sim = await startPaymentSimulator({ secret: SECRET });
      srv = await startTestServer('pglite', { config: { billing: { gatewayUrl: sim.url, secret: SECRET } } });
      await seedDemo(srv.router, { sharedDir: SHARED_DIR, patients: 1 });
      await seedDemoAccounts(srv.security!.accounts, {
        mode: 'demo',
        password: DEFAULT_DEMO_STAFF_PASSWORD,
        totpSecret: DEFAULT_DEMO_TOTP_SECRET,
      });
      const doctor = await staffLogin(srv, {
        username: 'e2e.bacsi.cashier',
        practitionerId: 'e2e-cashier-doctor',
        roles: ['doctor'],
        facilityId: HOSPITAL_ID,
      });
      const patient = await fhirFetch(srv.fhir, 'Patient', {
        method: 'POST',
        body: {
          resourceType: 'Patient',
          meta: { tag: TAG },
          name: [{ text: PATIENT, family: 'Đinh', given: ['Thị', 'Thu', 'Hà'] }],
          gender: 'female',
          birthDate: '1988-09-12',
        },
      });
      patientId = patient.body.id;
      const encounter = await fhirFetch(srv.fhir, 'Encounter', {
        method: 'POST',
        body: {
          resourceType: 'Encounter',
          meta: { tag: TAG },
          status: 'in-progress',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
          type: [{ coding: [{ system: VISIT_TYPE_SYSTEM, code: 'fee' }], text: 'Khám dịch vụ' }],
          subject: { reference: `Patient/${patient.body.id}` },
          period: { start: new Date().toISOString() },
        },
      });
      // a blood count (service price 80,000 đ) and a chest X-ray (120,000 đ)
      const ordered = await fhirFetch(srv.fhir, `Encounter/${encounter.body.id}/$order`, {
        method: 'POST',
        headers: { authorization: `Bearer ${doctor.token}` },
        body: {
          resourceType: 'Parameters',
          parameter: ['99.2301.2001', '99.2401.3004'].map((code) => ({
            name: 'service',
            valueCoding: { system: CATALOG_URLS.services, code },
          })),
        },
      });
      assert.equal(ordered.status, 200, JSON.stringify(ordered.body));
      order = ordered.body.entry[0].resource;
      // an insured patient (benefit level 4: 80 %) with a CT scan, BHYT price 522,000 đ
      const insured = await fhirFetch(srv.fhir, 'Patient', {
        method: 'POST',
        body: {
          resourceType: 'Patient',
          meta: { tag: TAG },
          name: [{ text: INSURED, family: 'Phan', given: ['Văn', 'Khải'] }],
          gender: 'male',
          birthDate: '1961-04-30',
        },
      });
      const year = new Date().getUTCFullYear();
      const coverage = await fhirFetch(srv.fhir, 'Coverage', {
        method: 'POST',
        body: {
          resourceType: 'Coverage',
          meta: { tag: TAG },
          status: 'active',
          extension: [
            { url: BHYT_EXT.verification, valueCode: 'verified' },
            { url: BHYT_EXT.benefitLevel, valueInteger: 4 },
          ],
          beneficiary: { reference: `Patient/${insured.body.id}` },
          payor: [{ display: 'Bảo hiểm xã hội Việt Nam' }],
          period: { start: `${year}-01-01`, end: `${year}-12-31` },
        },
      });
      const bhytVisit = await fhirFetch(srv.fhir, 'Encounter', {
        method: 'POST',
        body: {
          resourceType: 'Encounter',
          meta: { tag: TAG },
          extension: [{ url: VISIT_COVERAGE_EXT, valueReference: { reference: `Coverage/${coverage.body.id}` } }],
          status: 'in-progress',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
          type: [{ coding: [{ system: VISIT_TYPE_SYSTEM, code: 'bhyt' }], text: 'Khám bảo hiểm y tế' }],
          subject: { reference: `Patient/${insured.body.id}` },
          period: { start: new Date().toISOString() },
        },
      });
      const ct = await fhirFetch(srv.fhir, `Encounter/${bhytVisit.body.id}/$order`, {
        method: 'POST',
        headers: { authorization: `Bearer ${doctor.token}` },
        body: {
          resourceType: 'Parameters',
          parameter: [{ name: 'service', valueCoding: { system: CATALOG_URLS.services, code: '99.2401.3006' } }],
        },
      });
      assert.equal(ct.status, 200, JSON.stringify(ct.body));
      browser = await launch();
      j = await Journey.open(browser, 'cashier');
    });
    after(async () => {
      await j?.close();
      await browser?.close();
      await srv?.close();
      await sim?.close();
    });

    it('signs in as the cashier and lands on the cashier screen', async () => {
      await signInAs(j.page, srv.url, 'thungan');
      await j.page.getByRole('heading', { name: 'Thu ngân — viện phí' }).waitFor();
      assert.equal((await awaitingPayment(srv.router, [order as never])).size, 1, 'the order waits for payment');
      await j.shot('cashier-home');
    });

    it('takes a VietQR payment confirmed by the gateway simulator, and prints the receipt', async () => {
      const paid = await payByVietQr(j.page, {
        patientName: PATIENT,
        patientPays: '200.000 đ',
        pay: async () => {
          const [ref] = [...sim.payments.keys()];
          const r = await sim.pay(ref);
          assert.equal(r.status, 200, JSON.stringify(r.body));
        },
        shot: (s) => j.shot(s),
      });
      assert.match(paid.receipt, /^PT\d{10}$/);
      // the fee-paying orders are released for the lab and imaging
      assert.equal((await awaitingPayment(srv.router, [order as never])).size, 0);
      const inv = await fhirFetch(srv.fhir, `Invoice?subject=Patient/${patientId}&status=balanced`);
      assert.equal(inv.body.entry.length, 1);
      assert.equal(inv.body.entry[0].resource.totalNet.value, 200000);
    });

    it('takes cash from an insured patient for the 20 % co-payment, gives change, then refunds it with a reason', async () => {
      const receipt = await takeCash(j.page, {
        patientName: INSURED,
        bhyt: '417.600 đ',
        patientPays: '104.400 đ',
        received: '105000',
        change: '600 đ',
        shot: (s) => j.shot(s),
      });
      assert.match(receipt, /^PT\d{10}$/);
      await refundInvoice(j.page, {
        patientName: INSURED,
        reason: 'Người bệnh chuyển viện, không chụp',
        shot: (s) => j.shot(s),
      });
      const refunds = await fhirFetch(srv.fhir, 'PaymentReconciliation?disposition=Hoàn tiền');
      assert.ok(
        refunds.body.entry.some(
          (e: { resource: { paymentAmount: { value: number } } }) => e.resource.paymentAmount.value === -104400,
        ),
      );
    });
  },
);

import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Hl7Message } from '@medplum/core';
import { Hl7Client } from '@medplum/hl7';
import type { Browser } from 'playwright-core';
import { HOSPITAL_ID } from '../../server/src/seed/demo-facility.ts';
import { fhirFetch, type TestServer } from '../../server/test/harness.ts';
import { chromiumAvailable, Journey, launch, SKIP_NOTICE } from '../src/browser.ts';
import { apiStaff, type DemoSite, openVisit, orderServices, startDemoSite } from '../src/fixtures.ts';
import { fixAndReplayAnalyzerMessage } from './steps/analyzer.ts';
import { signInAs } from './steps/imaging.ts';

describe(
  'journey: analyzer — a blood count from the analyzer with a wrong barcode is quarantined, fixed and replayed',
  { skip: !chromiumAvailable() && SKIP_NOTICE },
  () => {
    let site: DemoSite;
    let srv: TestServer;
    let browser: Browser;
    let j: Journey;
    let orderId: string;
    let barcode: string;
    let mllp: number;

    before(async () => {
      site = await startDemoSite(1, { config: { analyzer: { port: 0, facilityId: HOSPITAL_ID } } });
      srv = site.srv;
      mllp = (await srv.analyzer.start())!.port;
      const doctor = await apiStaff(site, { username: 'e2e.bacsi.mllp', name: 'Đỗ Văn Nam', roles: ['doctor'] });
      const tech = await apiStaff(site, { username: 'e2e.ktv.mllp', name: 'Mai Thị Hoa', roles: ['lab-technician'] });
      const name = `Vũ Minh Châu ${randomInt(100, 1000)}`;
      const visit = await openVisit(site, { name, gender: 'female', birthDate: '1988-02-14' }, 'bhyt');
      [orderId] = await orderServices(site, doctor, visit.encounterId, ['99.2301.2001']);
      const specimen = await fhirFetch(srv.fhir, `ServiceRequest/${orderId}/$collect-specimen`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tech.token}` },
        body: { resourceType: 'Parameters', parameter: [] },
      });
      assert.equal(specimen.status, 201, JSON.stringify(specimen.body));
      barcode = specimen.body.accessionIdentifier.value;
      browser = await launch();
      j = await Journey.open(browser, 'analyzer');
    });
    after(async () => {
      await j?.close();
      await browser?.close();
      await site?.close();
    });

    it('the technician fixes the barcode and the test code on the quarantine screen and the results land on the order', async () => {
      // the analyzer misread the tube and sends its own code for hemoglobin
      const client = new Hl7Client({ host: '127.0.0.1', port: mllp });
      const ack = await client.sendAndWait(
        Hl7Message.parse(
          [
            'MSH|^~\\&|XN-550|K06|SEN|BV-SEN|20261203093000||ORU^R01|E2E-1|P|2.3.1',
            'OBR|1||99887766|CBC',
            'OBX|1|NM|HGB^Hemoglobin||132|g/L|||||F',
            'OBX|2|NM|6690-2^WBC^LN||6.8|G/L|||||F',
          ].join('\r'),
        ),
        { timeoutMs: 20_000 },
      );
      await client.close();
      assert.equal(ack.getSegment('MSA')?.getField(1)?.toString(), 'AE');
      await signInAs(j.page, srv.url, 'ktv.xetnghiem');
      await fixAndReplayAnalyzerMessage(j.page, {
        wrongBarcode: '99887766',
        barcode,
        codes: { HGB: '718-7' },
        shot: (s) => j.shot(s),
      });
      const reports = await fhirFetch(srv.fhir, `DiagnosticReport?based-on=ServiceRequest/${orderId}`);
      assert.equal(reports.body.entry.length, 1);
      assert.equal(reports.body.entry[0].resource.result.length, 2);
    });
  },
);

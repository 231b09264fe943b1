import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Hl7Message, Hl7Segment } from '@medplum/core';
import { Hl7Client } from '@medplum/hl7';
import { createTestDb, testEngines } from '@sen/db/testing';
import { unescapeHl7 } from '../src/capabilities/analyzer/hl7.ts';
import { CATALOG_URLS } from '../src/capabilities/terminology/kinds.ts';
import { FACILITY_TAG_SYSTEM } from '../src/platform/gate/gate.ts';
import { HOSPITAL_ID } from '../src/seed/demo-facility.ts';
import { seedDemo } from '../src/seed/seed.ts';
import { fhirFetch, startTestServer, type TestServer } from './harness.ts';
import { SHARED_DIR, sharedPath } from './shared-data.ts';
import { staffLogin } from './staff-login.ts';

const TAG = [{ system: FACILITY_TAG_SYSTEM, code: HOSPITAL_ID }];
const SERVICES = CATALOG_URLS.services;
const BLOOD_COUNT = '99.2301.2001';
const GLUCOSE = '99.2302.2101';
const HL7_DIR = sharedPath('testdata', 'hl7v2');

type P = { name: string; [k: string]: unknown };
const params = (...parameter: P[]): unknown => ({ resourceType: 'Parameters', parameter });
const part = (p: any, name: string): any => p?.part?.find((x: any) => x.name === name);
const partValue = (p: any, name: string): any => {
  const x = part(p, name);
  return x?.valueString ?? x?.valueCode ?? x?.valueInteger ?? x?.valueInstant;
};

/** Every shared HL7 v2 sample, read in place: its path and text with LF turned into CR (a BOM is kept as it is). */
export function sharedMessages(): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  for (const dir of readdirSync(HL7_DIR).sort()) {
    for (const f of readdirSync(join(HL7_DIR, dir)).sort()) {
      if (f.endsWith('.hl7')) {
        out.push({ file: `${dir}/${f}`, text: readFileSync(join(HL7_DIR, dir, f), 'utf8').replace(/\r?\n/g, '\r') });
      }
    }
  }
  return out;
}

/** A message as the client library sends it, byte for byte the given text (even text that is not HL7). */
export function asMessage(text: string): Hl7Message {
  return new Hl7Message(text.split('\r').map((line) => new Hl7Segment(line.split('|'))));
}

/** Sends text over the client's MLLP connection and resolves with the next message the server sends back. */
export async function exchange(client: Hl7Client, text: string, timeoutMs = 20_000): Promise<Hl7Message> {
  const connection = await client.connect();
  return new Promise<Hl7Message>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no reply from the MLLP listener')), timeoutMs);
    const onMessage = (e: { message: Hl7Message }): void => {
      clearTimeout(timer);
      connection.removeEventListener('message', onMessage as never);
      resolve(e.message);
    };
    connection.addEventListener('message', onMessage as never);
    client.send(asMessage(text)).catch(reject);
  });
}

const msa = (m: Hl7Message, i: number): string => m.getSegment('MSA')?.getField(i)?.toString() ?? '';

export function oru(input: {
  controlId: string;
  barcode: string;
  results: [code: string, value: string, unit: string][];
  app?: string;
}): string {
  return [
    `MSH|^~\\&|${input.app ?? 'XN-550'}|K06|SEN|BV-SEN|20261203093000||ORU^R01|${input.controlId}|P|2.3.1`,
    'PID|1||PID-OF-ANALYZER',
    `OBR|1||${input.barcode}|CBC^Tong phan tich te bao mau|||20261203091500`,
    ...input.results.map(
      ([code, value, unit], i) => `OBX|${i + 1}|NM|${code}^^LN||${value}|${unit}|||||F|||20261203092500`,
    ),
  ].join('\r');
}

for (const engine of testEngines()) {
  describe(`analyzer: HL7 v2 over MLLP, quarantine, replay [${engine}]`, () => {
    let srv: TestServer;
    let client: Hl7Client;
    let doctor: string;
    let tech: string;
    let receptionist: string;
    let otherTech: string;
    const as = (token: string) => ({ authorization: `Bearer ${token}` });
    const call = (token: string, path: string, body?: unknown) =>
      fhirFetch(srv.fhir, path, { method: body === undefined ? 'GET' : 'POST', body, headers: as(token) });

    /** A visit with a lab order collected by the technician: the order and the specimen's barcode. */
    async function collected(
      service: string,
    ): Promise<{ sr: string; barcode: string; patient: string; encounter: string }> {
      const pt = await fhirFetch(srv.fhir, 'Patient', {
        method: 'POST',
        body: {
          resourceType: 'Patient',
          meta: { tag: TAG },
          name: [{ family: 'Lê', given: ['Văn Minh'] }],
          birthDate: '1975-06-15',
          gender: 'male',
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
      const ordered = await call(
        doctor,
        `Encounter/${enc.body.id}/$order`,
        params({ name: 'service', valueCoding: { system: SERVICES, code: service } }),
      );
      assert.equal(ordered.status, 200, JSON.stringify(ordered.body));
      const sr = ordered.body.entry[0].resource;
      const s = await call(tech, `ServiceRequest/${sr.id}/$collect-specimen`, params());
      assert.equal(s.status, 201, JSON.stringify(s.body));
      return { sr: sr.id, barcode: s.body.accessionIdentifier.value, patient: pt.body.id, encounter: enc.body.id };
    }

    async function messages(status = 'all'): Promise<any[]> {
      const r = await call(tech, `$analyzer-messages?status=${status}&_count=200`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.parameter.filter((p: P) => p.name === 'message');
    }

    async function messageById(id: string): Promise<any> {
      const r = await call(tech, `$analyzer-message?id=${id}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body;
    }

    async function reportsOf(sr: string): Promise<any[]> {
      const r = await call(doctor, `DiagnosticReport?based-on=ServiceRequest/${sr}`);
      assert.equal(r.status, 200);
      return (r.body.entry ?? []).map((e: any) => e.resource);
    }

    before(async () => {
      srv = await startTestServer(engine, {
        config: { analyzer: { port: 0, host: '127.0.0.1', facilityId: HOSPITAL_ID } },
      });
      await seedDemo(srv.router, { sharedDir: SHARED_DIR, patients: 1 });
      const login = (username: string, practitionerId: string, roles: any[], facilityId = HOSPITAL_ID) =>
        staffLogin(srv, { username, practitionerId, roles, facilityId }).then((l) => l.token);
      doctor = await login('bs.mllp', 'sen-demo-s-01', ['doctor']);
      tech = await login('ktv.mllp', 'sen-demo-s-12', ['lab-technician']);
      receptionist = await login('td.mllp', 'sen-demo-s-11', ['receptionist']);
      otherTech = await login('ktv.mllp.khac', 'other-tech', ['lab-technician'], 'other-hospital');
      const address = await srv.analyzer.start();
      assert.ok(address, 'the listener is configured');
      assert.equal(address.address, '127.0.0.1');
      client = new Hl7Client({ host: '127.0.0.1', port: address.port, keepAlive: true });
    });
    after(async () => {
      await client?.close();
      await srv?.close();
    });

    it('stores every shared sample as received and answers it: ORU results AE (not a Sen specimen), other types AR', async () => {
      const samples = sharedMessages();
      assert.ok(samples.length > 100, 'the shared HL7 v2 samples are there');
      const before = (await messages()).length;
      for (const s of samples) {
        const reply = await exchange(client, s.text);
        const type = /^\uFEFF?MSH\|[^|]*\|(?:[^|]*\|){6}([^|^]*)\^?([^|^]*)/.exec(s.text);
        const controlId = s.text
          .replace(/^\uFEFF/, '')
          .split('\r')[0]
          .split('|')[9];
        assert.equal(msa(reply, 2), controlId, `${s.file}: the ACK names the message's control id`);
        assert.equal(reply.getSegment('MSH')?.getField(9)?.getComponent(1), 'ACK', s.file);
        if (type?.[1] === 'ORU' && type[2] === 'R01') {
          assert.equal(msa(reply, 1), 'AE', `${s.file}: ${msa(reply, 3)}`);
        } else {
          assert.equal(msa(reply, 1), 'AR', `${s.file}: ${msa(reply, 3)}`);
          assert.match(unescapeHl7(msa(reply, 3)), /không nhận loại tin nhắn .* \/ Sen does not take/);
          assert.equal(reply.getSegment('ERR')?.getField(3)?.getComponent(1), '200');
        }
        assert.ok(reply.getSegment('ERR'), `${s.file}: an error ACK carries ERR`);
      }
      const stored = await messages();
      assert.equal(stored.length - before, samples.length, 'every message is stored');
      const lab = stored.find((m) => partValue(m, 'controlId') === '182' && partValue(m, 'analyzer') === 'SomeSystem');
      assert.equal(partValue(lab, 'status'), 'quarantined');
      assert.equal(partValue(lab, 'reasonCode'), 'unknown-specimen');
      assert.match(partValue(lab, 'reason'), /Không có mẫu mã vạch '82503246' \/ no specimen with barcode '82503246'/);
      // the text is stored exactly as received: the byte-order mark and the CR line ends included
      const full = await messageById(partValue(lab, 'id'));
      const raw: string = full.parameter.find((p: P) => p.name === 'raw').valueString;
      assert.equal(raw, samples.find((s) => s.file.endsWith('LAB-ORU-1.hl7'))?.text);
      assert.equal(raw.charCodeAt(0), 0xfeff);
      // two samples share MSGID00231 from one sender: the second is a duplicate of the quarantined first
      const whi = stored.filter((m) => partValue(m, 'controlId') === 'MSGID00231');
      assert.deepEqual(whi.map((m) => partValue(m, 'status')).sort(), ['duplicate', 'quarantined']);
      const adt = stored.find((m) => partValue(m, 'messageType') === 'ADT^A01');
      assert.equal(partValue(adt, 'status'), 'quarantined');
      assert.equal(partValue(adt, 'ack'), 'AR');
    });

    it('answers text that is not HL7, or a message cut short, with AR and ERR and keeps it in quarantine', async () => {
      const garbage = await exchange(client, 'this is not an HL7 message');
      assert.equal(msa(garbage, 1), 'AR');
      assert.match(unescapeHl7(msa(garbage, 3)), /không bắt đầu bằng đoạn MSH/);
      assert.equal(garbage.getSegment('ERR')?.getField(2)?.toString(), 'MSH^1');
      const cut = sharedMessages()
        .find((s) => s.file.endsWith('LAB-ORU-2.hl7'))
        ?.text.slice(0, 45) as string;
      const reply = await exchange(client, cut);
      assert.equal(msa(reply, 1), 'AR');
      assert.match(unescapeHl7(msa(reply, 3)), /MSH-9/);
      const q = await messages('quarantined');
      const stored = q.find((m) => partValue(m, 'reasonCode') === 'missing-field');
      assert.ok(stored, 'the cut message is in quarantine');
      assert.equal(
        (await messageById(partValue(stored, 'id'))).parameter.find((p: P) => p.name === 'raw').valueString,
        cut,
      );
      assert.ok(q.some((m) => partValue(m, 'reasonCode') === 'malformed'));
    });

    it('imports an ORU^R01 onto the real pending order of the specimen, once: the same control id again is not imported twice', async () => {
      const order = await collected(BLOOD_COUNT);
      const text = oru({
        controlId: `CBC-${order.barcode}`,
        barcode: order.barcode,
        results: [
          ['6690-2', '7.2', 'G/L'],
          ['718-7', '141', 'g/L'],
          ['777-3', '250', 'G/L'],
        ],
      });
      // the library's own send-and-wait: it matches the ACK to the message by MSA-2
      const ack = await client.sendAndWait(Hl7Message.parse(text), { timeoutMs: 20_000 });
      assert.equal(msa(ack, 1), 'AA', unescapeHl7(msa(ack, 3)));
      const [report] = await reportsOf(order.sr);
      assert.ok(report, 'the results are a DiagnosticReport of the order');
      assert.equal(report.status, 'preliminary');
      assert.equal(report.subject.reference, `Patient/${order.patient}`);
      assert.equal(report.result.length, 3);
      const obs = await call(doctor, `Observation?based-on=ServiceRequest/${order.sr}`);
      assert.equal(obs.body.entry.length, 3);
      assert.ok(obs.body.entry.every((e: any) => e.resource.status === 'preliminary'));
      const hb = obs.body.entry
        .map((e: any) => e.resource)
        .find((o: any) => o.code.coding.some((c: any) => c.code === '718-7'));
      assert.equal(hb.valueQuantity.value, 141);
      // the analyzer resends (it did not get the ACK): acknowledged, not imported again
      const again = await exchange(client, text);
      assert.equal(msa(again, 1), 'AA');
      assert.equal((await reportsOf(order.sr)).length, 1);
      assert.equal((await call(doctor, `Observation?based-on=ServiceRequest/${order.sr}`)).body.entry.length, 3);
      const both = (await messages()).filter((m) => partValue(m, 'controlId') === `CBC-${order.barcode}`);
      assert.deepEqual(both.map((m) => partValue(m, 'status')).sort(), ['duplicate', 'processed']);
      const processed = both.find((m) => partValue(m, 'status') === 'processed');
      assert.equal(part(processed, 'report').valueReference.reference, `DiagnosticReport/${report.id}`);
      // the listener acted as the facility's system principal, and said so in the audit trail
      const audit = await srv.security?.audit.search({ who: 'Device/sen-mllp', patient: order.patient });
      assert.ok(
        audit?.rows.some((r) => r.action === 'create' && r.outcome === 'success' && r.resourceId === report.id),
      );
    });

    it('lets the lab fix a quarantined shared ORU (barcode, test code mapping, corrected unit) and replay it onto a Sen order', async () => {
      const order = await collected(GLUCOSE);
      const sample = sharedMessages().find((s) => s.file.endsWith('ORU-R01-RMGEAD.hl7')) as { text: string };
      const first = await exchange(client, sample.text);
      assert.equal(msa(first, 1), 'AE');
      const q = (await messages('quarantined')).find((m) => partValue(m, 'controlId') === 'CNTRL-3456');
      const id = partValue(q, 'id');
      assert.equal(partValue(q, 'reasonCode'), 'unknown-specimen');
      const shown = await messageById(id);
      const group = shown.parameter.find((p: P) => p.name === 'group');
      assert.equal(partValue(group, 'barcode'), '1045813');
      assert.equal(partValue(group, 'barcodeField'), 'OBR-3.1');
      // a receptionist may not see the quarantine; a doctor may see it but not replay; another facility sees nothing
      assert.equal((await call(receptionist, '$analyzer-messages')).status, 403);
      assert.equal((await call(doctor, '$analyzer-replay', params({ name: 'id', valueString: id }))).status, 403);
      assert.equal((await call(otherTech, `$analyzer-message?id=${id}`)).status, 404);
      // 1: the barcode → the Sen specimen: now the test code is unknown
      const r1 = await call(
        tech,
        '$analyzer-replay',
        params({ name: 'id', valueString: id }, { name: 'barcode', valueString: order.barcode }),
      );
      assert.equal(r1.status, 200, JSON.stringify(r1.body));
      assert.equal(r1.body.parameter.find((p: P) => p.name === 'ack').valueCode, 'AE');
      assert.equal(partValue(r1.body.parameter[0], 'reasonCode'), 'unknown-test');
      // 2: map the analyzer's glucose code to Sen's (remembered for this analyzer): now the unit does not fit
      const r2 = await call(
        tech,
        '$analyzer-replay',
        params(
          { name: 'id', valueString: id },
          {
            name: 'code',
            part: [
              { name: 'from', valueString: '1554-5' },
              { name: 'to', valueString: '14749-6' },
              { name: 'system', valueUri: 'http://loinc.org' },
              { name: 'remember', valueBoolean: true },
            ],
          },
        ),
      );
      assert.equal(partValue(r2.body.parameter[0], 'reasonCode'), 'invalid-value', JSON.stringify(r2.body));
      assert.match(partValue(r2.body.parameter[0], 'reason'), /mg\/dl/);
      // 3: the value converted to the catalog unit in a corrected text: imported on the Sen order
      const corrected = sample.text.replace('^182|mg/dl', '^10.1|mmol/L');
      const r3 = await call(
        tech,
        '$analyzer-replay',
        params({ name: 'id', valueString: id }, { name: 'correctedMessage', valueString: corrected }),
      );
      assert.equal(r3.body.parameter.find((p: P) => p.name === 'ack').valueCode, 'AA', JSON.stringify(r3.body));
      assert.equal(partValue(r3.body.parameter[0], 'status'), 'processed');
      assert.equal(partValue(r3.body.parameter[0], 'handledBy'), 'Practitioner/sen-demo-s-12');
      const [report] = await reportsOf(order.sr);
      assert.ok(report);
      const raw = (await messageById(id)).parameter.find((p: P) => p.name === 'raw').valueString;
      assert.equal(raw, sample.text, 'the received text is never changed');
      assert.equal((await call(tech, '$analyzer-replay', params({ name: 'id', valueString: id }))).status, 409);
      // the mapping stays: the analyzer's next glucose result goes through without a person
      const next = await collected(GLUCOSE);
      const ack = await exchange(
        client,
        `MSH|^~\\&|GHH LAB|ELAB-3|GHH OE|BLDG4|20261203100000||ORU^R01|CNTRL-9999|P|2.4\rOBR|1||${next.barcode}|15545^GLUCOSE\rOBX|1|NM|1554-5^GLUCOSE^LN||5.4|mmol/L|||||F`,
      );
      assert.equal(msa(ack, 1), 'AA', unescapeHl7(msa(ack, 3)));
      assert.equal((await reportsOf(next.sr)).length, 1);
    });

    it('discards a quarantined message only with a reason', async () => {
      const reply = await exchange(client, 'MSH|^~\\&|XN-550|K06|SEN|BV|20261203||ADT^A08|DISCARD-1|P|2.5');
      assert.equal(msa(reply, 1), 'AR');
      const m = (await messages('quarantined')).find((x) => partValue(x, 'controlId') === 'DISCARD-1');
      const id = partValue(m, 'id');
      assert.equal((await call(tech, '$analyzer-discard', params({ name: 'id', valueString: id }))).status, 400);
      const ok = await call(
        tech,
        '$analyzer-discard',
        params({ name: 'id', valueString: id }, { name: 'reason', valueString: 'Tin nhắn ADT gửi nhầm cổng' }),
      );
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(partValue(ok.body.parameter[0], 'status'), 'discarded');
      assert.equal((await call(tech, '$analyzer-messages?status=nonsense')).status, 400);
    });

    it('downloads the pending orders of a specimen: QRY^Q02 as ORM^O01, QBP^Q11 as OML^O21; an unknown barcode is AE', async () => {
      const order = await collected(BLOOD_COUNT);
      const orm = await exchange(
        client,
        `MSH|^~\\&|BC-5390|K06|SEN|BV|20261203080000||QRY^Q02|Q-${order.barcode}|P|2.3.1\rQRD|20261203080000|R|D|Q1|||RD|${order.barcode}|OTH`,
      );
      assert.equal(orm.getSegment('MSH')?.getField(9)?.toString(), 'ORM^O01');
      assert.equal(msa(orm, 1), 'AA');
      assert.equal(msa(orm, 2), `Q-${order.barcode}`);
      assert.equal(orm.getSegment('PID')?.getField(3)?.getComponent(1), order.patient);
      assert.equal(orm.getSegment('PID')?.getField(5)?.getComponent(1), 'Lê');
      assert.equal(orm.getSegment('ORC')?.getField(2)?.toString(), order.sr);
      assert.equal(orm.getSegment('OBR')?.getField(3)?.toString(), order.barcode);
      assert.equal(orm.getSegment('OBR')?.getField(4)?.getComponent(1), BLOOD_COUNT);
      const oml = await exchange(
        client,
        `MSH|^~\\&|BC-5390|K06|SEN|BV|20261203080000||QBP^Q11^QBP_Q11|Q2-${order.barcode}|P|2.5.1\rQPD|WOS^Work Order Step^IHE_LABTF|Q2|${order.barcode}`,
      );
      assert.equal(oml.getSegment('MSH')?.getField(9)?.toString(), 'OML^O21^OML_O21');
      assert.equal(oml.getSegment('SPM')?.getField(2)?.getComponent(1), order.barcode);
      const unknown = await exchange(
        client,
        'MSH|^~\\&|BC-5390|K06|SEN|BV|20261203080000||QRY^Q02|Q-NONE|P|2.3.1\rQRD|20261203080000|R|D|Q1|||RD|99999999999|OTH',
      );
      assert.equal(msa(unknown, 1), 'AE');
      assert.equal(unknown.getSegment('ERR')?.getField(1)?.getComponent(1), 'QRD');
      assert.match(unescapeHl7(msa(unknown, 3)), /Không có mẫu mã vạch '99999999999'/);
      const answered = (await messages('answered')).filter((m) => partValue(m, 'messageType')?.startsWith('Q'));
      assert.ok(answered.length >= 3);
    });
  });
}

/** A Sen server process (test/analyzer-child.ts); resolves once it listens, with its ports and its stdout lines. */
function startChild(env: Record<string, string>): Promise<{
  child: ChildProcess;
  http: number;
  mllp: number;
  next(prefix: string): Promise<string>;
}> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'analyzer-child.ts')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiting: { prefix: string; resolve: (l: string) => void }[] = [];
  let buffered = '';
  child.stdout?.on('data', (d: Buffer) => {
    buffered += d.toString();
    let i: number;
    while ((i = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      const w = waiting.findIndex((x) => line.startsWith(x.prefix));
      if (w >= 0) {
        waiting.splice(w, 1)[0].resolve(line);
      } else {
        lines.push(line);
      }
    }
  });
  const next = (prefix: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const seen = lines.findIndex((l) => l.startsWith(prefix));
      if (seen >= 0) {
        resolve(lines.splice(seen, 1)[0]);
        return;
      }
      const timer = setTimeout(() => reject(new Error(`the server process never said '${prefix}'`)), 120_000);
      waiting.push({
        prefix,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      child.once('exit', (code) => reject(new Error(`the server process exited (${code}) before '${prefix}'`)));
    });
  return next('ready ').then((l) => {
    const [, http, mllp] = l.split(' ');
    return { child, http: Number(http), mllp: Number(mllp), next };
  });
}

for (const engine of testEngines()) {
  describe(`analyzer: nothing lost when the server is killed mid-stream [${engine}]`, () => {
    let dir: string | undefined;
    let pg: Awaited<ReturnType<typeof createTestDb>> | undefined;
    const children: ChildProcess[] = [];
    before(async () => {
      if (engine === 'postgres') {
        pg = await createTestDb('postgres');
      } else {
        dir = mkdtempSync(join(tmpdir(), 'sen-analyzer-'));
      }
    });
    after(async () => {
      for (const c of children) {
        if (c.exitCode === null && c.signalCode === null) {
          c.kill('SIGKILL');
        }
      }
      await pg?.drop();
      if (dir) {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('processes on start-up a message stored before a kill -9, and does not import it twice when the analyzer resends it', async () => {
      const dbEnv: Record<string, string> = pg?.url
        ? { ANALYZER_CHILD_DB: pg.url }
        : { ANALYZER_CHILD_DATA: dir as string };
      const first = await startChild({ ...dbEnv, ANALYZER_CHILD_SEED: '1', ANALYZER_CHILD_HOLD: 'HOLD-1' });
      children.push(first.child);
      const api = `http://127.0.0.1:${first.http}/fhir/R4`;
      const post = async (path: string, body: unknown): Promise<any> => {
        const r = await fhirFetch(api, path, { method: 'POST', body });
        assert.ok(r.status < 300, `${path}: ${r.status} ${JSON.stringify(r.body)}`);
        return r.body;
      };
      const pt = await post('Patient', {
        resourceType: 'Patient',
        meta: { tag: TAG },
        name: [{ family: 'Phạm', given: ['Thu'] }],
        gender: 'female',
        birthDate: '1990-01-01',
      });
      const enc = await post('Encounter', {
        resourceType: 'Encounter',
        meta: { tag: TAG },
        status: 'in-progress',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        subject: { reference: `Patient/${pt.id}` },
      });
      const orders = await post(
        `Encounter/${enc.id}/$order`,
        params(
          { name: 'service', valueCoding: { system: SERVICES, code: BLOOD_COUNT } },
          { name: 'service', valueCoding: { system: SERVICES, code: GLUCOSE } },
        ),
      );
      const [cbc, glu] = orders.entry.map((e: any) => e.resource);
      const cbcTube = (await post(`ServiceRequest/${cbc.id}/$collect-specimen`, params())).accessionIdentifier.value;
      const gluTube = (await post(`ServiceRequest/${glu.id}/$collect-specimen`, params())).accessionIdentifier.value;
      // the analyzer streams two results; the second is stored, then the server is killed before processing it
      const analyzer = new Hl7Client({ host: '127.0.0.1', port: first.mllp });
      const ok = await analyzer.sendAndWait(
        Hl7Message.parse(oru({ controlId: 'OK-1', barcode: gluTube, results: [['14749-6', '5.6', 'mmol/L']] })),
        { timeoutMs: 20_000 },
      );
      assert.equal(msa(ok, 1), 'AA', unescapeHl7(msa(ok, 3)));
      const held = oru({
        controlId: 'HOLD-1',
        barcode: cbcTube,
        results: [
          ['718-7', '128', 'g/L'],
          ['777-3', '310', 'G/L'],
        ],
      });
      const lost = analyzer.sendAndWait(Hl7Message.parse(held), { timeoutMs: 60_000 });
      lost.catch(() => undefined);
      await first.next('held ');
      first.child.kill('SIGKILL');
      await new Promise((resolve) => first.child.once('exit', resolve));
      await assert.rejects(lost, 'the analyzer got no ACK for the message cut short');
      await analyzer.close();

      // the next start processes what was stored and not processed
      const second = await startChild(dbEnv);
      children.push(second.child);
      const api2 = `http://127.0.0.1:${second.http}/fhir/R4`;
      const reports = async (sr: string): Promise<any[]> =>
        (await fhirFetch(api2, `DiagnosticReport?based-on=ServiceRequest/${sr}`)).body.entry ?? [];
      assert.equal((await reports(cbc.id)).length, 1, 'the held message was imported at start-up');
      assert.equal((await reports(glu.id)).length, 1);
      const list = await fhirFetch(api2, '$analyzer-messages?status=all');
      const byControl = (c: string): any[] =>
        list.body.parameter.filter((p: P) => p.name === 'message' && partValue(p, 'controlId') === c);
      assert.deepEqual(
        byControl('HOLD-1').map((m) => partValue(m, 'status')),
        ['processed'],
      );
      // the analyzer sends it again (it never had an ACK): acknowledged, not imported twice
      const again = new Hl7Client({ host: '127.0.0.1', port: second.mllp });
      const ack = await again.sendAndWait(Hl7Message.parse(held), { timeoutMs: 20_000 });
      await again.close();
      assert.equal(msa(ack, 1), 'AA');
      assert.equal((await reports(cbc.id)).length, 1);
      const obs = await fhirFetch(api2, `Observation?based-on=ServiceRequest/${cbc.id}`);
      assert.equal(obs.body.entry.length, 2);
      const after = await fhirFetch(api2, '$analyzer-messages?status=all');
      const statuses = after.body.parameter
        .filter((p: P) => p.name === 'message' && partValue(p, 'controlId') === 'HOLD-1')
        .map((m: any) => partValue(m, 'status'))
        .sort();
      assert.deepEqual(statuses, ['duplicate', 'processed']);
      second.child.kill('SIGTERM');
      await new Promise((resolve) => second.child.once('exit', resolve));
    });
  });
}

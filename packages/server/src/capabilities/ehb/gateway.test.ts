import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, test } from 'node:test';
import { HttpEhbGateway } from './gateway.ts';
import { backoffMs } from './sender.ts';
import { EhbSigner } from './signer.ts';
import { type EhbSimulator, startEhbSimulator } from './simulator.ts';
import type { EhbTables } from './tables.ts';
import { envelopeXml } from './xml.ts';

const tables: EhbTables = {
  XML1: [
    ['MA_LK', 'lk-1'],
    ['MA_BENH_CHINH', 'I10'],
    ['NGAY_RA', '202612031005'],
  ],
  XML2: [],
  XML3: [],
  XML4: [],
  XML8: [['MA_LK', 'lk-1']],
};

let sim: EhbSimulator;
let signer: EhbSigner;
const keys: string[] = [];

before(async () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  signer = await EhbSigner.load(undefined as never, {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  });
  keys.push(signer.material.publicKeyPem);
  sim = await startEhbSimulator({ publicKeys: () => keys });
});
after(async () => {
  await sim?.close();
});

const payload = (t: EhbTables = tables): string =>
  signer.sign(envelopeXml({ facilityCode: '79999', createdAt: new Date(), tables: t }));

test('the HTTP adapter: accepted with a transaction code, the same one for a repeat', async () => {
  const gw = new HttpEhbGateway({ url: sim.url, timeoutMs: 2000 });
  const s = { maLk: 'lk-1', facilityCode: '79999', payload: payload(), idempotencyKey: 'lk-1:a' };
  const a = await gw.submit(s);
  assert.equal(a.outcome, 'accepted');
  const b = await gw.submit(s);
  assert.equal(b.outcome, 'accepted');
  assert.equal(a.outcome === 'accepted' && b.outcome === 'accepted' && a.transactionCode === b.transactionCode, true);
  assert.equal(sim.accepted, 1);
});

test('the HTTP adapter: a payload the gateway refuses is rejected with its code; 503, timeout, no server are transient', async () => {
  const gw = new HttpEhbGateway({ url: sim.url, timeoutMs: 300 });
  const noDiagnosis = { ...tables, XML1: tables.XML1.filter(([k]) => k !== 'MA_BENH_CHINH') as EhbTables['XML1'] };
  const r = await gw.submit({
    maLk: 'lk-1',
    facilityCode: '79999',
    payload: payload(noDiagnosis),
    idempotencyKey: 'k2',
  });
  assert.equal(r.outcome, 'rejected');
  assert.equal(r.outcome === 'rejected' && r.code, '105');
  const wrongLk = await gw.submit({ maLk: 'lk-2', facilityCode: '79999', payload: payload(), idempotencyKey: 'k3' });
  assert.equal(wrongLk.outcome === 'rejected' && wrongLk.code, '104');
  const unsigned = envelopeXml({ facilityCode: '79999', createdAt: new Date(), tables });
  const u = await gw.submit({ maLk: 'lk-1', facilityCode: '79999', payload: unsigned, idempotencyKey: 'k4' });
  assert.equal(u.outcome === 'rejected' && u.code, '201');
  sim.failNext(1);
  const down = await gw.submit({ maLk: 'lk-1', facilityCode: '79999', payload: payload(), idempotencyKey: 'k5' });
  assert.deepEqual(
    [down.outcome, down.outcome === 'transient' && down.error, down.httpStatus],
    ['transient', 'server-error', 503],
  );
  sim.setDelay(600);
  const slow = await gw.submit({ maLk: 'lk-1', facilityCode: '79999', payload: payload(), idempotencyKey: 'k6' });
  sim.setDelay(0);
  assert.equal(slow.outcome === 'transient' && slow.error, 'timeout');
  const none = await new HttpEhbGateway({ url: 'http://127.0.0.1:1', timeoutMs: 300 }).submit({
    maLk: 'lk-1',
    facilityCode: '79999',
    payload: payload(),
    idempotencyKey: 'k7',
  });
  assert.equal(none.outcome === 'transient' && none.error, 'unreachable');
});

test('back-off doubles from the base, stays under the maximum, and is jittered between half and all of it', () => {
  const p = { baseMs: 1000, maxMs: 10_000 };
  assert.equal(
    backoffMs(p, 1, () => 1),
    1000,
  );
  assert.equal(
    backoffMs(p, 1, () => 0),
    500,
  );
  assert.equal(
    backoffMs(p, 3, () => 1),
    4000,
  );
  assert.equal(
    backoffMs(p, 10, () => 1),
    10_000,
  );
  assert.equal(
    backoffMs(p, 10, () => 0),
    5000,
  );
  const draws = new Set(Array.from({ length: 20 }, () => backoffMs(p, 2)));
  assert.ok(draws.size > 1, 'random jitter');
  for (const d of draws) {
    assert.ok(d >= 1000 && d <= 2000);
  }
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { demoBhytCards, demoNewcomers } from './demo-cards.ts';
import { BhytGatewayUnavailable, HttpBhytGateway, parseAnswer } from './gateway.ts';
import { judge, validateCardNumber } from './service.ts';
import { type BhytSimulator, startBhytSimulator } from './simulator.ts';

describe('BHYT gateway adapter over HTTP, against the local simulator', () => {
  let sim: BhytSimulator;
  const [lan] = demoNewcomers();
  before(async () => {
    sim = await startBhytSimulator({ cards: demoBhytCards(new Date('2026-03-01T00:00:00Z')) });
  });
  after(async () => {
    await sim.close();
  });

  it('finds a card by its 15-character code or its 10-digit BHXH number', async () => {
    const gw = new HttpBhytGateway({ url: sim.url, timeoutMs: 1000 });
    for (const cardNumber of [lan.cardNumber, lan.bhxhNumber]) {
      const a = await gw.lookup({ cardNumber, name: 'LE THI THU HA', birthDate: lan.birthDate });
      assert.equal(a.kind, 'found');
      if (a.kind === 'found') {
        assert.equal(a.card.cardCode, lan.cardNumber);
        assert.equal(a.card.validFrom, '2026-01-01');
        assert.equal(a.card.validTo, '2026-12-31');
        assert.equal(a.card.benefitLevel, 4);
        assert.equal(a.card.gender, 'female');
        assert.deepEqual(a.card.primaryCare, { code: '01001', name: 'Bệnh viện Đa khoa Sen' });
      }
    }
    assert.equal((await gw.lookup({ cardNumber: 'DN4019999999999' })).kind, 'not-found');
    assert.equal((await gw.lookup({ cardNumber: lan.cardNumber, birthDate: '1992-05-15' })).kind, 'mismatch');
  });

  it('reports a down gateway, a timeout and a refused connection as unavailable', async () => {
    const gw = new HttpBhytGateway({ url: sim.url, timeoutMs: 200 });
    sim.setDown(true);
    await assert.rejects(gw.lookup({ cardNumber: lan.cardNumber }), (e: unknown) => {
      return e instanceof BhytGatewayUnavailable && e.reason === 'bad-response';
    });
    sim.setDown(false);
    sim.setDelay(500);
    await assert.rejects(gw.lookup({ cardNumber: lan.cardNumber }), (e: unknown) => {
      return e instanceof BhytGatewayUnavailable && e.reason === 'timeout';
    });
    sim.setDelay(0);
    const nowhere = new HttpBhytGateway({ url: 'http://127.0.0.1:9', timeoutMs: 500 });
    await assert.rejects(nowhere.lookup({ cardNumber: lan.cardNumber }), BhytGatewayUnavailable);
  });

  it('refuses incomplete answers instead of trusting them', () => {
    assert.throws(() => parseAnswer({ maKetQua: '000', maThe: 'x' }), BhytGatewayUnavailable);
    assert.throws(() => parseAnswer({ maKetQua: '999' }), BhytGatewayUnavailable);
  });
});

describe('BHYT card judgement', () => {
  it('validates locally and says why in Vietnamese', () => {
    assert.deepEqual(validateCardNumber('dn 4 01 0131570416'), {
      ok: true,
      value: 'DN4010131570416',
      kind: 'card',
      benefitLevel: 4,
    });
    assert.deepEqual(validateCardNumber('0131570416'), { ok: true, value: '0131570416', kind: 'bhxh' });
    const bad = validateCardNumber('DN6010131570416');
    assert.equal(bad.ok, false);
    assert.match(!bad.ok ? bad.message : '', /mức hưởng/);
  });

  it('tells verified from expired and not yet valid', () => {
    const card = demoBhytCards(new Date('2026-03-01T00:00:00Z'))[0];
    assert.equal(judge(card, '2026-06-01').status, 'verified');
    assert.match(judge(card, '2026-06-01').message, /31\/12\/2026/);
    assert.equal(judge(card, '2027-01-01').status, 'expired');
    assert.match(judge(card, '2025-12-31').message, /chưa có giá trị/);
  });
});

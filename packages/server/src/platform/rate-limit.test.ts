import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Principal } from './gate/gate.ts';
import { parseScopes } from './gate/scopes.ts';
import { RateLimiter } from './rate-limit.ts';

const client = (clientId: string): Principal => ({ kind: 'system', clientId, scopes: parseScopes('system/*.rs') });
const user = (accountId: string): Principal => ({
  kind: 'patient',
  accountId,
  patientId: 'p1',
  guardianOf: [],
  scopes: parseScopes('patient/*.rs'),
});

describe('rate limits per client and per user', () => {
  it('allows a burst, then asks to wait, and refills at the rate', () => {
    let t = 0;
    const limiter = new RateLimiter({ userPerMinute: 60, clientPerMinute: 600, burstSeconds: 5 }, () => t);
    for (let i = 0; i < 5; i++) {
      assert.equal(limiter.take(user('u1')), 0, `request ${i + 1} of the burst`);
    }
    assert.equal(limiter.take(user('u1')), 1, 'one per second: wait 1 s');
    assert.equal(limiter.take(user('u2')), 0, 'another user has their own bucket');
    t += 1000;
    assert.equal(limiter.take(user('u1')), 0, 'a token came back after a second');
    assert.ok(limiter.take(user('u1')) > 0);
    for (let i = 0; i < 50; i++) {
      assert.equal(limiter.take(client('c1')), 0, 'a client has its own, larger, bucket');
    }
    assert.ok(limiter.take(client('c1')) > 0);
  });

  it('refuses a rate that is not a positive number', () => {
    assert.throws(() => new RateLimiter({ userPerMinute: 0 }), /positive/);
    assert.throws(() => new RateLimiter({ clientPerMinute: Number.NaN }), /positive/);
  });
});

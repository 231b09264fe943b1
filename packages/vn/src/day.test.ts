import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { vietnamDay } from './day.ts';

describe('vietnamDay', () => {
  it('is the date in Vietnam, a day ahead of UTC from 17:00 UTC', () => {
    assert.equal(vietnamDay(new Date('2026-12-02T16:59:59Z')), '2026-12-02');
    assert.equal(vietnamDay(new Date('2026-12-02T17:00:00Z')), '2026-12-03');
    assert.equal(vietnamDay(new Date('2026-12-31T20:00:00Z')), '2027-01-01');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatBirthDate, formatDate } from './format.ts';

describe('dates in the web app', () => {
  it('writes dates day first with four-digit years and a 24-hour clock', () => {
    assert.equal(formatBirthDate('1988-10-09'), '09/10/1988');
    assert.equal(formatDate('2026-06-05', 'vi'), '05/06/2026');
    const t = formatDate('2026-06-05T13:30:00+07:00', 'vi');
    assert.match(t, /05\/06\/2026/);
    assert.match(t, /\d{2}:30/);
    assert.equal(formatDate(undefined, 'vi'), '');
    assert.equal(formatDate('not a date', 'vi'), 'not a date');
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Parameters } from '@medplum/fhirtypes';
import { canRetry, describeError, parseSubmissionList, statusColor } from './ehb.logic.ts';

const body: Parameters = {
  resourceType: 'Parameters',
  parameter: [
    { name: 'queued', valueInteger: 2 },
    { name: 'accepted', valueInteger: 5 },
    { name: 'failed', valueInteger: 1 },
    {
      name: 'submission',
      part: [
        { name: 'id', valueString: '7' },
        { name: 'encounter', valueReference: { reference: 'Encounter/e1/_history/3' } },
        { name: 'maLk', valueString: 'e1' },
        { name: 'kind', valueCode: 'resend' },
        { name: 'status', valueCode: 'failed' },
        { name: 'attempts', valueInteger: 2 },
        { name: 'lastError', valueString: 'rejected 202: Chữ ký số không hợp lệ' },
        {
          name: 'attempt',
          part: [
            { name: 'number', valueInteger: 1 },
            { name: 'outcome', valueCode: 'transient' },
            { name: 'httpStatus', valueInteger: 503 },
          ],
        },
        {
          name: 'attempt',
          part: [
            { name: 'number', valueInteger: 2 },
            { name: 'outcome', valueCode: 'rejected' },
            { name: 'responseCode', valueString: '202' },
          ],
        },
      ],
    },
  ],
};

test('reads the counts and the rows with their attempts', () => {
  const list = parseSubmissionList(body);
  assert.deepEqual(list.counts, { queued: 2, accepted: 5, failed: 1 });
  assert.equal(list.rows.length, 1);
  const [s] = list.rows;
  assert.equal(s.id, '7');
  assert.equal(s.encounter, 'Encounter/e1/_history/3');
  assert.equal(s.kind, 'resend');
  assert.equal(s.attempts, 2);
  assert.match(s.lastError ?? '', /202/);
  assert.deepEqual(
    s.attemptList.map((a) => [a.number, a.outcome, a.httpStatus, a.responseCode]),
    [
      [1, 'transient', 503, undefined],
      [2, 'rejected', undefined, '202'],
    ],
  );
});

test('an empty answer is no rows and zero counts; only queued and failed ones can be sent again', () => {
  assert.deepEqual(parseSubmissionList(undefined), { counts: { queued: 0, accepted: 0, failed: 0 }, rows: [] });
  assert.equal(canRetry({ status: 'failed' }), true);
  assert.equal(canRetry({ status: 'queued' }), true);
  assert.equal(canRetry({ status: 'accepted' }), false);
  assert.equal(statusColor('accepted'), 'green');
  assert.equal(statusColor('failed'), 'red');
});

test('a transport failure is shown by its kind, a rejection as the gateway said it', () => {
  assert.deepEqual(describeError('unreachable'), { kind: 'unreachable', rest: '' });
  assert.deepEqual(describeError('server-error (HTTP 503)'), { kind: 'server-error', rest: '(HTTP 503)' });
  assert.deepEqual(describeError('gave up after 12 attempts: timeout'), { kind: 'timeout', rest: '×12' });
  assert.deepEqual(describeError('rejected 202: Chữ ký số không hợp lệ'), {
    rest: 'rejected 202: Chữ ký số không hợp lệ',
  });
  assert.deepEqual(describeError(undefined), { rest: '' });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSseChunk } from './live.ts';

test('parseSseChunk: change events are parsed, comments and other events skipped, a partial block kept', () => {
  const stream =
    ': heartbeat\n\n' +
    'event: change\ndata: {"resourceType":"Encounter","id":"e1","versionId":"2","op":"update"}\n\n' +
    'event: ready\ndata: {}\n\n' +
    'event: change\r\ndata: {"resourceType":"ServiceRequest",\r\ndata: "id":"s1"}\r\n\r\n' +
    'event: change\ndata: {"resourceType":"Obs';
  const { events, rest } = parseSseChunk(stream);
  assert.deepEqual(events, [
    { resourceType: 'Encounter', id: 'e1', versionId: '2', op: 'update' },
    { resourceType: 'ServiceRequest', id: 's1' },
  ]);
  assert.equal(rest, 'event: change\ndata: {"resourceType":"Obs');
  const next = parseSseChunk(`${rest}ervation","id":"o1"}\n\n`);
  assert.deepEqual(next.events, [{ resourceType: 'Observation', id: 'o1' }]);
  assert.equal(next.rest, '');
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import { testEngines } from '@sen/db/testing';
import { FACILITY_TAG_SYSTEM } from '../src/platform/gate/gate.ts';
import { clientCredentialsToken, fhirFetch, startTestServer, type TestServer } from './harness.ts';
import { staffLogin } from './staff-login.ts';

interface Frame {
  event: string;
  data: any;
}

/** Reads a server-sent-events stream the way packages/web/src/api/live.ts does: blocks split by a blank line. */
interface LiveStream {
  status: number;
  headers: Headers;
  body: unknown;
  frames: Frame[];
  comments: string[];
  waitFor(pred: (f: Frame) => boolean, ms?: number): Promise<Frame>;
  ended: Promise<void>;
  close(): void;
}

async function openLive(url: string, types: string, token?: string): Promise<LiveStream> {
  const abort = new AbortController();
  const res = await fetch(`${url}/api/live?types=${encodeURIComponent(types)}`, {
    headers: { accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    signal: abort.signal,
  });
  const frames: Frame[] = [];
  const comments: string[] = [];
  const waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  if (!res.ok || !res.body) {
    return {
      status: res.status,
      headers: res.headers,
      body: await res.json().catch(() => undefined),
      frames,
      comments,
      waitFor: () => Promise.reject(new Error('no stream')),
      ended: Promise.resolve(),
      close: () => abort.abort(),
    };
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const ended = (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          return;
        }
        buffer += value;
        const blocks = buffer.split(/\r?\n\r?\n/);
        buffer = blocks.pop() ?? '';
        for (const block of blocks) {
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split(/\r?\n/)) {
            if (line.startsWith(':')) {
              comments.push(line.slice(1).trim());
              continue;
            }
            const [field, ...rest] = line.split(':');
            const v = rest.join(':').replace(/^ /, '');
            if (field === 'event') {
              event = v;
            } else if (field === 'data') {
              data.push(v);
            }
          }
          if (data.length === 0) {
            continue;
          }
          const frame = { event, data: JSON.parse(data.join('\n')) };
          frames.push(frame);
          for (const w of [...waiters]) {
            if (w.pred(frame)) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve(frame);
            }
          }
        }
      }
    } catch {
      // aborted by the test
    }
  })();
  return {
    status: res.status,
    headers: res.headers,
    body: undefined,
    frames,
    comments,
    ended,
    close: () => abort.abort(),
    waitFor(pred, ms = 8000) {
      const hit = frames.find(pred);
      if (hit) {
        return Promise.resolve(hit);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching event within ${ms} ms`)), ms);
        waiters.push({
          pred,
          resolve: (f) => {
            clearTimeout(timer);
            resolve(f);
          },
        });
      });
    },
  };
}

const isChange =
  (type: string, id: string, op?: string) =>
  (f: Frame): boolean =>
    f.event === 'change' && f.data.resourceType === type && f.data.id === id && (op === undefined || f.data.op === op);

for (const engine of testEngines()) {
  describe(`live channel /api/live [${engine}]`, () => {
    let srv: TestServer;
    const streams: LiveStream[] = [];
    const open = async (types: string, token?: string): Promise<LiveStream> => {
      const s = await openLive(srv.url, types, token);
      streams.push(s);
      return s;
    };
    before(async () => {
      srv = await startTestServer(engine);
    });
    after(async () => {
      for (const s of streams) {
        s.close();
      }
      await srv.close();
    });

    it('refuses a caller without a token with 401 and an OperationOutcome', async () => {
      const s = await open('Patient');
      assert.equal(s.status, 401);
      assert.match(s.headers.get('www-authenticate') ?? '', /Bearer/);
      assert.equal((s.body as { resourceType: string }).resourceType, 'OperationOutcome');
      const bad = await open('Patient', 'not-a-token');
      assert.equal(bad.status, 401);
    });

    it('answers unknown or missing types with 400', async () => {
      assert.equal((await open('Patient,NotAType', srv.token)).status, 400);
      assert.equal((await open('', srv.token)).status, 400);
    });

    it('sends a create, an update and a delete as change events within seconds', async () => {
      const s = await open('Patient,Encounter', srv.token);
      assert.equal(s.status, 200);
      assert.match(s.headers.get('content-type') ?? '', /^text\/event-stream/);
      const ready = await s.waitFor((f) => f.event === 'ready');
      assert.deepEqual(ready.data.types, ['Patient', 'Encounter']);
      const created = await fhirFetch(srv.fhir, 'Patient', {
        method: 'POST',
        body: { resourceType: 'Patient', name: [{ family: 'Lê', given: ['Thị', 'Hoa'] }] },
      });
      assert.equal(created.status, 201);
      const pid = created.body.id as string;
      const c = await s.waitFor(isChange('Patient', pid, 'create'));
      // the payload the web client reads (resourceType, id, versionId, op) and the API contract's names (type, action)
      assert.deepEqual(c.data, {
        resourceType: 'Patient',
        type: 'Patient',
        id: pid,
        versionId: '1',
        op: 'create',
        action: 'create',
      });
      await fhirFetch(srv.fhir, `Patient/${pid}`, {
        method: 'PUT',
        body: { resourceType: 'Patient', id: pid, name: [{ family: 'Lê', given: ['Thị', 'Hồng'] }] },
      });
      const u = await s.waitFor(isChange('Patient', pid, 'update'));
      assert.equal(u.data.versionId, '2');
      await fhirFetch(srv.fhir, `Patient/${pid}`, { method: 'DELETE' });
      const d = await s.waitFor(isChange('Patient', pid, 'delete'));
      assert.equal(d.data.versionId, '3');
      // nothing about the patient but the ids
      assert.ok(!JSON.stringify(s.frames).includes('Hoa'));
      // a type not asked for is not sent
      const org = await fhirFetch(srv.fhir, 'Organization', { method: 'POST', body: { resourceType: 'Organization' } });
      const enc = await fhirFetch(srv.fhir, 'Encounter', {
        method: 'POST',
        body: { resourceType: 'Encounter', status: 'arrived', class: { code: 'AMB' } },
      });
      await s.waitFor(isChange('Encounter', enc.body.id, 'create'));
      assert.ok(!s.frames.some((f) => f.data.resourceType === 'Organization' && f.data.id === org.body.id));
    });

    it('leaves out the events of types the caller may not read, and refuses a stream of only such types (403)', async () => {
      const narrow = await clientCredentialsToken(srv.url, 'system/Patient.rs');
      const s = await open('Observation,Patient', narrow);
      assert.equal(s.status, 200);
      const ready = await s.waitFor((f) => f.event === 'ready');
      assert.deepEqual(ready.data.types, ['Patient']);
      assert.deepEqual(ready.data.refused, ['Observation']);
      const obs = await fhirFetch(srv.fhir, 'Observation', {
        method: 'POST',
        body: { resourceType: 'Observation', status: 'final', code: { text: 'Mạch' } },
      });
      assert.equal(obs.status, 201);
      const pt = await fhirFetch(srv.fhir, 'Patient', { method: 'POST', body: { resourceType: 'Patient' } });
      // the patient was written after the observation: once its event is here, the observation's would have been
      await s.waitFor(isChange('Patient', pt.body.id, 'create'));
      assert.ok(!s.frames.some((f) => f.data.resourceType === 'Observation'));
      const only = await open('Observation', narrow);
      assert.equal(only.status, 403);
    });

    it('checks each resource with the gate: a doctor of another facility hears nothing of this one', async () => {
      const facilityA = (await srv.store.create({ resourceType: 'Organization', name: 'Bệnh viện A' } as Resource))
        .stored.id;
      const facilityB = (await srv.store.create({ resourceType: 'Organization', name: 'Bệnh viện B' } as Resource))
        .stored.id;
      const practitionerId = (await srv.store.create({ resourceType: 'Practitioner' } as Resource)).stored.id;
      const doctorB = await staffLogin(srv, {
        username: `live-doctor-b-${engine}`,
        practitionerId,
        roles: ['doctor'],
        facilityId: facilityB,
      });
      const s = await open('Encounter', doctorB.token);
      assert.equal(s.status, 200);
      await s.waitFor((f) => f.event === 'ready');
      const encounter = (facility: string): Promise<{ body: { id: string } }> =>
        fhirFetch(srv.fhir, 'Encounter', {
          method: 'POST',
          body: {
            resourceType: 'Encounter',
            meta: { tag: [{ system: FACILITY_TAG_SYSTEM, code: facility }] },
            status: 'arrived',
            class: { code: 'AMB' },
          },
        });
      const ofA = await encounter(facilityA);
      const ofB = await encounter(facilityB);
      await s.waitFor(isChange('Encounter', ofB.body.id, 'create'));
      assert.ok(!s.frames.some((f) => f.data.id === ofA.body.id));
    });

    it('sends heartbeats and ends open streams when the app closes (no timer left running)', async () => {
      const other = await startTestServer(engine, { config: { live: { heartbeatMs: 200 } } });
      try {
        const s = await openLive(other.url, 'Patient', other.token);
        assert.equal(s.status, 200);
        await s.waitFor((f) => f.event === 'ready');
        // a subscriber that leaves is dropped; the remaining one keeps getting heartbeats
        const leaving = await openLive(other.url, 'Patient', other.token);
        leaving.close();
        await new Promise((r) => setTimeout(r, 700));
        assert.ok(s.comments.includes('heartbeat'), 'heartbeat comments arrive');
        await other.close();
        await s.ended; // the server ended the stream
      } finally {
        await other.close().catch(() => undefined);
      }
    });
  });
}

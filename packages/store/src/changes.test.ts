import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import { eachEngine } from '@sen/db/testing';
import { loadDefinitions } from '@sen/fhir';
import { type ChangeEvent, ChangeFeed } from './changes.ts';
import { FhirStore } from './store.ts';

loadDefinitions();
const patient = (family: string): Resource => ({ resourceType: 'Patient', name: [{ family }] }) as Resource;

eachEngine('store: change events (transactional outbox)', (h) => {
  it('records one event per committed write, delivered in order, once', async () => {
    const store = new FhirStore(h.db());
    const feed = new ChangeFeed(h.db(), 'order-test');
    const a = await store.create(patient('A'));
    await store.update({ ...a.resource, gender: 'male' } as Resource);
    await store.delete('Patient', a.stored.id);
    const seen: ChangeEvent[] = [];
    assert.equal(await feed.poll((e) => void seen.push(e)), 3);
    assert.deepEqual(
      seen.map((e) => [e.action, e.version]),
      [
        ['create', 1],
        ['update', 2],
        ['delete', 3],
      ],
    );
    assert.equal(await feed.poll(() => assert.fail('nothing new')), 0);
  });

  it('resumes after a restart where it stopped', async () => {
    const store = new FhirStore(h.db());
    const first = new ChangeFeed(h.db(), 'resume-test');
    await first.poll(() => {});
    await store.create(patient('B'));
    assert.equal(await first.poll(() => {}), 1);
    await store.create(patient('C'));
    const restarted = new ChangeFeed(h.db(), 'resume-test');
    const got: string[] = [];
    assert.equal(await restarted.poll((e) => void got.push(e.id)), 1);
  });

  it('announces nothing for a rolled-back transaction', async () => {
    const store = new FhirStore(h.db());
    const feed = new ChangeFeed(h.db(), 'rollback-test');
    await feed.poll(() => {});
    await assert.rejects(
      store.transaction(async (tx) => {
        await store.create(patient('Rolled'), tx);
        throw new Error('abort');
      }),
    );
    assert.equal(await feed.poll(() => {}), 0);
  });

  it('redelivers from the failed event when a handler throws', async () => {
    const store = new FhirStore(h.db());
    const feed = new ChangeFeed(h.db(), 'retry-test');
    await feed.poll(() => {});
    await store.create(patient('D1'));
    await store.create(patient('D2'));
    let calls = 0;
    await assert.rejects(
      feed.poll(() => {
        calls++;
        if (calls === 2) {
          throw new Error('downstream down');
        }
      }),
    );
    const got: string[] = [];
    assert.equal(await feed.poll((e) => void got.push(e.type)), 1);
  });

  if (h.engine === 'postgres') {
    it('holds back later commits until an earlier, still-running transaction ends, then delivers both in order', async () => {
      const store = new FhirStore(h.db());
      const feed = new ChangeFeed(h.db(), 'inflight-test');
      await feed.poll(() => {});
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      let started!: () => void;
      const begun = new Promise<void>((r) => {
        started = r;
      });
      const slow = store.transaction(async (tx) => {
        await store.create(patient('Slow'), tx);
        started();
        await gate;
      });
      await begun;
      await store.create(patient('Fast'));
      // the fast write committed, but an older transaction is still open: nothing may be announced yet
      assert.equal(await feed.poll(() => {}), 0);
      release();
      await slow;
      const order: string[] = [];
      await feed.poll(async (e) => {
        const r = await store.read(e.type, e.id);
        order.push(JSON.parse(r.content as string).name[0].family);
      });
      assert.deepEqual(order, ['Slow', 'Fast']);
    });
  }
});

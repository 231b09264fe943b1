import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { type Db, openPostgres, type Queryable } from '@sen/db';
import { eachEngine } from '@sen/db/testing';
import { hasErrors, validateResource } from '@sen/fhir/validation.ts';
import {
  type AuditEntry,
  AuditLog,
  type AuditProblem,
  type AuditRow,
  auditGrantStatements,
  toFhirAuditEvent,
  verifyAuditChain,
} from './audit/index.ts';
import { contentHash, type RawAuditRow, rowColumns } from './audit/canonical.ts';

const sample = (i: number, extra: Partial<AuditEntry> = {}): AuditEntry => ({
  action: 'read',
  outcome: 'success',
  who: `Practitioner/doc-${i % 3}`,
  role: 'doctor',
  client: 'sen-web',
  sourceIp: '10.0.0.7',
  patient: `Patient/p-${i % 5}`,
  resourceType: 'Observation',
  resourceId: `obs-${i}`,
  resourceVersion: '1',
  purpose: 'TREAT',
  detail: { status: 200, n: i },
  ...extra,
});

/** Runs statements with the append-only triggers off, as only the tables' owner (or a superuser) can. */
async function tamper(db: Db, ...statements: [string, unknown[]?][]): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('ALTER TABLE audit_event DISABLE TRIGGER USER');
    await tx.query('ALTER TABLE audit_seal DISABLE TRIGGER USER');
    for (const [sql, params] of statements) {
      await tx.query(sql, params);
    }
    await tx.query('ALTER TABLE audit_event ENABLE TRIGGER USER');
    await tx.query('ALTER TABLE audit_seal ENABLE TRIGGER USER');
  });
}

/** The whole row as JSON text, to put it back after a tamper test. */
async function saveRow(db: Queryable, seq: string): Promise<string> {
  const { rows } = await db.query<{ j: string }>('SELECT row_to_json(e)::text AS j FROM audit_event e WHERE seq = $1', [
    seq,
  ]);
  return rows[0].j;
}

const RESTORE = 'INSERT INTO audit_event SELECT * FROM json_populate_record(NULL::audit_event, $1::json)';
const CONTENT_COLUMNS = `recorded_at, action, outcome, who, role, client, source_ip, patient, resource_type, resource_id,
  resource_version, query, purpose, break_glass_reason, detail`;
/** Sets every column but seq and txid of row `seq` to those of the saved row. */
const OVERWRITE = `UPDATE audit_event SET (${CONTENT_COLUMNS}) =
  (SELECT ${CONTENT_COLUMNS} FROM json_populate_record(NULL::audit_event, $2::json)) WHERE seq = $1`;

function kinds(problems: AuditProblem[]): string[] {
  return problems.map((p) => `${p.seq}:${p.kind}`);
}

async function problemsOf(log: AuditLog): Promise<AuditProblem[]> {
  const res = await log.verify();
  assert.equal(res.ok, false, 'verification should fail');
  return res.ok ? [] : res.problems;
}

async function assertClean(log: AuditLog): Promise<void> {
  const res = await log.verify();
  assert.deepEqual(res.ok ? [] : res.problems, []);
}

/**
 * Seals until every committed row is sealed. On a shared PostgreSQL server a write transaction open in any database
 * of the cluster holds the sealer back for a moment (the snapshot's xmin is cluster-wide), so one seal() may not do.
 */
async function sealAll(log: AuditLog, q: Queryable): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    await log.seal();
    const { rows } = await q.query<{ n: string }>(
      'SELECT count(*)::text AS n FROM audit_event e WHERE NOT EXISTS (SELECT 1 FROM audit_seal s WHERE s.seq = e.seq)',
    );
    if (rows[0].n === '0') {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`${rows[0].n} audit rows still unsealed`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Records n rows (with a denied one in the middle), seals, and returns their seqs. */
async function sealedRows(db: Db, log: AuditLog, n: number): Promise<string[]> {
  const seqs: string[] = [];
  for (let i = 0; i < n; i++) {
    seqs.push((await log.record(sample(i, i === 2 ? { outcome: 'denied' } : {}))).seq);
  }
  await sealAll(log, db);
  return seqs;
}

eachEngine('store: tamper-evident audit', (h) => {
  it('records, seals and verifies; sealing again seals nothing new', async () => {
    const log = new AuditLog(h.db());
    const before = (await log.head())?.pos ?? '0';
    const a = await log.record(sample(1));
    const b = await h.db().transaction((tx) => log.record(sample(2, { action: 'search', query: 'name=nguyen' }), tx));
    const { seqs } = await log.recordMany([sample(3), sample(4, { action: 'create', detail: undefined })]);
    assert.equal(seqs.length, 2);
    assert.ok(BigInt(a.seq) < BigInt(b.seq) && BigInt(b.seq) < BigInt(seqs[0]) && BigInt(seqs[0]) < BigInt(seqs[1]));
    await sealAll(log, h.db());
    const sealed = { head: await log.head() };
    assert.equal(BigInt(sealed.head?.pos ?? 0), BigInt(before) + 4n);
    assert.equal(sealed.head?.seq, seqs[1]);
    assert.equal((await log.seal()).sealed, 0);
    const res = await log.verify();
    assert.equal(res.ok, true);
    assert.equal(res.sealed, Number(sealed.head?.pos));
    assert.equal(res.unsealed, 0);
    assert.deepEqual(res.head, sealed.head);
    assert.deepEqual((await log.verify({ anchor: { pos: sealed.head!.pos, hash: sealed.head!.hash } })).ok, true);
  });

  it('seals in the database exactly what the TypeScript verifier hashes: quotes, control characters, Vietnamese, emoji, nested JSON', async () => {
    const log = new AuditLog(h.db());
    const tricky = 'Nguyễn "Văn" \\ Đức\n\t\u0001\u001f\u007f / \u2028 ✓ 😀';
    const { seq } = await log.record(
      sample(9, {
        who: tricky,
        query: `name=${tricky}&_count=5`,
        breakGlassReason: tricky,
        detail: { note: tricky, list: [1, 2.5, null, true], nested: { 'khóa "x"': 'giá trị' } },
      }),
    );
    await sealAll(log, h.db());
    const res = await log.verify();
    assert.equal(res.ok, true, JSON.stringify(res));
    const { rows } = await h.db().query<RawAuditRow & { content: string }>(
      `SELECT ${rowColumns('e')}, encode(s.content_hash, 'hex') AS content
         FROM audit_event e JOIN audit_seal s ON s.seq = e.seq WHERE e.seq = $1`,
      [seq],
    );
    assert.equal(rows[0].content, contentHash(rows[0]));
  });

  it('stores every field and reads it back; search filters by patient, user, action, time; pages newest first', async () => {
    const log = new AuditLog(h.db());
    const patient = `pt-${randomBytes(4).toString('hex')}`;
    const first = await log.record({
      action: 'break-glass',
      outcome: 'success',
      who: 'Practitioner/er-doc',
      role: 'doctor',
      client: 'sen-web',
      sourceIp: '2001:db8::1',
      patient: `Patient/${patient}`,
      resourceType: 'Patient',
      resourceId: patient,
      purpose: 'ETREAT',
      breakGlassReason: 'unconscious in the emergency room',
      detail: { until: '2025-01-01T10:00:00Z', nested: { a: [1, 2] } },
    });
    for (let i = 0; i < 5; i++) {
      await log.record(sample(i, { patient, action: i % 2 ? 'search' : 'read', who: `Practitioner/s-${i}` }));
    }
    const all = await log.search({ patient: `Patient/${patient}` });
    assert.equal(all.rows.length, 6);
    assert.equal(all.next, undefined);
    const bg = all.rows.at(-1) as AuditRow;
    assert.equal(bg.seq, first.seq);
    assert.equal(bg.patient, patient);
    assert.equal(bg.breakGlassReason, 'unconscious in the emergency room');
    assert.equal(bg.sourceIp, '2001:db8::1');
    assert.deepEqual(bg.detail, { until: '2025-01-01T10:00:00Z', nested: { a: [1, 2] } });
    assert.match(bg.recordedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(bg.query, undefined);

    assert.equal((await log.search({ patient, action: 'search' })).rows.length, 2);
    assert.equal((await log.search({ patient, action: ['search', 'break-glass'] })).rows.length, 3);
    assert.deepEqual(
      (await log.search({ patient, who: 'Practitioner/s-3' })).rows.map((r) => r.action),
      ['search'],
    );
    assert.equal((await log.search({ patient, since: bg.recordedAt })).rows.length, 6);
    assert.equal((await log.search({ patient, until: bg.recordedAt })).rows.length, 0);
    assert.equal((await log.search({ patient, since: '2999-01-01' })).rows.length, 0);
    const p1 = await log.search({ patient, count: 4 });
    assert.equal(p1.rows.length, 4);
    assert.ok(p1.next);
    const p2 = await log.search({ patient, count: 4, cursor: p1.next });
    assert.equal(p2.rows.length, 2);
    assert.equal(p2.next, undefined);
    assert.deepEqual(
      [...p1.rows, ...p2.rows].map((r) => r.seq),
      all.rows.map((r) => r.seq),
    );
    await assert.rejects(log.search({ since: 'yesterday' }), TypeError);
    await assert.rejects(log.search({ cursor: '1; DROP TABLE x' }), TypeError);
  });

  it('refuses malformed entries, and a failed audit write fails (and rolls back) the caller’s transaction', async () => {
    const log = new AuditLog(h.db());
    await assert.rejects(log.record({ ...sample(1), action: 'peek' as never }), /unknown audit action/);
    await assert.rejects(log.record({ ...sample(1), outcome: 'maybe' as never }), /unknown audit outcome/);
    await assert.rejects(log.record({ action: 'break-glass', outcome: 'success', who: 'x' }), /needs a reason/);
    await assert.rejects(log.record({ ...sample(1), patient: 'Observation/1' }), /audit patient/);
    const marker = `rollback-${randomBytes(4).toString('hex')}`;
    await assert.rejects(
      h.db().transaction(async (tx) => {
        await log.record(sample(1, { who: marker }), tx);
        await log.record(sample(2, { who: marker, query: 'bad\u0000byte' }), tx); // the database refuses NUL
      }),
    );
    assert.equal((await log.search({ who: marker })).rows.length, 0);
    await assert.rejects(
      h.db().transaction(async (tx) => {
        await log.record(sample(1, { who: marker }), tx);
        throw new Error('the request failed later');
      }),
    );
    assert.equal((await log.search({ who: marker })).rows.length, 0);
    await log.seal();
    await assertClean(log);
  });

  it('refuses UPDATE, DELETE and TRUNCATE on the audit tables; the database stamps txid and time itself', async () => {
    const db = h.db();
    const log = new AuditLog(db);
    const { seq } = await log.record(sample(1));
    await sealAll(log, db);
    for (const sql of [
      `UPDATE audit_event SET outcome = 'failure' WHERE seq = ${seq}`,
      `DELETE FROM audit_event WHERE seq = ${seq}`,
      'TRUNCATE audit_event',
      `UPDATE audit_seal SET hash = '\\x00' WHERE seq = ${seq}`,
      `DELETE FROM audit_seal WHERE seq = ${seq}`,
      'TRUNCATE audit_seal',
    ]) {
      await assert.rejects(db.query(sql), (err: Error & { code?: string }) => {
        assert.match(err.message, /append-only/, sql);
        assert.equal(err.code, '42501');
        return true;
      });
    }
    const { rows } = await db.query<{ txid: string; recorded: string; now: string; current: string }>(
      `INSERT INTO audit_event (txid, recorded_at, action, outcome) VALUES ('1', '2001-01-01', 'read', 'success')
       RETURNING txid::text AS txid, recorded_at::text AS recorded, pg_current_xact_id()::text AS current`,
    );
    assert.equal(rows[0].txid, rows[0].current);
    assert.doesNotMatch(rows[0].recorded, /^2001/);
    await log.seal();
    await assertClean(log);
  });

  it('seals rows recorded concurrently exactly once each, in (txid, seq) order, with sealers racing', async () => {
    const db = h.db();
    const log = new AuditLog(db, { sealBatch: 37 });
    await sealAll(log, db);
    const start = BigInt((await log.head())?.pos ?? '0');
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 200; i++) {
      if (i % 20 === 0) {
        writes.push(log.recordMany([sample(i), sample(i + 1000), sample(i + 2000)]));
      } else if (i % 3 === 0) {
        writes.push(db.transaction((tx) => log.record(sample(i), tx)));
      } else {
        writes.push(log.record(sample(i)));
      }
      if (i % 50 === 25) {
        writes.push(log.seal()); // sealing while writers run
      }
    }
    await Promise.all(writes);
    // A second "process": its own connections on PostgreSQL.
    const other = h.engine === 'postgres' ? await openPostgres({ connectionString: h.url() as string, max: 2 }) : db;
    try {
      await Promise.all([log.seal(), new AuditLog(other, { sealBatch: 50 }).seal(), log.seal()]);
      await sealAll(new AuditLog(other), other);
    } finally {
      if (other !== db) {
        await other.close();
      }
    }
    const { rows: events } = await db.query<{ seq: string }>(
      'SELECT seq::text AS seq FROM audit_event e ORDER BY e.txid, e.seq',
    );
    const { rows: seals } = await db.query<{ pos: string; seq: string }>(
      'SELECT pos::text AS pos, seq::text AS seq FROM audit_seal s ORDER BY s.pos',
    );
    assert.deepEqual(
      seals.map((s) => s.seq),
      events.map((e) => e.seq),
    );
    assert.deepEqual(
      seals.map((s) => s.pos),
      seals.map((_, i) => String(i + 1)),
    );
    assert.equal(BigInt(seals.length) - start, 220n);
    const res = await log.verify({ pageSize: 64 });
    assert.equal(res.ok, true);
    assert.equal(res.sealed, seals.length);
  });

  it('verifies the same whatever the session time zone', async () => {
    const db = h.db();
    const log = new AuditLog(db);
    await log.record(sample(7));
    await log.seal();
    const res = await db.transaction(async (tx) => {
      await tx.query(`SET LOCAL TIME ZONE 'Asia/Ho_Chi_Minh'`);
      return verifyAuditChain(tx);
    });
    assert.equal(res.ok, true);
  });

  it('detects an altered field and names the row', async () => {
    const db = h.db();
    const log = new AuditLog(db);
    const seqs = await sealedRows(db, log, 5);
    await tamper(db, [`UPDATE audit_event SET outcome = 'success' WHERE seq = $1`, [seqs[2]]]);
    const problems = await problemsOf(log);
    assert.deepEqual(kinds(problems), [`${seqs[2]}:altered`]);
    assert.match(problems[0].message, new RegExp(`seq ${seqs[2]}`));
    await tamper(db, [`UPDATE audit_event SET outcome = 'denied' WHERE seq = $1`, [seqs[2]]]);
    await assertClean(log);

    // an altered detail (jsonb) and time are seen too
    await tamper(db, [`UPDATE audit_event SET detail = '{"status": 200, "n": 4}' WHERE seq = $1`, [seqs[1]]]);
    assert.deepEqual(kinds(await problemsOf(log)), [`${seqs[1]}:altered`]);
    await tamper(db, [`UPDATE audit_event SET detail = '{"n": 1, "status": 200}' WHERE seq = $1`, [seqs[1]]]);
    await assertClean(log);
    await tamper(db, [
      `UPDATE audit_event SET recorded_at = recorded_at + interval '1 microsecond' WHERE seq = $1`,
      [seqs[3]],
    ]);
    assert.deepEqual(kinds(await problemsOf(log)), [`${seqs[3]}:altered`]);
    await tamper(db, [
      `UPDATE audit_event SET recorded_at = recorded_at - interval '1 microsecond' WHERE seq = $1`,
      [seqs[3]],
    ]);
    await assertClean(log);
  });

  it('detects a deleted row', async () => {
    const db = h.db();
    const log = new AuditLog(db);
    const seqs = await sealedRows(db, log, 5);
    const saved = await saveRow(db, seqs[1]);
    await tamper(db, ['DELETE FROM audit_event WHERE seq = $1', [seqs[1]]]);
    const problems = await problemsOf(log);
    assert.deepEqual(kinds(problems), [`${seqs[1]}:missing`]);
    await tamper(db, [RESTORE, [saved]]);
    await assertClean(log);
  });

  it('detects two rows whose contents were swapped, and a row moved to another seq or transaction', async () => {
    const db = h.db();
    const log = new AuditLog(db);
    const seqs = await sealedRows(db, log, 5);
    const [a, b] = [seqs[1], seqs[3]];
    const [ra, rb] = [await saveRow(db, a), await saveRow(db, b)];
    await tamper(db, [OVERWRITE, [a, rb]], [OVERWRITE, [b, ra]]);
    assert.deepEqual(kinds(await problemsOf(log)), [`${a}:reordered`, `${b}:reordered`]);
    await tamper(db, [OVERWRITE, [a, ra]], [OVERWRITE, [b, rb]]);
    await assertClean(log);

    const moved = String(BigInt(seqs[4]) + 1_000_000n);
    await tamper(db, ['UPDATE audit_event SET seq = $2 WHERE seq = $1', [a, moved]]);
    assert.deepEqual(kinds(await problemsOf(log)), [`${a}:reordered`, `${moved}:reordered`]);
    await tamper(db, ['UPDATE audit_event SET seq = $2 WHERE seq = $1', [moved, a]]);
    await assertClean(log);

    await tamper(db, [`UPDATE audit_event SET txid = (txid::text::bigint + 1)::text::xid8 WHERE seq = $1`, [b]]);
    assert.deepEqual(kinds(await problemsOf(log)), [`${b}:reordered`]);
    await tamper(db, [`UPDATE audit_event SET txid = (txid::text::bigint - 1)::text::xid8 WHERE seq = $1`, [b]]);
    await assertClean(log);
  });

  it('detects a forged row inserted inside the sealed chain', async () => {
    const db = h.db();
    const log = new AuditLog(db);
    const seqs = await sealedRows(db, log, 5);
    const forged = String(BigInt(seqs[4]) + 2_000_000n);
    // the same transaction id as a sealed row in the middle: it sorts between sealed rows
    await tamper(db, [
      `INSERT INTO audit_event (seq, txid, recorded_at, action, outcome, who, patient)
       SELECT $2, txid, recorded_at, 'read', 'success', 'Practitioner/ghost', 'p-1' FROM audit_event WHERE seq = $1`,
      [seqs[2], forged],
    ]);
    const problems = await problemsOf(log);
    assert.deepEqual(kinds(problems), [`${forged}:inserted`]);
    await tamper(db, ['DELETE FROM audit_event WHERE seq = $1', [forged]]);
    await assertClean(log);
  });

  it('detects tampering with the seals themselves, and a chain rewritten behind an anchor', async () => {
    const db = h.db();
    const log = new AuditLog(db);
    const seqs = await sealedRows(db, log, 5);
    const anchor = (await log.head()) as NonNullable<Awaited<ReturnType<AuditLog['head']>>>;
    const { rows } = await db.query<{ j: string; hash: string }>(
      `SELECT row_to_json(s)::text AS j, encode(hash, 'hex') AS hash FROM audit_seal s WHERE seq = $1`,
      [seqs[2]],
    );
    await tamper(db, ['DELETE FROM audit_seal WHERE seq = $1', [seqs[2]]]);
    // the row lost its seal; the chain has a gap just before the next seal
    assert.deepEqual(kinds(await problemsOf(log)), [`${seqs[2]}:missing`, `${seqs[3]}:missing`]);
    await tamper(db, [
      'INSERT INTO audit_seal SELECT * FROM json_populate_record(NULL::audit_seal, $1::json)',
      [rows[0].j],
    ]);
    await assertClean(log);

    await tamper(db, ['UPDATE audit_seal SET hash = sha256(hash) WHERE seq = $1', [seqs[2]]]);
    assert.deepEqual(kinds(await problemsOf(log)), [`${seqs[2]}:altered`, `${seqs[3]}:altered`]);
    await tamper(db, [`UPDATE audit_seal SET hash = decode($2, 'hex') WHERE seq = $1`, [seqs[2], rows[0].hash]]);
    await assertClean(log);

    const { rows: ch } = await db.query<{ c: string }>(
      `SELECT encode(content_hash, 'hex') AS c FROM audit_seal WHERE seq = $1`,
      [seqs[2]],
    );
    await tamper(db, ['UPDATE audit_seal SET content_hash = sha256(content_hash) WHERE seq = $1', [seqs[2]]]);
    assert.deepEqual(kinds(await problemsOf(log)), [`${seqs[2]}:altered`]);
    await tamper(db, [`UPDATE audit_seal SET content_hash = decode($2, 'hex') WHERE seq = $1`, [seqs[2], ch[0].c]]);
    await assertClean(log);

    assert.equal((await log.verify({ anchor: { pos: anchor.pos, hash: anchor.hash } })).ok, true);

    // transaction ids behind the chain (a logical restore into a new cluster): sealing stops loudly
    const fake = String(BigInt(anchor.pos) + 1n);
    await tamper(db, [
      `INSERT INTO audit_seal (pos, seq, txid, content_hash, hash) VALUES ($1, -1, '1099511627776', '\\x00', '\\x00')`,
      [fake],
    ]);
    await log.record(sample(9));
    await assert.rejects(log.seal(), /transaction ids are behind the sealed chain/);
    await tamper(db, ['DELETE FROM audit_seal WHERE pos = $1', [fake]]);
    await sealAll(log, db);
    const wrong = await log.verify({ anchor: { pos: anchor.pos, hash: '0'.repeat(64) } });
    assert.ok(!wrong.ok && wrong.problems.some((p) => p.kind === 'altered' && p.seq === anchor.seq));
    const beyond = await log.verify({ anchor: { pos: String(BigInt(anchor.pos) + 10n), hash: anchor.hash } });
    assert.ok(!beyond.ok && beyond.problems.some((p) => p.kind === 'missing' && p.seq === null));
  });

  it('maps rows to valid R4 AuditEvents', async () => {
    const log = new AuditLog(h.db());
    const entries: AuditEntry[] = [
      sample(1),
      sample(2, {
        action: 'search',
        resourceId: undefined,
        resourceVersion: undefined,
        query: 'code=1234-5&_count=10',
      }),
      sample(3, { action: 'create', outcome: 'failure', detail: { status: 500, reason: 'database unavailable' } }),
      sample(4, { action: 'delete', outcome: 'denied', client: undefined }),
      { action: 'login-failed', outcome: 'failure', sourceIp: '192.0.2.4', detail: { username: 'x' } },
      { action: 'login', outcome: 'success', who: 'user-7', role: 'nurse', client: 'sen-web', sourceIp: '192.0.2.4' },
      {
        action: 'break-glass',
        outcome: 'success',
        who: 'Practitioner/er',
        patient: 'p-9',
        resourceType: 'Patient',
        resourceId: 'p-9',
        breakGlassReason: 'cardiac arrest',
      },
      { action: 'export', outcome: 'success', who: 'Practitioner/a', purpose: 'HOPERAT', query: '_type=Patient' },
      { action: 'history', outcome: 'success', who: 'Patient/p-1', role: 'patient', resourceType: 'Observation' },
      { action: 'print', outcome: 'success', who: 'Practitioner/a', patient: 'p-1', purpose: 'discharge letter' },
    ];
    const { seqs } = await log.recordMany(entries);
    const rows = (await log.search({ count: 100 })).rows.filter((r) => seqs.includes(r.seq)).reverse();
    assert.equal(rows.length, entries.length);
    for (const row of rows) {
      const ev = toFhirAuditEvent(row, { site: 'SEN01' });
      const errors = validateResource(ev).filter((i) => i.severity === 'error' || i.severity === 'fatal');
      assert.deepEqual(errors, [], `${row.action}: ${JSON.stringify(errors)}`);
      assert.equal(hasErrors(validateResource(ev)), false);
      assert.equal(ev.id, row.seq);
      assert.equal(ev.recorded, row.recordedAt);
    }
    const [read, search, create, del, failed, login, bg, exp, hist] = rows.map((r) => toFhirAuditEvent(r));
    assert.deepEqual([read.type.code, read.subtype?.[0].code, read.action, read.outcome], ['rest', 'read', 'R', '0']);
    assert.deepEqual(
      read.entity?.map((e) => e.what?.reference),
      ['Patient/p-1', 'Observation/obs-1/_history/1'],
    );
    assert.equal(read.agent[0].who?.reference, 'Practitioner/doc-1');
    assert.equal(read.agent[0].network?.address, '10.0.0.7');
    assert.equal(read.agent[1].who?.identifier?.value, 'sen-web');
    assert.deepEqual([search.subtype?.[0].code, search.action], ['search-type', 'E']);
    const q = search.entity?.find((e) => e.query);
    assert.equal(Buffer.from(q?.query ?? '', 'base64').toString(), 'code=1234-5&_count=10');
    assert.deepEqual([create.action, create.outcome], ['C', '8']);
    assert.deepEqual([del.action, del.outcome], ['D', '4']);
    assert.deepEqual([failed.type.code, failed.outcome, failed.agent[0].who], ['110114', '8', undefined]);
    assert.equal(login.agent[0].who?.identifier?.value, 'user-7');
    assert.equal(bg.type.code, '110113');
    assert.deepEqual(bg.purposeOfEvent, [
      {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'ETREAT' }],
        text: 'cardiac arrest',
      },
    ]);
    assert.equal(bg.entity?.length, 1);
    assert.equal(exp.type.code, '110106');
    assert.equal(hist.subtype?.[0].code, 'history-type');
  });

  if (h.engine === 'postgres') {
    it('does not seal a row of a still-open transaction, nor later rows, until it commits', async () => {
      const db = h.db();
      const log = new AuditLog(db);
      await sealAll(log, db);
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      let started!: (seq: string) => void;
      const begun = new Promise<string>((r) => {
        started = r;
      });
      const slow = db.transaction(async (tx) => {
        const { seq } = await log.record(sample(1, { who: 'Practitioner/slow' }), tx);
        started(seq);
        await gate;
      });
      const slowSeq = await begun;
      let fast: { seq: string };
      try {
        fast = await log.record(sample(2, { who: 'Practitioner/fast' }));
        assert.ok(BigInt(fast.seq) > BigInt(slowSeq));
        assert.equal((await log.seal()).sealed, 0);
        const open = await log.verify();
        assert.equal(open.ok, true);
        assert.equal(open.unsealed, 1); // the fast row; the open transaction's row is not visible yet
      } finally {
        release();
        await slow;
      }
      await sealAll(log, db);
      const { rows } = await db.query<{ seq: string }>(
        'SELECT seq::text AS seq FROM audit_seal ORDER BY pos DESC LIMIT 2',
      );
      assert.deepEqual(
        rows.map((r) => r.seq),
        [fast.seq, slowSeq],
      );
      await assertClean(log);
    });

    it('leaves the application role only SELECT and INSERT: no UPDATE, DELETE, TRUNCATE or trigger changes', async () => {
      const db = h.db();
      const role = `sen_app_${randomBytes(4).toString('hex')}`;
      await db.query(`CREATE ROLE ${role} NOLOGIN`);
      try {
        for (const sql of auditGrantStatements(role)) {
          await db.query(sql);
        }
        const asApp = <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> =>
          db.transaction(async (tx) => {
            await tx.query(`SET LOCAL ROLE ${role}`);
            return fn(tx);
          });
        const appDb: Db = {
          engine: db.engine,
          query: (sql, params) => asApp((tx) => tx.query(sql, params)),
          transaction: asApp,
          close: async () => {},
        };
        const log = new AuditLog(appDb);
        const { seq } = await log.record(sample(1));
        await sealAll(log, appDb);
        assert.ok((await log.search({ count: 1 })).rows[0].seq === seq);
        assert.equal((await log.verify()).ok, true);
        for (const sql of [
          `UPDATE audit_event SET outcome = 'failure' WHERE seq = ${seq}`,
          `DELETE FROM audit_event WHERE seq = ${seq}`,
          'TRUNCATE audit_event',
          `DELETE FROM audit_seal WHERE seq = ${seq}`,
          'ALTER TABLE audit_event DISABLE TRIGGER USER',
          'DROP TRIGGER audit_event_append_only ON audit_event',
          'SET session_replication_role = replica',
        ]) {
          await assert.rejects(appDb.query(sql), (err: Error & { code?: string }) => {
            assert.equal(err.code, '42501', `${sql}: ${err.message}`);
            assert.doesNotMatch(err.message, /append-only/, sql); // refused by privileges, before any trigger
            return true;
          });
        }
      } finally {
        await db.query(`DROP OWNED BY ${role}`);
        await db.query(`DROP ROLE ${role}`);
      }
    });
  }
});

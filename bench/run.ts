/**
 * npm run bench — the FHIR comparison workload of ../shared/bench/WORKLOAD.md, plus Sen's own figures.
 *
 *   npm run bench                                  # starts Sen on PostgreSQL (database sen_bench) and measures it
 *   npm run bench -- --base-url http://host/fhir/R4 --token T   # measures any FHIR server the same way
 *
 * Options: --db-url (PostgreSQL for Sen and the raw baseline; default postgres://postgres@127.0.0.1:5432/sen_bench),
 * --duration 15 --warmup 5 --connections 16, --synthea N (patient bundles of ../shared/testdata/synthea to load, default 5),
 * --only a,b,c (workload letters), --peer name=url[|token] (repeatable: measure other FHIR servers in the same run
 * and print them side by side with Sen), --auth-overhead (also measure Sen with SEN_AUTH=off, to show what
 * sign-in, the gate and the audit cost; the read workload is then also measured in alternating 5 s slices on the two
 * servers, so that both halves of the ratio see the same machine load). `--only typeahead` measures only the ICD-10 typeahead (bench/typeahead.ts):
 * `ValueSet/$expand?filter=` over a synthetic 16,000-code catalog, 16 clients, p50/p95 (target p95 ≤ 20 ms).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { runTypeahead } from './typeahead.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const SHARED = resolve(ROOT, '..', 'shared');

const { values: args } = parseArgs({
  options: {
    'base-url': { type: 'string' },
    token: { type: 'string' },
    'db-url': { type: 'string' },
    duration: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16' },
    synthea: { type: 'string', default: '5' },
    only: { type: 'string' },
    peer: { type: 'string', multiple: true },
    'auth-overhead': { type: 'boolean', default: false },
    'client-secret': { type: 'string', default: process.env.SEN_DEMO_CLIENT_SECRET ?? 'sen-demo-secret' },
    port: { type: 'string', default: '8190' },
  },
});

const DURATION = Number(args.duration);
const WARMUP = Number(args.warmup);
const CONNECTIONS = Number(args.connections);
const dbUrl = args['db-url'] ?? 'postgres://postgres@127.0.0.1:5432/sen_bench';
const only = args.only ? new Set(args.only.split(',')) : undefined;
/** `--only typeahead`: skip the shared workload and the baselines, measure the typeahead alone. */
const onlyTypeahead = only !== undefined && [...only].every((k) => k === 'typeahead');

function log(s: string): void {
  process.stdout.write(`${s}\n`);
}

function readShared(...p: string[]): string {
  return readFileSync(join(SHARED, ...p), 'utf8');
}

async function resetDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const name = u.pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const c = new pg.Client({ connectionString: admin.toString() });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
}

async function waitFor(url: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      if (r.ok) {
        return;
      }
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not become ready`);
}

function rssOf(pid: number | undefined): string {
  if (!pid) {
    return 'n/a';
  }
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? `${(Number(m[1]) / 1024).toFixed(0)} MiB` : 'n/a';
  } catch {
    return 'n/a';
  }
}

interface Figure {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  unit?: string;
  perRequest?: number;
}

async function cannon(opts: {
  url: string;
  method?: string;
  body?: string;
  headers: Record<string, string>;
  duration: number;
}): Promise<autocannon.Result> {
  return new Promise((res, rej) => {
    autocannon(
      {
        url: opts.url,
        method: (opts.method ?? 'GET') as 'GET',
        body: opts.body,
        headers: opts.headers,
        connections: CONNECTIONS,
        duration: opts.duration,
      },
      (err, result) => (err ? rej(err) : res(result)),
    );
  });
}

async function measure(
  name: string,
  opts: { url: string; method?: string; body?: string; headers: Record<string, string> },
  perRequest = 1,
): Promise<Figure> {
  await cannon({ ...opts, duration: WARMUP });
  const r = await cannon({ ...opts, duration: DURATION });
  const f: Figure = {
    name,
    rps: r.requests.mean,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    perRequest,
  };
  log(
    `  ${name.padEnd(44)} ${f.rps.toFixed(0).padStart(7)} req/s${perRequest > 1 ? ` (${(f.rps * perRequest).toFixed(0)} resources/s)` : ''}  p50 ${f.p50} ms  p99 ${f.p99} ms  errors ${f.errors}  non-2xx ${f.non2xx}`,
  );
  return f;
}

/** The database's own limit: 16 concurrent loops of primary-key selects, then of single-row inserts. */
async function rawBaseline(url: string): Promise<{ select: number; insert: number }> {
  const pool = new pg.Pool({ connectionString: url, max: CONNECTIONS });
  await pool.query('DROP TABLE IF EXISTS bench_raw');
  await pool.query('CREATE TABLE bench_raw (id bigserial PRIMARY KEY, v text)');
  await pool.query("INSERT INTO bench_raw (v) SELECT 'row ' || g FROM generate_series(1, 10000) g");
  const run = async (seconds: number, op: () => Promise<unknown>): Promise<number> => {
    let n = 0;
    const end = Date.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (Date.now() < end) {
          await op();
          n++;
        }
      }),
    );
    return n / seconds;
  };
  const sel = (): Promise<unknown> =>
    pool.query('SELECT id, v FROM bench_raw WHERE id = $1', [1 + Math.floor(Math.random() * 10000)]);
  const ins = (): Promise<unknown> => pool.query('INSERT INTO bench_raw (v) VALUES ($1)', ['x']);
  await run(Math.min(WARMUP, 3), sel);
  const select = await run(DURATION, sel);
  await run(Math.min(WARMUP, 3), ins);
  const insert = await run(DURATION, ins);
  await pool.query('DROP TABLE bench_raw');
  await pool.end();
  return { select, insert };
}

async function post(base: string, headers: Record<string, string>, body: unknown): Promise<any> {
  const r = await fetch(`${base}/`, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok) {
    throw new Error(`setup POST failed: ${r.status} ${text.slice(0, 300)}`);
  }
  return JSON.parse(text);
}

async function startSen(url: string, port: number, auth: boolean): Promise<{ proc: ChildProcess }> {
  await resetDatabase(url);
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'packages/server/src/main.ts')], {
    env: {
      ...process.env,
      DATABASE_URL: url,
      PORT: String(port),
      HOST: '127.0.0.1',
      SEN_SEED: 'false',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      SEN_AUTH: auth ? 'on' : 'off',
      SEN_DEMO_CLIENT_SECRET: args['client-secret'],
      SEN_PUBLIC_URL: `http://127.0.0.1:${port}`,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitFor(`http://127.0.0.1:${port}/readyz`);
  return { proc };
}

/** A system/*.cruds token of the demo client (client_credentials, client_secret_basic). */
async function demoToken(origin: string): Promise<string> {
  const res = await fetch(`${origin}/oidc/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`sen-demo:${args['client-secret']}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials&scope=system%2F*.cruds',
  });
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token) {
    throw new Error(`could not get a token from ${origin}/oidc/token (${res.status})`);
  }
  return body.access_token;
}

interface Target {
  name: string;
  base: string;
  headers: Record<string, string>;
  pid?: number;
  /** Workload (b)'s URL, set by runTarget. */
  readUrl?: string;
}

/** The whole workload against one FHIR server: setup, checks, then the measured runs. */
async function runTarget(t: Target): Promise<Figure[]> {
  const { base, headers } = t;
  const figures: Figure[] = [];
  log(`\n=== ${t.name}: ${base}`);
  // ---- setup
  log('\nSetup');
  let started = Date.now();
  for (let b = 0; b < 10; b++) {
    const entry = [];
    for (let k = 0; k < 100; k++) {
      const i = b * 100 + k;
      entry.push({
        request: { method: 'POST', url: 'Patient' },
        resource: {
          resourceType: 'Patient',
          name: [{ family: `Fam${i % 100}`, given: [`Given${i}`] }],
          gender: i % 2 ? 'male' : 'female',
          birthDate: `19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 10}`,
        },
      });
    }
    await post(base, headers, { resourceType: 'Bundle', type: 'batch', entry });
  }
  const target = await fetch(`${base}/Patient`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      resourceType: 'Patient',
      name: [{ family: 'Target', given: ['Bench'] }],
      gender: 'female',
      birthDate: '1970-01-01',
    }),
  }).then((r) => r.json());
  const start = Date.UTC(2024, 0, 1);
  for (let b = 0; b < 20; b++) {
    const entry = [];
    for (let k = 0; k < 100; k++) {
      const i = b * 100 + k;
      entry.push({
        request: { method: 'POST', url: 'Observation' },
        resource: {
          resourceType: 'Observation',
          status: 'final',
          category: [
            {
              coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }],
            },
          ],
          code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
          subject: { reference: `Patient/${target.id}` },
          effectiveDateTime: new Date(start + i * 3_600_000).toISOString(),
          valueQuantity: { value: 60 + (i % 40), unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
        },
      });
    }
    await post(base, headers, { resourceType: 'Bundle', type: 'batch', entry });
  }
  t.readUrl = `${base}/Patient/${target.id}`;
  log(`  1,000 Patients + 2,000 Observations in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const c1 = await fetch(`${base}/Patient?name=Fam42`, { headers }).then((r) => r.json());
  const c2 = await fetch(`${base}/Observation?subject=Patient/${target.id}&_count=20&_total=accurate`, {
    headers,
  }).then((r) => r.json());
  const ok1 = (c1.entry ?? []).length === 10;
  const ok2 = (c2.entry ?? []).length === 20 && c2.total === 2000;
  log(`  check Patient?name=Fam42 → ${(c1.entry ?? []).length} (want 10) ${ok1 ? 'ok' : 'FAIL'}`);
  log(
    `  check Observation?subject=… → ${(c2.entry ?? []).length} entries, total ${c2.total} (want 20, 2000) ${ok2 ? 'ok' : 'FAIL'}`,
  );
  if (!ok1 || !ok2) {
    throw new Error('setup checks failed');
  }
  // Synthea: real bundles, loaded like a hospital migration would
  const syntheaDir = join(SHARED, 'testdata', 'synthea');
  const nSynthea = Number(args.synthea);
  if (nSynthea > 0 && existsSync(syntheaDir)) {
    started = Date.now();
    let resources = 0;
    const files = readdirSync(syntheaDir)
      .filter((f) => f.endsWith('.json'))
      .sort();
    const batches = files.filter((f) => /hospitalInformation|practitionerInformation/.test(f));
    const patients = files.filter((f) => !batches.includes(f)).slice(0, nSynthea);
    for (const f of [...batches, ...patients]) {
      const b = JSON.parse(readFileSync(join(syntheaDir, f), 'utf8'));
      resources += (b.entry ?? []).length;
      await post(base, { ...headers, prefer: 'return=minimal' }, b);
    }
    const s = (Date.now() - started) / 1000;
    log(
      `  Synthea: ${batches.length} batch + ${patients.length} patient bundles, ${resources} resources in ${s.toFixed(1)} s (${(resources / s).toFixed(0)} resources/s, one client)`,
    );
  }

  // ---- workloads
  log('\nWorkloads');
  const want = (k: string): boolean => !only || only.has(k);
  const patientJson = readShared('bench', 'patient.json');
  const tx50 = readShared('bench', 'tx50.json');
  if (want('a')) {
    figures.push(
      await measure('(a) create POST /Patient', {
        url: `${base}/Patient`,
        method: 'POST',
        body: patientJson,
        headers,
      }),
    );
  }
  if (want('b')) {
    figures.push(await measure('(b) read GET /Patient/{id}', { url: `${base}/Patient/${target.id}`, headers }));
  }
  if (want('c')) {
    figures.push(await measure('(c) search Patient?name=Fam42', { url: `${base}/Patient?name=Fam42`, headers }));
  }
  if (want('d')) {
    figures.push(
      await measure('(d) search Observation?subject=…&_count=20', {
        url: `${base}/Observation?subject=Patient/${target.id}&_count=20`,
        headers,
      }),
    );
  }
  if (want('d2')) {
    figures.push(
      await measure('(d2) Observation?subject=…&code=…&_sort=-date', {
        url: `${base}/Observation?subject=Patient/${target.id}&code=http://loinc.org|8867-4&_sort=-date&_count=20`,
        headers,
      }),
    );
  }
  if (want('e')) {
    figures.push(
      await measure(
        '(e) transaction of 50 (resources/s)',
        { url: `${base}/`, method: 'POST', body: tx50, headers },
        50,
      ),
    );
  }
  log(`  ${t.name} resident memory after the runs: ${rssOf(t.pid)}`);
  return figures;
}

/**
 * The auth overhead on reads as a ratio whose two halves see the same machine: (b) on each server in turn, five
 * 5 s slices each (after a warm-up), and the median of the five ratios. On a shared machine the load changes from
 * minute to minute, and the two full runs above are minutes apart.
 */
async function interleavedReads(auth: Target, open: Target): Promise<void> {
  if (!auth.readUrl || !open.readUrl) {
    return;
  }
  log('\nReads, alternating slices (Sen with sign-in + gate + audit vs SEN_AUTH=off; 5 s each)');
  await cannon({ url: auth.readUrl, headers: auth.headers, duration: 2 });
  await cannon({ url: open.readUrl, headers: open.headers, duration: 2 });
  const ratios: number[] = [];
  for (let i = 0; i < 5; i++) {
    const a = await cannon({ url: auth.readUrl, headers: auth.headers, duration: 5 });
    const o = await cannon({ url: open.readUrl, headers: open.headers, duration: 5 });
    const bad = a.errors + a.timeouts + a.non2xx + o.errors + o.timeouts + o.non2xx;
    ratios.push(a.requests.mean / o.requests.mean);
    log(
      `  slice ${i + 1}: with auth ${a.requests.mean.toFixed(0).padStart(6)} req/s, without ${o.requests.mean.toFixed(0).padStart(6)} req/s, ratio ${(a.requests.mean / o.requests.mean).toFixed(2)}${bad > 0 ? '  ERRORS' : ''}`,
    );
  }
  const sorted = [...ratios].sort((x, y) => x - y);
  log(`  median ratio ${sorted[2].toFixed(2)} (target ≥ 0.70; range ${sorted[0].toFixed(2)}–${sorted[4].toFixed(2)})`);
}

function parseTarget(spec: string): Target {
  // name=url or name=url|token
  const eq = spec.indexOf('=');
  if (eq < 1) {
    throw new Error(`--peer takes name=url[|token], got '${spec}'`);
  }
  const [url, token] = spec.slice(eq + 1).split('|');
  const headers: Record<string, string> = { 'content-type': 'application/fhir+json', accept: 'application/fhir+json' };
  if (token) {
    headers.authorization = `Bearer ${token}`;
  }
  return { name: spec.slice(0, eq), base: url.replace(/\/$/, ''), headers };
}

async function main(): Promise<void> {
  log('Sen benchmark — workload of shared/bench/WORKLOAD.md');
  log(`  ${CONNECTIONS} connections, ${WARMUP} s warm-up, ${DURATION} s measured; node ${process.version}`);
  const headers: Record<string, string> = { 'content-type': 'application/fhir+json', accept: 'application/fhir+json' };
  if (args.token) {
    headers.authorization = `Bearer ${args.token}`;
  }
  const servers: ChildProcess[] = [];
  const targets: Target[] = [];
  if (args['base-url']) {
    targets.push({ name: 'server', base: args['base-url'].replace(/\/$/, ''), headers });
  } else {
    // Sen as `npm start` runs it: sign-in, access gate and audit on; the demo client's token signs every request
    const port = Number(args.port);
    const sen = await startSen(dbUrl, port, true);
    servers.push(sen.proc);
    const token = await demoToken(`http://127.0.0.1:${port}`);
    targets.push({
      name: 'Sen',
      base: `http://127.0.0.1:${port}/fhir/R4`,
      headers: { ...headers, authorization: `Bearer ${token}` },
      pid: sen.proc.pid,
    });
    log(
      `  Sen on PostgreSQL (database ${new URL(dbUrl).pathname.slice(1)}), pid ${sen.proc.pid}, sign-in + gate + audit on`,
    );
    if (args['auth-overhead']) {
      // the same server with SEN_AUTH=off, to measure what the gate and the audit cost
      const openUrl = new URL(dbUrl);
      openUrl.pathname = `${openUrl.pathname}_open`;
      const open = await startSen(openUrl.toString(), port + 10, false);
      servers.push(open.proc);
      targets.push({
        name: 'Sen, no auth',
        base: `http://127.0.0.1:${port + 10}/fhir/R4`,
        headers,
        pid: open.proc.pid,
      });
    }
  }
  for (const spec of args.peer ?? []) {
    targets.push(parseTarget(spec));
  }
  const results = new Map<string, Figure[]>();
  try {
    for (const t of targets) {
      results.set(t.name, onlyTypeahead ? [] : await runTarget(t));
    }
    if (args['auth-overhead'] && !onlyTypeahead && (!only || only.has('b'))) {
      await interleavedReads(targets[0], targets[1]);
    }
    if (!args['base-url'] && (!only || only.has('typeahead'))) {
      log('\nTypeahead (ICD-10, synthetic 16,000 codes)');
      const sen = targets[0];
      await runTypeahead({
        base: sen.base,
        headers: sen.headers,
        dbUrl,
        connections: CONNECTIONS,
        duration: DURATION,
        warmup: WARMUP,
        log,
      });
    }
  } finally {
    for (const p of servers) {
      p.kill('SIGTERM');
    }
  }
  const figures = results.get(targets[0].name) ?? [];
  if (targets.length > 1) {
    log('\nSide by side (requests/s; resources/s for (e); p99 ms in brackets)');
    log(`  ${'workload'.padEnd(44)} ${targets.map((t) => t.name.padStart(16)).join(' ')}`);
    for (let i = 0; i < figures.length; i++) {
      const cells = targets.map((t) => {
        const f = results.get(t.name)?.[i];
        return f ? `${(f.rps * (f.perRequest ?? 1)).toFixed(0)} (${f.p99})`.padStart(16) : 'n/a'.padStart(16);
      });
      log(`  ${figures[i].name.padEnd(44)} ${cells.join(' ')}`);
    }
  }

  if (onlyTypeahead) {
    return;
  }
  // ---- the machine's own limits
  log('\nBaselines (same machine, same settings)');
  const raw = await rawBaseline(dbUrl);
  log(`  PostgreSQL primary-key select (pg, ${CONNECTIONS} conns)     ${raw.select.toFixed(0).padStart(7)} /s`);
  log(`  PostgreSQL single-row insert (pg, ${CONNECTIONS} conns)      ${raw.insert.toFixed(0).padStart(7)} /s`);
  const bare = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/bare-fastify.ts'), '8191'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await waitFor('http://127.0.0.1:8191/');
  const bareFig = await measure('bare Fastify JSON endpoint', { url: 'http://127.0.0.1:8191/', headers: {} });
  bare.kill('SIGTERM');

  log('\nSummary (ratio = Sen figure / the database limit for the same kind of work)');
  const goals: Record<string, number> = { '(a)': 1800, '(b)': 6000, '(c)': 2400, '(d2)': 1700, '(e)': 1600 };
  for (const f of figures) {
    const key = f.name.split(' ')[0];
    const value = f.rps * (f.perRequest ?? 1);
    const limit = key === '(a)' || key === '(e)' ? raw.insert : raw.select;
    const tgt = goals[key];
    log(
      `  ${f.name.padEnd(44)} ${value.toFixed(0).padStart(7)}${f.perRequest && f.perRequest > 1 ? ' res/s' : ' req/s'}  ratio ${(value / limit).toFixed(2)} of DB ${key === '(a)' || key === '(e)' ? 'insert' : 'select'}${tgt ? `  target ${tgt} ${value >= tgt ? 'MET' : 'missed'}` : ''}${f.errors + f.non2xx > 0 ? '  ERRORS' : ''}`,
    );
  }
  log(`  bare Fastify: ${bareFig.rps.toFixed(0)} req/s`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).message}\n`);
  process.exit(1);
});

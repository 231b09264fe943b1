/**
 * The typeahead figure of `npm run bench` (or alone: `npm run bench -- --only typeahead`): ICD-10
 * `ValueSet/$expand?filter=` over a synthetic 16,000-code catalog (the real TT 06/2026 list has 15,844 rows and is
 * not at hand), 16 concurrent clients, p50 / p95 / p99 of the response time seen by the client on loopback (an upper
 * bound of the server-side time). Target: p95 ≤ 20 ms.
 *
 * The catalog is generated (seeded, so every run measures the same list), written as CSV and imported with the real
 * CLI (`npm run catalog -- import icd10 <file>`) into the database the measured Sen runs on.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const ICD10 = 'http://fhir.hl7.org.vn/core/CodeSystem/vn-icd10-cs';

const HEADS = [
  'Viêm',
  'Nhiễm trùng',
  'U ác',
  'U lành',
  'Loét',
  'Sỏi',
  'Thoái hoá',
  'Suy',
  'Tăng sản',
  'Xuất huyết',
  'Tổn thương',
  'Gãy',
  'Dị dạng',
  'Rối loạn',
  'Áp xe',
  'Nang',
  'Xơ hoá',
  'Hẹp',
  'Giãn',
  'Tắc',
  'Bệnh',
  'Nhồi máu',
  'Thiếu máu',
  'Chấn thương',
  'Bỏng',
  'Ngộ độc',
  'Phình',
  'Teo',
  'Phì đại',
  'Lao',
];
const SITES = [
  'phổi',
  'dạ dày',
  'tá tràng',
  'gan',
  'mật',
  'tụy',
  'thận',
  'bàng quang',
  'tuyến tiền liệt',
  'tử cung',
  'buồng trứng',
  'vú',
  'tuyến giáp',
  'tim',
  'van hai lá',
  'động mạch vành',
  'não',
  'tủy sống',
  'dây thần kinh',
  'mắt',
  'tai giữa',
  'mũi',
  'họng',
  'thanh quản',
  'thực quản',
  'đại tràng',
  'trực tràng',
  'da',
  'xương đùi',
  'xương chày',
  'cột sống',
  'khớp gối',
  'khớp háng',
  'cơ',
  'hạch bạch huyết',
  'lách',
  'tủy xương',
  'mạch máu',
  'phế quản',
  'màng phổi',
];
const QUALIFIERS = [
  'cấp',
  'mạn',
  'không đặc hiệu',
  'có biến chứng',
  'không có biến chứng',
  'tái phát',
  'bẩm sinh',
  'do vi khuẩn',
  'do virus',
  'hai bên',
  'một bên',
  'giai đoạn đầu',
  'tiến triển',
  'ở trẻ em',
  'sau thủ thuật',
  'khác',
];

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 16,000 ICD-10-shaped codes (A00 … Z99, 3-character categories and 4-character subcodes) with Vietnamese names. */
export function syntheticIcd10Csv(n = 16_000): string {
  const rnd = prng(20260701);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const lines = ['code,name_vi,name_en'];
  const letters = 'ABCDEFGHIJKLMNOPQRSTVWXYZ';
  let made = 0;
  outer: for (const l of letters) {
    for (let k = 0; k < 100; k++) {
      const cat = `${l}${String(k).padStart(2, '0')}`;
      const base = `${pick(HEADS)} ${pick(SITES)}`;
      lines.push(`${cat},"${base}","Synthetic category ${cat}"`);
      if (++made >= n) {
        break outer;
      }
      for (let s = 0; s < 6; s++) {
        lines.push(
          `${cat}.${s},"${base} ${pick(QUALIFIERS)}${rnd() < 0.3 ? ` ${pick(SITES)}` : ''}","Synthetic ${cat}.${s}"`,
        );
        if (++made >= n) {
          break outer;
        }
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/** What a clinician types: code prefixes and the first letters of one to three words, without diacritics. */
const FILTERS = [
  'i1',
  'e11',
  'k2',
  'j0',
  'm54',
  'n4',
  'c3',
  'a0',
  's5',
  'z0',
  'viem',
  'viem phoi',
  'viem da day',
  'loet da',
  'u ac vu',
  'soi than',
  'suy tim',
  'thoai hoa khop',
  'gay xuong dui',
  'tang san tuyen',
  'nhiem trung',
  'xuat huyet nao',
  'benh tim',
  'ton thuong',
  'cap',
  'man khong dac',
  'phoi cap',
  'da day man',
  'hep dong mach',
  'lao phoi',
  'roi loan',
  'thieu mau',
  'nhoi mau co',
  'bong da',
  'ngo doc',
  'tac ruot',
  'gian tinh',
  'teo co',
  'phi dai',
  'nang buong',
];

export interface TypeaheadFigure {
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  non2xx: number;
  codes: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) {
    return Number.NaN;
  }
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Imports the synthetic catalog into dbUrl with the CLI, then measures $expand?filter= on base. */
export async function runTypeahead(opts: {
  base: string;
  headers: Record<string, string>;
  dbUrl: string;
  connections: number;
  duration: number;
  warmup: number;
  log: (s: string) => void;
}): Promise<TypeaheadFigure> {
  const dir = mkdtempSync(join(tmpdir(), 'sen-bench-icd10-'));
  const file = join(dir, 'icd10-synthetic.csv');
  const csv = syntheticIcd10Csv();
  writeFileSync(file, csv);
  const codes = csv.trim().split('\n').length - 1;
  const started = Date.now();
  const imp = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'packages/server/src/cli/catalog.ts'),
      'import',
      'icd10',
      file,
      '--version',
      'bench-synthetic',
    ],
    { env: { ...process.env, DATABASE_URL: opts.dbUrl }, encoding: 'utf8' },
  );
  rmSync(dir, { recursive: true, force: true });
  if (imp.status !== 0) {
    throw new Error(`catalog import failed: ${imp.stdout}\n${imp.stderr}`);
  }
  opts.log(
    `  synthetic ICD-10 catalog: ${codes} codes imported with npm run catalog in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  const url = encodeURIComponent(ICD10);
  const check = await fetch(`${opts.base}/ValueSet/$expand?url=${url}&filter=viem%20phoi&count=5`, {
    headers: opts.headers,
  }).then((r) => r.json() as Promise<{ expansion?: { total?: number } }>);
  if (!check.expansion?.total) {
    throw new Error('typeahead check failed: "viem phoi" found nothing');
  }
  opts.log(`  check $expand?filter=viem phoi → ${check.expansion.total} matches (first 5 returned) ok`);
  const requests = FILTERS.map((f) => ({
    method: 'GET' as const,
    path: `${new URL(opts.base).pathname}/ValueSet/$expand?url=${url}&filter=${encodeURIComponent(f)}&count=20`,
  }));
  const run = (duration: number, times?: number[]): Promise<autocannon.Result> =>
    new Promise((res, rej) => {
      const inst = autocannon(
        { url: new URL(opts.base).origin, headers: opts.headers, connections: opts.connections, duration, requests },
        (err, result) => (err ? rej(err) : res(result)),
      );
      if (times) {
        inst.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
          times.push(responseTime);
        });
      }
    });
  await run(opts.warmup);
  const times: number[] = [];
  const r = await run(opts.duration, times);
  times.sort((a, b) => a - b);
  const fig: TypeaheadFigure = {
    rps: r.requests.mean,
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    p99: percentile(times, 99),
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    codes,
  };
  opts.log(
    `  ${'(t) typeahead ValueSet/$expand?filter='.padEnd(44)} ${fig.rps.toFixed(0).padStart(7)} req/s  p50 ${fig.p50.toFixed(1)} ms  p95 ${fig.p95.toFixed(1)} ms  p99 ${fig.p99.toFixed(1)} ms  errors ${fig.errors}  non-2xx ${fig.non2xx}`,
  );
  opts.log(
    `  typeahead target p95 ≤ 20 ms: ${fig.p95 <= 20 ? 'MET' : 'missed'} (${opts.connections} clients, ${codes} codes)`,
  );
  return fig;
}

/**
 * A local e-health-book gateway simulator: a real HTTP server on 127.0.0.1 serving the protocol of gateway.ts. It
 * validates what it gets the way the receiving side must — the envelope parses, carries XML1 and XML8 (the minimum
 * for any episode, VIETNAM.md §5), every table has the episode's MA_LK, XML1 has the main ICD-10 code and the end
 * time, and the signature verifies against the facility's registered public key — and answers accepted (with a
 * maGiaoDich, the same one for a repeat of the same submission), rejected (with the reason), or a transient error.
 * Tests tell it to fail the next N requests (HTTP 503) or to slow down. Started by the tests and, in demo mode without
 * SEN_EHB_GATEWAY_URL, by main.ts.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { SUBMIT_PATH } from './gateway.ts';
import { verifyEnvelope } from './signer.ts';
import { parseEnvelope } from './xml.ts';
import { listenLocal, readBody, sendJson } from '../../platform/simulator-http.ts';

export interface EhbSimulator {
  url: string;
  /** The next n requests get HTTP 503 (the gateway is down). */
  failNext(n: number): void;
  /** Answer after this many milliseconds. */
  setDelay(ms: number): void;
  /** Every request received (accepted, rejected or failed), in order. */
  readonly received: readonly { maLk: string; idempotencyKey: string; answered: number; code: string }[];
  /** How many distinct submissions were accepted (a repeat of an accepted one is not counted again). */
  readonly accepted: number;
  close(): Promise<void>;
}

/** Why a payload is refused, or undefined when it is acceptable (exported for unit tests). */
export function validateSubmission(
  body: Record<string, unknown>,
  publicKeys: readonly string[],
): { code: string; message: string } | undefined {
  if (typeof body.fileHoSo !== 'string' || typeof body.maLk !== 'string' || typeof body.maCskcb !== 'string') {
    return { code: '400', message: 'Thiếu maCskcb, maLk hoặc fileHoSo / missing maCskcb, maLk or fileHoSo' };
  }
  const xml = Buffer.from(body.fileHoSo, 'base64').toString('utf8');
  let env: ReturnType<typeof parseEnvelope>;
  try {
    env = parseEnvelope(xml);
  } catch {
    return { code: '101', message: 'Tệp hồ sơ không đúng cấu trúc XML / the file is not a valid envelope' };
  }
  if (env.facilityCode !== body.maCskcb) {
    return { code: '102', message: 'Mã cơ sở KCB không khớp / MACSKCB does not match maCskcb' };
  }
  for (const t of ['XML1', 'XML8'] as const) {
    if (!env.tables[t]?.length) {
      return { code: '103', message: `Thiếu bảng ${t} / table ${t} is missing` };
    }
  }
  for (const [name, rows] of Object.entries(env.tables)) {
    if ((rows ?? []).some((r) => r.MA_LK !== body.maLk)) {
      return { code: '104', message: `MA_LK của bảng ${name} không khớp / MA_LK of ${name} does not match` };
    }
  }
  const xml1 = env.tables.XML1?.[0] ?? {};
  if (!xml1.MA_BENH_CHINH) {
    return { code: '105', message: 'Thiếu mã bệnh chính (MA_BENH_CHINH) / the main diagnosis code is missing' };
  }
  if (!/^\d{12}$/.test(xml1.NGAY_RA ?? '')) {
    return { code: '106', message: 'NGAY_RA phải có dạng yyyymmddHHMM / NGAY_RA must be yyyymmddHHMM' };
  }
  if (!env.signed) {
    return { code: '201', message: 'Hồ sơ chưa ký số (CHUKYDONVI) / the file is not signed' };
  }
  if (!publicKeys.some((k) => verifyEnvelope(xml, k).ok)) {
    return {
      code: '202',
      message: 'Chữ ký số không hợp lệ hoặc chưa đăng ký / the signature is invalid or its key is not registered',
    };
  }
  return undefined;
}

export async function startEhbSimulator(options: {
  /** The facility keys registered with the portal (PEM public keys); read on every request. */
  publicKeys: () => readonly string[];
  port?: number;
}): Promise<EhbSimulator> {
  let failures = 0;
  let delay = 0;
  const received: { maLk: string; idempotencyKey: string; answered: number; code: string }[] = [];
  const done = new Map<string, string>(); // idempotency key → maGiaoDich
  const server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'POST' || req.url !== SUBMIT_PATH) {
        sendJson(res, 404, { maKetQua: '404', thongBao: 'Không có dịch vụ này' });
        return;
      }
      const text = await readBody(req, 20 * 1024 * 1024);
      if (delay > 0) {
        await new Promise((r) => setTimeout(r, delay));
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        sendJson(res, 400, { maKetQua: '400', thongBao: 'Yêu cầu không hợp lệ' });
        return;
      }
      const maLk = typeof body.maLk === 'string' ? body.maLk : '';
      const key = String(req.headers['idempotency-key'] ?? '');
      const answer = (status: number, payload: { maKetQua: string; [k: string]: unknown }): void => {
        received.push({ maLk, idempotencyKey: key, answered: status, code: payload.maKetQua });
        sendJson(res, status, payload);
      };
      if (failures > 0) {
        failures--;
        answer(503, { maKetQua: '503', thongBao: 'Hệ thống đang bận, vui lòng gửi lại sau' });
        return;
      }
      const repeat = key ? done.get(key) : undefined;
      if (repeat) {
        answer(200, { maKetQua: '000', maGiaoDich: repeat, thongBao: 'Hồ sơ đã được tiếp nhận trước đó' });
        return;
      }
      const refused = validateSubmission(body, options.publicKeys());
      if (refused) {
        answer(422, { maKetQua: refused.code, thongBao: refused.message });
        return;
      }
      const tx = randomUUID();
      if (key) {
        done.set(key, tx);
      }
      answer(200, { maKetQua: '000', maGiaoDich: tx, thongBao: 'Tiếp nhận hồ sơ thành công' });
    })().catch(() => {
      if (!res.headersSent) {
        sendJson(res, 500, { maKetQua: '500' });
      }
    });
  });
  const url = await listenLocal(server, options.port);
  return {
    url,
    failNext: (n) => {
      failures = n;
    },
    setDelay: (ms) => {
      delay = ms;
    },
    received,
    get accepted() {
      return done.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

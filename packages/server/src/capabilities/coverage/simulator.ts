/**
 * A local BHYT gateway simulator: a real HTTP server on 127.0.0.1 that answers the look-up protocol of gateway.ts from
 * a list of synthetic cards. Started by the tests and, in demo mode without SEN_BHYT_GATEWAY_URL, by main.ts; it can
 * be switched "down" (HTTP 503) or slowed, so outage handling is tested over real HTTP.
 */
import { createServer } from 'node:http';
import { fold, normalizeBhytCode } from '@sen/vn';
import { type BhytCardInfo, LOOKUP_PATH, toGatewayDate } from './gateway.ts';
import { listenLocal, readBody, sendJson } from '../../platform/simulator-http.ts';

export interface BhytSimulator {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** true: every request gets HTTP 503 (the portal is down). */
  setDown(down: boolean): void;
  /** Answer after this many milliseconds (to test timeouts). */
  setDelay(ms: number): void;
  /** How many look-ups it has answered or refused. */
  readonly requests: number;
  close(): Promise<void>;
}

/** The simulator's answer to one look-up (exported for unit tests). */
export function simulateLookup(cards: readonly BhytCardInfo[], body: Record<string, unknown>): Record<string, unknown> {
  const number = normalizeBhytCode(typeof body.maThe === 'string' ? body.maThe : '');
  const card = cards.find((c) => c.cardCode === number || c.bhxhNumber === number);
  if (!card) {
    return { maKetQua: '010', thongBao: 'Không tìm thấy thông tin thẻ BHYT' };
  }
  const name = typeof body.hoTen === 'string' ? body.hoTen : '';
  const birth = typeof body.ngaySinh === 'string' ? body.ngaySinh : '';
  if ((name !== '' && fold(name) !== fold(card.name)) || (birth !== '' && birth !== toGatewayDate(card.birthDate))) {
    return { maKetQua: '070', thongBao: 'Họ tên hoặc ngày sinh không khớp với thông tin thẻ' };
  }
  return {
    maKetQua: '000',
    maThe: card.cardCode,
    maSoBhxh: card.bhxhNumber,
    hoTen: card.name,
    ngaySinh: toGatewayDate(card.birthDate),
    gioiTinh: card.gender === 'female' ? 'Nữ' : card.gender === 'male' ? 'Nam' : '',
    gtTheTu: toGatewayDate(card.validFrom),
    gtTheDen: toGatewayDate(card.validTo),
    mucHuong: String(card.benefitLevel),
    maDKBD: card.primaryCare?.code ?? '',
    tenDKBD: card.primaryCare?.name ?? '',
  };
}

/** Starts the simulator; `cards` is read on every request (a function lets the validity follow today's date). */
export async function startBhytSimulator(options: {
  cards: readonly BhytCardInfo[] | (() => readonly BhytCardInfo[]);
  port?: number;
}): Promise<BhytSimulator> {
  let down = false;
  let delay = 0;
  let requests = 0;
  const cards = (): readonly BhytCardInfo[] => (typeof options.cards === 'function' ? options.cards() : options.cards);
  const server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'POST' || req.url !== LOOKUP_PATH) {
        sendJson(res, 404, { maKetQua: '404', thongBao: 'Không có dịch vụ này' });
        return;
      }
      requests++;
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(await readBody(req)) as Record<string, unknown>;
      } catch {
        sendJson(res, 400, { maKetQua: '400', thongBao: 'Yêu cầu không hợp lệ' });
        return;
      }
      if (delay > 0) {
        await new Promise((r) => setTimeout(r, delay));
      }
      if (down) {
        sendJson(res, 503, { maKetQua: '503', thongBao: 'Hệ thống đang bảo trì' });
        return;
      }
      sendJson(res, 200, simulateLookup(cards(), body));
    })().catch(() => {
      if (!res.headersSent) {
        sendJson(res, 500, { maKetQua: '500' });
      }
    });
  });
  const url = await listenLocal(server, options.port);
  return {
    url,
    setDown: (d) => {
      down = d;
    },
    setDelay: (ms) => {
      delay = ms;
    },
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

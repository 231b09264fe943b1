/**
 * The e-health-book gateway behind an adapter. The book's data reach VNeID through the BHXH claims gateway (VIETNAM.md
 * §5: facilities do not connect to VNeID directly), whose real API takes a token and `guiHoSoXmlQD3176` calls; an
 * adapter for that portal implements `EhbGateway`. The adapter here speaks Sen's small JSON protocol over HTTP, served
 * by the local simulator (simulator.ts) and meant for a facility's own relay in front of the portal:
 *
 *   POST {SEN_EHB_GATEWAY_URL}/api/sskdt/gui-ho-so
 *        Authorization: Bearer {SEN_EHB_GATEWAY_TOKEN} (when set), Idempotency-Key: {MA_LK}:{content hash}
 *        { "maCskcb": "79999", "maLk": "...", "loaiHoSo": "SSKDT", "fileHoSo": base64(signed envelope) }
 *   200 { "maKetQua": "000", "maGiaoDich": "...", "thongBao": "..." }        accepted (a repeat gets the same maGiaoDich)
 *   200 or 4xx { "maKetQua": "<other>", "thongBao": "..." }                 rejected: the payload must be fixed
 *   408, 425, 429, 5xx, no answer within the timeout, refused connection, a body that is not the JSON above: transient
 */
export const SUBMIT_PATH = '/api/sskdt/gui-ho-so';

export type EhbAnswer =
  | { outcome: 'accepted'; httpStatus: number; code: string; transactionCode: string; message: string; body: string }
  | { outcome: 'rejected'; httpStatus: number; code: string; message: string; body: string }
  | {
      outcome: 'transient';
      error: 'timeout' | 'unreachable' | 'bad-response' | 'server-error';
      httpStatus?: number;
      code?: string;
      message?: string;
      body?: string;
    };

export interface EhbSubmission {
  maLk: string;
  facilityCode: string;
  /** The signed envelope. */
  payload: string;
  /** The same for every attempt of one submission, so the gateway can drop a repeat. */
  idempotencyKey: string;
}

export interface EhbGateway {
  /** Never throws: every failure is an answer (transient or rejected). */
  submit(s: EhbSubmission): Promise<EhbAnswer>;
}

const TRANSIENT_STATUS = new Set([408, 425, 429]);
const MAX_BODY = 4000;

export class HttpEhbGateway implements EhbGateway {
  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly token?: string;

  constructor(options: { url: string; timeoutMs?: number; token?: string }) {
    this.url = options.url.replace(/\/$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.token = options.token;
  }

  async submit(s: EhbSubmission): Promise<EhbAnswer> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${SUBMIT_PATH}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'idempotency-key': s.idempotencyKey,
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        body: JSON.stringify({
          maCskcb: s.facilityCode,
          maLk: s.maLk,
          loaiHoSo: 'SSKDT',
          fileHoSo: Buffer.from(s.payload, 'utf8').toString('base64'),
        }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const name = (err as Error).name;
      return {
        outcome: 'transient',
        error: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'unreachable',
      };
    }
    let text: string;
    try {
      text = await res.text();
    } catch {
      return { outcome: 'transient', error: 'unreachable', httpStatus: res.status };
    }
    const body = text.slice(0, MAX_BODY);
    let json: { maKetQua?: unknown; maGiaoDich?: unknown; thongBao?: unknown } | undefined;
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      json = undefined;
    }
    const code = typeof json?.maKetQua === 'string' ? json.maKetQua : undefined;
    const message = typeof json?.thongBao === 'string' ? json.thongBao.slice(0, 500) : '';
    if (res.status >= 500 || TRANSIENT_STATUS.has(res.status)) {
      return { outcome: 'transient', error: 'server-error', httpStatus: res.status, code, message, body };
    }
    if (!code) {
      return { outcome: 'transient', error: 'bad-response', httpStatus: res.status, body };
    }
    if (res.status === 200 && code === '000') {
      const tx = typeof json?.maGiaoDich === 'string' ? json.maGiaoDich : '';
      if (!tx) {
        return { outcome: 'transient', error: 'bad-response', httpStatus: res.status, code, body };
      }
      return { outcome: 'accepted', httpStatus: res.status, code, transactionCode: tx, message, body };
    }
    return { outcome: 'rejected', httpStatus: res.status, code, message, body };
  }
}

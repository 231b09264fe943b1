/**
 * The BHYT card look-up gateway (cổng tiếp nhận dữ liệu hệ thống thông tin giám định BHYT) behind an adapter, so the
 * check works the same against the real portal (an adapter per protocol), the local simulator (simulator.ts) and
 * tests. The one adapter here speaks Sen's small JSON protocol over HTTP, which the simulator serves:
 *
 *   POST {SEN_BHYT_GATEWAY_URL}/api/the-bhyt/tra-cuu   { "maThe": "...", "hoTen": "...", "ngaySinh": "dd/MM/yyyy" }
 *   200 { "maKetQua": "000", "maThe", "maSoBhxh", "hoTen", "ngaySinh", "gioiTinh", "gtTheTu", "gtTheDen",
 *         "mucHuong", "maDKBD", "tenDKBD" }         card found (dates dd/MM/yyyy, gioiTinh "Nam"/"Nữ")
 *   200 { "maKetQua": "010", "thongBao" }            no such card
 *   200 { "maKetQua": "070", "thongBao" }            the card exists, the name or birth date does not match
 * Any other answer, a 5xx, a refused connection or no answer within the timeout: the gateway is unavailable.
 */
import type { BhytBenefitLevel } from '@sen/vn';

export interface BhytLookup {
  /** 15-character card code or 10-digit BHXH number, normalised. */
  cardNumber: string;
  name?: string;
  /** YYYY-MM-DD */
  birthDate?: string;
}

export interface BhytCardInfo {
  cardCode: string;
  bhxhNumber: string;
  name: string;
  birthDate: string;
  gender?: 'male' | 'female';
  validFrom: string;
  validTo: string;
  benefitLevel: BhytBenefitLevel;
  /** Registered primary-care facility (nơi đăng ký KCB ban đầu). */
  primaryCare?: { code: string; name?: string };
}

export type BhytAnswer =
  | { kind: 'found'; card: BhytCardInfo }
  | { kind: 'not-found'; message: string }
  | { kind: 'mismatch'; message: string };

/** The gateway could not answer (down, timeout, malformed reply); `reason` is a kind, never patient data. */
export class BhytGatewayUnavailable extends Error {
  readonly reason: 'timeout' | 'unreachable' | 'bad-response';
  constructor(reason: 'timeout' | 'unreachable' | 'bad-response', message: string) {
    super(message);
    this.name = 'BhytGatewayUnavailable';
    this.reason = reason;
  }
}

export interface BhytGateway {
  /** Throws BhytGatewayUnavailable when there is no usable answer. */
  lookup(query: BhytLookup): Promise<BhytAnswer>;
}

export const LOOKUP_PATH = '/api/the-bhyt/tra-cuu';

/** dd/MM/yyyy ↔ YYYY-MM-DD */
export function toGatewayDate(iso: string): string {
  const [y, m, d] = iso.split('-');
  return `${d}/${m}/${y}`;
}

export function fromGatewayDate(s: unknown): string | undefined {
  if (typeof s !== 'string') {
    return undefined;
  }
  const m = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(s.trim());
  return m ? `${m[3]}-${m[2]}-${m[1]}` : undefined;
}

export interface HttpGatewayOptions {
  url: string;
  /** Default 5000 ms. */
  timeoutMs?: number;
}

/** The HTTP adapter (SEN_BHYT_GATEWAY_URL, SEN_BHYT_GATEWAY_TIMEOUT_MS). */
export class HttpBhytGateway implements BhytGateway {
  private readonly url: string;
  private readonly timeoutMs: number;

  constructor(options: HttpGatewayOptions) {
    this.url = options.url.replace(/\/$/, '');
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  async lookup(query: BhytLookup): Promise<BhytAnswer> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${LOOKUP_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({
          maThe: query.cardNumber,
          hoTen: query.name ?? '',
          ngaySinh: query.birthDate ? toGatewayDate(query.birthDate) : '',
        }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new BhytGatewayUnavailable('timeout', `BHYT gateway: no answer within ${this.timeoutMs} ms`);
      }
      throw new BhytGatewayUnavailable('unreachable', 'BHYT gateway: unreachable');
    }
    let body: Record<string, unknown>;
    try {
      body = (await res.json()) as Record<string, unknown>;
    } catch {
      throw new BhytGatewayUnavailable('bad-response', `BHYT gateway: HTTP ${res.status} without JSON`);
    }
    if (!res.ok) {
      throw new BhytGatewayUnavailable('bad-response', `BHYT gateway: HTTP ${res.status}`);
    }
    return parseAnswer(body);
  }
}

export function parseAnswer(body: Record<string, unknown>): BhytAnswer {
  const code = body.maKetQua;
  const message = typeof body.thongBao === 'string' ? body.thongBao : '';
  if (code === '010') {
    return { kind: 'not-found', message };
  }
  if (code === '070') {
    return { kind: 'mismatch', message };
  }
  if (code !== '000') {
    throw new BhytGatewayUnavailable('bad-response', 'BHYT gateway: unknown result code');
  }
  const validFrom = fromGatewayDate(body.gtTheTu);
  const validTo = fromGatewayDate(body.gtTheDen);
  const birthDate = fromGatewayDate(body.ngaySinh);
  const level = Number(body.mucHuong);
  if (
    typeof body.maThe !== 'string' ||
    typeof body.maSoBhxh !== 'string' ||
    !validFrom ||
    !validTo ||
    !birthDate ||
    !(level >= 1 && level <= 5 && Number.isInteger(level))
  ) {
    throw new BhytGatewayUnavailable('bad-response', 'BHYT gateway: incomplete card answer');
  }
  const card: BhytCardInfo = {
    cardCode: body.maThe,
    bhxhNumber: body.maSoBhxh,
    name: typeof body.hoTen === 'string' ? body.hoTen : '',
    birthDate,
    validFrom,
    validTo,
    benefitLevel: level as BhytBenefitLevel,
  };
  if (body.gioiTinh === 'Nam') {
    card.gender = 'male';
  } else if (body.gioiTinh === 'Nữ') {
    card.gender = 'female';
  }
  if (typeof body.maDKBD === 'string' && body.maDKBD !== '') {
    card.primaryCare = { code: body.maDKBD, name: typeof body.tenDKBD === 'string' ? body.tenDKBD : undefined };
  }
  return { kind: 'found', card };
}

/**
 * BHYT card check: validates the number locally (@sen/vn), asks the gateway, and keeps the patient's Coverage
 * (VN Core BHYT identifier, period, benefit level, payor, primary-care facility) in step with the answer.
 * When the gateway is down or slow the answer is `unverified`: the visit goes ahead (NĐ 188/2025 Art 37–38, the portal
 * must not block admission), the Coverage is written as unverified and queued; the recheck worker looks it up again
 * with back-off and updates the Coverage when the gateway answers.
 */
import type { Coverage, Extension, Identifier, Patient } from '@medplum/fhirtypes';
import type { Queryable } from '@sen/db';
import { outcomes, parseSearchRequest } from '@sen/fhir';
import { searchRows } from '@sen/store';
import {
  type BhytBenefitLevel,
  bhytGroup,
  BHYT_BENEFIT_LEVELS,
  isBhxhNumber,
  normalizeBhytCode,
  SEN_SID,
  validateBhytCode,
  VN_CORE_CANONICAL,
  VN_CORE_SID,
  vietnamDay,
} from '@sen/vn';
import type { FhirRouter } from '../../fhir/router.ts';
import type { AccessContext } from '../../fhir/types.ts';
import { type BhytCardInfo, type BhytGateway, BhytGatewayUnavailable } from './gateway.ts';

export type BhytStatus = 'verified' | 'unverified' | 'expired' | 'not-found' | 'invalid';

export const BHYT_EXT = {
  /** Result of the last gateway check (verified | unverified | expired | not-found | invalid). */
  verification: 'https://sen.health.vn/fhir/StructureDefinition/bhyt-verification',
  /** When the gateway was last asked. */
  checkedAt: 'https://sen.health.vn/fhir/StructureDefinition/bhyt-checked-at',
  /** Benefit level (mức hưởng) 1–5. */
  benefitLevel: 'https://sen.health.vn/fhir/StructureDefinition/bhyt-benefit-level',
  /** VN Core: registered primary-care facility (MA_DKBD). */
  primaryCare: `${VN_CORE_CANONICAL}/StructureDefinition/vn-ext-primary-care-facility`,
} as const;

export const VN_CORE_COVERAGE_PROFILE = `${VN_CORE_CANONICAL}/StructureDefinition/vn-core-coverage`;

export interface BhytCheckInput {
  cardNumber: string;
  name?: string;
  birthDate?: string;
  patientId?: string;
}

export interface BhytCheckResult {
  status: BhytStatus;
  message: string;
  /** Normalised card number as asked. */
  cardNumber: string;
  card?: BhytCardInfo;
  benefitLevel?: BhytBenefitLevel;
  validFrom?: string;
  validTo?: string;
  coverage?: Coverage;
}

const INVALID_VI: Record<string, string> = {
  empty: 'Chưa nhập mã thẻ BHYT',
  'wrong-length': 'Mã thẻ BHYT phải có 15 ký tự (hoặc mã số BHXH 10 chữ số)',
  'bad-group': 'Hai ký tự đầu của mã thẻ phải là chữ cái (mã đối tượng)',
  'unknown-group': 'Mã đối tượng (2 ký tự đầu) không tồn tại',
  'bad-benefit-level': 'Ký tự thứ 3 (mức hưởng) phải từ 1 đến 5',
  'bad-province': 'Ký tự 4–5 (mã tỉnh) phải là 2 chữ số',
  'unknown-province': 'Mã tỉnh (ký tự 4–5) không tồn tại',
  'bad-social-insurance-number': '10 ký tự cuối (mã số BHXH) phải là chữ số',
};

function formatVnDate(iso: string): string {
  const [y, m, d] = iso.split('-');
  return `${d}/${m}/${y}`;
}

/** Local validation: a 15-character card code or a 10-digit BHXH number. */
export function validateCardNumber(
  raw: string,
):
  { ok: true; value: string; kind: 'card' | 'bhxh'; benefitLevel?: BhytBenefitLevel } | { ok: false; message: string } {
  const value = normalizeBhytCode(raw);
  if (isBhxhNumber(value)) {
    return { ok: true, value, kind: 'bhxh' };
  }
  const v = validateBhytCode(value);
  if (!v.ok) {
    return { ok: false, message: `${INVALID_VI[v.reason] ?? 'Mã thẻ BHYT không hợp lệ'} / ${v.message}` };
  }
  return { ok: true, value: v.value, kind: 'card', benefitLevel: v.benefitLevel };
}

/** Status and Vietnamese message of a gateway answer on a given day. */
export function judge(card: BhytCardInfo, day: string): { status: BhytStatus; message: string } {
  if (card.validTo < day) {
    return { status: 'expired', message: `Thẻ BHYT đã hết hạn từ ${formatVnDate(card.validTo)}` };
  }
  if (card.validFrom > day) {
    return { status: 'expired', message: `Thẻ BHYT chưa có giá trị sử dụng (từ ${formatVnDate(card.validFrom)})` };
  }
  const rate = BHYT_BENEFIT_LEVELS[card.benefitLevel].rate;
  return {
    status: 'verified',
    message: `Thẻ BHYT hợp lệ, có giá trị đến ${formatVnDate(card.validTo)}; mức hưởng ${card.benefitLevel} (${rate}%)`,
  };
}

const UNVERIFIED_MESSAGE =
  'Chưa kết nối được cổng giám định BHYT: vẫn tiếp đón bình thường, hệ thống sẽ tự kiểm tra lại thẻ sau';

function ext(list: Extension[] | undefined, url: string, value: Extension | undefined): Extension[] {
  const rest = (list ?? []).filter((e) => e.url !== url);
  return value ? [...rest, value] : rest;
}

/** The Coverage for a card, built over the existing one (if any), for the given check result. */
export function buildCoverage(
  existing: Coverage | undefined,
  patientId: string,
  r: { status: BhytStatus; cardNumber: string; card?: BhytCardInfo; benefitLevel?: BhytBenefitLevel },
  now: Date,
): Coverage {
  const cardCode = r.card?.cardCode ?? (isBhxhNumber(r.cardNumber) ? undefined : r.cardNumber);
  const bhxh = r.card?.bhxhNumber ?? (isBhxhNumber(r.cardNumber) ? r.cardNumber : r.cardNumber.slice(5));
  const identifier: Identifier[] = (existing?.identifier ?? []).filter(
    (i) => i.system !== VN_CORE_SID.bhyt && i.system !== SEN_SID.bhxh,
  );
  identifier.unshift(
    { use: 'official', system: VN_CORE_SID.bhyt, value: cardCode ?? bhxh },
    { use: 'secondary', system: SEN_SID.bhxh, value: bhxh },
  );
  const level =
    r.card?.benefitLevel ??
    r.benefitLevel ??
    existing?.extension?.find((e) => e.url === BHYT_EXT.benefitLevel)?.valueInteger;
  let extension = ext(existing?.extension, BHYT_EXT.verification, { url: BHYT_EXT.verification, valueCode: r.status });
  extension = ext(extension, BHYT_EXT.checkedAt, { url: BHYT_EXT.checkedAt, valueDateTime: now.toISOString() });
  extension = ext(
    extension,
    BHYT_EXT.benefitLevel,
    level ? { url: BHYT_EXT.benefitLevel, valueInteger: level } : undefined,
  );
  if (r.card?.primaryCare) {
    extension = ext(extension, BHYT_EXT.primaryCare, {
      url: BHYT_EXT.primaryCare,
      valueReference: {
        identifier: { system: VN_CORE_SID.maCskcb, value: r.card.primaryCare.code },
        ...(r.card.primaryCare.name ? { display: r.card.primaryCare.name } : {}),
      },
    });
  }
  const groupCode = cardCode?.slice(0, 2);
  const group = groupCode ? bhytGroup(groupCode) : undefined;
  const coverage: Coverage = {
    ...(existing ?? {}),
    resourceType: 'Coverage',
    meta: { ...(existing?.meta ?? {}), profile: [VN_CORE_COVERAGE_PROFILE] },
    extension,
    identifier,
    status: r.status === 'not-found' || r.status === 'invalid' ? 'cancelled' : 'active',
    type: {
      coding: [
        { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'PUBLICPOL', display: 'public healthcare' },
      ],
      text: 'Bảo hiểm y tế (BHYT)',
    },
    subscriberId: bhxh,
    beneficiary: { reference: `Patient/${patientId}` },
    payor: [{ display: 'Bảo hiểm xã hội Việt Nam' }],
  };
  if (r.card) {
    coverage.period = { start: r.card.validFrom, end: r.card.validTo };
  }
  if (group) {
    coverage.class = [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-class', code: 'group' }] },
        value: group.code,
        name: group.name,
      },
    ];
  }
  delete (coverage.meta as { versionId?: string }).versionId;
  delete (coverage.meta as { lastUpdated?: string }).lastUpdated;
  return coverage;
}

/** Gateway + store: the check itself, the Coverage write and the recheck queue. */
export class BhytService {
  readonly router: FhirRouter;
  readonly gateway: BhytGateway;
  private readonly now: () => Date;

  constructor(router: FhirRouter, gateway: BhytGateway, now: () => Date = () => new Date()) {
    this.router = router;
    this.gateway = gateway;
    this.now = now;
  }

  /** Asks the gateway; `unverified` when it cannot answer. */
  async ask(
    cardNumber: string,
    name: string | undefined,
    birthDate: string | undefined,
  ): Promise<{ status: BhytStatus; message: string; card?: BhytCardInfo; unavailable?: string }> {
    try {
      const answer = await this.gateway.lookup({ cardNumber, name, birthDate });
      if (answer.kind === 'not-found') {
        return { status: 'not-found', message: 'Không tìm thấy thẻ BHYT này trên cổng giám định' };
      }
      if (answer.kind === 'mismatch') {
        return {
          status: 'invalid',
          message: 'Họ tên hoặc ngày sinh không khớp với thông tin thẻ BHYT trên cổng giám định',
        };
      }
      return { ...judge(answer.card, vietnamDay(this.now())), card: answer.card };
    } catch (err) {
      if (err instanceof BhytGatewayUnavailable) {
        return { status: 'unverified', message: UNVERIFIED_MESSAGE, unavailable: err.reason };
      }
      throw err;
    }
  }

  async check(input: BhytCheckInput, access?: AccessContext): Promise<BhytCheckResult> {
    const local = validateCardNumber(input.cardNumber);
    if (!local.ok) {
      return { status: 'invalid', message: local.message, cardNumber: normalizeBhytCode(input.cardNumber) };
    }
    const store = this.router.store;
    let patient: Patient | undefined;
    let patientIds: string[] = [];
    if (input.patientId) {
      const s = await store.readWithCompartment('Patient', input.patientId);
      patient = JSON.parse(s.content as string) as Patient;
      patientIds = s.patientIds;
      access?.check('read', 'Patient', patient, patientIds);
    }
    const name = input.name ?? patientName(patient);
    const birthDate = input.birthDate ?? patient?.birthDate;
    const answer = await this.ask(local.value, name, birthDate);
    const result: BhytCheckResult = {
      status: answer.status,
      message: answer.message,
      cardNumber: local.value,
      card: answer.card,
      benefitLevel: answer.card?.benefitLevel ?? local.benefitLevel,
      validFrom: answer.card?.validFrom,
      validTo: answer.card?.validTo,
    };
    if (patient?.id && (answer.status === 'verified' || answer.status === 'unverified')) {
      result.coverage = await store.transaction(async (q) => {
        const coverage = await this.writeCoverage(patient.id as string, result, access, q);
        if (answer.status === 'unverified') {
          await enqueueRecheck(q, coverage.id as string, this.now());
        }
        return coverage;
      });
    }
    return result;
  }

  /** Creates or updates the patient's Coverage for this card, with the gate's checks. */
  async writeCoverage(
    patientId: string,
    r: BhytCheckResult,
    access: AccessContext | undefined,
    q: Queryable,
    known?: { coverage: Coverage; version: number },
  ): Promise<Coverage> {
    const store = this.router.store;
    const now = this.now();
    if (known) {
      const next = buildCoverage(known.coverage, patientId, r, now);
      const w = await store.update(next, { ifMatch: known.version }, q);
      return w.resource as Coverage;
    }
    const bhxh = r.card?.bhxhNumber ?? (isBhxhNumber(r.cardNumber) ? r.cardNumber : r.cardNumber.slice(5));
    const values = [`${SEN_SID.bhxh}|${bhxh}`, `${VN_CORE_SID.bhyt}|${r.card?.cardCode ?? r.cardNumber}`].join(',');
    const req = parseSearchRequest('Coverage', [
      ['beneficiary', `Patient/${patientId}`],
      ['identifier', values],
      ['_count', '1'],
    ]);
    const found = (await searchRows(store, req, q, access?.policy)).rows[0];
    if (found) {
      const existing = JSON.parse(found.content) as Coverage;
      const next = buildCoverage(existing, patientId, r, now);
      access?.check('update', 'Coverage', next, [patientId]);
      const w = await store.update(next, { ifMatch: found.version }, q);
      return w.resource as Coverage;
    }
    const created = buildCoverage(undefined, patientId, r, now);
    access?.check('create', 'Coverage', created, [patientId]);
    const w = await store.create(created, q);
    return w.resource as Coverage;
  }
}

export function patientName(p: Patient | undefined): string | undefined {
  const n = p?.name?.find((x) => x.use === 'official') ?? p?.name?.[0];
  if (!n) {
    return undefined;
  }
  const parts = [n.family, ...(n.given ?? [])].filter((s): s is string => !!s && s.trim() !== '');
  return parts.length > 0 ? parts.join(' ') : n.text;
}

export async function enqueueRecheck(q: Queryable, coverageId: string, now: Date): Promise<void> {
  await q.query(
    `INSERT INTO bhyt_recheck (coverage_id, created_at, next_attempt_at) VALUES ($1, $2, $2)
     ON CONFLICT (coverage_id) WHERE done_at IS NULL DO NOTHING`,
    [coverageId, now.toISOString()],
  );
}

export function assertIsoDate(name: string, v: string | undefined): void {
  if (v !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(v)) {
    throw outcomes.badRequest(`'${name}' phải có dạng YYYY-MM-DD / '${name}' must be a date YYYY-MM-DD`);
  }
}

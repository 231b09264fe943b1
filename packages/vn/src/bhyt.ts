/**
 * BHYT (health-insurance) card code, 15 characters: `XX Y ZZ NNNNNNNNNN`
 *   XX          beneficiary group (mã đối tượng), 2 upper-case letters, e.g. DN, HC, HT, TE, HN, GD
 *   Y           benefit level (mức hưởng) 1–5
 *   ZZ          2-digit code of the province whose BHXH office issued the card
 *   NNNNNNNNNN  10-digit social-insurance number (mã số BHXH), the person's lifelong number
 * Source: Decision 1351/QĐ-BHXH (2015) on the BHYT card code, as summarised in VIETNAM.md §3 (tag [S/B]). Cards
 * issued since 2021 print only the 10-digit number; since 15/08/2025 the 12-digit personal ID is accepted too.
 */

import { CCCD_PROVINCE_CODES } from './cccd.ts';

export type BhytBenefitLevel = 1 | 2 | 3 | 4 | 5;

/** Who pays the contribution, the grouping used by Decision 1351/QĐ-BHXH. */
export type BhytPayer =
  | 'employer-employee' // người lao động và người sử dụng lao động đóng
  | 'social-insurance' // tổ chức BHXH đóng
  | 'state-budget' // ngân sách nhà nước đóng
  | 'state-subsidised' // ngân sách nhà nước hỗ trợ mức đóng
  | 'household'; // tham gia theo hộ gia đình

export interface BhytGroup {
  code: string;
  /** Short Vietnamese description of the beneficiary group. */
  name: string;
  payer: BhytPayer;
  /** Benefit level normally printed for this group. */
  defaultLevel: BhytBenefitLevel;
}

function g(code: string, payer: BhytPayer, defaultLevel: BhytBenefitLevel, name: string): BhytGroup {
  return Object.freeze({ code, name, payer, defaultLevel });
}

/** Beneficiary group codes (Decision 1351/QĐ-BHXH). `TV` is from later practice and less certain [B]. */
export const BHYT_GROUPS: readonly BhytGroup[] = Object.freeze([
  g('DN', 'employer-employee', 4, 'Người lao động trong doanh nghiệp'),
  g('HX', 'employer-employee', 4, 'Người lao động trong hợp tác xã'),
  g('CH', 'employer-employee', 4, 'Người lao động trong cơ quan nhà nước, đơn vị sự nghiệp'),
  g('NN', 'employer-employee', 4, 'Người lao động tại cơ quan, tổ chức nước ngoài, tổ chức quốc tế'),
  g('TK', 'employer-employee', 4, 'Người lao động trong các tổ chức khác'),
  g('HC', 'employer-employee', 4, 'Cán bộ, công chức, viên chức'),
  g('XK', 'employer-employee', 4, 'Người hoạt động không chuyên trách ở cấp xã'),
  g('HT', 'social-insurance', 3, 'Người hưởng lương hưu, trợ cấp mất sức lao động'),
  g('TB', 'social-insurance', 4, 'Người hưởng trợ cấp tai nạn lao động, bệnh nghề nghiệp hằng tháng'),
  g('NO', 'social-insurance', 4, 'Người lao động nghỉ việc hưởng chế độ ốm đau dài ngày'),
  g('CT', 'social-insurance', 4, 'Người từ đủ 80 tuổi hưởng trợ cấp tuất hằng tháng'),
  g('XB', 'social-insurance', 4, 'Cán bộ xã, phường, thị trấn nghỉ việc hưởng trợ cấp BHXH hằng tháng'),
  g('TN', 'social-insurance', 4, 'Người hưởng trợ cấp thất nghiệp'),
  g('CS', 'social-insurance', 4, 'Công nhân cao su nghỉ việc hưởng trợ cấp hằng tháng'),
  g('QN', 'state-budget', 5, 'Sĩ quan, quân nhân chuyên nghiệp, hạ sĩ quan, binh sĩ quân đội'),
  g('CA', 'state-budget', 5, 'Sĩ quan, hạ sĩ quan, chiến sĩ công an nhân dân'),
  g('CY', 'state-budget', 5, 'Người làm công tác cơ yếu'),
  g('XN', 'state-budget', 4, 'Cán bộ xã nghỉ việc hưởng trợ cấp từ ngân sách nhà nước'),
  g('MS', 'state-budget', 4, 'Người thôi hưởng trợ cấp mất sức lao động, hưởng trợ cấp hằng tháng'),
  g('CC', 'state-budget', 1, 'Người có công với cách mạng'),
  g('CK', 'state-budget', 2, 'Người có công với cách mạng (nhóm khác)'),
  g('CB', 'state-budget', 2, 'Cựu chiến binh'),
  g('KC', 'state-budget', 2, 'Người tham gia kháng chiến, bảo vệ Tổ quốc'),
  g('HD', 'state-budget', 4, 'Đại biểu Quốc hội, đại biểu Hội đồng nhân dân'),
  g('TE', 'state-budget', 1, 'Trẻ em dưới 6 tuổi'),
  g('BT', 'state-budget', 2, 'Người hưởng trợ cấp bảo trợ xã hội hằng tháng'),
  g('HN', 'state-budget', 2, 'Người thuộc hộ gia đình nghèo'),
  g('DT', 'state-budget', 2, 'Người dân tộc thiểu số sống ở vùng khó khăn'),
  g('DK', 'state-budget', 2, 'Người sống ở vùng có điều kiện kinh tế - xã hội đặc biệt khó khăn'),
  g('XD', 'state-budget', 2, 'Người sống ở xã đảo, huyện đảo'),
  g('TS', 'state-budget', 2, 'Thân nhân của liệt sĩ'),
  g('TC', 'state-budget', 3, 'Thân nhân của người có công với cách mạng'),
  g('TQ', 'state-budget', 4, 'Thân nhân của quân nhân'),
  g('TV', 'state-budget', 4, 'Thân nhân của công nhân, viên chức quốc phòng'),
  g('TA', 'state-budget', 4, 'Thân nhân của công an nhân dân'),
  g('TY', 'state-budget', 4, 'Thân nhân của người làm công tác cơ yếu'),
  g('HG', 'state-budget', 4, 'Người đã hiến bộ phận cơ thể'),
  g('LS', 'state-budget', 4, 'Lưu học sinh nước ngoài học tại Việt Nam được cấp học bổng từ ngân sách nhà nước'),
  g('PV', 'state-budget', 4, 'Người phục vụ người có công với cách mạng'),
  g('CN', 'state-subsidised', 3, 'Người thuộc hộ gia đình cận nghèo'),
  g('HS', 'state-subsidised', 4, 'Học sinh'),
  g('SV', 'state-subsidised', 4, 'Sinh viên'),
  g('GB', 'state-subsidised', 4, 'Người thuộc hộ gia đình làm nông, lâm, ngư, diêm nghiệp có mức sống trung bình'),
  g('GD', 'household', 4, 'Người tham gia BHYT theo hộ gia đình'),
]);

const GROUPS_BY_CODE: ReadonlyMap<string, BhytGroup> = new Map(BHYT_GROUPS.map((group) => [group.code, group]));

export function bhytGroup(code: string): BhytGroup | undefined {
  return GROUPS_BY_CODE.get(code);
}

/** What each benefit level means (Decision 1351/QĐ-BHXH; rates per Law on Health Insurance art. 22). */
export const BHYT_BENEFIT_LEVELS: Readonly<Record<BhytBenefitLevel, { rate: number; description: string }>> =
  Object.freeze({
    1: { rate: 100, description: '100% chi phí trong phạm vi, không giới hạn tỷ lệ thanh toán; có chi phí vận chuyển' },
    2: { rate: 100, description: '100% chi phí trong phạm vi, có giới hạn tỷ lệ thanh toán; có chi phí vận chuyển' },
    3: { rate: 95, description: '95% chi phí trong phạm vi (100% tại tuyến xã và lần khám chi phí thấp)' },
    4: { rate: 80, description: '80% chi phí trong phạm vi (100% tại tuyến xã và lần khám chi phí thấp)' },
    5: { rate: 100, description: '100% chi phí, kể cả ngoài phạm vi được hưởng; có chi phí vận chuyển' },
  });

/**
 * Issuing-province codes in the card code: the 2-digit codes of the 63 provinces before the 2025 reform (the 34
 * current provinces kept one predecessor's code, so they are all included), plus 97 (BHXH of the Ministry of
 * National Defence) and 98 (BHXH of the People's Public Security) [B].
 */
export const BHYT_PROVINCE_CODES: Readonly<Record<string, string>> = Object.freeze({
  ...Object.fromEntries(Object.entries(CCCD_PROVINCE_CODES).map(([code, name]) => [code.slice(1), name])),
  '97': 'BHXH Bộ Quốc phòng',
  '98': 'BHXH Công an nhân dân',
});

export type BhytInvalidReason =
  | 'empty'
  | 'wrong-length'
  | 'bad-group'
  | 'unknown-group'
  | 'bad-benefit-level'
  | 'bad-province'
  | 'unknown-province'
  | 'bad-social-insurance-number';

export type BhytValidation =
  | {
      ok: true;
      /** Normalised code: upper case, no spaces. */
      value: string;
      groupCode: string;
      /** Undefined only when `allowUnknownGroup` let an unlisted group through. */
      group: BhytGroup | undefined;
      benefitLevel: BhytBenefitLevel;
      provinceCode: string;
      provinceName: string | undefined;
      socialInsuranceNumber: string;
    }
  | { ok: false; reason: BhytInvalidReason; message: string };

export interface ValidateBhytOptions {
  /** Accept two letters not in {@link BHYT_GROUPS} (new groups appear with new decrees). Default false. */
  allowUnknownGroup?: boolean;
  /** Accept any two digits as province code. Default false. */
  allowUnknownProvince?: boolean;
}

function isDigits(s: string): boolean {
  if (s.length === 0) {
    return false;
  }
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) {
      return false;
    }
  }
  return true;
}

function isUpperLetters(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x41 || c > 0x5a) {
      return false;
    }
  }
  return s.length > 0;
}

/** Upper-cases and drops whitespace, dots and hyphens ("dn 4 79 7931234567" → "DN4797931234567"). */
export function normalizeBhytCode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === ' ' || ch === '.' || ch === '-' || ch === '\t' || ch === '\u00a0') {
      continue;
    }
    out += ch;
  }
  return out.toUpperCase();
}

/** True for a 10-digit social-insurance number (mã số BHXH). */
export function isBhxhNumber(s: string): boolean {
  return s.length === 10 && isDigits(s);
}

function fail(reason: BhytInvalidReason, message: string): BhytValidation {
  return { ok: false, reason, message };
}

/** Validates a 15-character BHYT card code and splits it into its parts. */
export function validateBhytCode(s: string, options: ValidateBhytOptions = {}): BhytValidation {
  const value = normalizeBhytCode(s ?? '');
  if (value.length === 0) {
    return fail('empty', 'The BHYT card code is empty');
  }
  if (value.length !== 15) {
    const hint =
      value.length === 10 && isDigits(value)
        ? ' (10 digits is a social-insurance number, not a card code)'
        : value.length === 12 && isDigits(value)
          ? ' (12 digits is a personal ID number, not a card code)'
          : '';
    return fail('wrong-length', `The BHYT card code must have 15 characters, got ${value.length}${hint}`);
  }
  const groupCode = value.slice(0, 2);
  if (!isUpperLetters(groupCode)) {
    return fail('bad-group', `The first two characters must be letters, got '${groupCode}'`);
  }
  const group = GROUPS_BY_CODE.get(groupCode);
  if (group === undefined && !options.allowUnknownGroup) {
    return fail('unknown-group', `Unknown beneficiary group '${groupCode}'`);
  }
  const levelChar = value.charCodeAt(2);
  if (levelChar < 0x31 || levelChar > 0x35) {
    return fail('bad-benefit-level', `The benefit level (3rd character) must be 1–5, got '${value[2]}'`);
  }
  const benefitLevel = (levelChar - 0x30) as BhytBenefitLevel;
  const provinceCode = value.slice(3, 5);
  if (!isDigits(provinceCode)) {
    return fail('bad-province', `The province code (characters 4–5) must be 2 digits, got '${provinceCode}'`);
  }
  const provinceName = BHYT_PROVINCE_CODES[provinceCode];
  if (provinceName === undefined && !options.allowUnknownProvince) {
    return fail('unknown-province', `Unknown province code '${provinceCode}'`);
  }
  const socialInsuranceNumber = value.slice(5);
  if (!isBhxhNumber(socialInsuranceNumber)) {
    return fail('bad-social-insurance-number', 'The last 10 characters (social-insurance number) must be digits');
  }
  return { ok: true, value, groupCode, group, benefitLevel, provinceCode, provinceName, socialInsuranceNumber };
}

/** Builds a 15-character card code; throws a RangeError when a part is malformed or unknown. */
export function makeBhytCode(
  groupCode: string,
  benefitLevel: number,
  provinceCode: string | number,
  socialInsuranceNumber: string,
): string {
  if (!GROUPS_BY_CODE.has(groupCode)) {
    throw new RangeError(`Unknown beneficiary group '${groupCode}'`);
  }
  if (!Number.isInteger(benefitLevel) || benefitLevel < 1 || benefitLevel > 5) {
    throw new RangeError(`Benefit level must be 1–5, got ${benefitLevel}`);
  }
  const province = String(provinceCode).padStart(2, '0');
  if (BHYT_PROVINCE_CODES[province] === undefined) {
    throw new RangeError(`Unknown province code '${provinceCode}'`);
  }
  if (!isBhxhNumber(socialInsuranceNumber)) {
    throw new RangeError(`Social-insurance number must be 10 digits, got '${socialInsuranceNumber}'`);
  }
  return `${groupCode}${benefitLevel}${province}${socialInsuranceNumber}`;
}

/** Formats a card code for display: `DN4797931234567` → `DN 4 79 7931234567`; other input is returned as is. */
export function formatBhytCode(code: string): string {
  const v = normalizeBhytCode(code);
  if (v.length !== 15) {
    return code;
  }
  return `${v.slice(0, 2)} ${v[2]} ${v.slice(3, 5)} ${v.slice(5)}`;
}

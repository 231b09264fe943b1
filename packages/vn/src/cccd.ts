/**
 * The 12-digit personal identification number (số định danh cá nhân, printed on the CCCD / căn cước card).
 *
 * Layout (Circular 07/2016/TT-BCA, replaced by Circular 59/2021/TT-BCA, kept by the Law on Identity 26/2023):
 *   PPP  C  YY  NNNNNN
 *   PPP    code of the province where the birth was registered, from the list of the 63 provinces in force before
 *          the 2025 reform (the prefix never changes when provinces merge: do not derive an address from it)
 *   C      century of birth and sex: 0/1 = 1900s male/female, 2/3 = 2000s, 4/5 = 2100s, 6/7 = 2200s, 8/9 = 2300s
 *   YY     last two digits of the year of birth
 *   NNNNNN random serial
 * No check digit is defined, so only the structure can be validated.
 */

export type Sex = 'male' | 'female';

/** Birth-registration province codes of the personal ID number: the 63 provinces of Circular 59/2021/TT-BCA. */
export const CCCD_PROVINCE_CODES: Readonly<Record<string, string>> = Object.freeze({
  '001': 'Hà Nội',
  '002': 'Hà Giang',
  '004': 'Cao Bằng',
  '006': 'Bắc Kạn',
  '008': 'Tuyên Quang',
  '010': 'Lào Cai',
  '011': 'Điện Biên',
  '012': 'Lai Châu',
  '014': 'Sơn La',
  '015': 'Yên Bái',
  '017': 'Hòa Bình',
  '019': 'Thái Nguyên',
  '020': 'Lạng Sơn',
  '022': 'Quảng Ninh',
  '024': 'Bắc Giang',
  '025': 'Phú Thọ',
  '026': 'Vĩnh Phúc',
  '027': 'Bắc Ninh',
  '030': 'Hải Dương',
  '031': 'Hải Phòng',
  '033': 'Hưng Yên',
  '034': 'Thái Bình',
  '035': 'Hà Nam',
  '036': 'Nam Định',
  '037': 'Ninh Bình',
  '038': 'Thanh Hóa',
  '040': 'Nghệ An',
  '042': 'Hà Tĩnh',
  '044': 'Quảng Bình',
  '045': 'Quảng Trị',
  '046': 'Thừa Thiên Huế',
  '048': 'Đà Nẵng',
  '049': 'Quảng Nam',
  '051': 'Quảng Ngãi',
  '052': 'Bình Định',
  '054': 'Phú Yên',
  '056': 'Khánh Hòa',
  '058': 'Ninh Thuận',
  '060': 'Bình Thuận',
  '062': 'Kon Tum',
  '064': 'Gia Lai',
  '066': 'Đắk Lắk',
  '067': 'Đắk Nông',
  '068': 'Lâm Đồng',
  '070': 'Bình Phước',
  '072': 'Tây Ninh',
  '074': 'Bình Dương',
  '075': 'Đồng Nai',
  '077': 'Bà Rịa - Vũng Tàu',
  '079': 'Hồ Chí Minh',
  '080': 'Long An',
  '082': 'Tiền Giang',
  '083': 'Bến Tre',
  '084': 'Trà Vinh',
  '086': 'Vĩnh Long',
  '087': 'Đồng Tháp',
  '089': 'An Giang',
  '091': 'Kiên Giang',
  '092': 'Cần Thơ',
  '093': 'Hậu Giang',
  '094': 'Sóc Trăng',
  '095': 'Bạc Liêu',
  '096': 'Cà Mau',
});

export type CccdInvalidReason = 'empty' | 'not-digits' | 'wrong-length' | 'unknown-province' | 'birth-year-in-future';

export type CccdValidation =
  | { ok: true; value: string; provinceCode: string; provinceName: string; sex: Sex; birthYear: number }
  | { ok: false; reason: CccdInvalidReason; message: string };

export interface ValidateCccdOptions {
  /** Reference date for the "born in the future" check; `null` disables it. Default: now. */
  asOf?: Date | null;
}

/** Removes spaces, dots and hyphens people type inside ID numbers ("001 090 123456"). */
export function normalizeCccd(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === ' ' || ch === '.' || ch === '-' || ch === '\t' || ch === '\u00a0') {
      continue;
    }
    out += ch;
  }
  return out;
}

function isAllDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) {
      return false;
    }
  }
  return true;
}

function fail(reason: CccdInvalidReason, message: string): CccdValidation {
  return { ok: false, reason, message };
}

/** Validates the structure of a 12-digit personal ID number and decodes its parts. */
export function validateCccd(s: string, options: ValidateCccdOptions = {}): CccdValidation {
  const value = normalizeCccd(s ?? '');
  if (value.length === 0) {
    return fail('empty', 'The personal ID number is empty');
  }
  if (!isAllDigits(value)) {
    return fail('not-digits', 'The personal ID number must contain digits only');
  }
  if (value.length !== 12) {
    const hint = value.length === 9 ? ' (9 digits looks like an old CMND number)' : '';
    return fail('wrong-length', `The personal ID number must have 12 digits, got ${value.length}${hint}`);
  }
  const provinceCode = value.slice(0, 3);
  const provinceName = CCCD_PROVINCE_CODES[provinceCode];
  if (provinceName === undefined) {
    return fail('unknown-province', `Unknown birth-province code ${provinceCode}`);
  }
  const centurySex = value.charCodeAt(3) - 0x30;
  const birthYear = 1900 + Math.floor(centurySex / 2) * 100 + Number(value.slice(4, 6));
  const sex: Sex = centurySex % 2 === 0 ? 'male' : 'female';
  const asOf = options.asOf === undefined ? new Date() : options.asOf;
  if (asOf !== null && birthYear > asOf.getFullYear()) {
    return fail('birth-year-in-future', `The birth year ${birthYear} encoded in the number is in the future`);
  }
  return { ok: true, value, provinceCode, provinceName, sex, birthYear };
}

/** Builds a personal ID number; throws a RangeError on an unknown province, a year outside 1900–2399 or a bad serial. */
export function makeCccd(provinceCode: string | number, sex: Sex, birthYear: number, serial6: string | number): string {
  const province = String(provinceCode).padStart(3, '0');
  if (CCCD_PROVINCE_CODES[province] === undefined) {
    throw new RangeError(`Unknown birth-province code ${provinceCode}`);
  }
  if (!Number.isInteger(birthYear) || birthYear < 1900 || birthYear > 2399) {
    throw new RangeError(`Birth year must be an integer in 1900..2399, got ${birthYear}`);
  }
  if (sex !== 'male' && sex !== 'female') {
    throw new RangeError(`Sex must be 'male' or 'female', got ${String(sex)}`);
  }
  let serial: string;
  if (typeof serial6 === 'number') {
    if (!Number.isInteger(serial6) || serial6 < 0 || serial6 > 999_999) {
      throw new RangeError(`Serial must be an integer in 0..999999, got ${serial6}`);
    }
    serial = String(serial6).padStart(6, '0');
  } else {
    serial = serial6;
    if (serial.length !== 6 || !isAllDigits(serial)) {
      throw new RangeError(`Serial must be 6 digits, got '${serial6}'`);
    }
  }
  const century = Math.floor((birthYear - 1900) / 100);
  const centurySex = century * 2 + (sex === 'female' ? 1 : 0);
  const yy = String(birthYear % 100).padStart(2, '0');
  return `${province}${centurySex}${yy}${serial}`;
}

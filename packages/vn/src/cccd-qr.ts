/**
 * The QR code on the citizen identity card (CCCD chip card, Circular 06/2021/TT-BCA; căn cước card from 01/07/2024,
 * Circular 16/2024/TT-BCA), as a scanner hands it over: `|`-separated text.
 *
 * 2021 chip card (7 fields, VIETNAM.md §3, tag [P]):
 *   số CCCD | số CMND cũ | họ và tên | ngày sinh ddMMyyyy | giới tính Nam/Nữ | nơi thường trú | ngày cấp ddMMyyyy
 * 2024 căn cước card: same leading fields; it also carries the old 9-digit CMND and cancelled ID numbers, and the exact
 * field order is not confirmed (tag [S]). So any other field count is read as the 2024 layout: the first six fields
 * by position, the issue date in field 7 when it is a date (else the first date among the extra fields), and any extra
 * field that is a 9- or 12-digit number kept as another old ID number.
 *
 * Scanners add a byte-order mark, spaces or a CR/LF; those are tolerated. The 12-digit number is checked with
 * validateCccd, and the sex and birth year it encodes must agree with the printed ones (a mismatch means a misread or a
 * forged code: the number is re-issued when either is corrected).
 */

import { type Sex, validateCccd } from './cccd.ts';
import { fold } from './fold.ts';

export interface CccdCard {
  /** The 12-digit personal ID number. */
  idNumber: string;
  /** The old ID number printed in the QR (9-digit CMND or an earlier 12-digit number), when there is one. */
  oldIdNumber?: string;
  /** Further old or cancelled ID numbers found in a 2024 card's extra fields. */
  otherIdNumbers?: string[];
  /** Full name as printed (Unicode NFC, single spaces). */
  name: string;
  /** YYYY-MM-DD */
  birthDate: string;
  sex: Sex;
  /** Permanent residence (nơi thường trú) as printed. */
  address: string;
  /** YYYY-MM-DD */
  issueDate?: string;
  layout: '2021' | '2024';
}

export type CccdQrInvalidReason =
  | 'empty'
  | 'not-cccd-qr'
  | 'too-few-fields'
  | 'bad-id-number'
  | 'bad-old-id-number'
  | 'missing-name'
  | 'bad-birth-date'
  | 'bad-sex'
  | 'missing-address'
  | 'bad-issue-date'
  | 'id-mismatch';

export type CccdQrResult =
  { ok: true; card: CccdCard } | { ok: false; reason: CccdQrInvalidReason; message: { vi: string; en: string } };

export interface ParseCccdQrOptions {
  /** Reference date for "born in the future" and "issued in the future"; default now. */
  asOf?: Date;
}

function fail(reason: CccdQrInvalidReason, vi: string, en: string): CccdQrResult {
  return { ok: false, reason, message: { vi, en } };
}

function isDigits(s: string): boolean {
  return s.length > 0 && /^[0-9]+$/.test(s);
}

/** ddMMyyyy → YYYY-MM-DD, or undefined when it is not a real calendar date. */
export function parseDdMmYyyy(s: string): string | undefined {
  const v = s.replace(/[/.\-\s]/g, '');
  if (v.length !== 8 || !isDigits(v)) {
    return undefined;
  }
  const day = Number(v.slice(0, 2));
  const month = Number(v.slice(2, 4));
  const year = Number(v.slice(4, 8));
  if (year < 1850 || month < 1 || month > 12 || day < 1) {
    return undefined;
  }
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > last) {
    return undefined;
  }
  return `${v.slice(4, 8)}-${v.slice(2, 4)}-${v.slice(0, 2)}`;
}

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** Cleans what the scanner produced: BOM, surrounding whitespace, line breaks inside (a wrapped address). */
function clean(text: string): string {
  let t = text.normalize('NFC');
  t = t.replace(/\uFEFF/g, '');
  t = t.replace(/[\r\n]+/g, ' ');
  return t.trim();
}

function tidy(field: string): string {
  return field.replace(/\s+/g, ' ').trim();
}

/** Old ID numbers are 9-digit CMND or 12-digit numbers; several may be listed with commas or semicolons. */
function oldNumbers(field: string): string[] | undefined {
  const parts = field
    .split(/[,;\s]+/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (parts.some((p) => !isDigits(p) || (p.length !== 9 && p.length !== 12))) {
    return undefined;
  }
  return parts;
}

/** Parses the text of a CCCD / căn cước card QR code. */
export function parseCccdQr(text: string, options: ParseCccdQrOptions = {}): CccdQrResult {
  const asOf = options.asOf ?? new Date();
  const t = clean(typeof text === 'string' ? text : '');
  if (t.length === 0) {
    return fail('empty', 'Mã QR trống', 'The QR code is empty');
  }
  if (!t.includes('|')) {
    return fail(
      'not-cccd-qr',
      'Đây không phải mã QR của thẻ căn cước / CCCD (không có dấu "|" phân cách)',
      'This is not a citizen ID card QR code (no "|" separators)',
    );
  }
  const fields = t.split('|').map(tidy);
  // a trailing separator gives an empty last field; drop empty trailing fields beyond the seventh
  while (fields.length > 7 && fields[fields.length - 1] === '') {
    fields.pop();
  }
  if (fields.length < 6) {
    return fail(
      'too-few-fields',
      `Mã QR thiếu thông tin: có ${fields.length} trường, cần ít nhất 6 (số, số cũ, họ tên, ngày sinh, giới tính, nơi thường trú)`,
      `The QR code has ${fields.length} fields; at least 6 are needed (number, old number, name, birth date, sex, address)`,
    );
  }
  const layout: CccdCard['layout'] = fields.length === 7 ? '2021' : '2024';
  const [rawId, rawOld, rawName, rawBirth, rawSex, rawAddress] = fields;

  const id = validateCccd(rawId, { asOf });
  if (!id.ok) {
    return fail('bad-id-number', `Số định danh cá nhân không hợp lệ: ${viCccdReason(id.reason)}`, id.message);
  }

  let oldIdNumber: string | undefined;
  const otherIdNumbers: string[] = [];
  if (rawOld !== '') {
    const olds = oldNumbers(rawOld);
    if (!olds) {
      return fail(
        'bad-old-id-number',
        'Số CMND/CCCD cũ trong mã QR không hợp lệ (cần 9 hoặc 12 chữ số)',
        'The old ID number in the QR code is invalid (9 or 12 digits expected)',
      );
    }
    oldIdNumber = olds[0];
    otherIdNumbers.push(...olds.slice(1));
  }

  const name = rawName;
  if (name === '' || isDigits(name.replace(/\s/g, ''))) {
    return fail('missing-name', 'Mã QR không có họ tên', 'The QR code has no name');
  }

  const birthDate = parseDdMmYyyy(rawBirth);
  if (!birthDate || birthDate > isoDay(asOf)) {
    return fail(
      'bad-birth-date',
      `Ngày sinh "${rawBirth}" không hợp lệ (cần dạng ngày tháng năm ddMMyyyy)`,
      `The birth date "${rawBirth}" is invalid (ddMMyyyy expected)`,
    );
  }

  const sexWord = fold(rawSex);
  let sex: Sex;
  if (sexWord === 'nam' || sexWord === 'male') {
    sex = 'male';
  } else if (sexWord === 'nu' || sexWord === 'female') {
    sex = 'female';
  } else {
    return fail(
      'bad-sex',
      `Giới tính "${rawSex}" không hợp lệ (cần "Nam" hoặc "Nữ")`,
      `Sex "${rawSex}" is not "Nam" or "Nữ"`,
    );
  }

  const address = rawAddress;
  if (address === '') {
    return fail('missing-address', 'Mã QR không có nơi thường trú', 'The QR code has no address');
  }

  if (id.sex !== sex || id.birthYear !== Number(birthDate.slice(0, 4))) {
    return fail(
      'id-mismatch',
      'Số định danh không khớp với giới tính hoặc năm sinh trên thẻ: hãy quét lại hoặc nhập tay',
      'The ID number does not match the sex or birth year on the card: scan again or type it in',
    );
  }

  let issueDate: string | undefined;
  let rawIssue = fields[6] ?? '';
  if (rawIssue !== '') {
    issueDate = parseDdMmYyyy(rawIssue);
    if (!issueDate && layout === '2021') {
      return fail(
        'bad-issue-date',
        `Ngày cấp "${rawIssue}" không hợp lệ (cần dạng ddMMyyyy)`,
        `The issue date "${rawIssue}" is invalid (ddMMyyyy expected)`,
      );
    }
  }
  for (const extra of fields.slice(issueDate || layout === '2021' ? 7 : 6)) {
    const compact = extra.replace(/\s/g, '');
    if (!issueDate) {
      const d = parseDdMmYyyy(compact);
      if (d) {
        issueDate = d;
        rawIssue = extra;
        continue;
      }
    }
    const nums = compact === '' ? undefined : oldNumbers(extra);
    for (const n of nums ?? []) {
      if (n !== id.value && n !== oldIdNumber && !otherIdNumbers.includes(n)) {
        otherIdNumbers.push(n);
      }
    }
  }
  if (issueDate && (issueDate > isoDay(asOf) || issueDate < birthDate)) {
    return fail(
      'bad-issue-date',
      `Ngày cấp "${rawIssue}" không hợp lệ (trước ngày sinh hoặc sau hôm nay)`,
      `The issue date "${rawIssue}" is before the birth date or in the future`,
    );
  }

  const card: CccdCard = { idNumber: id.value, name, birthDate, sex, address, layout };
  if (oldIdNumber) {
    card.oldIdNumber = oldIdNumber;
  }
  if (otherIdNumbers.length > 0) {
    card.otherIdNumbers = otherIdNumbers;
  }
  if (issueDate) {
    card.issueDate = issueDate;
  }
  return { ok: true, card };
}

function viCccdReason(reason: string): string {
  switch (reason) {
    case 'empty':
      return 'trống';
    case 'not-digits':
      return 'chỉ được gồm chữ số';
    case 'wrong-length':
      return 'phải có đúng 12 chữ số';
    case 'unknown-province':
      return 'mã tỉnh nơi đăng ký khai sinh không tồn tại';
    case 'birth-year-in-future':
      return 'năm sinh mã hóa trong số nằm ở tương lai';
    default:
      return reason;
  }
}

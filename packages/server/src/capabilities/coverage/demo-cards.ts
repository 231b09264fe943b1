/**
 * Synthetic newcomers for the demo and the browser journey: people who are not among the seeded patients, with the
 * QR text of their citizen ID card and a BHYT card the local gateway simulator knows. All numbers are made up
 * (valid structure, fixed serials); card validity follows the current year so the demo never goes stale.
 */
import { makeBhytCode, makeCccd, type Sex } from '@sen/vn';
import type { BhytCardInfo } from './gateway.ts';

export interface DemoNewcomer {
  /** What the card QR scanner sends. */
  qr: string;
  idNumber: string;
  oldIdNumber?: string;
  name: string;
  birthDate: string;
  sex: Sex;
  address: string;
  /** The 15-character BHYT card code. */
  cardNumber: string;
  /** The 10-digit BHXH number printed on cards issued since 2021. */
  bhxhNumber: string;
  /** What the simulator answers for this card. */
  expectedStatus: 'verified' | 'expired';
  layout: '2021' | '2024';
}

interface Person {
  province: string;
  serial: number;
  old?: string;
  name: string;
  birthDate: string;
  sex: Sex;
  address: string;
  issued: string;
  group: string;
  level: number;
  bhytProvince: string;
  bhxh: string;
  expired?: boolean;
  layout: '2021' | '2024';
  primaryCare: { code: string; name: string };
}

const PEOPLE: readonly Person[] = [
  {
    province: '001',
    serial: 370_416,
    old: '013570416',
    name: 'Lê Thị Thu Hà',
    birthDate: '1992-05-14',
    sex: 'female',
    address: 'Số 8 Ngõ 45 Phố Hào Nam, Phường Ô Chợ Dừa, Thành phố Hà Nội',
    issued: '2021-06-10',
    group: 'DN',
    level: 4,
    bhytProvince: '01',
    bhxh: '0131570416',
    layout: '2021',
    primaryCare: { code: '01001', name: 'Bệnh viện Đa khoa Sen' },
  },
  {
    province: '036',
    serial: 584_203,
    old: '162584203',
    name: 'Phạm Văn Đức',
    birthDate: '1958-11-02',
    sex: 'male',
    address: 'Xóm 3, Xã Hải Hậu, Tỉnh Ninh Bình',
    issued: '2022-03-01',
    group: 'HT',
    level: 3,
    bhytProvince: '36',
    bhxh: '3631584203',
    layout: '2021',
    primaryCare: { code: '36012', name: 'Trung tâm Y tế Hải Hậu' },
  },
  {
    province: '079',
    serial: 815_377,
    name: 'Trần Gia Bảo',
    birthDate: '2021-08-20',
    sex: 'male',
    address: '112/7 Đường Lê Văn Sỹ, Phường Nhiêu Lộc, Thành phố Hồ Chí Minh',
    issued: '2024-09-12',
    group: 'TE',
    level: 1,
    bhytProvince: '79',
    bhxh: '7931815377',
    layout: '2024',
    primaryCare: { code: '79024', name: 'Bệnh viện Nhi Đồng 1' },
  },
  {
    province: '038',
    serial: 206_951,
    old: '172206951',
    name: 'Nguyễn Thị Mai',
    birthDate: '1975-03-30',
    sex: 'female',
    address: 'Thôn Đông, Xã Quảng Xương, Tỉnh Thanh Hóa',
    issued: '2024-11-05',
    group: 'GD',
    level: 4,
    bhytProvince: '38',
    bhxh: '3831206951',
    expired: true,
    layout: '2024',
    primaryCare: { code: '38105', name: 'Trạm Y tế xã Quảng Xương' },
  },
];

function ddMMyyyy(iso: string): string {
  const [y, m, d] = iso.split('-');
  return `${d}${m}${y}`;
}

function cccdOf(p: Person): string {
  return makeCccd(p.province, p.sex, Number(p.birthDate.slice(0, 4)), p.serial);
}

function qrOf(p: Person, id: string): string {
  const fields = [id, p.old ?? '', p.name, ddMMyyyy(p.birthDate), p.sex === 'male' ? 'Nam' : 'Nữ', p.address];
  if (p.layout === '2021') {
    return [...fields, ddMMyyyy(p.issued)].join('|');
  }
  // the 2024 card: issue date, then the old number and an expiry date (layout not confirmed: the parser tolerates
  // extra fields)
  const expiry = `${Number(p.issued.slice(0, 4)) + 15}${p.issued.slice(4)}`;
  return [...fields, ddMMyyyy(p.issued), p.old ?? '', ddMMyyyy(expiry)].join('|');
}

/** The demo newcomers (CCCD QR text + BHYT card), in a fixed order. */
export function demoNewcomers(): DemoNewcomer[] {
  return PEOPLE.map((p) => {
    const idNumber = cccdOf(p);
    return {
      qr: qrOf(p, idNumber),
      idNumber,
      ...(p.old ? { oldIdNumber: p.old } : {}),
      name: p.name,
      birthDate: p.birthDate,
      sex: p.sex,
      address: p.address,
      cardNumber: makeBhytCode(p.group, p.level, p.bhytProvince, p.bhxh),
      bhxhNumber: p.bhxh,
      expectedStatus: p.expired ? 'expired' : 'verified',
      layout: p.layout,
    };
  });
}

/** The cards the simulator knows, valid for the current year (the expired one ended last year). */
export function demoBhytCards(today: Date = new Date()): BhytCardInfo[] {
  const year = today.getUTCFullYear();
  return PEOPLE.map((p) => {
    const from = p.expired ? `${year - 1}-01-01` : `${year}-01-01`;
    const to = p.expired ? `${year - 1}-12-31` : `${year}-12-31`;
    return {
      cardCode: makeBhytCode(p.group, p.level, p.bhytProvince, p.bhxh),
      bhxhNumber: p.bhxh,
      name: p.name,
      birthDate: p.birthDate,
      gender: p.sex,
      validFrom: p.group === 'TE' && p.birthDate > from ? p.birthDate : from,
      validTo: to,
      benefitLevel: p.level as BhytCardInfo['benefitLevel'],
      primaryCare: p.primaryCare,
    };
  });
}

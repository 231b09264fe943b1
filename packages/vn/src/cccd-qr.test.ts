import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCccdQr, parseDdMmYyyy } from './cccd-qr.ts';
import { makeCccd } from './cccd.ts';

const asOf = new Date('2026-07-01T00:00:00Z');
// female born 1985 in Hà Nội (001, century-sex digit 1)
const ID = makeCccd('001', 'female', 1985, 123456);
const ADDRESS = 'Số 12 Ngõ 34 Phố Huế, Phường Hai Bà Trưng, Thành phố Hà Nội';
const QR_2021 = `${ID}|013456789|Nguyễn Thị Lan Anh|15031985|Nữ|${ADDRESS}|20042021`;

describe('parseCccdQr: the 2021 chip card', () => {
  it('reads the seven fields with ISO dates, sex and the old CMND number', () => {
    assert.deepEqual(parseCccdQr(QR_2021, { asOf }), {
      ok: true,
      card: {
        idNumber: '001185123456',
        oldIdNumber: '013456789',
        name: 'Nguyễn Thị Lan Anh',
        birthDate: '1985-03-15',
        sex: 'female',
        address: ADDRESS,
        issueDate: '2021-04-20',
        layout: '2021',
      },
    });
  });

  it('tolerates a byte-order mark, surrounding spaces and a trailing CR/LF', () => {
    const r = parseCccdQr(`\uFEFF  ${QR_2021}\r\n`, { asOf });
    assert.equal(r.ok, true);
    assert.equal(r.ok && r.card.idNumber, '001185123456');
    assert.equal(r.ok && r.card.issueDate, '2021-04-20');
  });

  it('joins an address wrapped over two lines and trims each field', () => {
    const wrapped = `${ID} | | Trần  Văn Bình |01011990|Nam|Thôn 3, Xã Tân Lập,\r\nTỉnh Phú Thọ|01012022`;
    const male = makeCccd('025', 'male', 1990, 42);
    const r = parseCccdQr(wrapped.replace(ID, male), { asOf });
    assert.equal(r.ok, true);
    if (r.ok) {
      assert.equal(r.card.name, 'Trần Văn Bình');
      assert.equal(r.card.address, 'Thôn 3, Xã Tân Lập, Tỉnh Phú Thọ');
      assert.equal(r.card.oldIdNumber, undefined);
      assert.equal(r.card.sex, 'male');
    }
  });

  it('accepts decomposed Unicode (NFD) text and returns NFC', () => {
    const r = parseCccdQr(QR_2021.normalize('NFD'), { asOf });
    assert.equal(r.ok && r.card.name, 'Nguyễn Thị Lan Anh');
    assert.equal(r.ok && r.card.sex, 'female');
  });
});

describe('parseCccdQr: the 2024 căn cước card variants', () => {
  it('keeps extra fields that are old or cancelled ID numbers, and reads the issue date', () => {
    const cancelled = makeCccd('001', 'female', 1985, 999);
    const r = parseCccdQr(`${ID}|013456789|Nguyễn Thị Lan Anh|15031985|Nữ|${ADDRESS}|01082024|${cancelled}|`, {
      asOf,
    });
    assert.equal(r.ok, true);
    if (r.ok) {
      assert.equal(r.card.layout, '2024');
      assert.equal(r.card.issueDate, '2024-08-01');
      assert.equal(r.card.oldIdNumber, '013456789');
      assert.deepEqual(r.card.otherIdNumbers, [cancelled]);
    }
  });

  it('reads a card with the issue date missing (six fields)', () => {
    const r = parseCccdQr(`${ID}||Nguyễn Thị Lan Anh|15031985|Nữ|${ADDRESS}`, { asOf });
    assert.equal(r.ok, true);
    if (r.ok) {
      assert.equal(r.card.layout, '2024');
      assert.equal(r.card.issueDate, undefined);
      assert.equal(r.card.oldIdNumber, undefined);
    }
  });

  it('finds the issue date among extra fields when field 7 is something else', () => {
    const r = parseCccdQr(`${ID}|013456789|Nguyễn Thị Lan Anh|15031985|Nữ|${ADDRESS}|Công an|05092024|x`, { asOf });
    assert.equal(r.ok && r.card.issueDate, '2024-09-05');
  });

  it('splits several old numbers listed in the old-number field', () => {
    const r = parseCccdQr(`${ID}|013456789, 001185000777|Nguyễn Thị Lan Anh|15031985|Nữ|${ADDRESS}|20042021`, {
      asOf,
    });
    assert.equal(r.ok && r.card.oldIdNumber, '013456789');
    assert.deepEqual(r.ok && r.card.otherIdNumbers, ['001185000777']);
  });
});

describe('parseCccdQr: malformed codes give a reason and a message in Vietnamese and English', () => {
  const cases: [string, string, string][] = [
    ['empty', '  \r\n', 'empty'],
    ['no separators', 'https://example.vn/qr', 'not-cccd-qr'],
    ['five fields', `${ID}|013456789|Nguyễn Thị Lan Anh|15031985|Nữ`, 'too-few-fields'],
    ['an 11-digit number', QR_2021.replace(ID, ID.slice(1)), 'bad-id-number'],
    ['an unknown province', QR_2021.replace(ID, `003${ID.slice(3)}`), 'bad-id-number'],
    ['an old number of 8 digits', QR_2021.replace('013456789', '01345678'), 'bad-old-id-number'],
    ['no name', QR_2021.replace('Nguyễn Thị Lan Anh', ''), 'missing-name'],
    ['30 February', QR_2021.replace('15031985', '30021985'), 'bad-birth-date'],
    ['an ISO birth date', QR_2021.replace('15031985', '1985-03-15'), 'bad-birth-date'],
    ['sex written as F', QR_2021.replace('|Nữ|', '|F|'), 'bad-sex'],
    ['no address', QR_2021.replace(ADDRESS, ''), 'missing-address'],
    ['a malformed issue date', QR_2021.replace('20042021', '2004202'), 'bad-issue-date'],
    ['an issue date in the future', QR_2021.replace('20042021', '01012030'), 'bad-issue-date'],
    ['a number of a man on a woman card', QR_2021.replace('|Nữ|', '|Nam|'), 'id-mismatch'],
    ['a birth year the number does not encode', QR_2021.replace('15031985', '15031986'), 'id-mismatch'],
  ];
  for (const [what, text, reason] of cases) {
    it(`refuses ${what} (${reason})`, () => {
      const r = parseCccdQr(text, { asOf });
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.equal(r.reason, reason);
        assert.ok(r.message.vi.length > 5 && r.message.en.length > 5);
        assert.notEqual(r.message.vi, r.message.en);
      }
    });
  }

  it('says in Vietnamese why the ID number is wrong', () => {
    const r = parseCccdQr(QR_2021.replace(ID, ID.slice(1)), { asOf });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.message.vi : '', /12 chữ số/);
  });
});

describe('parseDdMmYyyy', () => {
  it('converts real dates and refuses impossible ones', () => {
    assert.equal(parseDdMmYyyy('29022024'), '2024-02-29');
    assert.equal(parseDdMmYyyy('29022023'), undefined);
    assert.equal(parseDdMmYyyy('31042020'), undefined);
    assert.equal(parseDdMmYyyy('15/03/1985'), '1985-03-15');
    assert.equal(parseDdMmYyyy('1503198'), undefined);
  });
});

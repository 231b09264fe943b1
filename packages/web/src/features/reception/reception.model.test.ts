import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Bundle, Encounter, Location, Parameters } from '@medplum/fhirtypes';
import { parseCccdQr } from '@sen/vn/cccd-qr.ts';
import { VN_CORE_SID } from '@sen/vn/identifiers.ts';
import {
  checkedInOf,
  checkInCodeOf,
  addressOf,
  bhytCheckParameters,
  bhytInput,
  bhytResultOf,
  bhytStatusColor,
  bhytUsable,
  candidatesOf,
  clinicRoomsOf,
  exactMatchOf,
  formatQueueNumber,
  humanNameOf,
  MATCH_GRADE_URL,
  matchParameters,
  pageRule,
  patientFromCard,
  QUEUE_NUMBER_SID,
  QUEUE_NUMBER_URL,
  queueNumberOf,
  registeredEncounterId,
  registerVisitParameters,
  roomsOf,
  type ScannedCard,
  scorePercent,
  ticketView,
} from './reception.model.ts';

const card: ScannedCard = {
  idNumber: '079188001234',
  oldIdNumber: '023456789',
  name: 'Nguyễn Thị Mai',
  birthDate: '1988-10-09',
  sex: 'female',
  address: 'Số 12 Lê Lợi, Phường Bến Thành, Thành phố Hồ Chí Minh',
};

const candidate = (id: string, score: number, grade?: string): NonNullable<Bundle['entry']>[number] => ({
  resource: { resourceType: 'Patient', id, name: [{ text: `BN ${id}` }] },
  search: {
    mode: 'match',
    score,
    ...(grade ? { extension: [{ url: MATCH_GRADE_URL, valueCode: grade }] } : {}),
  },
});

describe('reception: a scanned card becomes a patient', () => {
  it('writes the Vietnamese name family name first, keeping the diacritics', () => {
    assert.deepEqual(humanNameOf('  Nguyễn   Thị Mai '), {
      use: 'official',
      text: 'Nguyễn Thị Mai',
      family: 'Nguyễn',
      given: ['Thị', 'Mai'],
    });
  });

  it('splits the card address into street, ward and province (two-level administration)', () => {
    const a = addressOf(card.address);
    assert.equal(a?.text, card.address);
    assert.deepEqual(a?.line, ['Số 12 Lê Lợi']);
    assert.equal(a?.city, 'Phường Bến Thành');
    assert.equal(a?.state, 'Thành phố Hồ Chí Minh');
    assert.equal(a?.country, 'VN');
    assert.equal(addressOf('Xã Tân Hòa, Tỉnh An Giang')?.state, 'Tỉnh An Giang');
    assert.equal(addressOf('   '), undefined);
  });

  it('makes a Patient with the CCCD identifier, the old ID number, sex and birth date', () => {
    const p = patientFromCard(card);
    assert.equal(p.resourceType, 'Patient');
    assert.deepEqual(p.identifier?.[0], { use: 'official', system: VN_CORE_SID.cccd, value: '079188001234' });
    assert.deepEqual(p.identifier?.[1], { use: 'old', system: VN_CORE_SID.cmnd, value: '023456789' });
    assert.equal(p.gender, 'female');
    assert.equal(p.birthDate, '1988-10-09');
    assert.equal(p.name?.[0].family, 'Nguyễn');
    assert.equal(p.address?.[0].city, 'Phường Bến Thành');
    assert.equal(patientFromCard({ ...card, oldIdNumber: undefined }).identifier?.length, 1);
  });

  it('reads a real card QR through @sen/vn and asks $match with the patient it describes', () => {
    const parsed = parseCccdQr(
      '\uFEFF079188001234|023456789|Nguyễn Thị Mai|09101988|Nữ|Số 12 Lê Lợi, Phường Bến Thành, Thành phố Hồ Chí Minh|15082021\r\n',
      { asOf: new Date('2026-06-01T00:00:00Z') },
    );
    assert.ok(parsed.ok, 'the QR is read');
    const params = matchParameters(parsed.card, 3);
    const resource = params.parameter?.find((x) => x.name === 'resource')?.resource;
    assert.equal(resource?.resourceType, 'Patient');
    assert.equal(resource?.resourceType === 'Patient' ? resource.birthDate : '', '1988-10-09');
    assert.equal(params.parameter?.find((x) => x.name === 'count')?.valueInteger, 3);
  });
});

describe('reception: $match candidates', () => {
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    entry: [
      candidate('b', 0.62, 'possible'),
      candidate('a', 0.91, 'probable'),
      { resource: { resourceType: 'OperationOutcome', issue: [] } },
    ],
  };

  it('lists the patients best first with score and grade, skipping other resources', () => {
    const c = candidatesOf(bundle);
    assert.deepEqual(
      c.map((x) => [x.patient.id, x.score, x.grade]),
      [
        ['a', 0.91, 'probable'],
        ['b', 0.62, 'possible'],
      ],
    );
    assert.deepEqual(candidatesOf(undefined), []);
  });

  it('selects at once only a single certain match', () => {
    assert.equal(exactMatchOf(candidatesOf(bundle)), undefined);
    const certain = candidatesOf({ ...bundle, entry: [candidate('x', 1, 'certain'), candidate('y', 0.5, 'possible')] });
    assert.equal(exactMatchOf(certain)?.patient.id, 'x');
    const two = candidatesOf({ ...bundle, entry: [candidate('x', 1, 'certain'), candidate('y', 1, 'certain')] });
    assert.equal(exactMatchOf(two), undefined, 'two certain matches: the receptionist chooses');
  });

  it('shows scores as whole percentages', () => {
    assert.equal(scorePercent(0.874), '87 %');
    assert.equal(scorePercent(1), '100 %');
    assert.equal(scorePercent(1.3), '100 %');
  });
});

describe('reception: BHYT card check', () => {
  it('accepts a 15-character card code (spaces tolerated) or a 10-digit BHXH number, nothing else', () => {
    assert.deepEqual(bhytInput('dn 4 79 7931234567'), { ok: true, value: 'DN4797931234567', kind: 'card' });
    assert.deepEqual(bhytInput('7931234567'), { ok: true, value: '7931234567', kind: 'bhxh' });
    assert.equal(bhytInput('079188001234').ok, false);
    assert.equal(bhytInput('DN9797931234567').ok, false, 'benefit level 9 does not exist');
    assert.equal(bhytInput('').ok, false);
  });

  it('sends the card with the name and birth date of the patient', () => {
    const p = bhytCheckParameters({
      cardNumber: '7931234567',
      name: 'Nguyễn Thị Mai',
      birthDate: '1988-10-09',
      patient: 'Patient/p1',
    });
    assert.deepEqual(p.parameter, [
      { name: 'cardNumber', valueString: '7931234567' },
      { name: 'name', valueString: 'Nguyễn Thị Mai' },
      { name: 'birthDate', valueDate: '1988-10-09' },
      { name: 'patient', valueReference: { reference: 'Patient/p1' } },
    ]);
  });

  it('reads the answer: status, message, benefit level, validity and the Coverage written', () => {
    const answer: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'status', valueCode: 'verified' },
        { name: 'message', valueString: 'Thẻ hợp lệ' },
        { name: 'benefitLevel', valueInteger: 4 },
        { name: 'validFrom', valueDate: '2026-01-01' },
        { name: 'validTo', valueDate: '2026-12-31' },
        {
          name: 'coverage',
          resource: { resourceType: 'Coverage', id: 'c9', status: 'active', beneficiary: {}, payor: [] },
        },
      ],
    };
    const r = bhytResultOf(answer);
    assert.deepEqual(r, {
      status: 'verified',
      message: 'Thẻ hợp lệ',
      benefitLevel: 4,
      validFrom: '2026-01-01',
      validTo: '2026-12-31',
      coverage: 'Coverage/c9',
    });
    assert.equal(bhytUsable(r), true);
    assert.equal(bhytStatusColor('verified'), 'green');
    const down = bhytResultOf({ resourceType: 'Parameters', parameter: [{ name: 'status', valueCode: 'unverified' }] });
    assert.equal(bhytUsable(down), true, 'gateway down must not block admission');
    assert.equal(bhytStatusColor('unverified'), 'yellow');
    const expired = bhytResultOf({ resourceType: 'Parameters', parameter: [{ name: 'status', valueCode: 'expired' }] });
    assert.equal(bhytUsable(expired), false);
    assert.equal(bhytStatusColor('not-found'), 'red');
    assert.equal(bhytResultOf({ resourceType: 'Parameters' }).status, 'invalid', 'an unknown answer is not a pass');
  });
});

describe('reception: rooms, visits and the ticket', () => {
  const summary: Parameters = {
    resourceType: 'Parameters',
    parameter: [
      {
        name: 'room',
        part: [
          { name: 'location', valueReference: { reference: 'Location/r1', display: 'Phòng khám Nội 1' } },
          { name: 'name', valueString: 'Phòng khám Nội 1' },
          { name: 'departmentName', valueString: 'Khoa Khám bệnh' },
          { name: 'waiting', valueInteger: 3 },
          { name: 'current', valueInteger: 7 },
          { name: 'recentCalled', valueInteger: 7 },
          { name: 'recentCalled', valueInteger: 6 },
        ],
      },
      {
        name: 'room',
        part: [
          { name: 'location', valueReference: { reference: 'Location/r2' } },
          { name: 'waiting', valueInteger: 0 },
        ],
      },
      { name: 'other', valueString: 'x' },
    ],
  };

  it('reads the queue summary per room: waiting, current and recent numbers', () => {
    assert.deepEqual(roomsOf(summary), [
      {
        location: 'Location/r1',
        name: 'Phòng khám Nội 1',
        departmentName: 'Khoa Khám bệnh',
        waiting: 3,
        current: 7,
        recentCalled: [7, 6],
      },
      {
        location: 'Location/r2',
        name: 'Location/r2',
        departmentName: undefined,
        waiting: 0,
        current: undefined,
        recentCalled: [],
      },
    ]);
  });

  it('lists the active clinic rooms of the directory by room code, with today’s queues merged in', () => {
    const room = (id: string, code: string, name: string, extra: object = {}): Location => ({
      resourceType: 'Location',
      id,
      name,
      status: 'active',
      identifier: [{ value: code }],
      physicalType: { coding: [{ code: 'ro' }] },
      managingOrganization: { reference: 'Organization/k01', display: 'Khoa Khám bệnh' },
      ...extra,
    });
    const locations: Location[] = [
      room('r2', 'K01-P03', 'Phòng khám Nội 2'),
      room('r1', 'K01-P02', 'Phòng khám Nội 1'),
      room('rx', 'K01-P01', 'Phòng tiếp đón'),
      room('old', 'K01-P09', 'Phòng khám cũ', { status: 'inactive' }),
      { resourceType: 'Location', id: 'k01', name: 'Khoa Khám bệnh', physicalType: { coding: [{ code: 'wa' }] } },
    ];
    const rooms = clinicRoomsOf(locations, roomsOf(summary));
    assert.deepEqual(
      rooms.map((r) => [r.location, r.name, r.departmentName, r.waiting, r.current]),
      [
        ['Location/r1', 'Phòng khám Nội 1', 'Khoa Khám bệnh', 3, 7],
        ['Location/r2', 'Phòng khám Nội 2', 'Khoa Khám bệnh', 0, undefined],
      ],
      'reception and inactive rooms left out; r2 has no numbers yet today',
    );
    const noClinics = clinicRoomsOf([room('rx', 'K01-P01', 'Phòng tiếp đón')], []);
    assert.deepEqual(
      noClinics.map((r) => r.location),
      ['Location/rx'],
      'no clinic names at all: every room',
    );
  });

  it('registers a visit with the coverage only for a BHYT visit', () => {
    const bhyt = registerVisitParameters({
      patient: 'Patient/p1',
      visitType: 'bhyt',
      reason: '  Đau bụng ',
      location: 'Location/r1',
      coverage: 'Coverage/c9',
    });
    assert.deepEqual(bhyt.parameter, [
      { name: 'patient', valueReference: { reference: 'Patient/p1' } },
      { name: 'visitType', valueCode: 'bhyt' },
      { name: 'location', valueReference: { reference: 'Location/r1' } },
      { name: 'reason', valueString: 'Đau bụng' },
      { name: 'coverage', valueReference: { reference: 'Coverage/c9' } },
    ]);
    const fee = registerVisitParameters({
      patient: 'Patient/p1',
      visitType: 'fee',
      reason: '',
      location: 'Location/r1',
      coverage: 'Coverage/c9',
    });
    assert.deepEqual(
      fee.parameter?.map((x) => x.name),
      ['patient', 'visitType', 'location'],
    );
    assert.equal(
      registeredEncounterId({
        resourceType: 'Parameters',
        parameter: [
          {
            name: 'encounter',
            resource: { resourceType: 'Encounter', id: 'e5', status: 'arrived', class: { code: 'AMB' } },
          },
        ],
      }),
      'e5',
    );
  });

  const encounter: Encounter = {
    resourceType: 'Encounter',
    id: 'e5',
    status: 'arrived',
    class: { code: 'AMB' },
    identifier: [{ system: QUEUE_NUMBER_SID, value: 'K01-P02-20260605-12' }],
    extension: [{ url: QUEUE_NUMBER_URL, valueInteger: 12 }],
    location: [{ location: { reference: 'Location/r1', display: 'Phòng khám Nội 1' } }],
    serviceProvider: { reference: 'Organization/k01', display: 'Khoa Khám bệnh' },
    period: { start: '2026-06-05T08:15:00+07:00' },
  };

  it('takes the queue number from the extension, else from the identifier', () => {
    assert.equal(queueNumberOf(encounter), 12);
    assert.equal(queueNumberOf({ ...encounter, extension: undefined }), 12);
    assert.equal(queueNumberOf({ ...encounter, extension: undefined, identifier: undefined }), undefined);
  });

  it('prints the number, room, department, time and the patient name with the year of birth only', () => {
    const v = ticketView({
      encounter,
      patient: {
        resourceType: 'Patient',
        name: [{ family: 'Nguyễn', given: ['Thị', 'Mai'] }],
        birthDate: '1988-10-09',
      },
      department: { resourceType: 'Organization', name: 'Khoa Khám bệnh (K01)' },
    });
    assert.deepEqual(v, {
      number: 12,
      roomName: 'Phòng khám Nội 1',
      departmentName: 'Khoa Khám bệnh (K01)',
      start: '2026-06-05T08:15:00+07:00',
      patientName: 'Nguyễn Thị Mai',
      birthYear: '1988',
      emergency: false,
    });
    assert.equal(formatQueueNumber(12), '012');
    assert.equal(formatQueueNumber(1234), '1234');
    assert.equal(formatQueueNumber(undefined), '—');
  });

  it('prints on an 80 mm roll or an A5 sheet', () => {
    assert.match(pageRule('80mm'), /size: 80mm auto/);
    assert.match(pageRule('a5'), /size: A5/);
  });
});

describe('check-in of a portal booking', () => {
  it('takes the check-in QR or the typed code, and nothing else', () => {
    assert.equal(checkInCodeOf('SEN-HEN:7KQ2M9XA'), '7KQ2M9XA');
    assert.equal(checkInCodeOf('  sen-hen:7kq2-m9xa\r'), '7KQ2M9XA');
    assert.equal(checkInCodeOf('7kq2 m9xa'), '7KQ2M9XA');
    assert.equal(checkInCodeOf('079065000123|123456789|Phạm Văn Hùng|12041965|Nam|12 Lê Lợi|01012021'), undefined);
    assert.equal(checkInCodeOf('HT3797957177565'), undefined, 'a BHYT card number is not a booking');
    assert.equal(checkInCodeOf('SEN-HEN:'), undefined);
  });

  it('reads the patient, the booked room, the time and the reason from the answer', () => {
    const answer: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        {
          name: 'appointment',
          resource: {
            resourceType: 'Appointment',
            id: 'a1',
            status: 'arrived',
            start: '2026-12-03T09:00:00+07:00',
            description: 'Tái khám',
            participant: [
              { actor: { reference: 'Patient/p1' }, status: 'accepted' },
              { actor: { reference: 'Practitioner/d1' }, status: 'accepted' },
              { actor: { reference: 'Location/room-1' }, status: 'accepted' },
            ],
          },
        },
        { name: 'code', valueString: '7KQ2M9XA' },
      ],
    };
    assert.deepEqual(checkedInOf(answer), {
      appointmentId: 'a1',
      code: '7KQ2M9XA',
      patientId: 'p1',
      room: 'Location/room-1',
      start: '2026-12-03T09:00:00+07:00',
      reason: 'Tái khám',
    });
    assert.equal(checkedInOf({ resourceType: 'Parameters' }), undefined);
  });
});

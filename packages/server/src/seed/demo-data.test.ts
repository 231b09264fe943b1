import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type {
  Bundle,
  Encounter,
  Location,
  Observation,
  Organization,
  Patient,
  Practitioner,
  PractitionerRole,
  Resource,
} from '@medplum/fhirtypes';
import { fold, SEN_SID, VN_CORE_SID, validateBhytCode, validateCccd } from '@sen/vn';
import { STAFF_ROLES } from '../platform/auth/roles.ts';
import { builtinAdminUnits, defaultSharedDir, loadAdminUnits, PROVINCE_CODES_2025 } from './admin-units.ts';
import { buildDemoBundle, createRng } from './demo-data.ts';

const sharedDir = defaultSharedDir();
const units = loadAdminUnits(sharedDir);
const bundle = buildDemoBundle({ adminUnits: units, seed: 42 });
const asOf = new Date('2026-06-30T12:00:00+07:00');

function resources<T extends Resource>(b: Bundle, type: T['resourceType']): T[] {
  return (b.entry ?? []).map((e) => e.resource).filter((r): r is T => r?.resourceType === type);
}

function collectReferences(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const v of value) {
      collectReferences(v, out);
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') {
        out.push(v);
      } else {
        collectReferences(v, out);
      }
    }
  }
  return out;
}

const fullUrlOf = (b: Bundle, type: string, id: string): string | undefined =>
  b.entry?.find((e) => e.request?.url === `${type}/${id}`)?.fullUrl;

describe('createRng', () => {
  it('is deterministic per key and spreads values', () => {
    const a = createRng('k');
    const b = createRng('k');
    const xs = Array.from({ length: 1000 }, () => a.next());
    assert.deepEqual(
      xs,
      Array.from({ length: 1000 }, () => b.next()),
    );
    assert.notEqual(createRng('k2').next(), xs[0]);
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
    const r = createRng('ints');
    for (let i = 0; i < 1000; i++) {
      const n = r.int(1, 3);
      assert.ok(n === 1 || n === 2 || n === 3);
    }
  });

  it('makes version-4 layout UUIDs', () => {
    const r = createRng('uuid');
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const u = r.uuid();
      assert.match(u, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      seen.add(u);
    }
    assert.equal(seen.size, 1000);
  });
});

describe('loadAdminUnits', () => {
  it(
    'reads the 34-province two-level list from the shared folder when present',
    {
      skip: !existsSync(sharedDir),
    },
    () => {
      assert.equal(units.source, 'shared');
      assert.equal(units.provinces.length, 34);
      assert.deepEqual(units.provinces.map((p) => p.code).sort(), [...PROVINCE_CODES_2025].sort());
      const wards = units.provinces.reduce((n, p) => n + p.wards.length, 0);
      assert.equal(wards, 3321);
      const hanoi = units.provinces.find((p) => p.code === '01');
      assert.equal(hanoi?.name, 'Thành phố Hà Nội');
      assert.ok(hanoi?.wards.some((w) => w.name === 'Phường Ba Đình' && w.code === '00004'));
    },
  );

  it('PROVINCE_CODES_2025 matches the province-code list of CV 915/CTK-CSCL', { skip: !existsSync(sharedDir) }, () => {
    const csv = readFileSync(
      join(sharedDir, 'data/vn/admin-units/dvhcvn-20250701/province-codes-915-CTK-CSCL.csv'),
      'utf8',
    );
    const codes = csv
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(',')[1]);
    assert.deepEqual([...PROVINCE_CODES_2025].sort(), codes.sort());
  });

  it('falls back to the built-in excerpt without the shared folder', () => {
    const fallback = loadAdminUnits('/nonexistent/shared');
    assert.equal(fallback.source, 'builtin');
    assert.deepEqual(fallback, builtinAdminUnits());
    assert.deepEqual(fallback.provinces.map((p) => p.code).sort(), [...PROVINCE_CODES_2025].sort());
    for (const p of fallback.provinces) {
      assert.ok(p.wards.length >= 1);
      for (const w of p.wards) {
        assert.match(w.code, /^\d{5}$/);
        assert.equal(w.provinceCode, p.code);
        if (units.source === 'shared') {
          const real = units.provinces.find((q) => q.code === p.code)?.wards.find((q) => q.code === w.code);
          assert.equal(real?.name, w.name, `${p.code}/${w.code}`);
        }
      }
    }
    const hcm = fallback.provinces.find((p) => p.code === '79');
    assert.ok(hcm?.wards.some((w) => w.name === 'Phường Sài Gòn'));
  });
});

describe('buildDemoBundle', () => {
  it('is a transaction of PUTs with unique ids and urn:uuid fullUrls', () => {
    assert.equal(bundle.resourceType, 'Bundle');
    assert.equal(bundle.type, 'transaction');
    const entries = bundle.entry ?? [];
    const urls = new Set<string>();
    const fullUrls = new Set<string>();
    for (const e of entries) {
      const r = e.resource as Resource;
      assert.equal(e.request?.method, 'PUT');
      assert.equal(e.request?.url, `${r.resourceType}/${r.id}`);
      assert.match(r.id ?? '', /^[A-Za-z0-9\-.]{1,64}$/);
      assert.match(e.fullUrl ?? '', /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.deepEqual(
        r.meta?.tag?.map((t) => t.code),
        ['demo'],
      );
      urls.add(e.request?.url ?? '');
      fullUrls.add(e.fullUrl ?? '');
    }
    assert.equal(urls.size, entries.length);
    assert.equal(fullUrls.size, entries.length);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const again = buildDemoBundle({ adminUnits: units, seed: 42 });
    assert.deepEqual(again, bundle);
    assert.equal(JSON.stringify(again), JSON.stringify(bundle));
    const other = buildDemoBundle({ adminUnits: units, seed: 43 });
    assert.notDeepEqual(resources<Patient>(other, 'Patient')[0], resources<Patient>(bundle, 'Patient')[0]);
    assert.notEqual(other.entry?.[0].fullUrl, bundle.entry?.[0].fullUrl);
  });

  it("keeps patient k's data independent of the number of patients", () => {
    const small = buildDemoBundle({ adminUnits: units, seed: 42, patients: 3 });
    assert.equal(resources(small, 'Patient').length, 3);
    const big = bundle.entry ?? [];
    for (const e of small.entry ?? []) {
      assert.deepEqual(
        big.find((x) => x.request?.url === e.request?.url),
        e,
      );
    }
  });

  it('has 50 patients by default, and rejects bad counts', () => {
    assert.equal(resources(bundle, 'Patient').length, 50);
    assert.equal(resources(buildDemoBundle({ adminUnits: units, patients: 0 }), 'Patient').length, 0);
    assert.throws(() => buildDemoBundle({ adminUnits: units, patients: -1 }), RangeError);
    assert.throws(() => buildDemoBundle({ adminUnits: units, patients: 1.5 }), RangeError);
    assert.throws(() => buildDemoBundle({ adminUnits: units, asOf: '30/06/2026' }), RangeError);
  });

  it('resolves every reference to an entry fullUrl', () => {
    const fullUrls = new Set((bundle.entry ?? []).map((e) => e.fullUrl));
    const refs = collectReferences(bundle.entry?.map((e) => e.resource));
    assert.ok(refs.length > 1000);
    for (const ref of refs) {
      assert.ok(fullUrls.has(ref), `dangling reference ${ref}`);
    }
  });

  it('contains the hospital, 8 departments with locations and rooms', () => {
    const orgs = resources<Organization>(bundle, 'Organization');
    const hospital = orgs.find((o) => o.name === 'Bệnh viện Đa khoa Sen');
    assert.ok(hospital);
    assert.deepEqual(hospital.identifier?.[0], { use: 'official', system: SEN_SID.facility, value: '79999' });
    const hospitalUrl = fullUrlOf(bundle, 'Organization', hospital.id as string);
    const depts = orgs.filter((o) => o.partOf?.reference === hospitalUrl);
    assert.equal(depts.length, 8);
    assert.deepEqual(
      depts.map((d) => d.identifier?.[0].value),
      ['K01', 'K02', 'K03', 'K04', 'K05', 'K06', 'K07', 'K08'],
    );
    for (const name of ['Khoa Khám bệnh', 'Khoa Nội', 'Khoa Ngoại', 'Khoa Nhi', 'Khoa Sản', 'Khoa Xét nghiệm']) {
      assert.ok(
        depts.some((d) => d.name === name),
        name,
      );
    }
    const locations = resources<Location>(bundle, 'Location');
    const deptLocations = locations.filter((l) => l.physicalType?.coding?.[0].code === 'wa');
    assert.equal(deptLocations.length, 8);
    const rooms = locations.filter((l) => l.physicalType?.coding?.[0].code === 'ro');
    assert.ok(rooms.length >= 16);
    const deptLocationUrls = new Set(deptLocations.map((l) => fullUrlOf(bundle, 'Location', l.id as string)));
    for (const room of rooms) {
      assert.ok(deptLocationUrls.has(room.partOf?.reference), room.name);
    }
  });

  it('contains 18 staff with Vietnamese names and a role code for every staff role', () => {
    const practitioners = resources<Practitioner>(bundle, 'Practitioner');
    const roles = resources<PractitionerRole>(bundle, 'PractitionerRole');
    assert.equal(practitioners.length, 18);
    assert.equal(roles.length, 18);
    const codes = new Set(roles.map((r) => r.code?.[0].coding?.[0].code));
    for (const code of STAFF_ROLES) {
      assert.ok(codes.has(code), code);
    }
    for (const p of practitioners) {
      assert.ok(p.name?.[0].family && p.name[0].given?.length === 2);
    }
  });

  it('gives every patient a valid CCCD and BHYT card code consistent with sex and birth date', () => {
    const cccds = new Set<string>();
    const cards = new Set<string>();
    for (const p of resources<Patient>(bundle, 'Patient')) {
      const cccd = p.identifier?.find((i) => i.system === VN_CORE_SID.cccd)?.value ?? '';
      const v = validateCccd(cccd, { asOf });
      assert.ok(v.ok, `${p.id}: ${cccd}`);
      assert.equal(v.sex, p.gender);
      assert.equal(v.birthYear, Number(p.birthDate?.slice(0, 4)));
      cccds.add(cccd);

      const bhyt = p.identifier?.find((i) => i.system === VN_CORE_SID.bhyt);
      const b = validateBhytCode(bhyt?.value ?? '');
      assert.ok(b.ok, `${p.id}: ${bhyt?.value}`);
      assert.equal(b.benefitLevel, b.group?.defaultLevel);
      assert.ok(bhyt?.period?.start && bhyt.period.end && bhyt.period.start <= bhyt.period.end);
      const age = 2026 - Number(p.birthDate?.slice(0, 4));
      if (age < 5) {
        assert.equal(b.groupCode, 'TE');
      }
      cards.add(b.value);

      assert.match(p.telecom?.[0].value ?? '', /^09\d{8}$/);
      assert.ok((p.birthDate ?? '') <= '2026-06-30');
    }
    assert.equal(cccds.size, 50);
    assert.equal(cards.size, 50);
  });

  it('uses Vietnamese names with diacritics in NFC', () => {
    const patients = resources<Patient>(bundle, 'Patient');
    let withDiacritics = 0;
    for (const p of patients) {
      const name = p.name?.[0];
      assert.ok(name?.family && name.given?.length === 2 && name.text);
      assert.equal(name.text, `${name.family} ${name.given.join(' ')}`);
      assert.equal(name.text, name.text.normalize('NFC'));
      assert.match(fold(name.text), /^[a-z]+( [a-z]+){2}$/);
      if (fold(name.text) !== name.text.toLowerCase()) {
        withDiacritics++;
      }
    }
    assert.ok(withDiacritics >= 45, `${withDiacritics}/50 names have diacritics`);
    const families = new Set(patients.map((p) => p.name?.[0].family));
    assert.ok(families.has('Nguyễn'));
    assert.ok(families.size >= 6);
    const genders = new Set(patients.map((p) => p.gender));
    assert.deepEqual([...genders].sort(), ['female', 'male']);
  });

  it('uses two-level addresses from the 34-province list', () => {
    const provinces = new Map(units.provinces.map((p) => [p.name, p]));
    for (const p of resources<Patient>(bundle, 'Patient')) {
      const a = p.address?.[0];
      assert.ok(a?.line?.[0] && a.city && a.state);
      const province = provinces.get(a.state);
      assert.ok(province, `${a.state} is not one of the 34 provinces`);
      assert.ok(PROVINCE_CODES_2025.includes(province.code));
      assert.ok(
        province.wards.some((w) => w.name === a.city),
        `${a.city} not in ${a.state}`,
      );
      assert.equal(a.district, undefined);
      assert.equal(a.country, 'VN');
      assert.equal(a.text, `${a.line[0]}, ${a.city}, ${a.state}`);
    }
  });

  it('works with the built-in admin units', () => {
    const fallback = builtinAdminUnits();
    const b = buildDemoBundle({ adminUnits: fallback, patients: 10 });
    const names = new Set(fallback.provinces.map((p) => p.name));
    for (const p of resources<Patient>(b, 'Patient')) {
      assert.ok(names.has(p.address?.[0].state ?? ''));
    }
  });

  it('gives each patient 1–3 finished ambulatory encounters at the hospital', () => {
    const hospitalUrl = fullUrlOf(bundle, 'Organization', 'sen-demo-hospital');
    const encounters = resources<Encounter>(bundle, 'Encounter');
    for (const p of resources<Patient>(bundle, 'Patient')) {
      const patientUrl = fullUrlOf(bundle, 'Patient', p.id as string);
      const mine = encounters.filter((e) => e.subject?.reference === patientUrl);
      assert.ok(mine.length >= 1 && mine.length <= 3, `${p.id}: ${mine.length}`);
    }
    for (const e of encounters) {
      assert.equal(e.status, 'finished');
      assert.equal(e.class.code, 'AMB');
      assert.equal(e.serviceProvider?.reference, hospitalUrl);
      assert.ok(e.period?.start && e.period.end && e.period.start < e.period.end);
      assert.match(e.period.start, /^2025-0[6-9]|^2025-1|^2026-0[1-6]/);
    }
  });

  it('records vital signs per encounter and labs with reference ranges and interpretation', () => {
    const observations = resources<Observation>(bundle, 'Observation');
    const encounters = resources<Encounter>(bundle, 'Encounter');
    const loinc = (o: Observation): string | undefined => o.code.coding?.[0].code;
    for (const e of encounters) {
      const url = fullUrlOf(bundle, 'Encounter', e.id as string);
      const mine = observations.filter((o) => o.encounter?.reference === url);
      const codes = new Set(mine.map(loinc));
      for (const code of ['8867-4', '8310-5', '29463-7']) {
        assert.ok(codes.has(code), `${e.id} lacks ${code}`);
      }
      for (const o of mine) {
        assert.equal(o.subject?.reference, e.subject?.reference);
      }
    }
    const vitals = observations.filter((o) => o.category?.[0].coding?.[0].code === 'vital-signs');
    const bp = vitals.filter((o) => loinc(o) === '85354-9');
    assert.ok(bp.length > 50);
    for (const o of bp) {
      assert.deepEqual(
        o.component?.map((c) => c.code.coding?.[0].code),
        ['8480-6', '8462-4'],
      );
      assert.ok(o.component?.every((c) => c.valueQuantity?.code === 'mm[Hg]'));
      const [sys, dia] = o.component?.map((c) => c.valueQuantity?.value ?? 0) ?? [];
      assert.ok(sys > dia && dia > 30 && sys < 220, `${sys}/${dia}`);
    }
    for (const o of vitals.filter((v) => loinc(v) === '8310-5')) {
      assert.equal(o.valueQuantity?.code, 'Cel');
      assert.ok((o.valueQuantity?.value ?? 0) > 35 && (o.valueQuantity?.value ?? 0) < 41);
    }
    const labs = observations.filter((o) => o.category?.[0].coding?.[0].code === 'laboratory');
    const labCodes = new Set(labs.map(loinc));
    for (const code of ['2345-7', '4548-4', '2160-0']) {
      assert.ok(labCodes.has(code), code);
    }
    for (const o of labs) {
      const value = o.valueQuantity?.value as number;
      const low = o.referenceRange?.[0].low?.value as number;
      const high = o.referenceRange?.[0].high?.value as number;
      assert.equal(o.valueQuantity?.system, 'http://unitsofmeasure.org');
      const expected = value < low ? 'L' : value > high ? 'H' : 'N';
      assert.equal(o.interpretation?.[0].coding?.[0].code, expected, `${o.id}: ${value} in ${low}-${high}`);
    }
  });
});

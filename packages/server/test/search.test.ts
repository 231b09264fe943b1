import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testEngines } from '@sen/db/testing';
import { type FhirResult, fhirFetch, startTestServer, type TestServer } from './harness.ts';

const CCCD = 'http://fhir.hl7.org.vn/core/sid/cccd';
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const TAGS = 'urn:sen:test:search';

type Res = Record<string, any> & { resourceType: string };
type Entry = { fullUrl?: string; resource: Res; search?: { mode?: string } };

/** A tag that scopes each feature's data, so searches see only what that feature created. */
function tagged(group: string, r: Res): Res {
  return { ...r, meta: { ...(r.meta ?? {}), tag: [...(r.meta?.tag ?? []), { system: TAGS, code: group }] } };
}

function scope(group: string): string {
  return `_tag=${encodeURIComponent(`${TAGS}|${group}`)}`;
}

function matches(bundle: { entry?: Entry[] }): Entry[] {
  return (bundle.entry ?? []).filter((e) => e.search?.mode === 'match');
}

function includes(bundle: { entry?: Entry[] }): Entry[] {
  return (bundle.entry ?? []).filter((e) => e.search?.mode === 'include');
}

/** Ids of the matches, in bundle order. */
function idsOf(bundle: { entry?: Entry[] }): string[] {
  return matches(bundle).map((e) => e.resource.id as string);
}

function sorted(ids: (string | undefined)[]): string[] {
  return [...(ids as string[])].sort();
}

function linkOf(bundle: { link?: { relation: string; url: string }[] }, relation: string): string | undefined {
  return bundle.link?.find((l) => l.relation === relation)?.url;
}

function isoDaysAgo(days: number): string {
  return new Date(Date.now() - days * 86_400_000).toISOString();
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

for (const engine of testEngines()) {
  describe(`FHIR search [${engine}]`, () => {
    let srv: TestServer;
    const f = (path: string, init?: Parameters<typeof fhirFetch>[2]): Promise<FhirResult> =>
      fhirFetch(srv.fhir, path, init);

    async function create(r: Res): Promise<Res> {
      const res = await f(r.resourceType, { method: 'POST', body: r });
      assert.equal(res.status, 201, `create ${r.resourceType}: ${JSON.stringify(res.body)}`);
      return res.body;
    }

    async function remove(type: string, id: string): Promise<void> {
      const res = await f(`${type}/${id}`, { method: 'DELETE' });
      assert.equal(res.status, 200);
    }

    /** GET a search, expecting 200 and a searchset. */
    async function search(path: string, init?: Parameters<typeof fhirFetch>[2]): Promise<any> {
      const res = await f(path, init);
      assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.resourceType, 'Bundle');
      assert.equal(res.body.type, 'searchset');
      return res.body;
    }

    /** The sorted ids of every match of a search scoped to a group. */
    async function ids(type: string, group: string, query: string): Promise<string[]> {
      const b = await search(`${type}?${query}${query ? '&' : ''}${scope(group)}&_count=100`);
      return sorted(idsOf(b));
    }

    /** Follows next links to the end; returns every page's match ids. */
    async function allPages(first: string): Promise<string[][]> {
      const pages: string[][] = [];
      let b = await search(first);
      pages.push(idsOf(b));
      for (let next = linkOf(b, 'next'); next; next = linkOf(b, 'next')) {
        assert.ok(next.startsWith(srv.fhir), `next link ${next} is under the base`);
        b = await search(next.slice(srv.fhir.length + 1));
        pages.push(idsOf(b));
        assert.ok(pages.length < 100, 'paging does not end');
      }
      return pages;
    }

    const obs = (group: string, extra: Record<string, any>): Res =>
      tagged(group, { resourceType: 'Observation', status: 'final', code: { text: 'test' }, ...extra });

    before(async () => {
      srv = await startTestServer(engine);
    });
    after(async () => {
      await srv.close();
    });

    describe('string parameters', () => {
      const g = 'string';
      let a: Res;
      let duc: Res;
      let plain: Res;
      let noName: Res;
      before(async () => {
        a = await create(
          tagged(g, {
            resourceType: 'Patient',
            name: [{ family: 'Nguyễn', given: ['Văn', 'A'] }],
            address: [{ line: ['12 Phố Huế'], district: 'Hai Bà Trưng', city: 'Hà Nội', country: 'VN' }],
          }),
        );
        duc = await create(
          tagged(g, {
            resourceType: 'Patient',
            name: [{ family: 'Trần', given: ['Thị', 'Đức'] }],
            address: [{ city: 'Hồ Chí Minh', postalCode: '700000' }],
          }),
        );
        plain = await create(
          tagged(g, { resourceType: 'Patient', name: [{ family: 'Nguyen', given: ['Van', 'Binh'] }] }),
        );
        noName = await create(tagged(g, { resourceType: 'Patient', gender: 'unknown' }));
      });

      it('matches the start of a name, ignoring case and Vietnamese diacritics', async () => {
        assert.deepEqual(await ids('Patient', g, 'name=nguyen%20van%20a'), [a.id]);
        assert.deepEqual(await ids('Patient', g, `name=${encodeURIComponent('NGUYỄN')}`), sorted([a.id, plain.id]));
        assert.deepEqual(await ids('Patient', g, 'name=duc'), [duc.id]);
        assert.deepEqual(await ids('Patient', g, 'family=TRAN'), [duc.id]);
        assert.deepEqual(await ids('Patient', g, `given=${encodeURIComponent('thị')}`), [duc.id]);
        assert.deepEqual(await ids('Patient', g, 'name=uc'), [], 'default string search is starts-with');
      });

      it('ORs comma-separated values and ANDs repeated parameters', async () => {
        assert.deepEqual(await ids('Patient', g, 'family=tran,nguyen'), sorted([a.id, duc.id, plain.id]));
        assert.deepEqual(await ids('Patient', g, 'family=nguyen&given=binh'), [plain.id]);
      });

      it(':exact compares the whole value with case and diacritics significant', async () => {
        assert.deepEqual(await ids('Patient', g, `family:exact=${encodeURIComponent('Nguyễn')}`), [a.id]);
        assert.deepEqual(await ids('Patient', g, 'family:exact=Nguyen'), [plain.id]);
        assert.deepEqual(await ids('Patient', g, `family:exact=${encodeURIComponent('nguyễn')}`), []);
        assert.deepEqual(await ids('Patient', g, 'family:exact=Nguy'), []);
      });

      it(':contains matches anywhere in the value', async () => {
        assert.deepEqual(await ids('Patient', g, 'name:contains=uc'), [duc.id]);
        assert.deepEqual(
          await ids('Patient', g, `name:contains=${encodeURIComponent('GUYỄ')}`),
          sorted([a.id, plain.id]),
        );
      });

      it(':missing=true finds resources without the element, :missing=false those with it', async () => {
        assert.deepEqual(await ids('Patient', g, 'name:missing=true'), [noName.id]);
        assert.deepEqual(await ids('Patient', g, 'name:missing=false'), sorted([a.id, duc.id, plain.id]));
        assert.deepEqual(await ids('Patient', g, 'address:missing=true'), sorted([plain.id, noName.id]));
      });

      it('searches addresses by any part and by city, folded', async () => {
        assert.deepEqual(await ids('Patient', g, `address=${encodeURIComponent('hà nội')}`), [a.id]);
        assert.deepEqual(await ids('Patient', g, 'address=hai%20ba'), [a.id]);
        assert.deepEqual(await ids('Patient', g, 'address:contains=pho%20hue'), [a.id]);
        assert.deepEqual(await ids('Patient', g, 'address-city=ho%20chi%20minh'), [duc.id]);
        assert.deepEqual(await ids('Patient', g, 'address-postalcode=700000'), [duc.id]);
        assert.deepEqual(await ids('Patient', g, 'address-city=hue'), []);
      });
    });

    describe('token parameters', () => {
      const g = 'token';
      let hr: Res;
      let temp: Res;
      let local: Res;
      let snomed: Res;
      let pa: Res;
      let pb: Res;
      let pc: Res;
      before(async () => {
        hr = await create(
          obs(g, { code: { coding: [{ system: LOINC, code: '8867-4', display: 'Heart rate' }], text: 'Nhịp tim' } }),
        );
        temp = await create(
          obs(g, { code: { coding: [{ system: LOINC, code: '8310-5', display: 'Body temperature' }] } }),
        );
        local = await create(obs(g, { code: { coding: [{ code: '8867-4' }] } }));
        snomed = await create(
          obs(g, {
            code: { coding: [{ system: 'http://snomed.info/sct', code: '364075005', display: 'Heart rate' }] },
          }),
        );
        pa = await create(
          tagged(g, {
            resourceType: 'Patient',
            identifier: [{ system: CCCD, value: '001080000123' }],
            active: true,
            gender: 'male',
          }),
        );
        pb = await create(
          tagged(g, {
            resourceType: 'Patient',
            identifier: [{ system: CCCD, value: '001180000456' }],
            active: false,
            gender: 'female',
          }),
        );
        pc = await create(
          tagged(g, {
            resourceType: 'Patient',
            identifier: [{ system: 'urn:oid:1.2.3', value: '001080000123' }],
            gender: 'female',
          }),
        );
      });

      it('code alone matches any system', async () => {
        assert.deepEqual(await ids('Observation', g, 'code=8867-4'), sorted([hr.id, local.id]));
      });

      it('system|code matches that system only', async () => {
        assert.deepEqual(await ids('Observation', g, `code=${encodeURIComponent(`${LOINC}|8867-4`)}`), [hr.id]);
        assert.deepEqual(
          await ids('Observation', g, `code=${encodeURIComponent('http://snomed.info/sct|8867-4')}`),
          [],
        );
      });

      it('|code matches codes without a system', async () => {
        assert.deepEqual(await ids('Observation', g, 'code=%7C8867-4'), [local.id]);
      });

      it('system| matches every code of the system', async () => {
        assert.deepEqual(
          await ids('Observation', g, `code=${encodeURIComponent(`${LOINC}|`)}`),
          sorted([hr.id, temp.id]),
        );
      });

      it('comma-separated codes are alternatives', async () => {
        assert.deepEqual(await ids('Observation', g, 'code=8310-5,364075005'), sorted([temp.id, snomed.id]));
      });

      it(':not excludes resources having the code', async () => {
        assert.deepEqual(
          await ids('Observation', g, `code:not=${encodeURIComponent(`${LOINC}|8867-4`)}`),
          sorted([temp.id, local.id, snomed.id]),
        );
        assert.deepEqual(await ids('Patient', g, 'gender:not=female'), [pa.id]);
      });

      it(':text searches the display and the concept text, folded', async () => {
        assert.deepEqual(await ids('Observation', g, 'code:text=HEART'), sorted([hr.id, snomed.id]));
        assert.deepEqual(await ids('Observation', g, 'code:text=nhip%20tim'), [hr.id]);
        assert.deepEqual(await ids('Observation', g, 'code:text=rate'), []);
      });

      it('searches identifiers by the VN Core CCCD system and value', async () => {
        assert.deepEqual(await ids('Patient', g, `identifier=${encodeURIComponent(`${CCCD}|001080000123`)}`), [pa.id]);
        assert.deepEqual(await ids('Patient', g, 'identifier=001080000123'), sorted([pa.id, pc.id]));
        assert.deepEqual(
          await ids('Patient', g, `identifier=${encodeURIComponent(`${CCCD}|`)}`),
          sorted([pa.id, pb.id]),
        );
        assert.deepEqual(await ids('Patient', g, `identifier=${encodeURIComponent(`${CCCD}|079090009999`)}`), []);
      });

      it('searches booleans and codes', async () => {
        assert.deepEqual(await ids('Patient', g, 'active=true'), [pa.id]);
        assert.deepEqual(await ids('Patient', g, 'active=false'), [pb.id]);
        assert.deepEqual(await ids('Patient', g, 'active:missing=true'), [pc.id]);
        assert.deepEqual(await ids('Patient', g, 'gender=female'), sorted([pb.id, pc.id]));
        assert.deepEqual(await ids('Patient', g, 'gender=male,female'), sorted([pa.id, pb.id, pc.id]));
      });
    });

    describe('reference parameters', () => {
      const g = 'reference';
      let p1: Res;
      let p2: Res;
      let grp: Res;
      let byRelative: Res;
      let byAbsolute: Res;
      let byGroup: Res;
      let byIdentifier: Res;
      let noSubject: Res;
      before(async () => {
        p1 = await create(tagged(g, { resourceType: 'Patient', name: [{ family: 'Ref1' }] }));
        p2 = await create(tagged(g, { resourceType: 'Patient', name: [{ family: 'Ref2' }] }));
        grp = await create(tagged(g, { resourceType: 'Group', type: 'person', actual: true }));
        byRelative = await create(obs(g, { subject: { reference: `Patient/${p1.id}` } }));
        byAbsolute = await create(obs(g, { subject: { reference: `${srv.fhir}/Patient/${p2.id}` } }));
        byGroup = await create(obs(g, { subject: { reference: `Group/${grp.id}` } }));
        byIdentifier = await create(obs(g, { subject: { identifier: { system: 'urn:sen:mrn', value: 'REF-9' } } }));
        noSubject = await create(obs(g, {}));
      });

      it('matches Type/id and a bare id', async () => {
        assert.deepEqual(await ids('Observation', g, `subject=Patient/${p1.id}`), [byRelative.id]);
        assert.deepEqual(await ids('Observation', g, `subject=${p1.id}`), [byRelative.id]);
        assert.deepEqual(await ids('Observation', g, `patient=${p1.id}`), [byRelative.id]);
        assert.deepEqual(await ids('Observation', g, `subject=Group/${p1.id}`), []);
      });

      it('treats absolute URLs to our own base as local references, both stored and searched', async () => {
        assert.deepEqual(await ids('Observation', g, `subject=Patient/${p2.id}`), [byAbsolute.id]);
        assert.deepEqual(await ids('Observation', g, `subject=${encodeURIComponent(`${srv.fhir}/Patient/${p1.id}`)}`), [
          byRelative.id,
        ]);
        assert.deepEqual(await ids('Observation', g, `subject=${encodeURIComponent(`${srv.fhir}/Patient/${p2.id}`)}`), [
          byAbsolute.id,
        ]);
      });

      it('restricts the target type with a :Type modifier', async () => {
        assert.deepEqual(await ids('Observation', g, `subject:Patient=${p1.id}`), [byRelative.id]);
        assert.deepEqual(await ids('Observation', g, `subject:Group=${grp.id}`), [byGroup.id]);
        assert.deepEqual(await ids('Observation', g, `subject:Patient=${grp.id}`), []);
        const bad = await f(`Observation?subject:Medication=${grp.id}`);
        assert.ok(bad.status === 400 || (bad.status === 200 && idsOf(bad.body).length === 0));
      });

      it(':identifier matches the logical identifier of a reference', async () => {
        assert.deepEqual(await ids('Observation', g, 'subject:identifier=urn:sen:mrn%7CREF-9'), [byIdentifier.id]);
        assert.deepEqual(await ids('Observation', g, 'subject:identifier=REF-9'), [byIdentifier.id]);
        assert.deepEqual(await ids('Observation', g, 'subject:identifier=urn:other%7CREF-9'), []);
      });

      it(':missing tells apart resources with and without the reference', async () => {
        assert.deepEqual(await ids('Observation', g, 'subject:missing=true'), [noSubject.id]);
        assert.deepEqual(
          await ids('Observation', g, 'subject:missing=false'),
          sorted([byRelative.id, byAbsolute.id, byGroup.id, byIdentifier.id]),
        );
      });
    });

    describe('date parameters', () => {
      const g = 'date';
      const p: Record<string, Res> = {};
      const o: Record<string, Res> = {};
      before(async () => {
        for (const [k, birthDate] of Object.entries({
          y1980: '1980',
          d0501: '1980-05-01',
          d0515: '1980-05-15',
          y1981: '1981-01-01',
          y1979: '1979-12-31',
        })) {
          p[k] = await create(tagged(g, { resourceType: 'Patient', birthDate }));
        }
        // 08:30 in Hanoi is 01:30 UTC
        o.dateTime = await create(obs(g, { effectiveDateTime: '2024-03-10T08:30:00+07:00' }));
        o.march = await create(obs(g, { effectivePeriod: { start: '2024-03-01', end: '2024-03-31' } }));
        o.open = await create(obs(g, { effectivePeriod: { start: '2024-03-15T00:00:00Z' } }));
        o.april = await create(obs(g, { effectiveDateTime: '2024-04-02T10:00:00Z' }));
      });
      const pids = (...keys: string[]): string[] => sorted(keys.map((k) => p[k].id));
      const oids = (...keys: string[]): string[] => sorted(keys.map((k) => o[k].id));

      it('eq: the search range contains the value range (precision matters)', async () => {
        assert.deepEqual(await ids('Patient', g, 'birthdate=1980'), pids('y1980', 'd0501', 'd0515'));
        assert.deepEqual(await ids('Patient', g, 'birthdate=eq1980'), pids('y1980', 'd0501', 'd0515'));
        assert.deepEqual(await ids('Patient', g, 'birthdate=1980-05'), pids('d0501', 'd0515'));
        assert.deepEqual(await ids('Patient', g, 'birthdate=1980-05-01'), pids('d0501'));
        assert.deepEqual(await ids('Observation', g, 'date=2024-03-10'), oids('dateTime'));
        assert.deepEqual(await ids('Observation', g, 'date=2024-03'), oids('dateTime', 'march'));
        assert.deepEqual(
          await ids('Observation', g, `date=${encodeURIComponent('2024-03-10T08:30:00+07:00')}`),
          oids('dateTime'),
        );
        assert.deepEqual(await ids('Observation', g, 'date=2024-03-10T01:30Z'), oids('dateTime'));
      });

      it('ne: the value range is not inside the search range', async () => {
        assert.deepEqual(await ids('Patient', g, 'birthdate=ne1980'), pids('y1981', 'y1979'));
        assert.deepEqual(await ids('Observation', g, 'date=ne2024-03'), oids('open', 'april'));
      });

      it('gt and lt: the value range reaches beyond the search range', async () => {
        assert.deepEqual(await ids('Patient', g, 'birthdate=gt1980'), pids('y1981'));
        assert.deepEqual(await ids('Patient', g, 'birthdate=gt1980-05-01'), pids('y1980', 'd0515', 'y1981'));
        assert.deepEqual(await ids('Patient', g, 'birthdate=lt1980-05-01'), pids('y1980', 'y1979'));
        assert.deepEqual(await ids('Observation', g, 'date=gt2024-03-31'), oids('open', 'april'));
        assert.deepEqual(await ids('Observation', g, 'date=lt2024-03-05'), oids('march'));
      });

      it('ge and le: include the boundary', async () => {
        assert.deepEqual(await ids('Patient', g, 'birthdate=ge1980-05-15'), pids('y1980', 'd0515', 'y1981'));
        assert.deepEqual(await ids('Patient', g, 'birthdate=le1980-05-01'), pids('y1980', 'd0501', 'y1979'));
        assert.deepEqual(await ids('Observation', g, 'date=ge2024-03-20'), oids('march', 'open', 'april'));
        assert.deepEqual(await ids('Observation', g, 'date=le2024-03-10'), oids('dateTime', 'march'));
      });

      it('sa and eb: the value range starts after / ends before the search range', async () => {
        assert.deepEqual(await ids('Patient', g, 'birthdate=sa1980-05-01'), pids('d0515', 'y1981'));
        assert.deepEqual(await ids('Patient', g, 'birthdate=eb1980-05-15'), pids('d0501', 'y1979'));
        assert.deepEqual(await ids('Observation', g, 'date=sa2024-03-12'), oids('open', 'april'));
        assert.deepEqual(await ids('Observation', g, 'date=eb2024-03-12'), oids('dateTime'));
      });

      it('ap: approximately the same date (10% of the distance from now, at least a day)', async () => {
        const g2 = 'date-ap';
        const tenDays = await create(obs(g2, { effectiveDateTime: isoDaysAgo(10) }));
        await create(obs(g2, { effectiveDateTime: isoDaysAgo(3) }));
        await create(obs(g2, { effectiveDateTime: isoDaysAgo(40) }));
        const day = isoDaysAgo(10).slice(0, 10);
        assert.deepEqual(await ids('Observation', g2, `date=ap${day}`), [tenDays.id]);
      });

      it('_lastUpdated compares against the last write', async () => {
        const g2 = 'lastupdated';
        const first = await create(tagged(g2, { resourceType: 'Patient' }));
        await sleep(20);
        const mid = new Date().toISOString();
        await sleep(20);
        const second = await create(tagged(g2, { resourceType: 'Patient' }));
        assert.deepEqual(await ids('Patient', g2, `_lastUpdated=gt${mid}`), [second.id]);
        assert.deepEqual(await ids('Patient', g2, `_lastUpdated=lt${mid}`), [first.id]);
        assert.deepEqual(await ids('Patient', g2, `_lastUpdated=${first.meta.lastUpdated}`), [first.id]);
        assert.deepEqual(await ids('Patient', g2, `_lastUpdated=ge${mid.slice(0, 10)}`), sorted([first.id, second.id]));
      });
    });

    describe('number, quantity and uri parameters', () => {
      const g = 'numeric';
      let r25: Res;
      let r50: Res;
      let r753: Res;
      const q: Record<string, Res> = {};
      const vs: Record<string, Res> = {};
      before(async () => {
        const subject = { reference: 'Patient/numeric-subject' };
        const risk = (probabilityDecimal: number): Res =>
          tagged(g, { resourceType: 'RiskAssessment', status: 'final', subject, prediction: [{ probabilityDecimal }] });
        r25 = await create(risk(0.25));
        r50 = await create(risk(0.5));
        r753 = await create(risk(0.753));
        const hr = (value: number, unit: Record<string, any>): Res =>
          obs(g, { code: { coding: [{ system: LOINC, code: '8867-4' }] }, valueQuantity: { value, ...unit } });
        const perMin = { unit: 'beats/min', system: UCUM, code: '/min' };
        q.v72 = await create(hr(72, perMin));
        q.v724 = await create(hr(72.4, perMin));
        q.v65 = await create(hr(65, perMin));
        q.v80 = await create(hr(80, { unit: 'beats/minute' }));
        q.f986 = await create(
          obs(g, {
            code: { text: 'temperature' },
            valueQuantity: { value: 98.6, unit: '°F', system: UCUM, code: '[degF]' },
          }),
        );
        for (const [k, url] of Object.entries({
          gender: 'http://sen.vn/fhir/ValueSet/gioi-tinh',
          ethnic: 'http://sen.vn/fhir/ValueSet/dan-toc',
          other: 'http://example.org/fhir/ValueSet/x',
        })) {
          vs[k] = await create(tagged(g, { resourceType: 'ValueSet', status: 'active', url }));
        }
      });

      it('number: eq uses the precision of the searched value; prefixes compare', async () => {
        assert.deepEqual(await ids('RiskAssessment', g, 'probability=0.5'), [r50.id]);
        assert.deepEqual(await ids('RiskAssessment', g, 'probability=0.8'), [r753.id], '0.8 means [0.75, 0.85)');
        assert.deepEqual(await ids('RiskAssessment', g, 'probability=0.80'), [], '0.80 means [0.795, 0.805)');
        assert.deepEqual(await ids('RiskAssessment', g, 'probability=gt0.3'), sorted([r50.id, r753.id]));
        assert.deepEqual(await ids('RiskAssessment', g, 'probability=le0.5'), sorted([r25.id, r50.id]));
        assert.deepEqual(await ids('RiskAssessment', g, 'probability=ne0.5'), sorted([r25.id, r753.id]));
        assert.deepEqual(await ids('RiskAssessment', g, 'probability=ap0.26'), [r25.id]);
      });

      it('quantity: prefixes, system and code, and precision', async () => {
        assert.deepEqual(
          await ids('Observation', g, 'value-quantity=gt70'),
          sorted([q.v72.id, q.v724.id, q.v80.id, q.f986.id]),
        );
        assert.deepEqual(
          await ids('Observation', g, `value-quantity=${encodeURIComponent(`72|${UCUM}|/min`)}`),
          sorted([q.v72.id, q.v724.id]),
          '72 means [71.5, 72.5)',
        );
        assert.deepEqual(await ids('Observation', g, `value-quantity=${encodeURIComponent(`eq72.0|${UCUM}|/min`)}`), [
          q.v72.id,
        ]);
        assert.deepEqual(await ids('Observation', g, 'value-quantity=72.4'), [q.v724.id]);
        assert.deepEqual(await ids('Observation', g, `value-quantity=${encodeURIComponent('lt70||/min')}`), [q.v65.id]);
        assert.deepEqual(await ids('Observation', g, `value-quantity=${encodeURIComponent('80||beats/minute')}`), [
          q.v80.id,
        ]);
        assert.deepEqual(await ids('Observation', g, `value-quantity=${encodeURIComponent('72||[degF]')}`), []);
        // with no system, the unit may be the code or the human unit
        assert.deepEqual(
          await ids('Observation', g, `value-quantity=${encodeURIComponent('72||beats/min')}`),
          sorted([q.v72.id, q.v724.id]),
        );
        assert.deepEqual(
          await ids('Observation', g, `value-quantity=${encodeURIComponent(`72|${UCUM}|beats/min`)}`),
          [],
        );
        assert.deepEqual(await ids('Observation', g, `value-quantity=${encodeURIComponent(`ge98|${UCUM}|[degF]`)}`), [
          q.f986.id,
        ]);
      });

      it('uri: exact, :below and :above', async () => {
        assert.deepEqual(await ids('ValueSet', g, 'url=http://sen.vn/fhir/ValueSet/dan-toc'), [vs.ethnic.id]);
        assert.deepEqual(await ids('ValueSet', g, 'url=http://sen.vn/fhir'), []);
        assert.deepEqual(
          await ids('ValueSet', g, 'url:below=http://sen.vn/fhir'),
          sorted([vs.gender.id, vs.ethnic.id]),
        );
        assert.deepEqual(await ids('ValueSet', g, 'url:above=http://sen.vn/fhir/ValueSet/dan-toc/v2'), [vs.ethnic.id]);
        assert.deepEqual(await ids('ValueSet', g, 'url:above=http://sen.vn/fhir/ValueSet'), []);
      });
    });

    describe('composite parameters', () => {
      const g = 'composite';
      let hr75: Res;
      let hr65: Res;
      let bpHigh: Res;
      let bpNormal: Res;
      before(async () => {
        const q = (value: number, code: string, unit: string): Record<string, any> => ({
          value,
          unit,
          system: UCUM,
          code,
        });
        hr75 = await create(
          obs(g, { code: { coding: [{ system: LOINC, code: '8867-4' }] }, valueQuantity: q(75, '/min', 'beats/min') }),
        );
        hr65 = await create(
          obs(g, { code: { coding: [{ system: LOINC, code: '8867-4' }] }, valueQuantity: q(65, '/min', 'beats/min') }),
        );
        await create(
          obs(g, { code: { coding: [{ system: LOINC, code: '8310-5' }] }, valueQuantity: q(75, 'Cel', '°C') }),
        );
        const bp = (sys: number, dia: number): Res =>
          obs(g, {
            code: { coding: [{ system: LOINC, code: '85354-9' }] },
            component: [
              { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: q(sys, 'mm[Hg]', 'mmHg') },
              { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: q(dia, 'mm[Hg]', 'mmHg') },
            ],
          });
        bpHigh = await create(bp(150, 95));
        // diastolic above 140 (nonsense, but it shows code and value must belong to the same component)
        bpNormal = await create(bp(120, 150));
      });

      it('code-value-quantity pairs the code with the value of the same observation', async () => {
        assert.deepEqual(
          await ids('Observation', g, `code-value-quantity=${encodeURIComponent(`${LOINC}|8867-4$gt70`)}`),
          [hr75.id],
        );
        assert.deepEqual(await ids('Observation', g, `code-value-quantity=${encodeURIComponent('8867-4$lt70')}`), [
          hr65.id,
        ]);
        assert.deepEqual(
          await ids('Observation', g, `code-value-quantity=${encodeURIComponent(`${LOINC}|8867-4$75|${UCUM}|/min`)}`),
          [hr75.id],
        );
      });

      it('component-code-value-quantity pairs within one component (systolic > 140)', async () => {
        assert.deepEqual(
          await ids('Observation', g, `component-code-value-quantity=${encodeURIComponent(`${LOINC}|8480-6$gt140`)}`),
          [bpHigh.id],
        );
        assert.deepEqual(
          await ids('Observation', g, `component-code-value-quantity=${encodeURIComponent(`${LOINC}|8462-4$gt140`)}`),
          [bpNormal.id],
        );
        assert.deepEqual(
          await ids('Observation', g, `combo-code-value-quantity=${encodeURIComponent('8867-4$gt70')}`),
          [hr75.id],
        );
      });

      it('refuses a composite value without its $ separator', async () => {
        const r = await f('Observation?code-value-quantity=8867-4');
        assert.equal(r.status, 400);
        assert.equal(r.body.resourceType, 'OperationOutcome');
      });
    });

    describe('chained and reverse-chained parameters', () => {
      const g = 'chain';
      let chau: Res;
      let lan: Res;
      let clinic: Res;
      let encChau: Res;
      let encLan: Res;
      let obsChau: Res;
      let obsLan: Res;
      let obsClinic: Res;
      before(async () => {
        const org = await create(tagged(g, { resourceType: 'Organization', name: 'Bệnh viện Bạch Mai' }));
        chau = await create(
          tagged(g, {
            resourceType: 'Patient',
            name: [{ family: 'Phạm', given: ['Minh', 'Châu'] }],
            identifier: [{ system: CCCD, value: '079090001234' }],
            managingOrganization: { reference: `Organization/${org.id}` },
          }),
        );
        lan = await create(
          tagged(g, {
            resourceType: 'Patient',
            name: [{ family: 'Võ', given: ['Thị', 'Lan'] }],
            identifier: [{ system: CCCD, value: '079190005678' }],
          }),
        );
        clinic = await create(tagged(g, { resourceType: 'Location', name: 'Châu Thành' }));
        const enc = (patient: Res): Res =>
          tagged(g, {
            resourceType: 'Encounter',
            status: 'finished',
            class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
            subject: { reference: `Patient/${patient.id}` },
          });
        encChau = await create(enc(chau));
        encLan = await create(enc(lan));
        obsChau = await create(
          obs(g, {
            code: { coding: [{ system: LOINC, code: '8867-4' }] },
            subject: { reference: `Patient/${chau.id}` },
            encounter: { reference: `Encounter/${encChau.id}` },
          }),
        );
        obsLan = await create(
          obs(g, {
            code: { coding: [{ system: LOINC, code: '8310-5' }] },
            subject: { reference: `Patient/${lan.id}` },
            encounter: { reference: `Encounter/${encLan.id}` },
          }),
        );
        obsClinic = await create(obs(g, { subject: { reference: `Location/${clinic.id}` } }));
      });

      it('subject:Patient.identifier finds observations of the patient with that CCCD', async () => {
        const q = `subject:Patient.identifier=${encodeURIComponent(`${CCCD}|079090001234`)}`;
        assert.deepEqual(await ids('Observation', g, q), [obsChau.id]);
        const unscoped = await search(`Observation?${q}`);
        assert.deepEqual(idsOf(unscoped), [obsChau.id]);
      });

      it('subject.name without a type searches every target type that has the parameter', async () => {
        assert.deepEqual(await ids('Observation', g, `subject.name=${encodeURIComponent('võ thị')}`), [obsLan.id]);
        assert.deepEqual(await ids('Observation', g, 'subject.name=chau'), sorted([obsChau.id, obsClinic.id]));
        assert.deepEqual(await ids('Observation', g, 'subject:Patient.name=chau'), [obsChau.id]);
        assert.deepEqual(await ids('Observation', g, 'subject:Location.name=chau'), [obsClinic.id]);
      });

      it('Encounter?subject:Patient.name finds the encounters of matching patients', async () => {
        assert.deepEqual(await ids('Encounter', g, 'subject:Patient.name=lan'), [encLan.id]);
        assert.deepEqual(await ids('Encounter', g, 'patient.name=pham'), [encChau.id]);
      });

      it('chains two levels deep', async () => {
        assert.deepEqual(await ids('Observation', g, 'encounter.subject:Patient.name=pham'), [obsChau.id]);
        assert.deepEqual(await ids('Observation', g, 'subject:Patient.organization.name=benh%20vien%20bach'), [
          obsChau.id,
        ]);
        assert.deepEqual(await ids('Observation', g, 'subject:Patient.organization.name:contains=bach%20mai'), [
          obsChau.id,
        ]);
        assert.deepEqual(await ids('Observation', g, 'subject:Patient.organization.name:contains=cho%20ray'), []);
      });

      it('_has finds patients by the observations that refer to them', async () => {
        assert.deepEqual(await ids('Patient', g, '_has:Observation:patient:code=8867-4'), [chau.id]);
        assert.deepEqual(
          await ids('Patient', g, `_has:Observation:subject:code=${encodeURIComponent(`${LOINC}|8310-5`)}`),
          [lan.id],
        );
        assert.deepEqual(
          await ids('Patient', g, '_has:Observation:patient:code=8867-4,8310-5'),
          sorted([chau.id, lan.id]),
        );
        assert.deepEqual(await ids('Patient', g, '_has:Observation:patient:code=0000-0'), []);
      });

      it('chains and _has never go through deleted resources', async () => {
        const gone = await create(tagged(g, { resourceType: 'Patient', name: [{ family: 'Xoá', given: ['Chuỗi'] }] }));
        await create(obs(g, { subject: { reference: `Patient/${gone.id}` } }));
        const deletedObs = await create(
          obs(g, { code: { coding: [{ code: 'X-DEL' }] }, subject: { reference: `Patient/${lan.id}` } }),
        );
        assert.equal((await ids('Observation', g, 'subject:Patient.name=xoa')).length, 1);
        assert.deepEqual(await ids('Patient', g, '_has:Observation:patient:code=X-DEL'), [lan.id]);
        await remove('Patient', gone.id as string);
        await remove('Observation', deletedObs.id as string);
        assert.deepEqual(await ids('Observation', g, 'subject:Patient.name=xoa'), []);
        assert.deepEqual(await ids('Patient', g, '_has:Observation:patient:code=X-DEL'), []);
      });

      it('refuses chains through non-reference parameters and unknown types', async () => {
        for (const q of [
          'name.family=x',
          'subject:Bogus.name=x',
          '_has:Bogus:patient:code=x',
          '_has:Observation:code:code=x',
        ]) {
          const r = await f(`Observation?${q}`);
          assert.equal(r.status, 400, q);
          assert.equal(r.body.resourceType, 'OperationOutcome');
        }
      });
    });

    describe('_include and _revinclude', () => {
      const g = 'include';
      let doctor: Res;
      let patient: Res;
      let group: Res;
      let enc: Res;
      let medReq: Res;
      let o1: Res;
      let o2: Res;
      let oGroup: Res;
      before(async () => {
        doctor = await create(tagged(g, { resourceType: 'Practitioner', name: [{ family: 'Bác sĩ Hùng' }] }));
        patient = await create(
          tagged(g, {
            resourceType: 'Patient',
            name: [{ family: 'Include' }],
            generalPractitioner: [{ reference: `Practitioner/${doctor.id}` }],
          }),
        );
        group = await create(tagged(g, { resourceType: 'Group', type: 'person', actual: true }));
        enc = await create(
          tagged(g, {
            resourceType: 'Encounter',
            status: 'in-progress',
            class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
            subject: { reference: `Patient/${patient.id}` },
          }),
        );
        medReq = await create(
          tagged(g, {
            resourceType: 'MedicationRequest',
            status: 'active',
            intent: 'order',
            medicationCodeableConcept: { text: 'Paracetamol 500mg' },
            subject: { reference: `Patient/${patient.id}` },
            encounter: { reference: `Encounter/${enc.id}` },
            requester: { reference: `Practitioner/${doctor.id}` },
          }),
        );
        o1 = await create(
          obs(g, {
            subject: { reference: `Patient/${patient.id}` },
            performer: [{ reference: `Practitioner/${doctor.id}` }],
          }),
        );
        o2 = await create(obs(g, { subject: { reference: `Patient/${patient.id}` } }));
        oGroup = await create(obs(g, { subject: { reference: `Group/${group.id}` } }));
      });
      const incIds = (b: any): string[] =>
        sorted(includes(b).map((e) => `${e.resource.resourceType}/${e.resource.id}`));

      it('_include=Observation:subject adds the subjects with search.mode include', async () => {
        const b = await search(`Observation?_id=${o1.id},${o2.id}&_include=Observation:subject`);
        assert.deepEqual(sorted(idsOf(b)), sorted([o1.id, o2.id]));
        assert.deepEqual(incIds(b), [`Patient/${patient.id}`], 'the shared subject is included once');
        const inc = includes(b)[0];
        assert.equal(inc.fullUrl, `${srv.fhir}/Patient/${patient.id}`);
        assert.equal(b.total, 2, 'total counts matches only');
      });

      it('_include=Observation:subject:Patient includes only Patient targets', async () => {
        const b = await search(`Observation?_id=${o1.id},${oGroup.id}&_include=Observation:subject:Patient`);
        assert.deepEqual(incIds(b), [`Patient/${patient.id}`]);
        const all = await search(`Observation?_id=${o1.id},${oGroup.id}&_include=Observation:subject`);
        assert.deepEqual(incIds(all), sorted([`Patient/${patient.id}`, `Group/${group.id}`]));
      });

      it('_include=* follows every reference', async () => {
        const b = await search(`Observation?_id=${o1.id}&_include=*`);
        assert.deepEqual(incIds(b), sorted([`Patient/${patient.id}`, `Practitioner/${doctor.id}`]));
      });

      it('_revinclude=Observation:subject adds the observations of the patients', async () => {
        const b = await search(`Patient?_id=${patient.id}&_revinclude=Observation:subject`);
        assert.deepEqual(idsOf(b), [patient.id]);
        assert.deepEqual(incIds(b), sorted([`Observation/${o1.id}`, `Observation/${o2.id}`]));
      });

      it('_revinclude=* adds every resource that refers to the matches', async () => {
        const b = await search(`Patient?_id=${patient.id}&_revinclude=*`);
        const inc = incIds(b);
        assert.ok(inc.includes(`Observation/${o1.id}`) && inc.includes(`Observation/${o2.id}`), JSON.stringify(inc));
      });

      it(':iterate follows includes of included resources', async () => {
        const once = await search(
          `MedicationRequest?_id=${medReq.id}&_include=MedicationRequest:encounter&_include=Encounter:subject`,
        );
        assert.deepEqual(
          incIds(once),
          [`Encounter/${enc.id}`],
          'without :iterate, Encounter:subject applies to matches only',
        );
        const it2 = await search(
          `MedicationRequest?_id=${medReq.id}&_include=MedicationRequest:encounter&_include:iterate=Encounter:subject`,
        );
        assert.deepEqual(incIds(it2), sorted([`Encounter/${enc.id}`, `Patient/${patient.id}`]));
        const deeper = await search(
          `MedicationRequest?_id=${medReq.id}&_include=MedicationRequest:encounter&_include:iterate=Encounter:subject&_include:iterate=Patient:general-practitioner`,
        );
        assert.deepEqual(
          incIds(deeper),
          sorted([`Encounter/${enc.id}`, `Patient/${patient.id}`, `Practitioner/${doctor.id}`]),
        );
        const rev = await search(
          `Encounter?_id=${enc.id}&_include=Encounter:subject&_revinclude:iterate=Observation:subject`,
        );
        assert.deepEqual(
          incIds(rev),
          sorted([`Patient/${patient.id}`, `Observation/${o1.id}`, `Observation/${o2.id}`]),
        );
      });

      it('never includes deleted resources', async () => {
        const gp = await create(tagged(g, { resourceType: 'Patient', name: [{ family: 'Include' }] }));
        const o = await create(obs(g, { subject: { reference: `Patient/${gp.id}` } }));
        const gone = await create(obs(g, { subject: { reference: `Patient/${gp.id}` } }));
        await remove('Observation', gone.id as string);
        const rev = await search(`Patient?_id=${gp.id}&_revinclude=Observation:subject`);
        assert.deepEqual(incIds(rev), [`Observation/${o.id}`]);
        await remove('Patient', gp.id as string);
        const inc = await search(`Observation?_id=${o.id}&_include=Observation:subject`);
        assert.deepEqual(idsOf(inc), [o.id]);
        assert.deepEqual(includes(inc), []);
      });

      it('refuses an include through a non-reference parameter', async () => {
        const r = await f('Observation?_include=Observation:code');
        assert.equal(r.status, 400);
        assert.equal(r.body.resourceType, 'OperationOutcome');
      });
    });

    describe('_sort', () => {
      const g = 'sort';
      const p: Record<string, Res> = {};
      const o: Record<string, Res> = {};
      before(async () => {
        const people: [string, string, string | undefined][] = [
          ['an', 'An', '1990-01-01'],
          ['binh', 'Bình', '1985-06-15'],
          ['chau', 'Châu', '1990-01-01'],
          ['dung', 'Dũng', undefined],
          ['anh', 'Anh', '1985-06-15'],
        ];
        for (const [k, family, birthDate] of people) {
          p[k] = await create(
            tagged(g, { resourceType: 'Patient', name: [{ family }], ...(birthDate ? { birthDate } : {}) }),
          );
          await sleep(2);
        }
        o.jan = await create(obs(g, { effectiveDateTime: '2024-01-01' }));
        o.jun = await create(obs(g, { effectiveDateTime: '2024-06-01T09:00:00Z' }));
        o.none = await create(obs(g, {}));
        o.old = await create(obs(g, { effectivePeriod: { start: '2023-01-01', end: '2023-01-05' } }));
      });
      const order = async (type: string, query: string): Promise<string[]> =>
        idsOf(await search(`${type}?${query}&${scope(g)}`));
      const pids = (...keys: string[]): string[] => keys.map((k) => p[k].id);
      const oids = (...keys: string[]): string[] => keys.map((k) => o[k].id);

      it('sorts by several keys, descending and ascending, missing values last', async () => {
        assert.deepEqual(await order('Patient', '_sort=-birthdate,name'), pids('an', 'chau', 'anh', 'binh', 'dung'));
        assert.deepEqual(await order('Patient', '_sort=birthdate,-name'), pids('binh', 'anh', 'chau', 'an', 'dung'));
        assert.deepEqual(await order('Patient', '_sort=family'), pids('an', 'anh', 'binh', 'chau', 'dung'));
        assert.deepEqual(await order('Patient', '_sort=-family'), pids('dung', 'chau', 'binh', 'anh', 'an'));
      });

      it('sorts observations by date, missing dates last in both directions', async () => {
        assert.deepEqual(await order('Observation', '_sort=-date'), oids('jun', 'jan', 'old', 'none'));
        assert.deepEqual(await order('Observation', '_sort=date'), oids('old', 'jan', 'jun', 'none'));
      });

      it('sorts by _lastUpdated and by _id', async () => {
        assert.deepEqual(await order('Patient', '_sort=_lastUpdated'), pids('an', 'binh', 'chau', 'dung', 'anh'));
        assert.deepEqual(await order('Patient', '_sort=-_lastUpdated'), pids('anh', 'dung', 'chau', 'binh', 'an'));
        const byId = await order('Patient', '_sort=_id');
        assert.deepEqual(byId, [...byId].sort());
        assert.equal(byId.length, 5);
        const byIdDesc = await order('Patient', '_sort=-_id');
        assert.deepEqual(byIdDesc, [...byId].reverse());
      });

      it('keeps the sort order across pages', async () => {
        const pages = await allPages(`Patient?_sort=-birthdate,name&_count=2&${scope(g)}`);
        assert.deepEqual(
          pages.map((x) => x.length),
          [2, 2, 1],
        );
        assert.deepEqual(pages.flat(), pids('an', 'chau', 'anh', 'binh', 'dung'));
        const obsPages = await allPages(`Observation?_sort=-date&_count=1&${scope(g)}`);
        assert.deepEqual(obsPages.flat(), oids('jun', 'jan', 'old', 'none'));
      });

      it("sorts one patient's resources by date, newest first, across pages", async () => {
        const g2 = 'sort-patient';
        const pat = await create(tagged(g2, { resourceType: 'Patient', name: [{ family: 'Timeline' }] }));
        const other = await create(tagged(g2, { resourceType: 'Patient', name: [{ family: 'Other' }] }));
        const subject = { reference: `Patient/${pat.id}` };
        const mk = (extra: Record<string, any>): Promise<Res> => create(obs(g2, { subject, ...extra }));
        const d = {
          mar: await mk({ effectiveDateTime: '2024-03-01T08:00:00Z' }),
          none: await mk({}),
          jan: await mk({ effectiveDateTime: '2024-01-15' }),
          period: await mk({ effectivePeriod: { start: '2024-01-20', end: '2024-04-01' } }),
          dec: await mk({ effectiveDateTime: '2023-12-31T23:00:00+07:00' }),
        };
        // in the patient's compartment only as performer, and another patient's observation: never subject matches
        const asPerformer = await create(
          obs(g2, {
            subject: { reference: `Patient/${other.id}` },
            performer: [subject],
            effectiveDateTime: '2024-02-01',
          }),
        );
        const newestFirst = [d.period.id, d.mar.id, d.jan.id, d.dec.id, d.none.id];
        const oldestFirst = [d.dec.id, d.jan.id, d.period.id, d.mar.id, d.none.id];
        for (const q of [`subject=Patient/${pat.id}`, `patient=${pat.id}`, `subject:Patient=${pat.id}`]) {
          assert.deepEqual(idsOf(await search(`Observation?${q}&_sort=-date`)), newestFirst, q);
          assert.deepEqual(idsOf(await search(`Observation?${q}&_sort=date`)), oldestFirst, q);
          assert.deepEqual((await allPages(`Observation?${q}&_sort=-date&_count=2`)).flat(), newestFirst, q);
        }
        assert.deepEqual(idsOf(await search(`Patient/${pat.id}/Observation?_sort=-date`)), [
          d.period.id,
          d.mar.id,
          asPerformer.id,
          d.jan.id,
          d.dec.id,
          d.none.id,
        ]);
        assert.deepEqual(idsOf(await search(`Observation?subject=Patient/${pat.id}&_sort=-date&date=ge2024-01-01`)), [
          d.period.id,
          d.mar.id,
          d.jan.id,
        ]);
        // paging stays right while the patient's timeline changes
        const first = await search(`Observation?subject=Patient/${pat.id}&_sort=-date&_count=2`);
        assert.deepEqual(idsOf(first), [d.period.id, d.mar.id]);
        const newer = await mk({ effectiveDateTime: '2024-05-01' });
        const between = await mk({ effectiveDateTime: '2024-01-16' });
        await remove('Observation', d.jan.id as string);
        const next = linkOf(first, 'next') as string;
        const rest = (await allPages(next.slice(srv.fhir.length + 1))).flat();
        assert.deepEqual(rest, [between.id, d.dec.id, d.none.id]);
        assert.ok(!rest.includes(newer.id));
      });

      it('refuses to sort by an unknown parameter', async () => {
        const r = await f('Patient?_sort=shoe-size');
        assert.equal(r.status, 400);
        assert.equal(r.body.resourceType, 'OperationOutcome');
      });
    });

    describe('_count, _total, _summary and _elements', () => {
      const g = 'count';
      const created: Res[] = [];
      before(async () => {
        for (let i = 0; i < 7; i++) {
          created.push(
            await create(
              tagged(g, {
                resourceType: 'Patient',
                name: [{ family: 'Đếm', given: [`Số ${i}`] }],
                gender: 'female',
                birthDate: `2000-01-0${i + 1}`,
                maritalStatus: { text: 'Độc thân' },
                communication: [{ language: { text: 'Tiếng Việt' } }],
              }),
            ),
          );
        }
      });

      it('_count limits the page and adds a next link', async () => {
        const b = await search(`Patient?${scope(g)}&_count=3`);
        assert.equal(matches(b).length, 3);
        assert.ok(linkOf(b, 'next'));
        assert.ok(linkOf(b, 'self'));
      });

      it('_total=accurate gives the full count while _count is small', async () => {
        const b = await search(`Patient?${scope(g)}&_count=2&_total=accurate`);
        assert.equal(b.total, 7);
        assert.equal(matches(b).length, 2);
        const none = await search(`Patient?${scope(g)}&family=nobody&_total=accurate`);
        assert.equal(none.total, 0);
      });

      it('_summary=count gives the total and no entries', async () => {
        const b = await search(`Patient?${scope(g)}&_summary=count`);
        assert.equal(b.total, 7);
        assert.equal(b.entry, undefined);
      });

      it('_summary=true keeps only summary elements and tags the resource SUBSETTED', async () => {
        const b = await search(`Patient?${scope(g)}&_summary=true&_count=1`);
        const r = matches(b)[0].resource;
        assert.ok(r.name);
        assert.equal(r.gender, 'female');
        assert.ok(r.birthDate);
        assert.equal(r.maritalStatus, undefined);
        assert.equal(r.communication, undefined);
        assert.ok(r.meta.tag.some((t: { code: string }) => t.code === 'SUBSETTED'));
      });

      it('_elements=name,gender returns only those elements (plus id and meta), SUBSETTED', async () => {
        const b = await search(`Patient?${scope(g)}&_elements=name,gender&_count=1`);
        const r = matches(b)[0].resource;
        assert.deepEqual(Object.keys(r).sort(), ['gender', 'id', 'meta', 'name', 'resourceType']);
        assert.ok(r.meta.tag.some((t: { code: string }) => t.code === 'SUBSETTED'));
      });

      it('refuses a bad _count, _total or _summary', async () => {
        for (const q of ['_count=abc', '_count=-1', '_count=1.5', '_total=maybe', '_summary=some']) {
          const r = await f(`Patient?${q}`);
          assert.equal(r.status, 400, q);
          assert.equal(r.body.resourceType, 'OperationOutcome');
        }
      });
    });

    describe('paging', () => {
      it('following next links returns every match exactly once', async () => {
        const g = 'paging';
        const all: string[] = [];
        for (let i = 0; i < 23; i++) {
          all.push(
            (await create(tagged(g, { resourceType: 'Patient', name: [{ family: `Trang${i}` }] }))).id as string,
          );
        }
        const pages = await allPages(`Patient?${scope(g)}&_count=5`);
        assert.deepEqual(
          pages.map((x) => x.length),
          [5, 5, 5, 5, 3],
        );
        assert.deepEqual(sorted(pages.flat()), sorted(all));
      });

      it('stays correct while data changes between pages', async () => {
        const g = 'paging-live';
        const pre: string[] = [];
        for (let i = 0; i < 12; i++) {
          pre.push((await create(tagged(g, { resourceType: 'Patient', name: [{ family: `Live${i}` }] }))).id as string);
        }
        const first = await search(`Patient?${scope(g)}&_count=5`);
        const page1 = idsOf(first);
        assert.equal(page1.length, 5);
        const unseen = pre.filter((id) => !page1.includes(id));
        // delete one already seen and one not yet seen; add two new matches
        await remove('Patient', page1[0]);
        await remove('Patient', unseen[3]);
        const added: string[] = [];
        for (let i = 0; i < 2; i++) {
          added.push(
            (await create(tagged(g, { resourceType: 'Patient', name: [{ family: `New${i}` }] }))).id as string,
          );
        }
        const next = linkOf(first, 'next') as string;
        const rest = (await allPages(next.slice(srv.fhir.length + 1))).flat();
        const seen = [...page1, ...rest];
        assert.equal(new Set(seen).size, seen.length, 'no duplicates');
        for (const id of unseen) {
          if (id !== unseen[3]) {
            assert.ok(rest.includes(id), `pre-existing ${id} after the cursor is not skipped`);
          }
        }
        assert.ok(!rest.includes(unseen[3]), 'a deleted resource is not returned');
      });

      it('stays correct while data changes between pages of a sorted search', async () => {
        const g = 'paging-sorted';
        const byName = new Map<string, string>();
        for (let i = 0; i < 10; i++) {
          const name = `S${String(i).padStart(2, '0')}`;
          byName.set(
            name,
            (await create(tagged(g, { resourceType: 'Patient', name: [{ family: name }] }))).id as string,
          );
        }
        const first = await search(`Patient?${scope(g)}&_sort=-family&_count=4`);
        const page1 = idsOf(first);
        assert.deepEqual(
          page1,
          ['S09', 'S08', 'S07', 'S06'].map((n) => byName.get(n)),
        );
        // before the cursor (sorts earlier than S06): must not show up; after it: must show up exactly once
        await create(tagged(g, { resourceType: 'Patient', name: [{ family: 'S08b' }] }));
        const late = await create(tagged(g, { resourceType: 'Patient', name: [{ family: 'S02b' }] }));
        await remove('Patient', byName.get('S07') as string);
        await remove('Patient', byName.get('S04') as string);
        const next = linkOf(first, 'next') as string;
        const rest = (await allPages(next.slice(srv.fhir.length + 1))).flat();
        assert.deepEqual(rest, [
          byName.get('S05'),
          byName.get('S03'),
          late.id,
          byName.get('S02'),
          byName.get('S01'),
          byName.get('S00'),
        ]);
      });

      it('refuses a tampered cursor', async () => {
        const r = await f('Patient?_cursor=not-a-cursor');
        assert.equal(r.status, 400);
        assert.equal(r.body.resourceType, 'OperationOutcome');
      });
    });

    describe('_id, _tag, _profile and _security', () => {
      const g = 'meta';
      let a: Res;
      let b: Res;
      let c: Res;
      const profile = 'http://fhir.hl7.org.vn/core/StructureDefinition/vn-core-patient';
      const confidentiality = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
      before(async () => {
        a = await create(tagged(g, { resourceType: 'Patient', meta: { profile: [profile] } }));
        b = await create(
          tagged(g, { resourceType: 'Patient', meta: { security: [{ system: confidentiality, code: 'R' }] } }),
        );
        c = await create(
          tagged(g, { resourceType: 'Patient', meta: { tag: [{ system: 'urn:sen:ward', code: 'noi-a' }] } }),
        );
      });

      it('_id matches one or several ids, and :not excludes them', async () => {
        assert.deepEqual(await ids('Patient', g, `_id=${a.id}`), [a.id]);
        assert.deepEqual(await ids('Patient', g, `_id=${a.id},${c.id}`), sorted([a.id, c.id]));
        assert.deepEqual(await ids('Patient', g, `_id:not=${a.id}`), sorted([b.id, c.id]));
        assert.deepEqual(await ids('Patient', g, '_id=no-such-id'), []);
      });

      it('_tag, _profile and _security match meta', async () => {
        assert.deepEqual(await ids('Patient', g, '_tag=urn:sen:ward%7Cnoi-a'), [c.id]);
        assert.deepEqual(await ids('Patient', g, '_tag=noi-a'), [c.id]);
        assert.equal(idsOf(await search(`Patient?${scope(g)}`)).length, 3);
        assert.deepEqual(await ids('Patient', g, `_profile=${encodeURIComponent(profile)}`), [a.id]);
        assert.deepEqual(await ids('Patient', g, `_security=${encodeURIComponent(`${confidentiality}|R`)}`), [b.id]);
        assert.deepEqual(await ids('Patient', g, '_security=N'), []);
      });
    });

    describe('POST _search', () => {
      const g = 'post-search';
      before(async () => {
        await create(
          tagged(g, { resourceType: 'Patient', name: [{ family: 'Trần', given: ['Bưu'] }], gender: 'male' }),
        );
        await create(
          tagged(g, { resourceType: 'Patient', name: [{ family: 'Trần', given: ['Nga'] }], gender: 'female' }),
        );
        await create(tagged(g, { resourceType: 'Patient', name: [{ family: 'Lý' }], gender: 'female' }));
      });

      it('gives the same result as GET with the parameters in a form body', async () => {
        const query = `family=tran&gender=female&${scope(g)}`;
        const get = await search(`Patient?${query}`);
        const post = await f('Patient/_search', {
          method: 'POST',
          body: query,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        assert.equal(post.status, 200);
        assert.equal(post.body.type, 'searchset');
        assert.equal(idsOf(get).length, 1);
        assert.deepEqual(idsOf(post.body), idsOf(get));
      });

      it('combines URL and body parameters', async () => {
        const post = await f(`Patient/_search?${scope(g)}`, {
          method: 'POST',
          body: 'family=tran',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        assert.equal(post.status, 200);
        assert.equal(idsOf(post.body).length, 2);
      });

      it('refuses bad parameters in the body like GET does', async () => {
        const post = await f('Patient/_search', {
          method: 'POST',
          body: 'shoe-size=42',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        assert.equal(post.status, 400);
        assert.equal(post.body.resourceType, 'OperationOutcome');
      });
    });

    describe('bad input', () => {
      it('refuses an unknown parameter with 400 and an OperationOutcome', async () => {
        const r = await f('Patient?shoe-size=42');
        assert.equal(r.status, 400);
        assert.equal(r.body.resourceType, 'OperationOutcome');
        assert.match(r.body.issue[0].diagnostics, /shoe-size/);
      });

      it('ignores an unknown parameter with Prefer: handling=lenient', async () => {
        const g = 'lenient';
        const p = await create(tagged(g, { resourceType: 'Patient', gender: 'male' }));
        const r = await f(`Patient?shoe-size=42&gender=male&${scope(g)}`, { headers: { prefer: 'handling=lenient' } });
        assert.equal(r.status, 200);
        assert.deepEqual(idsOf(r.body), [p.id]);
        const chained = await f(`Patient?general-practitioner.shoe-size=42&gender=male&${scope(g)}`, {
          headers: { prefer: 'handling=lenient' },
        });
        assert.equal(chained.status, 200);
        assert.deepEqual(idsOf(chained.body), [p.id]);
        const strict = await f(`Patient?general-practitioner.shoe-size=42&${scope(g)}`);
        assert.equal(strict.status, 400);
      });

      it('refuses a bad date, a bad number and a bad modifier', async () => {
        for (const q of [
          'birthdate=1980-13-01',
          'birthdate=yesterday',
          'birthdate=xx1980',
          '_lastUpdated=soon',
          'name:fuzzy=an',
          'gender:exact=male',
          'birthdate:contains=1980',
          'general-practitioner:Bogus=1',
        ]) {
          const r = await f(`Patient?${q}`);
          assert.equal(r.status, 400, q);
          assert.equal(r.body.resourceType, 'OperationOutcome', q);
        }
        const n = await f('RiskAssessment?probability=high');
        assert.equal(n.status, 400);
        const m = await f('Patient?active:missing=maybe');
        assert.equal(m.status, 400);
      });

      it('refuses a search on an unknown resource type with 404', async () => {
        const r = await f('Bogus?name=x');
        assert.equal(r.status, 404);
        assert.equal(r.body.resourceType, 'OperationOutcome');
      });
    });

    describe('compartment search and $everything', () => {
      const g = 'everything';
      let patient: Res;
      let other: Res;
      let doctor: Res;
      let enc: Res;
      let o1: Res;
      let cond: Res;
      let otherObs: Res;
      let deletedObs: Res;
      before(async () => {
        doctor = await create(tagged(g, { resourceType: 'Practitioner', name: [{ family: 'Lương' }] }));
        patient = await create(tagged(g, { resourceType: 'Patient', name: [{ family: 'Toàn', given: ['Bộ'] }] }));
        other = await create(tagged(g, { resourceType: 'Patient', name: [{ family: 'Khác' }] }));
        const subject = { reference: `Patient/${patient.id}` };
        enc = await create(
          tagged(g, {
            resourceType: 'Encounter',
            status: 'finished',
            class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
            subject,
            participant: [{ individual: { reference: `Practitioner/${doctor.id}` } }],
          }),
        );
        o1 = await create(
          obs(g, {
            code: { coding: [{ system: LOINC, code: '8867-4' }] },
            subject,
            performer: [{ reference: `Practitioner/${doctor.id}` }],
          }),
        );
        cond = await create(tagged(g, { resourceType: 'Condition', subject, code: { text: 'Tăng huyết áp' } }));
        otherObs = await create(obs(g, { subject: { reference: `Patient/${other.id}` } }));
        deletedObs = await create(obs(g, { subject }));
        await remove('Observation', deletedObs.id as string);
      });

      it('Patient/{id}/Observation returns only that patient’s live observations', async () => {
        const b = await search(`Patient/${patient.id}/Observation`);
        assert.deepEqual(idsOf(b), [o1.id]);
        const filtered = await search(`Patient/${patient.id}/Observation?code=0000-0`);
        assert.deepEqual(idsOf(filtered), []);
        const ofOther = await search(`Patient/${other.id}/Observation`);
        assert.deepEqual(idsOf(ofOther), [otherObs.id]);
        const cb = await search(`Patient/${patient.id}/Condition`);
        assert.deepEqual(idsOf(cb), [cond.id]);
      });

      it('compartment search of an unknown patient is 404', async () => {
        const r = await f('Patient/no-such-patient/Observation');
        assert.equal(r.status, 404);
      });

      it('$everything returns the patient, the compartment and referenced resources, never deleted ones', async () => {
        const r = await f(`Patient/${patient.id}/$everything`);
        assert.equal(r.status, 200);
        assert.equal(r.body.type, 'searchset');
        const keys = (r.body.entry as Entry[]).map((e) => `${e.resource.resourceType}/${e.resource.id}`);
        assert.equal(new Set(keys).size, keys.length, 'no duplicates');
        assert.deepEqual(
          sorted(keys),
          sorted([
            `Patient/${patient.id}`,
            `Encounter/${enc.id}`,
            `Observation/${o1.id}`,
            `Condition/${cond.id}`,
            `Practitioner/${doctor.id}`,
          ]),
        );
        assert.ok(!keys.includes(`Observation/${otherObs.id}`));
        assert.ok(!keys.includes(`Observation/${deletedObs.id}`));
      });

      it('$everything honours _type', async () => {
        const r = await f(`Patient/${patient.id}/$everything?_type=Observation,Condition`);
        assert.equal(r.status, 200);
        const keys = (r.body.entry as Entry[]).map((e) => `${e.resource.resourceType}/${e.resource.id}`);
        assert.deepEqual(sorted(keys), sorted([`Observation/${o1.id}`, `Condition/${cond.id}`]));
        const withPractitioner = await f(`Patient/${patient.id}/$everything?_type=Observation,Practitioner`);
        const k2 = (withPractitioner.body.entry as Entry[]).map((e) => `${e.resource.resourceType}/${e.resource.id}`);
        assert.deepEqual(sorted(k2), sorted([`Observation/${o1.id}`, `Practitioner/${doctor.id}`]));
      });

      it('$everything honours _since', async () => {
        await sleep(20);
        const since = new Date().toISOString();
        await sleep(20);
        const fresh = await create(obs(g, { subject: { reference: `Patient/${patient.id}` } }));
        const r = await f(`Patient/${patient.id}/$everything?_since=${encodeURIComponent(since)}`);
        assert.equal(r.status, 200);
        const keys = (r.body.entry as Entry[])
          .filter((e) => e.resource.resourceType !== 'Patient')
          .map((e) => `${e.resource.resourceType}/${e.resource.id}`);
        assert.deepEqual(keys, [`Observation/${fresh.id}`]);
      });

      it('$everything of an unknown or deleted patient is 404 / 410', async () => {
        const r = await f('Patient/no-such-patient/$everything');
        assert.equal(r.status, 404);
        const gone = await create(tagged(g, { resourceType: 'Patient' }));
        await remove('Patient', gone.id as string);
        const r2 = await f(`Patient/${gone.id}/$everything`);
        assert.equal(r2.status, 410);
      });
    });

    describe('deleted resources', () => {
      it('never appear in search results, by any parameter', async () => {
        const g = 'deleted';
        const p = await create(
          tagged(g, {
            resourceType: 'Patient',
            name: [{ family: 'Đã Xoá' }],
            identifier: [{ system: CCCD, value: '001080009999' }],
            birthDate: '1980-01-01',
          }),
        );
        const kept = await create(
          tagged(g, { resourceType: 'Patient', name: [{ family: 'Còn' }], birthDate: '1980-01-01' }),
        );
        await remove('Patient', p.id as string);
        assert.deepEqual(await ids('Patient', g, ''), [kept.id]);
        assert.deepEqual(await ids('Patient', g, 'name=da%20xoa'), []);
        assert.deepEqual(await ids('Patient', g, `identifier=${encodeURIComponent(`${CCCD}|001080009999`)}`), []);
        assert.deepEqual(await ids('Patient', g, 'birthdate=1980'), [kept.id]);
        assert.deepEqual(await ids('Patient', g, `_id=${p.id}`), []);
        const count = await search(`Patient?${scope(g)}&_summary=count`);
        assert.equal(count.total, 1);
      });
    });
  });
}

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testEngines } from '@sen/db/testing';
import { clientCredentialsToken, fhirFetch, startTestServer, type TestServer } from '../../../test/harness.ts';
import { SHARED_DIR } from '../../../test/shared-data.ts';
import { loadAdminUnits } from '../../seed/admin-units.ts';
import { loadAdminUnitCatalogs, loadDemoCatalogs } from './demo.ts';
import { CATALOG_URLS, MAP_URLS } from './kinds.ts';

const ICD = encodeURIComponent(CATALOG_URLS.icd10);

interface Param {
  name: string;
  valueString?: string;
  valueBoolean?: boolean;
  valueCode?: string;
  part?: (Param & { valueCoding?: { code: string; system: string; display?: string } })[];
}

const param = (body: { parameter: Param[] }, name: string): Param | undefined =>
  body.parameter.find((p) => p.name === name);

for (const engine of testEngines()) {
  describe(`terminology operations over HTTP [${engine}]`, () => {
    let srv: TestServer;
    before(async () => {
      srv = await startTestServer(engine);
      await loadDemoCatalogs(srv.store);
      await loadAdminUnitCatalogs(srv.store, loadAdminUnits(SHARED_DIR), SHARED_DIR);
    });
    after(async () => {
      await srv.close();
    });

    it('finds each code system through the normal search by a code in it', async () => {
      const icd = await fhirFetch(srv.fhir, 'CodeSystem?code=I10&_elements=url,version');
      assert.equal(icd.status, 200);
      assert.deepEqual(
        icd.body.entry.map((e: { resource: { url: string } }) => e.resource.url),
        [CATALOG_URLS.icd10],
      );
      const ward = await fhirFetch(srv.fhir, 'CodeSystem?code=00004&_elements=url');
      assert.ok(ward.body.entry.some((e: { resource: { url: string } }) => e.resource.url === CATALOG_URLS.adminUnits));
      const lab = await fhirFetch(
        srv.fhir,
        `CodeSystem?url=${encodeURIComponent(CATALOG_URLS.labIndicators)}&_summary=count`,
      );
      assert.equal(lab.body.total, 1);
    });

    it('looks up a code with or without its dot: Vietnamese display, English designation, flags', async () => {
      const r = await fhirFetch(srv.fhir, `CodeSystem/$lookup?system=${ICD}&code=K297`);
      assert.equal(r.status, 200);
      assert.equal(param(r.body, 'display')?.valueString, 'Viêm dạ dày, không đặc hiệu');
      assert.equal(param(r.body, 'code')?.valueCode, 'K29.7');
      assert.equal(param(r.body, 'version')?.valueString, 'demo-2026-07-01');
      const en = r.body.parameter.find((p: Param) => p.name === 'designation');
      assert.equal(en.part.find((x: Param) => x.name === 'value').valueString, 'Gastritis, unspecified');
      const never = await fhirFetch(srv.fhir, 'CodeSystem/$lookup', {
        method: 'POST',
        body: {
          resourceType: 'Parameters',
          parameter: [
            { name: 'coding', valueCoding: { system: CATALOG_URLS.icd10, code: 'K29' } },
            { name: 'date', valueDateTime: '2026-09-01T10:00:00+07:00' },
          ],
        },
      });
      const props = never.body.parameter
        .filter((p: Param) => p.name === 'property')
        .map((p: Param) => p.part?.[0].valueCode);
      assert.ok(props.includes('neverUse'));
    });

    it('answers an unknown code or code system with 404 and a missing code with 400, as OperationOutcomes', async () => {
      const unknown = await fhirFetch(srv.fhir, `CodeSystem/$lookup?system=${ICD}&code=Q99.99`);
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.resourceType, 'OperationOutcome');
      assert.match(unknown.body.issue[0].diagnostics, /code 'Q99.99' is not in/);
      const noSystem = await fhirFetch(srv.fhir, 'CodeSystem/$lookup?system=http://example.org/none&code=1');
      assert.equal(noSystem.status, 404);
      assert.equal(noSystem.body.issue[0].code, 'not-found');
      const noCode = await fhirFetch(srv.fhir, `CodeSystem/$lookup?system=${ICD}`);
      assert.equal(noCode.status, 400);
      assert.match(noCode.body.issue[0].diagnostics, /'code' is required/);
      const early = await fhirFetch(srv.fhir, `ValueSet/$expand?url=${ICD}&date=2020-01-01`);
      assert.equal(early.status, 404);
      assert.match(early.body.issue[0].diagnostics, /in force on 2020-01-01/);
      const badDate = await fhirFetch(srv.fhir, `ValueSet/$expand?url=${ICD}&date=hôm-nay`);
      assert.equal(badDate.status, 400);
      assert.equal(badDate.body.resourceType, 'OperationOutcome');
    });

    it('types ahead without diacritics: "tang huyet ap" gives I10 first, words in any order', async () => {
      const r = await fhirFetch(srv.fhir, `ValueSet/$expand?url=${ICD}&filter=tang%20huyet%20ap&count=5`);
      assert.equal(r.status, 200);
      assert.equal(r.body.resourceType, 'ValueSet');
      assert.equal(r.body.expansion.contains[0].code, 'I10');
      assert.equal(r.body.expansion.contains[0].display, 'Tăng huyết áp vô căn (nguyên phát)');
      assert.equal(r.body.expansion.contains[0].system, CATALOG_URLS.icd10);
      assert.ok(r.body.expansion.total >= 3);
      const anyOrder = await fhirFetch(
        srv.fhir,
        `ValueSet/$expand?url=${ICD}&filter=${encodeURIComponent('HUYẾT áp tăng')}`,
      );
      assert.deepEqual(
        anyOrder.body.expansion.contains.map((c: { code: string }) => c.code).sort(),
        r.body.expansion.contains.map((c: { code: string }) => c.code).sort(),
      );
      const prefixes = await fhirFetch(srv.fhir, `ValueSet/$expand?url=${ICD}&filter=viem%20da%20d`);
      assert.ok(prefixes.body.expansion.contains.some((c: { code: string }) => c.code === 'K29.7'));
      const none = await fhirFetch(srv.fhir, `ValueSet/$expand?url=${ICD}&filter=xyzxyz`);
      assert.equal(none.body.expansion.total, 0);
      assert.equal(none.body.expansion.contains.length, 0);
    });

    it('ships the 54 ethnic groups with their two-digit codes kept as strings, found without diacritics', async () => {
      const eth = encodeURIComponent(CATALOG_URLS.ethnicities);
      const kinh = await fhirFetch(srv.fhir, `CodeSystem/$lookup?system=${eth}&code=01`);
      assert.equal(kinh.status, 200);
      assert.equal(param(kinh.body, 'display')?.valueString, 'Kinh');
      const all = await fhirFetch(srv.fhir, `ValueSet/$expand?url=${eth}&count=100`);
      assert.equal(all.body.expansion.total, 54);
      const found = await fhirFetch(srv.fhir, `ValueSet/$expand?url=${eth}&filter=hmong`);
      assert.equal(found.body.expansion.contains[0].code, '08');
      assert.equal(found.body.expansion.contains[0].display, 'HMông');
      assert.equal((await fhirFetch(srv.fhir, `CodeSystem/$lookup?system=${eth}&code=55`)).status, 404);
    });

    it('ranks the exact code first, then code prefixes in code order', async () => {
      const exact = await fhirFetch(srv.fhir, `ValueSet/$expand?url=${ICD}&filter=J06.9`);
      assert.equal(exact.body.expansion.contains[0].code, 'J06.9');
      const prefix = await fhirFetch(srv.fhir, `ValueSet/$expand?url=${ICD}&filter=k29`);
      assert.deepEqual(
        prefix.body.expansion.contains.map((c: { code: string }) => c.code),
        ['K29', 'K29.1', 'K29.5', 'K29.7'],
      );
    });

    it('pages an expansion with count and offset and gives the English display on request', async () => {
      const url = `${encodeURIComponent(`${CATALOG_URLS.icd10}?fhir_vs`)}`;
      const all = await fhirFetch(srv.fhir, `ValueSet/$expand?url=${url}&count=1000`);
      assert.equal(all.body.expansion.total, 75);
      const page = await fhirFetch(srv.fhir, `ValueSet/$expand?url=${url}&count=10&offset=70`);
      assert.equal(page.body.expansion.total, 75);
      assert.equal(page.body.expansion.offset, 70);
      assert.deepEqual(
        page.body.expansion.contains.map((c: { code: string }) => c.code),
        all.body.expansion.contains.slice(70).map((c: { code: string }) => c.code),
      );
      const en = await fhirFetch(srv.fhir, `ValueSet/$expand?url=${ICD}&filter=I10&displayLanguage=en`);
      assert.equal(en.body.expansion.contains[0].display, 'Essential (primary) hypertension');
      const drugs = await fhirFetch(
        srv.fhir,
        `ValueSet/$expand?url=${encodeURIComponent(CATALOG_URLS.drugs)}&filter=amlodipin`,
      );
      assert.equal(drugs.body.expansion.contains[0].code, 'DEMO-T010');
    });

    it('validates codes against a code system and a value set', async () => {
      const ok = await fhirFetch(srv.fhir, `CodeSystem/$validate-code?url=${ICD}&code=E11.9`);
      assert.equal(param(ok.body, 'result')?.valueBoolean, true);
      const bad = await fhirFetch(srv.fhir, `CodeSystem/$validate-code?url=${ICD}&code=E11.99`);
      assert.equal(param(bad.body, 'result')?.valueBoolean, false);
      assert.match(param(bad.body, 'message')?.valueString ?? '', /không có trong/);
      const wrongDisplay = await fhirFetch(
        srv.fhir,
        `CodeSystem/$validate-code?url=${ICD}&code=I10&display=${encodeURIComponent('Đái tháo đường')}`,
      );
      assert.equal(param(wrongDisplay.body, 'result')?.valueBoolean, false);
      const rightDisplay = await fhirFetch(
        srv.fhir,
        `CodeSystem/$validate-code?url=${ICD}&code=I10&display=${encodeURIComponent('tang huyet ap vo can nguyen phat')}`,
      );
      assert.equal(param(rightDisplay.body, 'result')?.valueBoolean, true);
      const vs = await fhirFetch(srv.fhir, 'ValueSet/$validate-code', {
        method: 'POST',
        body: {
          resourceType: 'Parameters',
          parameter: [
            { name: 'url', valueUri: `${CATALOG_URLS.labIndicators}?fhir_vs` },
            { name: 'coding', valueCoding: { system: CATALOG_URLS.labIndicators, code: '9900004' } },
          ],
        },
      });
      assert.equal(param(vs.body, 'result')?.valueBoolean, true);
      const otherSystem = await fhirFetch(
        srv.fhir,
        `ValueSet/$validate-code?url=${ICD}&system=${encodeURIComponent(CATALOG_URLS.drugs)}&code=I10`,
      );
      assert.equal(param(otherSystem.body, 'result')?.valueBoolean, false);
    });

    it('translates MoH lab codes to LOINC and back', async () => {
      const lab = encodeURIComponent(CATALOG_URLS.labIndicators);
      const loinc = encodeURIComponent(CATALOG_URLS.loinc);
      const r = await fhirFetch(srv.fhir, `ConceptMap/$translate?system=${lab}&targetsystem=${loinc}&code=9900001`);
      assert.equal(r.status, 200);
      assert.equal(param(r.body, 'result')?.valueBoolean, true);
      const concept = param(r.body, 'match')?.part?.find((p) => p.name === 'concept')?.valueCoding;
      assert.deepEqual(concept, { system: CATALOG_URLS.loinc, code: '14749-6' });
      const back = await fhirFetch(
        srv.fhir,
        `ConceptMap/$translate?system=${loinc}&targetsystem=${lab}&code=14682-9&reverse=true`,
      );
      assert.equal(param(back.body, 'match')?.part?.find((p) => p.name === 'concept')?.valueCoding?.code, '9900004');
      const nothing = await fhirFetch(
        srv.fhir,
        `ConceptMap/$translate?system=${lab}&targetsystem=${loinc}&code=0000000`,
      );
      assert.equal(param(nothing.body, 'result')?.valueBoolean, false);
    });

    it("maps a hospital's own service codes to the national BHYT codes", async () => {
      const r = await fhirFetch(
        srv.fhir,
        `ConceptMap/$translate?url=${encodeURIComponent(MAP_URLS.localServices)}&code=XN-GLU`,
      );
      const c = param(r.body, 'match')?.part?.find((p) => p.name === 'concept')?.valueCoding;
      assert.equal(c?.system, CATALOG_URLS.services);
      assert.equal(c?.code, '99.2302.2101');
      const price = await fhirFetch(
        srv.fhir,
        `CodeSystem/$lookup?system=${encodeURIComponent(CATALOG_URLS.services)}&code=99.2302.2101`,
      );
      const bhyt = price.body.parameter.find(
        (p: Param) => p.name === 'property' && p.part?.[0].valueCode === 'bhytPrice',
      );
      assert.equal(bhyt.part[1].valueDecimal, 21500);
    });

    it('converts legacy administrative units to the two-level units of 01/07/2025', async () => {
      const map = encodeURIComponent(MAP_URLS.adminUnitsOldToNew);
      // Phường Cống Vị (Hà Nội, old 00007) was split between Phường Ngọc Hà and Phường Giảng Võ
      const split = await fhirFetch(srv.fhir, `ConceptMap/$translate?url=${map}&code=00007`);
      const targets = split.body.parameter
        .filter((p: Param) => p.name === 'match')
        .map((p: Param) => {
          const c = p.part?.find((x) => x.name === 'concept')?.valueCoding;
          return [c?.code, c?.display, p.part?.find((x) => x.name === 'equivalence')?.valueCode];
        });
      assert.deepEqual(targets, [
        ['00008', 'Phường Ngọc Hà', 'inexact'],
        ['00025', 'Phường Giảng Võ', 'inexact'],
      ]);
      // the old province Hà Giang (02) is now part of Tuyên Quang (08)
      const province = await fhirFetch(
        srv.fhir,
        `ConceptMap/$translate?system=${encodeURIComponent(CATALOG_URLS.adminUnitsOld)}&targetsystem=${encodeURIComponent(CATALOG_URLS.adminUnits)}&code=02`,
      );
      const p = param(province.body, 'match')?.part;
      assert.equal(p?.find((x) => x.name === 'concept')?.valueCoding?.code, '08');
      assert.equal(p?.find((x) => x.name === 'equivalence')?.valueCode, 'wider');
      const now = await fhirFetch(
        srv.fhir,
        `CodeSystem/$lookup?system=${encodeURIComponent(CATALOG_URLS.adminUnits)}&code=00008`,
      );
      assert.equal(param(now.body, 'display')?.valueString, 'Phường Ngọc Hà');
      const wards = await fhirFetch(
        srv.fhir,
        `ValueSet/$expand?url=${encodeURIComponent(CATALOG_URLS.adminUnits)}&filter=ngoc%20ha&count=50`,
      );
      assert.ok(wards.body.expansion.contains.some((c: { code: string }) => c.code === '00008'));
      const count = await fhirFetch(
        srv.fhir,
        `ValueSet/$expand?url=${encodeURIComponent(CATALOG_URLS.adminUnits)}&count=0`,
      );
      assert.equal(count.body.expansion.total, 34 + 3321);
    });

    it('lets the gate refuse a caller without catalog access (403) and needs a token (401)', async () => {
      const narrow = await clientCredentialsToken(srv.url, 'system/Patient.rs');
      const denied = await fhirFetch(srv.fhir, `ValueSet/$expand?url=${ICD}&filter=i10`, {
        headers: { authorization: `Bearer ${narrow}` },
      });
      assert.equal(denied.status, 403);
      assert.equal(denied.body.resourceType, 'OperationOutcome');
      const catalogOnly = await clientCredentialsToken(srv.url, 'system/ValueSet.rs');
      const allowed = await fhirFetch(srv.fhir, `ValueSet/$expand?url=${ICD}&filter=i10`, {
        headers: { authorization: `Bearer ${catalogOnly}` },
      });
      assert.equal(allowed.status, 200);
      const anonymous = await fetch(`${srv.fhir}/CodeSystem/$lookup?system=${ICD}&code=I10`);
      assert.equal(anonymous.status, 401);
    });

    it('lists the terminology operations in the CapabilityStatement', async () => {
      const cs = await fhirFetch(srv.fhir, 'metadata');
      const ops = (type: string): string[] =>
        cs.body.rest[0].resource
          .find((r: { type: string }) => r.type === type)
          .operation.map((o: { name: string }) => o.name);
      assert.deepEqual(ops('CodeSystem'), ['lookup', 'validate-code']);
      assert.deepEqual(ops('ValueSet'), ['expand', 'validate-code']);
      assert.deepEqual(ops('ConceptMap'), ['translate']);
    });
  });
}

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, it } from 'node:test';
import { eachEngine } from '@sen/db/testing';
import { loadDefinitions, warmSearchParams } from '@sen/fhir';
import { assertValid } from '@sen/fhir/validation.ts';
import { FhirStore } from '@sen/store';
import writeXlsxFile from 'write-excel-file/node';
import { parseCsvText, readCatalogFile } from './files.ts';
import { ImportError, importCatalog } from './importer.ts';
import { CATALOG_URLS } from './kinds.ts';
import { pickRange } from './kinds-lists.ts';
import { TerminologyService } from './service.ts';

const ICD10_2026 = `code,name_vi,name_en,never_use,not_main,female_only
I10,Tăng huyết áp vô căn (nguyên phát),Essential (primary) hypertension,,,
K29,Viêm dạ dày và tá tràng,Gastritis and duodenitis,x,,
K297,"Viêm dạ dày, không đặc hiệu","Gastritis, unspecified",,,
W19,Ngã không xác định,Unspecified fall,,1,
O80,Đẻ thường một thai,Single spontaneous delivery,,,x
`;

const BAD = `code,name_vi,female_only
I10,Tăng huyết áp vô căn (nguyên phát),
XYZ,Mã sai,
E11.9,,
O80,Đẻ thường một thai,maybe
I10,Trùng mã,
`;

async function counts(store: FhirStore): Promise<{ versions: number; concepts: number; resources: number }> {
  const n = async (sql: string): Promise<number> => Number((await store.db.query<{ n: string }>(sql)).rows[0].n);
  return {
    versions: await n('SELECT count(*)::text AS n FROM terminology_version'),
    concepts: await n('SELECT count(*)::text AS n FROM terminology_concept'),
    resources: await n(`SELECT count(*)::text AS n FROM resource WHERE type IN ('CodeSystem', 'ConceptMap')`),
  };
}

eachEngine('catalog importer', (h) => {
  let store: FhirStore;
  let terms: TerminologyService;
  before(() => {
    loadDefinitions();
    warmSearchParams();
    store = new FhirStore(h.db(), { validate: assertValid });
    terms = new TerminologyService(h.db(), { cacheMs: 0 });
  });

  it('imports a good ICD-10 file as a versioned CodeSystem with its flags, dotted codes and names', async () => {
    const r = await importCatalog(store, 'icd10', parseCsvText(ICD10_2026), {
      version: '2026',
      validFrom: '2026-07-01',
      source: 'Thông tư 06/2026/TT-BYT',
    });
    assert.equal(r.status, 'imported');
    assert.equal(r.accepted, 5);
    assert.equal(r.rejected, 0);
    const cs = JSON.parse((await store.read('CodeSystem', r.resourceId!)).content as string);
    assert.equal(cs.url, CATALOG_URLS.icd10);
    assert.equal(cs.version, '2026');
    assert.equal(cs.count, 5);
    assert.equal(cs.extension[0].valuePeriod.start, '2026-07-01');
    assert.equal(cs.extension[1].valueRelatedArtifact.display, 'Thông tư 06/2026/TT-BYT');
    const k297 = cs.concept.find((c: { code: string }) => c.code === 'K29.7');
    assert.ok(k297, 'a code given without its dot is stored with it');
    assert.deepEqual(
      k297.property.map((p: { code: string }) => p.code),
      ['codeNoDot', 'parent'],
    );
    const { concept } = await terms.lookup(CATALOG_URLS.icd10, 'K297', { date: '2026-08-01' });
    assert.equal(concept.display, 'Viêm dạ dày, không đặc hiệu');
    assert.equal(concept.designation?.[0].value, 'Gastritis, unspecified');
    const flags = await terms.icd10Flags(['K29', 'W19', 'O80'], '2026-08-01');
    assert.deepEqual(Object.fromEntries(flags), {
      K29: { neverUse: true },
      W19: { notMain: true },
      O80: { femaleOnly: true },
    });
  });

  it('rejects a file with bad rows, names each row and field, and changes nothing', async () => {
    const before = await counts(store);
    const r = await importCatalog(store, 'icd10', parseCsvText(BAD), { version: 'bad' });
    assert.equal(r.status, 'rejected');
    assert.equal(r.total, 5);
    assert.equal(r.accepted, 1);
    assert.equal(r.rejected, 4);
    assert.deepEqual(
      r.problems.map((p) => [p.row, p.field]),
      [
        [3, 'code'],
        [4, 'name_vi'],
        [5, 'female_only'],
        [6, 'code'],
      ],
    );
    assert.match(r.problems[0].reason, /mã không hợp lệ 'XYZ' \/ invalid code/);
    assert.match(r.problems[3].reason, /trùng với dòng 2/);
    assert.deepEqual(await counts(store), before);
  });

  it('rejects a file without a required column', async () => {
    const r = await importCatalog(store, 'icd10', parseCsvText('ma_benh,ghi_chu\nI10,x\n'));
    assert.equal(r.status, 'rejected');
    assert.deepEqual(r.problems[0], {
      row: 1,
      field: 'name_vi',
      reason: 'thiếu cột bắt buộc / required column missing',
    });
  });

  it('is idempotent: the same content imported again adds no version, another version with it is refused', async () => {
    const before = await counts(store);
    const again = await importCatalog(store, 'icd10', parseCsvText(ICD10_2026), { validFrom: '2026-07-01' });
    assert.equal(again.status, 'unchanged');
    assert.equal(again.version, '2026');
    assert.deepEqual(await counts(store), before);
    const changed = ICD10_2026.replace('Ngã không xác định', 'Ngã không rõ');
    await assert.rejects(
      importCatalog(store, 'icd10', parseCsvText(changed), { version: '2026' }),
      (e: Error) => e instanceof ImportError && /already exists with other content/.test(e.message),
    );
    assert.deepEqual(await counts(store), before);
  });

  it('keeps the old version for dated look-ups when a new version is imported', async () => {
    const old = `code,name_vi\nI10,Bệnh tăng huyết áp vô căn\nK29,Viêm dạ dày và tá tràng\nZ99.9,Mã cũ đã bỏ\n`;
    const r = await importCatalog(store, 'icd10', parseCsvText(old), {
      version: '2020',
      validFrom: '2021-01-01',
      validTo: '2026-06-30',
      source: 'Quyết định 4469/QĐ-BYT',
    });
    assert.equal(r.status, 'imported');
    const in2025 = await terms.lookup(CATALOG_URLS.icd10, 'I10', { date: '2025-03-15' });
    assert.equal(in2025.version.version, '2020');
    assert.equal(in2025.concept.display, 'Bệnh tăng huyết áp vô căn');
    const in2026 = await terms.lookup(CATALOG_URLS.icd10, 'I10', { date: '2026-07-01' });
    assert.equal(in2026.version.version, '2026');
    assert.equal(in2026.concept.display, 'Tăng huyết áp vô căn (nguyên phát)');
    assert.equal((await terms.validateCode(CATALOG_URLS.icd10, 'Z99.9', { date: '2025-01-01' })).result, true);
    assert.equal((await terms.validateCode(CATALOG_URLS.icd10, 'Z99.9', { date: '2026-12-01' })).result, false);
    await assert.rejects(terms.lookup(CATALOG_URLS.icd10, 'I10', { date: '2019-01-01' }), /in force on 2019-01-01/);
    const byVersion = await terms.lookup(CATALOG_URLS.icd10, 'I10', { version: '2020' });
    assert.equal(byVersion.version.version, '2020');
  });

  it('imports drugs from XLSX and lab indicators from JSON, with ranges by sex and the LOINC map', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sen-catalog-'));
    const xlsx = join(dir, 'thuoc.xlsx');
    const header = [
      'Mã thuốc',
      'Hoạt chất',
      'Tên thuốc',
      'Hàm lượng',
      'Dạng bào chế',
      'Đường dùng',
      'Số đăng ký',
      'TYLE_TT_BH',
    ];
    await writeXlsxFile([
      header.map((value) => ({ value })),
      ['T1', 'Paracetamol', 'Demopara', '500 mg', 'Viên nén', 'Uống', 'DEMO-1', 100].map((value) => ({ value })),
      ['T2', 'Amlodipin', 'Demolodi', '5 mg', 'Viên nén', 'Uống', 'DEMO-2', 50].map((value) => ({ value })),
    ] as never).toFile(xlsx);
    const drugs = await importCatalog(store, 'drugs', await readCatalogFile(xlsx));
    assert.equal(drugs.status, 'imported', JSON.stringify(drugs.problems));
    const t2 = await terms.lookup(CATALOG_URLS.drugs, 'T2');
    assert.equal(t2.concept.display, 'Demolodi 5 mg');
    assert.deepEqual(
      t2.concept.property?.find((p) => p.code === 'bhytRate'),
      { code: 'bhytRate', valueDecimal: 50 },
    );
    const byInn = await terms.expand(CATALOG_URLS.drugs, { filter: 'amlo' });
    assert.deepEqual(
      byInn.items.map((i) => i.code),
      ['T2'],
    );

    const json = join(dir, 'xn.json');
    writeFileSync(
      json,
      JSON.stringify([
        {
          ma_chi_so: '1000001',
          ten_chi_so: 'Creatinin máu',
          don_vi_do: 'µmol/L',
          ma_loinc: '14682-9',
          gioi_tinh: 'nam',
          min: 62,
          max: 106,
        },
        {
          ma_chi_so: '1000001',
          ten_chi_so: 'Creatinin máu',
          don_vi_do: 'µmol/L',
          ma_loinc: '14682-9',
          gioi_tinh: 'nữ',
          min: 44,
          max: 80,
        },
      ]),
    );
    const lab = await importCatalog(store, 'lab-indicators', await readCatalogFile(json));
    assert.equal(lab.status, 'imported', JSON.stringify(lab.problems));
    const crea = await terms.lookup(CATALOG_URLS.labIndicators, '1000001');
    assert.deepEqual(
      crea.concept.property?.filter((p) => p.code === 'referenceRange').map((p) => JSON.parse(p.valueString!)),
      [
        { sex: 'male', low: 62, high: 106 },
        { sex: 'female', low: 44, high: 80 },
      ],
    );
    const loinc = await terms.translate({
      system: CATALOG_URLS.labIndicators,
      targetSystem: CATALOG_URLS.loinc,
      code: '1000001',
    });
    assert.deepEqual(
      loinc.matches.map((m) => [m.code, m.equivalence]),
      [['14682-9', 'equivalent']],
    );
    const back = await terms.translate({
      system: CATALOG_URLS.loinc,
      targetSystem: CATALOG_URLS.labIndicators,
      code: '14682-9',
      reverse: true,
    });
    assert.deepEqual(
      back.matches.map((m) => m.code),
      ['1000001'],
    );
  });

  it('picks the reference range of a patient by sex and age, the most specific first', () => {
    const ranges = [
      { sex: 'male' as const, ageFrom: 16, low: 130, high: 170 },
      { sex: 'female' as const, ageFrom: 16, low: 120, high: 150 },
      { ageFrom: 6, ageTo: 16, low: 115, high: 155 },
    ];
    assert.equal(pickRange(ranges, 'female', 40)?.low, 120);
    assert.equal(pickRange(ranges, 'male', 10)?.low, 115);
    assert.equal(pickRange(ranges, 'male', 3), undefined);
  });

  it('rejects lab rows whose code is not 7 digits or whose range is upside down', async () => {
    const r = await importCatalog(
      store,
      'lab-indicators',
      parseCsvText('code,name,unit,low,high\n123,Glucose,mmol/L,3.9,6.4\n1000002,Glucose,mmol/L,7,3\n'),
    );
    assert.equal(r.status, 'rejected');
    assert.deepEqual(
      r.problems.map((p) => [p.row, p.field]),
      [
        [2, 'code'],
        [3, 'low'],
      ],
    );
  });

  it('imports a small national list with codes kept as strings', async () => {
    const r = await importCatalog(store, 'visit-types', parseCsvText('ma,ten\n01,Khám bệnh\n03,Điều trị nội trú\n'));
    assert.equal(r.status, 'imported');
    assert.equal((await terms.lookup(CATALOG_URLS.visitTypes, '01')).concept.display, 'Khám bệnh');
    const bad = await importCatalog(store, 'departments', parseCsvText('code,name\nK61,Khoa không có\n'));
    assert.equal(bad.problems[0].field, 'code');
  });
});

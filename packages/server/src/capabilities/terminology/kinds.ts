/**
 * The catalog kinds the importer knows: their canonical URL, columns, and how a row becomes a CodeSystem concept
 * (and, for some, a ConceptMap element). Canonical URLs: VN Core (`http://fhir.hl7.org.vn/core/CodeSystem/…`) where
 * the IG defines the code system, Sen's own base (`https://sen.health.vn/fhir/…`) otherwise.
 */
import type { CodeSystemProperty } from '@medplum/fhirtypes';
import { type ColumnSpec, type ParsedRow, type RowProblem, str } from './columns.ts';

export const SEN_FHIR_BASE = 'https://sen.health.vn/fhir';
const SEN_CS = `${SEN_FHIR_BASE}/CodeSystem`;
const SEN_CM = `${SEN_FHIR_BASE}/ConceptMap`;
const VN_CORE_CS = 'http://fhir.hl7.org.vn/core/CodeSystem';

/** Canonical URLs of every catalog Sen loads. */
export const CATALOG_URLS = {
  icd10: `${VN_CORE_CS}/vn-icd10-cs`,
  icd10Yhct: `${SEN_CS}/icd10-yhct`,
  services: `${SEN_CS}/bhyt-service`,
  supplies: `${SEN_CS}/bhyt-supply`,
  drugs: `${SEN_CS}/drug`,
  labIndicators: `${SEN_CS}/moh-lab-indicator`,
  loinc: 'http://loinc.org',
  adminUnits: `${SEN_CS}/admin-unit`,
  adminUnitsOld: `${SEN_CS}/admin-unit-2024`,
  ethnicities: `${SEN_CS}/ethnicity`,
  occupations: `${SEN_CS}/occupation`,
  nationalities: `${SEN_CS}/nationality`,
  departments: `${SEN_CS}/department-type`,
  bhytGroups: `${VN_CORE_CS}/vn-bhyt-card-type-cs`,
  benefitLevels: `${SEN_CS}/bhyt-benefit-level`,
  patientCategories: `${SEN_CS}/ma-doituong-kcb`,
  visitTypes: `${SEN_CS}/ma-loai-kcb`,
} as const;

/** ConceptMaps built by the importer. */
export const MAP_URLS = {
  labToLoinc: `${SEN_CM}/moh-lab-indicator-to-loinc`,
  yhctToIcd10: `${SEN_CM}/icd10-yhct-to-icd10`,
  adminUnitsOldToNew: `${SEN_CM}/admin-unit-2024-to-2025`,
  localServices: `${SEN_CM}/local-service-to-bhyt`,
  localDrugs: `${SEN_CM}/local-drug-to-national`,
  localSupplies: `${SEN_CM}/local-supply-to-bhyt`,
} as const;

export interface ConceptDraft {
  code: string;
  display: string;
  designations?: { language?: string; value: string }[];
  /** Property values in order; a code may repeat (e.g. one reference range per sex and age band). */
  properties?: [code: string, value: string | number | boolean][];
  priority?: number;
}

export interface MapElementDraft {
  source: string;
  target: string;
  targetDisplay?: string;
  equivalence: 'equivalent' | 'wider' | 'narrower' | 'inexact' | 'relatedto';
  /** Required by FHIR for narrower and inexact mappings. */
  comment?: string;
}

export interface MapDraft {
  url: string;
  idBase: string;
  title: string;
  sourceUrl: string;
  targetUrl: string;
  elements: MapElementDraft[];
  /** The map applies at any date (e.g. converting legacy addresses), not only while its catalog is in force. */
  timeless?: boolean;
}

export interface BuiltCatalog {
  concepts: ConceptDraft[];
  maps: MapDraft[];
  problems: RowProblem[];
  /** Extra code systems built from the same file (the pre-reform units of the old→new mapping). */
}

export interface KindSpec {
  kind: string;
  url: string;
  /** Resource id prefix: the CodeSystem of version V gets id `<idBase>-<V>`. */
  idBase: string;
  title: string;
  /** The legal document a catalog of this kind usually comes from (used when the import names none). */
  source: string;
  columns: readonly ColumnSpec[];
  properties: readonly CodeSystemProperty[];
  build(rows: { row: number; values: ParsedRow }[]): BuiltCatalog;
}

const prop = (code: string, type: CodeSystemProperty['type'], description: string): CodeSystemProperty => ({
  code,
  type,
  description,
});

/** Adds one problem per repeated code (a catalog has each code once). */
function uniqueCodes<T extends { code: string }>(items: { row: number; item: T }[], problems: RowProblem[]): T[] {
  const seen = new Map<string, number>();
  const out: T[] = [];
  for (const { row, item } of items) {
    const first = seen.get(item.code);
    if (first !== undefined) {
      problems.push({ row, field: 'code', reason: `mã '${item.code}' trùng với dòng ${first} / duplicate code` });
      continue;
    }
    seen.set(item.code, row);
    out.push(item);
  }
  return out;
}

function localMap(
  rows: { row: number; values: ParsedRow }[],
  url: string,
  idBase: string,
  title: string,
  targetUrl: string,
): MapDraft[] {
  const elements = rows
    .filter((r) => r.values.local_code !== undefined)
    .map((r) => ({
      source: String(r.values.local_code),
      target: String(r.values.code),
      targetDisplay: str(r.values.name),
      equivalence: 'equivalent' as const,
    }));
  return elements.length === 0
    ? []
    : [{ url, idBase, title, sourceUrl: `${SEN_CS}/local-${idBase}`, targetUrl, elements }];
}

// ---------------------------------------------------------------- ICD-10

const ICD10_CODE = /^[A-Z]\d{2}(\.?\d{1,2})?[†*]?$/;
const ICD10_FLAGS = [
  ['not_main', 'notMain', 'Col. 24: not a main diagnosis / không dùng làm bệnh chính'],
  ['discouraged_main', 'discouragedMain', 'Col. 25: discouraged as main diagnosis / không khuyến khích làm bệnh chính'],
  ['never_use', 'neverUse', 'Col. 26: never use, a more specific code exists / không sử dụng'],
  ['cause_of_death_only', 'causeOfDeathOnly', 'Col. 27: cause of death only / chỉ dùng cho nguyên nhân tử vong'],
  ['female_only', 'femaleOnly', 'Col. 28: female only / chỉ dùng cho nữ'],
  ['male_only', 'maleOnly', 'Col. 29: male only / chỉ dùng cho nam'],
] as const;

/** J069 → J06.9; J06.9 stays; the dagger/asterisk stays at the end. */
export function dottedIcd10(code: string): string {
  const m = /^([A-Z]\d{2})\.?(\d{0,2})([†*]?)$/.exec(code.toUpperCase());
  if (!m) {
    return code;
  }
  return `${m[1]}${m[2] ? `.${m[2]}` : ''}${m[3]}`;
}

function icd10Kind(kind: string, url: string, idBase: string, title: string, source: string): KindSpec {
  return {
    kind,
    url,
    idBase,
    title,
    source,
    columns: [
      {
        key: 'code',
        aliases: ['ma', 'ma_benh', 'ma_icd', 'ma_icd10', 'ma_co_dau_cham'],
        type: 'code',
        required: true,
        pattern: kind === 'icd10' ? ICD10_CODE : /^[A-Z0-9][A-Z0-9.]{1,15}[†*]?$/,
        hint: 'A00, A00.0, A000',
      },
      {
        key: 'name_vi',
        aliases: ['ten', 'ten_benh', 'ten_tieng_viet', 'ten_vi', 'name'],
        type: 'text',
        required: true,
      },
      { key: 'name_en', aliases: ['ten_tieng_anh', 'ten_en', 'english'], type: 'text' },
      { key: 'chapter', aliases: ['chuong', 'ma_chuong'], type: 'text' },
      { key: 'block', aliases: ['nhom', 'ma_nhom', 'khoi'], type: 'text' },
      ...ICD10_FLAGS.map(([key]) => ({ key, type: 'boolean' as const })),
      { key: 'icd10', aliases: ['ma_icd10_tuong_ung', 'icd10_code'], type: 'text' },
      { key: 'priority', aliases: ['uu_tien', 'thu_tu_uu_tien'], type: 'integer' },
    ],
    properties: [
      prop('codeNoDot', 'string', 'The code without its dot (XML1 MA_BENH_CHINH) / mã không dấu chấm'),
      prop('chapter', 'string', 'Chapter / chương'),
      prop('block', 'string', 'Block / nhóm'),
      prop('parent', 'code', 'The 3-character category of a detailed code / mã cha'),
      ...ICD10_FLAGS.map(([, code, d]) => prop(code, 'boolean', d)),
      ...(kind === 'icd10-yhct' ? [prop('icd10', 'code', 'Matching ICD-10 code / mã ICD-10 tương ứng')] : []),
    ],
    build(rows) {
      const problems: RowProblem[] = [];
      const items = rows.map(({ row, values: v }) => {
        const code = kind === 'icd10' ? dottedIcd10(String(v.code)) : String(v.code);
        const properties: [string, string | number | boolean][] = [];
        const bare = code.replace(/[.†*]/g, '');
        if (kind === 'icd10') {
          properties.push(['codeNoDot', bare]);
        }
        if (v.chapter !== undefined) {
          properties.push(['chapter', String(v.chapter)]);
        }
        if (v.block !== undefined) {
          properties.push(['block', String(v.block)]);
        }
        if (kind === 'icd10' && bare.length > 3) {
          properties.push(['parent', bare.slice(0, 3)]);
        }
        for (const [key, pcode] of ICD10_FLAGS) {
          if (v[key] === true) {
            properties.push([pcode, true]);
          }
        }
        if (kind === 'icd10-yhct' && v.icd10 !== undefined) {
          properties.push(['icd10', dottedIcd10(String(v.icd10))]);
        }
        if (v.female_only === true && v.male_only === true) {
          problems.push({
            row,
            field: 'male_only',
            reason: 'không thể vừa chỉ nữ vừa chỉ nam / both female- and male-only',
          });
        }
        const item: ConceptDraft = {
          code,
          display: String(v.name_vi),
          designations: v.name_en !== undefined ? [{ language: 'en', value: String(v.name_en) }] : undefined,
          properties,
          priority: typeof v.priority === 'number' ? v.priority : undefined,
        };
        return { row, item };
      });
      const concepts = uniqueCodes(items, problems);
      const maps: MapDraft[] = [];
      if (kind === 'icd10-yhct') {
        const elements = rows
          .filter((r) => r.values.icd10 !== undefined)
          .map((r) => ({
            source: String(r.values.code),
            target: dottedIcd10(String(r.values.icd10)),
            equivalence: 'relatedto' as const,
          }));
        if (elements.length > 0) {
          maps.push({
            url: MAP_URLS.yhctToIcd10,
            idBase: 'icd10-yhct-to-icd10',
            title: 'ICD-10 YHCT → ICD-10',
            sourceUrl: url,
            targetUrl: CATALOG_URLS.icd10,
            elements,
          });
        }
      }
      return { concepts, maps, problems };
    },
  };
}

// ---------------------------------------------------------------- services, supplies, drugs

const servicesKind: KindSpec = {
  kind: 'services',
  url: CATALOG_URLS.services,
  idBase: 'bhyt-service',
  title: 'Danh mục dịch vụ kỹ thuật và giá / Technical services and prices',
  source: 'Thông tư 23/2024/TT-BYT (danh mục kỹ thuật); mã dịch vụ BHYT theo QĐ 2010/2025',
  columns: [
    {
      key: 'code',
      aliases: ['ma_dich_vu', 'ma_dv', 'ma_dvkt', 'ma_tuong_duong'],
      type: 'code',
      required: true,
      pattern: /^\d{2}\.\d{4}\.\d{4}$/,
      hint: 'CC.KKKK.GGGG',
    },
    { key: 'name', aliases: ['ten_dich_vu', 'ten_dvkt', 'ten'], type: 'text', required: true },
    { key: 'technique', aliases: ['ma_ky_thuat', 'ma_kt', 'ma_tt23'], type: 'text' },
    { key: 'bhyt_price', aliases: ['gia_bhyt', 'don_gia_bh', 'gia_bh'], type: 'number' },
    { key: 'service_price', aliases: ['gia_dich_vu', 'don_gia_bv', 'gia_dv', 'gia'], type: 'number' },
    { key: 'unit', aliases: ['don_vi_tinh', 'dvt'], type: 'text' },
    { key: 'group', aliases: ['nhom', 'ma_nhom', 'nhom_dich_vu'], type: 'text' },
    { key: 'price_from', aliases: ['gia_tu_ngay', 'hieu_luc_tu'], type: 'date' },
    { key: 'price_to', aliases: ['gia_den_ngay', 'hieu_luc_den'], type: 'date' },
    { key: 'local_code', aliases: ['ma_noi_bo', 'ma_bv'], type: 'text' },
  ],
  properties: [
    prop('technique', 'string', 'TT 23/2024 technique code / mã kỹ thuật'),
    prop('bhytPrice', 'decimal', 'BHYT price, VND / giá BHYT'),
    prop('servicePrice', 'decimal', 'Service (self-pay) price, VND / giá dịch vụ'),
    prop('unit', 'string', 'Unit / đơn vị tính'),
    prop('group', 'string', 'Service group / nhóm dịch vụ'),
    prop('priceFrom', 'dateTime', 'Price valid from / giá áp dụng từ'),
    prop('priceTo', 'dateTime', 'Price valid to / giá áp dụng đến'),
  ],
  build(rows) {
    const problems: RowProblem[] = [];
    const items = rows.map(({ row, values: v }) => {
      if (v.bhyt_price === undefined && v.service_price === undefined) {
        problems.push({
          row,
          field: 'bhyt_price',
          reason: 'cần giá BHYT hoặc giá dịch vụ / a BHYT or service price is required',
        });
      }
      if (v.price_from !== undefined && v.price_to !== undefined && String(v.price_to) < String(v.price_from)) {
        problems.push({ row, field: 'price_to', reason: 'ngày kết thúc trước ngày bắt đầu / ends before it starts' });
      }
      const properties: [string, string | number | boolean][] = [];
      const add = (code: string, value: string | number | boolean | undefined): void => {
        if (value !== undefined) {
          properties.push([code, value]);
        }
      };
      add('technique', str(v.technique));
      add('bhytPrice', v.bhyt_price as number | undefined);
      add('servicePrice', v.service_price as number | undefined);
      add('unit', str(v.unit));
      add('group', str(v.group));
      add('priceFrom', str(v.price_from));
      add('priceTo', str(v.price_to));
      return { row, item: { code: String(v.code), display: String(v.name), properties } };
    });
    return {
      concepts: uniqueCodes(items, problems),
      maps: localMap(rows, MAP_URLS.localServices, 'service', 'Dịch vụ nội bộ → mã BHYT', CATALOG_URLS.services),
      problems,
    };
  },
};

const suppliesKind: KindSpec = {
  kind: 'supplies',
  url: CATALOG_URLS.supplies,
  idBase: 'bhyt-supply',
  title: 'Danh mục vật tư y tế / Medical supplies',
  source: 'Danh mục vật tư y tế thanh toán BHYT (mã do Cổng giám định cấp)',
  columns: [
    {
      key: 'code',
      aliases: ['ma_vat_tu', 'ma_vtyt', 'ma'],
      type: 'code',
      required: true,
      pattern: /^[A-Za-z0-9.\-_]{2,50}$/,
    },
    { key: 'name', aliases: ['ten_vat_tu', 'ten_vtyt', 'ten'], type: 'text', required: true },
    { key: 'unit', aliases: ['don_vi_tinh', 'dvt'], type: 'text', required: true },
    { key: 'price', aliases: ['don_gia', 'gia'], type: 'number', required: true },
    { key: 'bhyt_rate', aliases: ['ty_le_tt', 'tyle_tt_bh', 'ty_le_thanh_toan'], type: 'percent' },
    { key: 'group', aliases: ['nhom', 'ma_nhom'], type: 'text' },
    { key: 'local_code', aliases: ['ma_noi_bo', 'ma_bv'], type: 'text' },
  ],
  properties: [
    prop('unit', 'string', 'Unit / đơn vị tính'),
    prop('price', 'decimal', 'Price, VND / đơn giá'),
    prop('bhytRate', 'decimal', 'BHYT payment rate, % / tỷ lệ thanh toán BHYT'),
    prop('group', 'string', 'Group / nhóm'),
  ],
  build(rows) {
    const problems: RowProblem[] = [];
    const items = rows.map(({ row, values: v }) => {
      const properties: [string, string | number | boolean][] = [
        ['unit', String(v.unit)],
        ['price', v.price as number],
      ];
      if (v.bhyt_rate !== undefined) {
        properties.push(['bhytRate', v.bhyt_rate as number]);
      }
      if (v.group !== undefined) {
        properties.push(['group', String(v.group)]);
      }
      return { row, item: { code: String(v.code), display: String(v.name), properties } };
    });
    return {
      concepts: uniqueCodes(items, problems),
      maps: localMap(rows, MAP_URLS.localSupplies, 'supply', 'Vật tư nội bộ → mã BHYT', CATALOG_URLS.supplies),
      problems,
    };
  },
};

const drugsKind: KindSpec = {
  kind: 'drugs',
  url: CATALOG_URLS.drugs,
  idBase: 'drug',
  title: 'Danh mục thuốc / Drugs',
  source: 'Thông tư 20/2022/TT-BYT (danh mục thuốc BHYT) và danh mục dùng chung (DMDC)',
  columns: [
    { key: 'code', aliases: ['ma_thuoc', 'ma'], type: 'code', required: true, pattern: /^[A-Za-z0-9.\-_]{2,50}$/ },
    { key: 'inn', aliases: ['hoat_chat', 'ten_hoat_chat', 'ten_chung'], type: 'text', required: true },
    { key: 'active_code', aliases: ['ma_hoat_chat', 'ma_dmdc'], type: 'text' },
    { key: 'brand', aliases: ['ten_thuoc', 'biet_duoc', 'ten_thuong_mai'], type: 'text', required: true },
    { key: 'strength', aliases: ['ham_luong', 'nong_do_ham_luong'], type: 'text', required: true },
    { key: 'form', aliases: ['dang_bao_che'], type: 'text', required: true },
    { key: 'route', aliases: ['duong_dung'], type: 'text', required: true },
    { key: 'registration', aliases: ['so_dang_ky', 'sdk'], type: 'text', required: true },
    { key: 'bhyt_rate', aliases: ['tyle_tt_bh', 'ty_le_tt', 'ty_le_thanh_toan'], type: 'percent' },
    { key: 'group', aliases: ['nhom_thuoc', 'nhom'], type: 'text' },
    { key: 'unit', aliases: ['don_vi_tinh', 'dvt'], type: 'text' },
    { key: 'price', aliases: ['don_gia', 'gia'], type: 'number' },
    { key: 'local_code', aliases: ['ma_noi_bo', 'ma_bv'], type: 'text' },
  ],
  properties: [
    prop('inn', 'string', 'Active ingredient (INN) / hoạt chất'),
    prop('activeCode', 'string', 'DMDC active-ingredient code (XML2 MA_THUOC) / mã hoạt chất'),
    prop('brand', 'string', 'Brand name / tên thuốc'),
    prop('strength', 'string', 'Strength / hàm lượng'),
    prop('form', 'string', 'Dosage form / dạng bào chế'),
    prop('route', 'string', 'Route / đường dùng'),
    prop('registration', 'string', 'Registration number / số đăng ký'),
    prop('bhytRate', 'decimal', 'BHYT payment rate, % / tỷ lệ thanh toán BHYT'),
    prop('group', 'string', 'Drug group / nhóm thuốc'),
    prop('unit', 'string', 'Unit / đơn vị tính'),
    prop('price', 'decimal', 'Price, VND / đơn giá'),
  ],
  build(rows) {
    const problems: RowProblem[] = [];
    const items = rows.map(({ row, values: v }) => {
      const properties: [string, string | number | boolean][] = [];
      const keys: [string, string][] = [
        ['inn', 'inn'],
        ['activeCode', 'active_code'],
        ['brand', 'brand'],
        ['strength', 'strength'],
        ['form', 'form'],
        ['route', 'route'],
        ['registration', 'registration'],
        ['bhytRate', 'bhyt_rate'],
        ['group', 'group'],
        ['unit', 'unit'],
        ['price', 'price'],
      ];
      for (const [pcode, key] of keys) {
        if (v[key] !== undefined) {
          properties.push([pcode, v[key] as string | number]);
        }
      }
      const item: ConceptDraft = {
        code: String(v.code),
        display: `${String(v.brand)} ${String(v.strength)}`,
        designations: [{ value: `${String(v.inn)} ${String(v.strength)}` }],
        properties,
      };
      return { row, item };
    });
    return {
      concepts: uniqueCodes(items, problems),
      maps: localMap(
        rows.map((r) => ({ ...r, values: { ...r.values, name: r.values.brand } })),
        MAP_URLS.localDrugs,
        'drug',
        'Thuốc nội bộ → danh mục',
        CATALOG_URLS.drugs,
      ),
      problems,
    };
  },
};

export { icd10Kind, servicesKind, suppliesKind, drugsKind };

/**
 * Catalog kinds, part two: lab indicators (QĐ 1227/2025), administrative units (two levels, QĐ 19/2025, and the
 * pre-reform units with the old→new mapping), and the small national lists.
 */
import type { ColumnSpec, ParsedRow, RowProblem } from './columns.ts';
import {
  CATALOG_URLS,
  type ConceptDraft,
  type KindSpec,
  MAP_URLS,
  type MapDraft,
  type MapElementDraft,
} from './kinds.ts';

const prop = (code: string, type: 'string' | 'code' | 'decimal' | 'boolean' | 'integer', description: string) => ({
  code,
  type,
  description,
});

// ---------------------------------------------------------------- lab indicators

export interface ReferenceRange {
  sex?: 'male' | 'female';
  /** Age band in years, from (inclusive) and to (exclusive). */
  ageFrom?: number;
  ageTo?: number;
  low?: number;
  high?: number;
  text?: string;
}

export const labKind: KindSpec = {
  kind: 'lab-indicators',
  url: CATALOG_URLS.labIndicators,
  idBase: 'moh-lab-indicator',
  title: 'Danh mục chỉ số xét nghiệm / Laboratory indicators',
  source: 'Quyết định 1227/QĐ-BYT (11/04/2025)',
  columns: [
    {
      key: 'code',
      aliases: ['ma_chi_so', 'ma', 'ma_byt'],
      type: 'code',
      required: true,
      pattern: /^\d{7}$/,
      hint: '7 chữ số / 7 digits',
    },
    { key: 'name', aliases: ['ten_chi_so', 'ten'], type: 'text', required: true },
    { key: 'name_en', aliases: ['ten_tieng_anh', 'ten_en'], type: 'text' },
    { key: 'unit', aliases: ['don_vi_do', 'don_vi'], type: 'text' },
    {
      key: 'loinc',
      aliases: ['ma_loinc', 'loinc_code'],
      type: 'code',
      pattern: /^\d{1,7}-\d$/,
      hint: 'LOINC, e.g. 2345-7',
    },
    { key: 'loinc_name', aliases: ['ten_loinc'], type: 'text' },
    { key: 'sex', aliases: ['gioi_tinh', 'gioi'], type: 'text' },
    { key: 'age_from', aliases: ['tuoi_tu'], type: 'number' },
    { key: 'age_to', aliases: ['tuoi_den'], type: 'number' },
    { key: 'low', aliases: ['gia_tri_thap', 'min', 'csbt_duoi'], type: 'number' },
    { key: 'high', aliases: ['gia_tri_cao', 'max', 'csbt_tren'], type: 'number' },
    { key: 'range_text', aliases: ['chi_so_binh_thuong', 'khoang_tham_chieu'], type: 'text' },
    { key: 'service', aliases: ['ma_dich_vu'], type: 'text' },
  ],
  properties: [
    prop('unit', 'string', 'Unit (UCUM where possible) / đơn vị đo'),
    prop('loinc', 'code', 'LOINC reference / mã LOINC tham chiếu'),
    prop('service', 'string', 'BHYT service code of the test / mã dịch vụ'),
    prop(
      'referenceRange',
      'string',
      'Reference range as JSON {sex, ageFrom, ageTo, low, high, text} / khoảng tham chiếu',
    ),
  ],
  build(rows) {
    const problems: RowProblem[] = [];
    const byCode = new Map<string, { row: number; concept: ConceptDraft; loinc?: string; unit?: string }>();
    const order: string[] = [];
    for (const { row, values: v } of rows) {
      const code = String(v.code);
      const sexText = v.sex === undefined ? '' : String(v.sex).toLowerCase();
      const sex = ['m', 'nam', 'male', '1'].includes(sexText)
        ? ('male' as const)
        : ['f', 'nu', 'nữ', 'female', '2'].includes(sexText)
          ? ('female' as const)
          : undefined;
      if (sexText !== '' && !sex) {
        problems.push({
          row,
          field: 'sex',
          reason: `giới tính không hợp lệ '${String(v.sex)}' / sex must be nam/nữ (M/F)`,
        });
        continue;
      }
      const low = v.low as number | undefined;
      const high = v.high as number | undefined;
      if (low !== undefined && high !== undefined && low > high) {
        problems.push({
          row,
          field: 'low',
          reason: `giá trị thấp ${low} lớn hơn giá trị cao ${high} / low above high`,
        });
        continue;
      }
      const range: ReferenceRange = {
        sex,
        ageFrom: v.age_from as number | undefined,
        ageTo: v.age_to as number | undefined,
        low,
        high,
        text: v.range_text === undefined ? undefined : String(v.range_text),
      };
      const hasRange = low !== undefined || high !== undefined || range.text !== undefined;
      let entry = byCode.get(code);
      if (!entry) {
        const properties: [string, string | number | boolean][] = [];
        if (v.unit !== undefined) {
          properties.push(['unit', String(v.unit)]);
        }
        if (v.loinc !== undefined) {
          properties.push(['loinc', String(v.loinc)]);
        }
        if (v.service !== undefined) {
          properties.push(['service', String(v.service)]);
        }
        entry = {
          row,
          concept: {
            code,
            display: String(v.name),
            designations: v.name_en === undefined ? undefined : [{ language: 'en', value: String(v.name_en) }],
            properties,
          },
          loinc: v.loinc === undefined ? undefined : String(v.loinc),
          unit: v.unit === undefined ? undefined : String(v.unit),
        };
        byCode.set(code, entry);
        order.push(code);
      } else if (String(v.name) !== entry.concept.display || (v.unit !== undefined && String(v.unit) !== entry.unit)) {
        problems.push({
          row,
          field: String(v.name) !== entry.concept.display ? 'name' : 'unit',
          reason: `mã '${code}' đã có ở dòng ${entry.row} với tên/đơn vị khác / same code, different name or unit`,
        });
        continue;
      } else if (!hasRange) {
        problems.push({ row, field: 'code', reason: `mã '${code}' trùng với dòng ${entry.row} / duplicate code` });
        continue;
      }
      if (hasRange) {
        const json = JSON.stringify(Object.fromEntries(Object.entries(range).filter(([, x]) => x !== undefined)));
        entry.concept.properties?.push(['referenceRange', json]);
      }
    }
    const concepts = order.map((c) => byCode.get(c)!.concept);
    const elements: MapElementDraft[] = order
      .filter((c) => byCode.get(c)!.loinc)
      .map((c) => ({ source: c, target: byCode.get(c)!.loinc!, equivalence: 'equivalent' as const }));
    const maps: MapDraft[] =
      elements.length === 0
        ? []
        : [
            {
              url: MAP_URLS.labToLoinc,
              idBase: 'moh-lab-indicator-to-loinc',
              title: 'Chỉ số xét nghiệm BYT → LOINC / MoH lab indicator → LOINC',
              sourceUrl: CATALOG_URLS.labIndicators,
              targetUrl: CATALOG_URLS.loinc,
              elements,
            },
          ];
    return { concepts, maps, problems };
  },
};

/** The reference range that applies to a patient (sex, age in years), most specific first; undefined if none. */
export function pickRange(ranges: readonly ReferenceRange[], sex?: string, age?: number): ReferenceRange | undefined {
  const fits = ranges.filter(
    (r) =>
      (!r.sex || r.sex === sex) &&
      (r.ageFrom === undefined || (age !== undefined && age >= r.ageFrom)) &&
      (r.ageTo === undefined || (age !== undefined && age < r.ageTo)),
  );
  const score = (r: ReferenceRange): number =>
    (r.sex ? 2 : 0) + (r.ageFrom !== undefined || r.ageTo !== undefined ? 1 : 0);
  return fits.sort((a, b) => score(b) - score(a))[0];
}

// ---------------------------------------------------------------- administrative units

const PROVINCE = /^\d{2}$/;
const COMMUNE = /^\d{5}$/;

export const adminUnitsKind: KindSpec = {
  kind: 'admin-units',
  url: CATALOG_URLS.adminUnits,
  idBase: 'admin-unit',
  title: 'Đơn vị hành chính (2 cấp) / Administrative units (two levels)',
  source: 'Quyết định 19/2025/QĐ-TTg (30/06/2025) và các nghị quyết sắp xếp đơn vị hành chính sau đó',
  columns: [
    {
      key: 'code',
      aliases: ['ma', 'ma_dvhc'],
      type: 'code',
      required: true,
      pattern: /^\d{2}(\d{3})?$/,
      hint: 'tỉnh 2 chữ số, xã 5 chữ số / 2-digit province, 5-digit commune',
    },
    { key: 'name', aliases: ['ten', 'ten_dvhc', 'full_name', 'fullname'], type: 'text', required: true },
    { key: 'province', aliases: ['ma_tinh', 'province_code', 'provincecode'], type: 'code', pattern: PROVINCE },
  ],
  properties: [
    prop('level', 'code', 'province | commune / cấp tỉnh | cấp xã'),
    prop('province', 'code', 'Province of a commune / mã tỉnh'),
  ],
  build(rows) {
    const problems: RowProblem[] = [];
    const provinces = new Set(
      rows.filter((r) => PROVINCE.test(String(r.values.code))).map((r) => String(r.values.code)),
    );
    const seen = new Map<string, number>();
    const concepts: ConceptDraft[] = [];
    for (const { row, values: v } of rows) {
      const code = String(v.code);
      if (seen.has(code)) {
        problems.push({ row, field: 'code', reason: `mã '${code}' trùng với dòng ${seen.get(code)} / duplicate code` });
        continue;
      }
      seen.set(code, row);
      if (COMMUNE.test(code)) {
        const p = v.province === undefined ? undefined : String(v.province);
        if (!p) {
          problems.push({ row, field: 'province', reason: 'đơn vị cấp xã cần mã tỉnh / a commune needs its province' });
          continue;
        }
        if (!provinces.has(p)) {
          problems.push({
            row,
            field: 'province',
            reason: `tỉnh '${p}' không có trong tệp / province not in the file`,
          });
          continue;
        }
        concepts.push({
          code,
          display: String(v.name),
          properties: [
            ['level', 'commune'],
            ['province', p],
          ],
        });
      } else {
        concepts.push({ code, display: String(v.name), properties: [['level', 'province']] });
      }
    }
    return { concepts, maps: [], problems };
  },
};

/** The pre-reform units (63 provinces, ~10,000 communes) and the old→new ConceptMap, from one mapping table. */
export const adminUnitsOldKind: KindSpec = {
  kind: 'admin-units-old',
  url: CATALOG_URLS.adminUnitsOld,
  idBase: 'admin-unit-2024',
  title: 'Đơn vị hành chính trước 01/07/2025 / Administrative units before the 2025 reform',
  source: 'Công văn 915/CTK-CSCL và 1027/CTK-CSCL (Cục Thống kê); NQ 1654–1687/NQ-UBTVQH15',
  columns: [
    { key: 'old_code', aliases: ['ma_cu'], type: 'code', required: true, pattern: /^\d{2}(\d{3})?$/ },
    { key: 'old_name', aliases: ['ten_cu'], type: 'text', required: true },
    { key: 'old_province', aliases: ['ma_tinh_cu'], type: 'code', pattern: PROVINCE },
    { key: 'new_code', aliases: ['ma_moi'], type: 'code', required: true, pattern: /^\d{2}(\d{3})?$/ },
    { key: 'new_name', aliases: ['ten_moi'], type: 'text' },
    { key: 'partial', aliases: ['mot_phan'], type: 'boolean' },
  ],
  properties: [
    prop('level', 'code', 'province | commune / cấp tỉnh | cấp xã'),
    prop('province', 'code', 'Province of a commune / mã tỉnh'),
  ],
  build(rows) {
    const problems: RowProblem[] = [];
    const concepts = new Map<string, ConceptDraft>();
    const targets = new Map<string, { row: number; target: string; name?: string }[]>();
    for (const { row, values: v } of rows) {
      const oldCode = String(v.old_code);
      const newCode = String(v.new_code);
      if (oldCode.length !== newCode.length) {
        problems.push({
          row,
          field: 'new_code',
          reason: 'mã cũ và mã mới phải cùng cấp / old and new codes of different levels',
        });
        continue;
      }
      if (!concepts.has(oldCode)) {
        const properties: [string, string][] = [['level', oldCode.length === 2 ? 'province' : 'commune']];
        if (v.old_province !== undefined) {
          properties.push(['province', String(v.old_province)]);
        }
        concepts.set(oldCode, { code: oldCode, display: String(v.old_name), properties });
      }
      const list = targets.get(oldCode) ?? [];
      if (!list.some((t) => t.target === newCode)) {
        list.push({ row, target: newCode, name: v.new_name === undefined ? undefined : String(v.new_name) });
      }
      targets.set(oldCode, list);
    }
    const elements: MapElementDraft[] = [];
    for (const [source, list] of targets) {
      for (const t of list) {
        elements.push({
          source,
          target: t.target,
          targetDisplay: t.name,
          // one new unit holds the whole old unit (wider); an old unit split over several new ones: inexact
          equivalence: list.length === 1 ? 'wider' : 'inexact',
          ...(list.length === 1
            ? {}
            : { comment: 'Một phần của đơn vị cũ thuộc đơn vị mới này / part of the old unit is in this new unit' }),
        });
      }
    }
    return {
      concepts: [...concepts.values()],
      maps: [
        {
          url: MAP_URLS.adminUnitsOldToNew,
          idBase: 'admin-unit-2024-to-2025',
          title: 'Đơn vị hành chính cũ → mới (01/07/2025) / Administrative units old → new',
          sourceUrl: CATALOG_URLS.adminUnitsOld,
          targetUrl: CATALOG_URLS.adminUnits,
          elements,
          timeless: true,
        },
      ],
      problems,
    };
  },
};

// ---------------------------------------------------------------- small national lists

function listKind(
  kind: string,
  url: string,
  idBase: string,
  title: string,
  source: string,
  pattern: RegExp,
  hint: string,
): KindSpec {
  const columns: ColumnSpec[] = [
    { key: 'code', aliases: ['ma'], type: 'code', required: true, pattern, hint },
    { key: 'name', aliases: ['ten', 'ten_goi', 'name_vi', 'ten_tieng_viet'], type: 'text', required: true },
    { key: 'name_en', aliases: ['ten_tieng_anh', 'ten_en'], type: 'text' },
  ];
  return {
    kind,
    url,
    idBase,
    title,
    source,
    columns,
    properties: [],
    build(rows: { row: number; values: ParsedRow }[]) {
      const problems: RowProblem[] = [];
      const seen = new Map<string, number>();
      const concepts: ConceptDraft[] = [];
      for (const { row, values: v } of rows) {
        const code = String(v.code);
        if (seen.has(code)) {
          problems.push({
            row,
            field: 'code',
            reason: `mã '${code}' trùng với dòng ${seen.get(code)} / duplicate code`,
          });
          continue;
        }
        seen.set(code, row);
        concepts.push({
          code,
          display: String(v.name),
          designations: v.name_en === undefined ? undefined : [{ language: 'en', value: String(v.name_en) }],
        });
      }
      return { concepts, maps: [], problems };
    },
  };
}

export const listKinds: KindSpec[] = [
  listKind(
    'ethnicities',
    CATALOG_URLS.ethnicities,
    'ethnicity',
    'Danh mục dân tộc / Ethnic groups',
    'Danh mục các dân tộc Việt Nam (Tổng cục Thống kê, QĐ 121-TCTK/PPCĐ)',
    /^\d{2}$/,
    '2 chữ số / 2 digits',
  ),
  listKind(
    'occupations',
    CATALOG_URLS.occupations,
    'occupation',
    'Danh mục nghề nghiệp / Occupations',
    'Danh mục nghề nghiệp (QĐ 34/2020/QĐ-TTg)',
    /^[0-9A-Za-z.]{1,10}$/,
    'mã nghề / occupation code',
  ),
  listKind(
    'nationalities',
    CATALOG_URLS.nationalities,
    'nationality',
    'Danh mục quốc tịch / Nationalities',
    'ISO 3166-1',
    /^[A-Z0-9]{2,3}$/,
    'ISO 3166-1',
  ),
  listKind(
    'departments',
    CATALOG_URLS.departments,
    'department-type',
    'Danh mục mã khoa / Department codes',
    'Quyết định 1804/QĐ-BYT (2026)',
    /^K(0[1-9]|[1-5]\d|60|99)$/,
    'K01–K60, K99',
  ),
  listKind(
    'bhyt-groups',
    CATALOG_URLS.bhytGroups,
    'bhyt-card-type',
    'Nhóm đối tượng tham gia BHYT / BHYT beneficiary groups',
    'Luật BHYT; NĐ 188/2025/NĐ-CP',
    /^[A-Z]{2}$/,
    '2 chữ cái / 2 letters',
  ),
  listKind(
    'benefit-levels',
    CATALOG_URLS.benefitLevels,
    'bhyt-benefit-level',
    'Mức hưởng BHYT / BHYT benefit levels',
    'NĐ 188/2025/NĐ-CP',
    /^\d{1,4}$/,
    '1–4 chữ số / 1–4 digits',
  ),
  listKind(
    'patient-categories',
    CATALOG_URLS.patientCategories,
    'ma-doituong-kcb',
    'Đối tượng khám chữa bệnh (MA_DOITUONG_KCB) / Patient categories',
    'QĐ 3276/QĐ-BYT (2025)',
    /^\d{1,2}(\.\d{1,2})?$/,
    'ví dụ / e.g. 1.11',
  ),
  listKind(
    'visit-types',
    CATALOG_URLS.visitTypes,
    'ma-loai-kcb',
    'Hình thức khám chữa bệnh (MA_LOAI_KCB) / Visit types',
    'QĐ 130/QĐ-BYT, sửa đổi bởi QĐ 4750 và 3176',
    /^\d{2}$/,
    '2 chữ số / 2 digits',
  ),
];

/**
 * Vietnamese administrative units in the two-level scheme in force since 01/07/2025 (34 provinces, communes/wards;
 * no districts), read from the shared reference data when it is present.
 *
 * Source: shared/data/vn/admin-units/thanglequoc/provinces-wards.vn-only.json (thanglequoc/vietnamese-provinces-database,
 * MIT, dataset 2026-07-25; codes of Decision 19/2025/QĐ-TTg). The built-in fallback is a small excerpt of the same
 * dataset (all 34 provinces, two wards each) so that the server starts on a machine without ../shared.
 */

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface AdminWard {
  /** 5-digit commune code, e.g. '00004'. */
  code: string;
  /** Full name with its unit type, e.g. 'Phường Ba Đình', 'Xã Bình Lư', 'Đặc khu Phú Quốc'. */
  name: string;
  provinceCode: string;
}

export interface AdminProvince {
  /** 2-digit province code, e.g. '01'. */
  code: string;
  /** Full name with its unit type, e.g. 'Thành phố Hà Nội', 'Tỉnh Cao Bằng'. */
  name: string;
  wards: AdminWard[];
}

export interface AdminUnits {
  /** Where the list came from: the shared dataset or the built-in excerpt. */
  source: 'shared' | 'builtin';
  provinces: AdminProvince[];
}

/** Path of the dataset inside the shared folder. */
export const ADMIN_UNITS_FILE = join('data', 'vn', 'admin-units', 'thanglequoc', 'provinces-wards.vn-only.json');

/**
 * Built-in excerpt: `province code|province name|ward code ward name;…`, two real wards per province, taken from the
 * same dataset (Decision 19/2025/QĐ-TTg codes).
 */
const BUILTIN_TABLE = `
01|Thành phố Hà Nội|00004 Phường Ba Đình;00070 Phường Hoàn Kiếm
04|Tỉnh Cao Bằng|01273 Phường Thục Phán;01279 Phường Nùng Trí Cao
08|Tỉnh Tuyên Quang|00691 Phường Hà Giang 2;00694 Phường Hà Giang 1
11|Tỉnh Điện Biên|03127 Phường Điện Biên Phủ;03151 Phường Mường Lay
12|Tỉnh Lai Châu|03388 Phường Đoàn Kết;03390 Xã Bình Lư
14|Tỉnh Sơn La|03646 Phường Tô Hiệu;03664 Phường Chiềng An
15|Tỉnh Lào Cai|02647 Phường Lào Cai;02671 Phường Cam Đường
19|Tỉnh Thái Nguyên|01840 Phường Đức Xuân;01843 Phường Bắc Kạn
20|Tỉnh Lạng Sơn|05977 Phường Đông Kinh;05983 Phường Lương Văn Tri
22|Tỉnh Quảng Ninh|06652 Phường Hà Tu;06658 Phường Cao Xanh
24|Tỉnh Bắc Ninh|07210 Phường Bắc Giang;07228 Phường Đa Mai
25|Tỉnh Phú Thọ|05128 Xã Tân Lạc;04792 Phường Tân Hoà
31|Thành phố Hải Phòng|11311 Phường Hồng Bàng;10507 Phường Thành Đông
33|Tỉnh Hưng Yên|12619 Xã Diên Hà;11953 Phường Phố Hiến
37|Tỉnh Ninh Bình|13285 Phường Phủ Lý;13291 Phường Phù Vân
38|Tỉnh Thanh Hoá|14758 Phường Hàm Rồng;14797 Phường Hạc Thành
40|Tỉnh Nghệ An|17611 Xã Vân Tụ;16681 Phường Thành Vinh
42|Tỉnh Hà Tĩnh|18073 Phường Thành Sen;18100 Phường Trần Phú
44|Tỉnh Quảng Trị|18859 Phường Đồng Thuận;18871 Phường Đồng Sơn
46|Thành phố Huế|19753 Phường Phú Xuân;19774 Phường Kim Long
48|Thành phố Đà Nẵng|20242 Phường Hải Châu;20194 Phường Hải Vân
51|Tỉnh Quảng Ngãi|23293 Phường Kon Tum;21025 Phường Cẩm Thành
52|Tỉnh Gia Lai|21553 Phường Quy Nhơn Bắc;21583 Phường Quy Nhơn
56|Tỉnh Khánh Hoà|22333 Phường Bắc Nha Trang;22366 Phường Nha Trang
66|Tỉnh Đắk Lắk|22015 Phường Tuy Hoà;22045 Phường Bình Kiến
68|Tỉnh Lâm Đồng|22918 Phường Mũi Né;22924 Phường Phú Thuỷ
75|Thành phố Đồng Nai|25195 Phường Bình Phước;25210 Phường Đồng Xoài
79|Thành phố Hồ Chí Minh|26740 Phường Sài Gòn;26743 Phường Bến Thành
80|Tỉnh Tây Ninh|25459 Phường Tân Ninh;25480 Phường Bình Minh
82|Tỉnh Đồng Tháp|28249 Phường Đạo Thạnh;28261 Phường Mỹ Tho
86|Tỉnh Vĩnh Long|28756 Phường Phú Khương;28777 Phường An Hội
91|Tỉnh An Giang|30292 Phường Bình Đức;30301 Phường Mỹ Thới
92|Thành phố Cần Thơ|31135 Phường Ninh Kiều;31120 Phường Cái Khế
96|Tỉnh Cà Mau|31825 Phường Bạc Liêu;31834 Phường Vĩnh Trạch
`;

const BUILTIN_ROWS: [code: string, name: string, wards: string][] = BUILTIN_TABLE.trim()
  .split('\n')
  .map((line) => line.split('|') as [string, string, string]);

/** Codes of the 34 provinces after NQ 202/2025/QH15 (Decision 19/2025/QĐ-TTg). */
export const PROVINCE_CODES_2025: readonly string[] = Object.freeze(BUILTIN_ROWS.map(([code]) => code));

/** The fallback list: the 34 provinces with two real wards each. */
export function builtinAdminUnits(): AdminUnits {
  return {
    source: 'builtin',
    provinces: BUILTIN_ROWS.map(([code, name, wards]) => ({
      code,
      name,
      wards: wards.split(';').map((ward) => ({ code: ward.slice(0, 5), name: ward.slice(6), provinceCode: code })),
    })),
  };
}

/** The shared folder next to the repository root (`<repo>/../shared`), whether it exists or not. */
export function defaultSharedDir(): string {
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
  return join(repoRoot, '..', 'shared');
}

interface RawWard {
  Code?: unknown;
  FullName?: unknown;
}

interface RawProvince {
  Code?: unknown;
  FullName?: unknown;
  Wards?: unknown;
}

function parseProvinces(raw: unknown): AdminProvince[] {
  if (!Array.isArray(raw)) {
    throw new Error('admin units: expected a JSON array of provinces');
  }
  return raw.map((p: RawProvince) => {
    if (typeof p.Code !== 'string' || typeof p.FullName !== 'string' || !Array.isArray(p.Wards)) {
      throw new Error('admin units: province without Code, FullName or Wards');
    }
    const code = p.Code;
    const wards = (p.Wards as RawWard[]).map((w) => {
      if (typeof w.Code !== 'string' || typeof w.FullName !== 'string') {
        throw new Error(`admin units: ward without Code or FullName in province ${code}`);
      }
      return { code: w.Code, name: w.FullName, provinceCode: code };
    });
    return { code, name: p.FullName, wards };
  });
}

/**
 * Reads the two-level units from `<sharedDir>/data/vn/admin-units/…`; returns the built-in excerpt when the file is
 * absent. A file that exists but cannot be parsed is an error (it is not silently replaced).
 */
export function loadAdminUnits(sharedDir: string): AdminUnits {
  const file = join(sharedDir, ADMIN_UNITS_FILE);
  if (!existsSync(file)) {
    return builtinAdminUnits();
  }
  const provinces = parseProvinces(JSON.parse(readFileSync(file, 'utf8')));
  if (provinces.length === 0) {
    throw new Error(`admin units: no provinces in ${file}`);
  }
  return { source: 'shared', provinces };
}

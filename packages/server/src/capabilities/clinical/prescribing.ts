/**
 * Prescription checks (M7, VIETNAM.md R21), pure: allergy, duplicate therapy (one active ingredient twice),
 * drug–drug interactions (data/interactions.csv), day limits (30 days; 90 for the chronic list) and the fields a
 * child under 72 months needs (weight, accompanying adult). Allergy, duplicate and interaction findings are
 * warnings the doctor may accept (`acknowledge`); the legal limits are errors no acknowledgement lifts.
 */
import { fold } from '@sen/vn';
import type { ClinicalData, InteractionSeverity } from './data.ts';

export const CHECK_SYSTEM = 'https://sen.health.vn/fhir/CodeSystem/prescription-check';

export const DAY_LIMIT = 30;
export const CHRONIC_DAY_LIMIT = 90;
export const CHILD_MONTHS = 72;

export interface PrescribedDrug {
  /** Index of the item in the request. */
  index: number;
  code: string;
  name: string;
  /** Active ingredients (INN), e.g. ['Amoxicilin', 'Acid clavulanic']. */
  ingredients: string[];
  activeCode?: string;
  days: number;
}

export interface KnownAllergy {
  /** Drug catalog codes and other codes of the substance. */
  codes: string[];
  /** The substance as written (code text and displays). */
  texts: string[];
}

export interface Finding {
  code: string;
  severity: 'error' | 'warning';
  /** The item it is about (first one, for pairs). */
  index?: number;
  vi: string;
  en: string;
  interaction?: InteractionSeverity;
}

/** The ingredients of a catalog INN line ("Amoxicilin + Acid clavulanic"). */
export function ingredientsOf(inn: string): string[] {
  return inn
    .replace(/\(.*\)/g, '')
    .split('+')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function allergyMatches(drug: PrescribedDrug, allergy: KnownAllergy): boolean {
  if (allergy.codes.includes(drug.code) || (drug.activeCode && allergy.codes.includes(drug.activeCode))) {
    return true;
  }
  const texts = allergy.texts.map(fold).filter((t) => t.length >= 3);
  return drug.ingredients.some((i) => {
    const ing = fold(i);
    return texts.some((t) => t === ing || t.includes(ing) || ing.includes(t));
  });
}

export function checkAllergies(drugs: readonly PrescribedDrug[], allergies: readonly KnownAllergy[]): Finding[] {
  const out: Finding[] = [];
  for (const d of drugs) {
    if (allergies.some((a) => allergyMatches(d, a))) {
      out.push({
        code: `allergy:${d.code}`,
        severity: 'warning',
        index: d.index,
        vi: `Người bệnh có tiền sử dị ứng với ${d.ingredients.join(' + ')} (${d.name})`,
        en: `The patient is recorded as allergic to ${d.ingredients.join(' + ')} (${d.name})`,
      });
    }
  }
  return out;
}

export function checkDuplicates(drugs: readonly PrescribedDrug[]): Finding[] {
  const out: Finding[] = [];
  const seen = new Map<string, PrescribedDrug>();
  const reported = new Set<string>();
  for (const d of drugs) {
    for (const i of d.ingredients) {
      const key = fold(i);
      const first = seen.get(key);
      if (first && first.index !== d.index && !reported.has(key)) {
        reported.add(key);
        out.push({
          code: `duplicate:${key.replace(/\s+/g, '-')}`,
          severity: 'warning',
          index: d.index,
          vi: `Trùng hoạt chất ${i}: ${first.name} và ${d.name}`,
          en: `Duplicate therapy, ${i} twice: ${first.name} and ${d.name}`,
        });
      } else if (!first) {
        seen.set(key, d);
      }
    }
  }
  return out;
}

export function checkInteractions(drugs: readonly PrescribedDrug[], data: ClinicalData): Finding[] {
  const out: Finding[] = [];
  const has = (d: PrescribedDrug, ing: string): boolean => d.ingredients.some((i) => fold(i) === ing);
  for (const rule of data.interactions) {
    const a = drugs.find((d) => has(d, rule.a));
    const b = drugs.find((d) => has(d, rule.b) && d !== a);
    if (a && b) {
      const [x, y] = [a.code, b.code].sort();
      out.push({
        code: `interaction:${x}+${y}`,
        severity: 'warning',
        index: Math.max(a.index, b.index),
        interaction: rule.severity,
        vi: `Tương tác thuốc (${SEVERITY_VI[rule.severity]}) giữa ${a.name} và ${b.name}: ${rule.vi}`,
        en: `Drug interaction (${rule.severity}) between ${a.name} and ${b.name}: ${rule.en}`,
      });
    }
  }
  return out;
}

const SEVERITY_VI: Record<InteractionSeverity, string> = {
  moderate: 'trung bình',
  major: 'nghiêm trọng',
  contraindicated: 'chống chỉ định phối hợp',
};

export function checkDayLimits(drugs: readonly PrescribedDrug[], chronic: boolean): Finding[] {
  const limit = chronic ? CHRONIC_DAY_LIMIT : DAY_LIMIT;
  return drugs
    .filter((d) => d.days > limit)
    .map((d) => ({
      code: `day-limit:${d.code}`,
      severity: 'error' as const,
      index: d.index,
      vi: `${d.name}: ${d.days} ngày vượt quá giới hạn ${limit} ngày${chronic ? ' (bệnh mạn tính)' : ' (bệnh không thuộc danh mục mạn tính được kê 90 ngày)'}`,
      en: `${d.name}: ${d.days} days is over the ${limit}-day limit${chronic ? ' (chronic disease)' : ''}`,
    }));
}

/** Whole months of age on a date (YYYY-MM-DD). */
export function ageInMonths(birthDate: string, on: string): number {
  const [by, bm, bd] = birthDate.split('-').map(Number);
  const [y, m, d] = on.split('-').map(Number);
  let months = (y - by) * 12 + (m - (bm || 1));
  if ((d || 1) < (bd || 1)) {
    months -= 1;
  }
  return months;
}

export function checkChild(ageMonths: number | undefined, child: { weight?: number; guardian?: string }): Finding[] {
  if (ageMonths === undefined || ageMonths >= CHILD_MONTHS) {
    return [];
  }
  const out: Finding[] = [];
  if (!(child.weight && child.weight > 0)) {
    out.push({
      code: 'child-weight',
      severity: 'error',
      vi: `Trẻ dưới 72 tháng tuổi (${ageMonths} tháng): cần ghi cân nặng`,
      en: `A child under 72 months (${ageMonths} months): the weight is required`,
    });
  }
  if (!child.guardian?.trim()) {
    out.push({
      code: 'child-guardian',
      severity: 'error',
      vi: `Trẻ dưới 72 tháng tuổi (${ageMonths} tháng): cần ghi họ tên người đưa trẻ đến khám (cha, mẹ hoặc người giám hộ)`,
      en: `A child under 72 months (${ageMonths} months): the accompanying adult (parent or guardian) is required`,
    });
  }
  return out;
}

/** dosePerTime × timesPerDay × days, without binary floating-point noise (0.1 × 3 = 0.3). */
export function quantityOf(dosePerTime: number, timesPerDay: number, days: number): number {
  return Math.round(dosePerTime * timesPerDay * days * 1000) / 1000;
}

/** The findings that still block: every error, and the warnings not acknowledged. */
export function blocking(findings: readonly Finding[], acknowledged: readonly string[]): Finding[] {
  return findings.filter((f) => f.severity === 'error' || !acknowledged.includes(f.code));
}

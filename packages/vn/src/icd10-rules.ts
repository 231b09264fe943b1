/**
 * ICD-10 coding rules (TT 06/2026/TT-BYT list, columns 24–29; VIETNAM.md R19), as one pure check that the encounter,
 * discharge and claims code call before a diagnosis list is saved or sent:
 *
 * - a "never use" code (col. 26: a more specific code exists) is refused everywhere;
 * - a "cause of death only" code (col. 27) is refused outside the cause of death;
 * - a "not a main diagnosis" code (col. 24) is refused as the main diagnosis;
 * - a "discouraged as main" code (col. 25) as main diagnosis is a warning;
 * - a female-only / male-only code (col. 28/29) on a patient of the other sex is a warning (the record may still be
 *   right, e.g. an intersex patient; the coder confirms);
 * - a claim (XML1 `MA_BENH_CHINH`, `MA_BENH_KT`) has exactly one main and at most 12 secondary diagnoses;
 * - an unknown code (not in the catalog version in force on the episode's end date) is refused.
 *
 * The flags come from the catalog through `flags(code)` so this module stays free of I/O. Messages are Vietnamese
 * first, then English.
 */

/** The flags of one ICD-10 code in the national list. */
export interface Icd10Flags {
  /** Col. 24: may not be the main diagnosis. */
  notMain?: boolean;
  /** Col. 25: should not be the main diagnosis. */
  discouragedMain?: boolean;
  /** Col. 26: never use (code a more specific 4–5 character code). */
  neverUse?: boolean;
  /** Col. 27: only as the cause of death. */
  causeOfDeathOnly?: boolean;
  /** Col. 28: female patients only. */
  femaleOnly?: boolean;
  /** Col. 29: male patients only. */
  maleOnly?: boolean;
}

export type DiagnosisRole = 'main' | 'secondary' | 'cause-of-death';

export interface DiagnosisEntry {
  code: string;
  role: DiagnosisRole;
}

export const CODING_RULES = {
  unknownCode: 'unknown-code',
  neverUse: 'never-use',
  causeOfDeathOnly: 'cause-of-death-only',
  notMain: 'not-main',
  discouragedMain: 'discouraged-main',
  sexMismatch: 'sex-mismatch',
  oneMain: 'one-main',
  maxSecondary: 'max-secondary',
  duplicate: 'duplicate',
} as const;

export type CodingRule = (typeof CODING_RULES)[keyof typeof CODING_RULES];

export interface CodingIssue {
  severity: 'error' | 'warning';
  rule: CodingRule;
  /** The code concerned, when the issue is about one entry. */
  code?: string;
  /** Position of the entry in the input list. */
  index?: number;
  vi: string;
  en: string;
}

export interface CodingCheckInput {
  diagnoses: readonly DiagnosisEntry[];
  /** The patient's administrative sex (FHIR Patient.gender); sex checks are skipped when unknown. */
  sex?: 'male' | 'female' | 'other' | 'unknown';
  /** `claim` adds the XML1 limits (exactly one main, at most 12 secondary). */
  purpose?: 'record' | 'claim';
  /** The flags of a code in the catalog version in force; undefined when the code is not in it. */
  flags(code: string): Icd10Flags | undefined;
}

export interface CodingCheckResult {
  /** No errors (warnings allowed). */
  ok: boolean;
  issues: CodingIssue[];
}

/** At most this many secondary diagnoses in a claim (`MA_BENH_KT`, QĐ 130/4750). */
export const MAX_SECONDARY_DIAGNOSES = 12;

/** Runs every rule over a diagnosis list; see the module comment for the rules. */
export function checkDiagnoses(input: CodingCheckInput): CodingCheckResult {
  const issues: CodingIssue[] = [];
  const seen = new Set<string>();
  const push = (issue: CodingIssue): void => void issues.push(issue);
  input.diagnoses.forEach((d, index) => {
    const code = d.code.trim();
    const key = `${d.role}|${code.toUpperCase()}`;
    if (seen.has(key)) {
      push({
        severity: 'warning',
        rule: CODING_RULES.duplicate,
        code,
        index,
        vi: `Mã ${code} được nhập hai lần`,
        en: `Code ${code} is entered twice`,
      });
    }
    seen.add(key);
    const f = input.flags(code);
    if (!f) {
      push({
        severity: 'error',
        rule: CODING_RULES.unknownCode,
        code,
        index,
        vi: `Mã ${code} không có trong danh mục ICD-10 hiện hành`,
        en: `Code ${code} is not in the ICD-10 catalog in force`,
      });
      return;
    }
    if (f.neverUse) {
      push({
        severity: 'error',
        rule: CODING_RULES.neverUse,
        code,
        index,
        vi: `Không được dùng mã ${code}: hãy chọn mã chi tiết hơn`,
        en: `Code ${code} may not be used: choose a more specific code`,
      });
    }
    if (f.causeOfDeathOnly && d.role !== 'cause-of-death') {
      push({
        severity: 'error',
        rule: CODING_RULES.causeOfDeathOnly,
        code,
        index,
        vi: `Mã ${code} chỉ dùng để ghi nguyên nhân tử vong`,
        en: `Code ${code} is for the cause of death only`,
      });
    }
    if (d.role === 'main' && f.notMain) {
      push({
        severity: 'error',
        rule: CODING_RULES.notMain,
        code,
        index,
        vi: `Mã ${code} không được dùng làm bệnh chính`,
        en: `Code ${code} may not be the main diagnosis`,
      });
    } else if (d.role === 'main' && f.discouragedMain) {
      push({
        severity: 'warning',
        rule: CODING_RULES.discouragedMain,
        code,
        index,
        vi: `Không khuyến khích dùng mã ${code} làm bệnh chính`,
        en: `Code ${code} is discouraged as the main diagnosis`,
      });
    }
    if ((f.femaleOnly && input.sex === 'male') || (f.maleOnly && input.sex === 'female')) {
      const only = f.femaleOnly ? { vi: 'nữ', en: 'female' } : { vi: 'nam', en: 'male' };
      push({
        severity: 'warning',
        rule: CODING_RULES.sexMismatch,
        code,
        index,
        vi: `Mã ${code} chỉ dùng cho người bệnh ${only.vi}`,
        en: `Code ${code} is for ${only.en} patients only`,
      });
    }
  });
  const mains = input.diagnoses.filter((d) => d.role === 'main').length;
  const secondary = input.diagnoses.filter((d) => d.role === 'secondary').length;
  if (mains > 1) {
    push({
      severity: 'error',
      rule: CODING_RULES.oneMain,
      vi: `Chỉ được có một bệnh chính (đang có ${mains})`,
      en: `Only one main diagnosis is allowed (${mains} given)`,
    });
  } else if (mains === 0 && input.purpose === 'claim') {
    push({
      severity: 'error',
      rule: CODING_RULES.oneMain,
      vi: 'Hồ sơ thanh toán phải có một bệnh chính',
      en: 'A claim needs one main diagnosis',
    });
  }
  if (input.purpose === 'claim' && secondary > MAX_SECONDARY_DIAGNOSES) {
    push({
      severity: 'error',
      rule: CODING_RULES.maxSecondary,
      vi: `Hồ sơ thanh toán có tối đa ${MAX_SECONDARY_DIAGNOSES} bệnh kèm theo (đang có ${secondary})`,
      en: `A claim has at most ${MAX_SECONDARY_DIAGNOSES} secondary diagnoses (${secondary} given)`,
    });
  }
  return { ok: !issues.some((i) => i.severity === 'error'), issues };
}

/**
 * The e-health-book payload of one closed episode as the XML tables of Decision 130/QĐ-BYT (patched by 4750/3176):
 * XML1 summary (TONG_HOP), XML2 drugs, XML3 services, XML4 paraclinical results, XML8 record summary — the tables
 * Decision 2733/QĐ-BYT App. 02 maps the book's fields to (../shared/VIETNAM.md §5: QĐ 31/2026 Art 2(3) content;
 * §2: field names and rules). A pure function of the episode's resources, so the same data always gives the same
 * tables (the content hash that keeps a resend from being queued twice rests on that).
 *
 * What is followed: the field names and order of VIETNAM.md §2 (XML8's from public HIS code, [S]); times
 * `yyyymmddHHMM` and dates `yyyymmdd` in Vietnam time (UTC+7); `MA_LK` joins the tables and is the Encounter id
 * (≤100 characters, immutable); `STT` from 1; codes are strings (`MA_LOAI_KCB` "01"); `GIOI_TINH` 1/2/3; multiple
 * values joined with ";" (`MA_BENH_KT` at most 12 codes); XML4 `MA_CHI_SO` is the result's LOINC or local code.
 * QĐ 31 content without an XML column of its own goes where App. 02 puts the record summary: allergies, chronic
 * diseases and vaccinations are lines of XML8 `QT_BENHLY` (history), the advice and follow-up date `GHI_CHU`.
 *
 * Left out (empty or absent, see the report): money columns (DON_GIA, THANH_TIEN_*, T_* totals, MUC_HUONG, T_BHTT…:
 * the claims XML of billing computes them), codes Sen does not keep yet (MA_DANTOC, MA_QUOCTICH, MA_NGHE_NGHIEP,
 * MATINH/MAXA_CU_TRU, NHOM_MAU, MA_TAI_NAN, MA_NOI_DI/DEN, YHCT), inpatient-only columns (NGAY_VAO_NOI_TRU,
 * MA_GIUONG, births in XML8) and MA_DOITUONG_KCB beyond "1" (BHYT) / "2" (emergency) — QĐ 3276/2025's list is not
 * in VIETNAM.md.
 */
import { referenceId } from '@sen/fhir';
import type {
  AllergyIntolerance,
  ClinicalImpression,
  CodeableConcept,
  Condition,
  Coverage,
  DiagnosticReport,
  Encounter,
  HumanName,
  Immunization,
  MedicationDispense,
  MedicationRequest,
  Observation,
  Organization,
  Patient,
  Practitioner,
  Reference,
  ServiceRequest,
} from '@medplum/fhirtypes';
import { SEN_SID, VN_CORE_SID } from '@sen/vn';
import { BHYT_EXT } from '../coverage/service.ts';

/** One row of a table: its columns in the order of the Decision, as text (empty when unknown). */
export type Row = [string, string][];

export interface EhbTables {
  XML1: Row;
  XML2: Row[];
  XML3: Row[];
  XML4: Row[];
  XML8: Row;
}

export const TABLE_NAMES = ['XML1', 'XML2', 'XML3', 'XML4', 'XML8'] as const;
export type TableName = (typeof TABLE_NAMES)[number];

/** Everything the builder reads about one episode (gathered through the gate by feed.ts). */
export interface EpisodeData {
  encounter: Encounter;
  patient: Patient;
  coverage?: Coverage;
  facility?: Organization;
  department?: Organization;
  /** The episode's diagnoses (Condition?encounter=). */
  diagnoses: Condition[];
  /** The patient's other conditions (problem list: chronic diseases). */
  conditions: Condition[];
  allergies: AllergyIntolerance[];
  immunizations: Immunization[];
  services: ServiceRequest[];
  medications: MedicationRequest[];
  dispenses: MedicationDispense[];
  observations: Observation[];
  reports: DiagnosticReport[];
  impressions: ClinicalImpression[];
  practitioners: ReadonlyMap<string, Practitioner>;
}

const SD = 'https://sen.health.vn/fhir/StructureDefinition';
const ICD10 = /icd-?10/i;
const LOINC = 'http://loinc.org';
const VN_OFFSET_MS = 7 * 60 * 60 * 1000;
const MAX_SECONDARY = 12;

/** `yyyymmddHHMM` in Vietnam time (UTC+7, no daylight saving) of an instant; a date alone gives 0000. */
export function xmlTime(iso: string | undefined): string {
  if (!iso) {
    return '';
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) {
    return `${iso.replaceAll('-', '')}0000`;
  }
  const t = Date.parse(iso);
  if (Number.isNaN(t)) {
    return '';
  }
  const d = new Date(t + VN_OFFSET_MS).toISOString();
  return `${d.slice(0, 4)}${d.slice(5, 7)}${d.slice(8, 10)}${d.slice(11, 13)}${d.slice(14, 16)}`;
}

/** `yyyymmdd` of a date or instant (Vietnam day). */
export function xmlDate(iso: string | undefined): string {
  return xmlTime(iso).slice(0, 8);
}

function nameOf(names: HumanName[] | undefined): string {
  const n = names?.find((x) => x.use === 'official') ?? names?.[0];
  if (!n) {
    return '';
  }
  return (n.text ?? [n.family, ...(n.given ?? [])].filter(Boolean).join(' ')).trim();
}

function currentIdentifier(patient: Patient, system: string): string {
  const now = new Date().toISOString().slice(0, 10);
  return (
    patient.identifier?.find(
      (i) => i.system === system && i.use !== 'old' && !(i.period?.end && i.period.end.slice(0, 10) < now),
    )?.value ?? ''
  );
}

function ext(e: { extension?: { url: string }[] } | undefined, url: string): Record<string, unknown> | undefined {
  return e?.extension?.find((x) => x.url === url) as Record<string, unknown> | undefined;
}

function icdOf(cc: CodeableConcept | undefined): { code: string; display: string } | undefined {
  const c = cc?.coding?.find((x) => x.system && ICD10.test(x.system) && x.code) ?? cc?.coding?.find((x) => x.code);
  return c?.code ? { code: c.code, display: c.display ?? cc?.text ?? c.code } : undefined;
}

function codeOf(cc: CodeableConcept | undefined): { code: string; display: string } {
  const c = cc?.coding?.find((x) => x.code);
  return { code: c?.code ?? '', display: c?.display ?? cc?.text ?? c?.code ?? '' };
}

/** Decimal text with "." and no exponent or float noise (values come from JSON numbers). */
function num(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) {
    return '';
  }
  return String(v);
}

function practitionerCode(data: EpisodeData, ref: Reference | undefined): string {
  const id = referenceId(ref, 'Practitioner');
  if (!id) {
    return '';
  }
  const p = data.practitioners.get(id);
  // MA_BAC_SI is the practising-certificate number (CCHN) when the directory has it
  return p?.identifier?.find((i) => i.system === VN_CORE_SID.cchn)?.value ?? p?.identifier?.[0]?.value ?? id;
}

function ordered(data: EpisodeData): { main?: Condition; secondary: Condition[] } {
  const byId = new Map(data.diagnoses.map((c) => [c.id, c]));
  const ranked = [...(data.encounter.diagnosis ?? [])]
    .sort((a, b) => (a.rank ?? 99) - (b.rank ?? 99))
    .map((d) => byId.get(referenceId(d.condition, 'Condition')))
    .filter((c): c is Condition => c !== undefined);
  const rest = data.diagnoses.filter((c) => !ranked.includes(c));
  const all = [...ranked, ...rest].filter((c) => c.verificationStatus?.coding?.[0]?.code !== 'entered-in-error');
  return { main: all[0], secondary: all.slice(1) };
}

function visitType(e: Encounter): string | undefined {
  return e.type?.flatMap((t) => t.coding ?? []).find((c) => c.system?.endsWith('/visit-type'))?.code;
}

/** KET_QUA_DTRI: 1 cured, 2 improved, 3 unchanged, 4 worse, 5 died, 6 … (Sen's outcome codes mapped). */
const KET_QUA: Record<string, string> = { recovered: '1', improved: '2', referred: '3', admitted: '3', other: '3' };
/** MA_LOAI_RV: 1 discharged, 2 referred, 3 left, 4 … (admitted: transferred to inpatient care, 2). */
const LOAI_RV: Record<string, string> = { recovered: '1', improved: '1', referred: '2', admitted: '2', other: '1' };

function isLab(o: Observation): boolean {
  return (o.category ?? []).some((c) => c.coding?.some((x) => x.code === 'laboratory'));
}

function isVital(o: Observation, loinc: string): boolean {
  return (
    (o.category ?? []).some((c) => c.coding?.some((x) => x.code === 'vital-signs')) &&
    (o.code.coding ?? []).some((c) => c.code === loinc)
  );
}

function latestValue(data: EpisodeData, loinc: string): number | undefined {
  const vs = data.observations
    .filter((o) => isVital(o, loinc) && o.valueQuantity?.value !== undefined)
    .sort((a, b) => (a.effectiveDateTime ?? '').localeCompare(b.effectiveDateTime ?? ''));
  return vs.at(-1)?.valueQuantity?.value;
}

function valueText(o: Observation): string {
  if (o.valueQuantity?.value !== undefined) {
    return num(o.valueQuantity.value);
  }
  return o.valueString ?? o.valueCodeableConcept?.text ?? o.valueCodeableConcept?.coding?.[0]?.display ?? '';
}

function active<T extends { status?: string }>(list: T[], out: readonly string[]): T[] {
  return list.filter((x) => !out.includes(x.status ?? ''));
}

/** Builds the five tables of one episode. */
export function buildTables(data: EpisodeData): EhbTables {
  const e = data.encounter;
  const p = data.patient;
  const maLk = e.id as string;
  const outcome = (ext(e, `${SD}/encounter-outcome`)?.valueCoding as { code?: string } | undefined)?.code ?? '';
  const followUp = (ext(e, `${SD}/encounter-follow-up`)?.valueDate as string | undefined) ?? '';
  const advice = (ext(e, `${SD}/encounter-advice`)?.valueString as string | undefined) ?? '';
  const { main, secondary } = ordered(data);
  const mainIcd = icdOf(main?.code);
  const secondaryIcd = secondary.map((c) => icdOf(c.code)).filter((x): x is { code: string; display: string } => !!x);
  const facilityCode =
    data.facility?.identifier?.find((i) => i.system === SEN_SID.facility || i.system === VN_CORE_SID.maCskcb)?.value ??
    '';
  const deptCode = data.department?.identifier?.find((i) => i.system === SEN_SID.department)?.value ?? '';
  const type = visitType(e);
  const coverage = data.coverage?.status === 'active' ? data.coverage : undefined;
  const card = coverage?.identifier?.find((i) => i.system === VN_CORE_SID.bhyt)?.value ?? '';
  const primaryCare =
    (ext(coverage, BHYT_EXT.primaryCare)?.valueReference as Reference | undefined)?.identifier?.value ?? '';
  const inpatient = e.class?.code === 'IMP';
  const impression = data.impressions.at(-1);
  const history = new Map<string, string>();
  for (const x of (ext(impression, `${SD}/clinical-history`)?.extension as
    { url: string; valueString?: string }[] | undefined) ?? []) {
    if (x.valueString) {
      history.set(x.url, x.valueString);
    }
  }
  const reason =
    e.reasonCode
      ?.map((r) => r.text ?? r.coding?.[0]?.display)
      .filter(Boolean)
      .join('; ') ?? '';
  const meds = active(data.medications, ['cancelled', 'entered-in-error', 'stopped', 'draft']);
  const services = active(data.services, ['revoked', 'entered-in-error']);
  const labs = data.observations.filter(
    (o) => isLab(o) && !['cancelled', 'entered-in-error', 'registered'].includes(o.status),
  );
  const weight = latestValue(data, '29463-7');
  const end = e.period?.end ?? '';
  const diagnosisText = [mainIcd, ...secondaryIcd]
    .filter((x): x is { code: string; display: string } => !!x)
    .map((d) => d.display)
    .join('; ');
  const treatment = meds
    .map((m) => `${codeOf(m.medicationCodeableConcept).display}: ${m.dosageInstruction?.[0]?.text ?? ''}`.trim())
    .join('; ');

  const xml1: Row = [
    ['MA_LK', maLk],
    ['STT', '1'],
    ['MA_BN', currentIdentifier(p, SEN_SID.patient) || (p.id ?? '')],
    ['HO_TEN', nameOf(p.name)],
    ['SO_CCCD', currentIdentifier(p, VN_CORE_SID.cccd)],
    ['NGAY_SINH', xmlTime(p.birthDate)],
    ['GIOI_TINH', p.gender === 'male' ? '1' : p.gender === 'female' ? '2' : '3'],
    ['NHOM_MAU', ''],
    ['MA_QUOCTICH', ''],
    ['MA_DANTOC', ''],
    ['MA_NGHE_NGHIEP', ''],
    [
      'DIA_CHI',
      p.address?.[0]?.text ??
        [...(p.address?.[0]?.line ?? []), p.address?.[0]?.city, p.address?.[0]?.state].filter(Boolean).join(', '),
    ],
    ['MATINH_CU_TRU', ''],
    ['MAHUYEN_CU_TRU', ''],
    ['MAXA_CU_TRU', ''],
    ['DIEN_THOAI', p.telecom?.find((t) => t.system === 'phone')?.value ?? ''],
    ['MA_THE_BHYT', card],
    ['MA_DKBD', primaryCare],
    ['GT_THE_TU', xmlDate(coverage?.period?.start)],
    ['GT_THE_DEN', xmlDate(coverage?.period?.end)],
    ['LY_DO_VV', reason],
    ['CHAN_DOAN_VAO', history.get('chiefComplaint') ?? reason],
    ['CHAN_DOAN_RV', diagnosisText],
    ['MA_BENH_CHINH', mainIcd?.code ?? ''],
    [
      'MA_BENH_KT',
      secondaryIcd
        .slice(0, MAX_SECONDARY)
        .map((d) => d.code)
        .join(';'),
    ],
    ['MA_DOITUONG_KCB', type === 'emergency' ? '2' : card ? '1' : ''],
    ['NGAY_VAO', xmlTime(e.period?.start)],
    ['NGAY_RA', xmlTime(end)],
    ['SO_NGAY_DTRI', inpatient ? String(daysBetween(e.period?.start, end)) : '0'],
    ['PP_DIEU_TRI', treatment],
    ['KET_QUA_DTRI', KET_QUA[outcome] ?? ''],
    ['MA_LOAI_RV', LOAI_RV[outcome] ?? ''],
    ['GHI_CHU', advice],
    ['NAM_QT', xmlDate(end).slice(0, 4)],
    ['THANG_QT', xmlDate(end).slice(4, 6)],
    ['MA_LOAI_KCB', inpatient ? '03' : '01'],
    ['MA_KHOA', deptCode],
    ['MA_CSKCB', facilityCode],
    ['CAN_NANG', num(weight)],
    ['NGAY_TAI_KHAM', xmlDate(followUp)],
    ['MA_HSBA', maLk],
  ];

  const dispensedQty = new Map<string, number>();
  for (const d of data.dispenses.filter((x) => x.status === 'completed')) {
    for (const ref of d.authorizingPrescription ?? []) {
      const id = referenceId(ref, 'MedicationRequest');
      if (id) {
        dispensedQty.set(id, (dispensedQty.get(id) ?? 0) + (d.quantity?.value ?? 0));
      }
    }
  }
  const xml2: Row[] = meds.map((m, i) => {
    const drug = codeOf(m.medicationCodeableConcept);
    const dose = m.dosageInstruction?.[0];
    const qty = dispensedQty.get(m.id as string) ?? m.dispenseRequest?.quantity?.value;
    return [
      ['MA_LK', maLk],
      ['STT', String(i + 1)],
      ['MA_THUOC', drug.code],
      ['TEN_THUOC', drug.display],
      ['DON_VI_TINH', m.dispenseRequest?.quantity?.unit ?? ''],
      ['DUONG_DUNG', dose?.route?.text ?? dose?.route?.coding?.[0]?.display ?? ''],
      ['LIEU_DUNG', dose?.text ?? ''],
      ['CACH_DUNG', dose?.patientInstruction ?? ''],
      ['SO_LUONG', num(qty)],
      ['MA_KHOA', deptCode],
      ['MA_BAC_SI', practitionerCode(data, m.requester)],
      ['MA_BENH', [mainIcd?.code, ...secondaryIcd.map((d) => d.code)].filter(Boolean).join(';')],
      ['NGAY_YL', xmlTime(m.authoredOn)],
    ];
  });

  const resultTime = new Map<string, string>();
  for (const r of data.reports) {
    for (const b of r.basedOn ?? []) {
      const id = referenceId(b, 'ServiceRequest');
      if (id && r.issued) {
        resultTime.set(id, r.issued);
      }
    }
  }
  const xml3: Row[] = services.map((s, i) => {
    const svc = codeOf(s.code);
    return [
      ['MA_LK', maLk],
      ['STT', String(i + 1)],
      ['MA_DICH_VU', svc.code],
      ['TEN_DICH_VU', svc.display],
      ['DON_VI_TINH', 'Lần'],
      ['SO_LUONG', num(s.quantityQuantity?.value ?? 1)],
      ['MA_KHOA', deptCode],
      ['MA_BAC_SI', practitionerCode(data, s.requester)],
      ['MA_BENH', [mainIcd?.code, ...secondaryIcd.map((d) => d.code)].filter(Boolean).join(';')],
      ['NGAY_YL', xmlTime(s.authoredOn)],
      ['NGAY_KQ', xmlTime(resultTime.get(s.id as string))],
    ];
  });

  const conclusionOf = new Map<string, string>();
  for (const r of data.reports) {
    for (const o of r.result ?? []) {
      const id = referenceId(o, 'Observation');
      if (id && r.conclusion) {
        conclusionOf.set(id, r.conclusion);
      }
    }
  }
  const serviceOf = (o: Observation): string => {
    const id = o.basedOn?.map((b) => referenceId(b, 'ServiceRequest')).find(Boolean);
    const sr = data.services.find((s) => s.id === id);
    return sr ? codeOf(sr.code).code : '';
  };
  const xml4: Row[] = labs.map((o, i) => {
    const loinc = o.code.coding?.find((c) => c.system === LOINC && c.code);
    const code = loinc ?? o.code.coding?.find((c) => c.code);
    const interp = o.interpretation?.[0]?.coding?.[0]?.code;
    return [
      ['MA_LK', maLk],
      ['STT', String(i + 1)],
      ['MA_DICH_VU', serviceOf(o)],
      ['MA_CHI_SO', code?.code ?? ''],
      ['TEN_CHI_SO', code?.display ?? o.code.text ?? ''],
      ['GIA_TRI', valueText(o)],
      ['DON_VI_DO', o.valueQuantity?.unit ?? o.valueQuantity?.code ?? ''],
      ['MO_TA', interp && interp !== 'N' ? interp : ''],
      ['KET_LUAN', conclusionOf.get(o.id as string) ?? ''],
      ['NGAY_KQ', xmlTime(o.issued ?? o.effectiveDateTime)],
      ['MA_BS_DOC_KQ', practitionerCode(data, o.performer?.[0])],
    ];
  });

  const courseLines: string[] = [];
  for (const [key, label] of [
    ['historyOfPresentIllness', 'Bệnh sử'],
    ['pastHistory', 'Tiền sử'],
    ['examination', 'Khám'],
  ] as const) {
    const v = history.get(key);
    if (v) {
      courseLines.push(`${label}: ${v}`);
    }
  }
  const allergies = data.allergies
    .filter((a) => a.verificationStatus?.coding?.[0]?.code !== 'entered-in-error')
    .map((a) => codeOf(a.code).display)
    .filter(Boolean);
  if (allergies.length > 0) {
    courseLines.push(`Dị ứng: ${allergies.join(', ')}`);
  }
  const chronic = data.conditions
    .filter((c) => !data.diagnoses.some((d) => d.id === c.id))
    .filter((c) => c.clinicalStatus?.coding?.[0]?.code !== 'resolved')
    .map((c) => icdOf(c.code))
    .filter((x): x is { code: string; display: string } => !!x)
    .map((c) => `${c.code} ${c.display}`);
  if (chronic.length > 0) {
    courseLines.push(`Bệnh mạn tính: ${chronic.join(', ')}`);
  }
  const vaccines = data.immunizations
    .filter((v) => v.status === 'completed')
    .map((v) => `${codeOf(v.vaccineCode).display} (${xmlDate(v.occurrenceDateTime)})`);
  if (vaccines.length > 0) {
    courseLines.push(`Tiêm chủng: ${vaccines.join(', ')}`);
  }
  const keyResults = labs.map((o) => {
    const name = o.code.coding?.find((c) => c.display)?.display ?? o.code.text ?? '';
    const unit = o.valueQuantity?.unit ?? '';
    return `${name}: ${valueText(o)}${unit ? ` ${unit}` : ''}`;
  });
  const doctor = e.participant?.find((x) => x.individual?.reference?.startsWith('Practitioner/'))?.individual;
  const xml8: Row = [
    ['MA_LK', maLk],
    ['MA_LOAI_KCB', inpatient ? '03' : '01'],
    ['NGUOI_GIAM_HO', ''],
    ['DON_VI', data.facility?.name ?? ''],
    ['NGAY_VAO', xmlTime(e.period?.start)],
    ['NGAY_RA', xmlTime(end)],
    ['CHAN_DOAN_VAO', history.get('chiefComplaint') ?? reason],
    ['CHAN_DOAN_RV', diagnosisText],
    ['QT_BENHLY', courseLines.join('\n')],
    ['TOMTAT_KQ', keyResults.join('; ')],
    ['PP_DIEUTRI', treatment],
    ['KET_QUA_DTRI', KET_QUA[outcome] ?? ''],
    [
      'GHI_CHU',
      [advice, followUp ? `Tái khám: ${followUp.split('-').reverse().join('/')}` : ''].filter(Boolean).join('. '),
    ],
    ['MA_TTDV', practitionerCode(data, doctor)],
    ['NGAY_CT', xmlTime(end)],
  ];
  return { XML1: xml1, XML2: xml2, XML3: xml3, XML4: xml4, XML8: xml8 };
}

function daysBetween(start: string | undefined, end: string | undefined): number {
  if (!start || !end) {
    return 0;
  }
  const s = Date.parse(xmlDate(start).replace(/(\d{4})(\d{2})(\d{2})/, '$1-$2-$3'));
  const f = Date.parse(xmlDate(end).replace(/(\d{4})(\d{2})(\d{2})/, '$1-$2-$3'));
  return Math.max(1, Math.round((f - s) / 86_400_000) + 1);
}

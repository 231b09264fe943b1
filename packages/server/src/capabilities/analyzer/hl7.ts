/**
 * HL7 v2 for the analyzer listener: from the text an analyzer sent to the parts Sen acts on (header, result groups by
 * specimen barcode, order queries), and the acknowledgements back (ACK with MSA and ERR). Parsing is @medplum/core's
 * Hl7Message; this file only decides which fields mean what. Pure functions: no database, no network.
 */
import { Hl7Message, type Hl7Segment } from '@medplum/core';
import type { AnalyzerResult } from '../lab/analyzer-import.ts';

export const LOINC = 'http://loinc.org';

/** Why a message could not be taken, as Sen names it (the quarantine list shows it) and as HL7 table 0357 codes it. */
export const PROBLEMS = {
  malformed: { ack: 'AR', hl7: '100', text: 'Segment sequence error' },
  'missing-field': { ack: 'AR', hl7: '101', text: 'Required field missing' },
  'unsupported-message': { ack: 'AR', hl7: '200', text: 'Unsupported message type' },
  'missing-barcode': { ack: 'AE', hl7: '101', text: 'Required field missing' },
  'missing-code': { ack: 'AE', hl7: '101', text: 'Required field missing' },
  'no-results': { ack: 'AE', hl7: '101', text: 'Required field missing' },
  'unknown-specimen': { ack: 'AE', hl7: '204', text: 'Unknown key identifier' },
  'no-pending-order': { ack: 'AE', hl7: '204', text: 'Unknown key identifier' },
  'unknown-test': { ack: 'AE', hl7: '103', text: 'Table value not found' },
  'invalid-value': { ack: 'AE', hl7: '102', text: 'Data type error' },
  duplicate: { ack: 'AE', hl7: '205', text: 'Duplicate key identifier' },
  'processing-error': { ack: 'AE', hl7: '207', text: 'Application internal error' },
} as const;
export type ProblemCode = keyof typeof PROBLEMS;
export type AckCode = 'AA' | 'AE' | 'AR';

/** Where in the message a problem is (ERR-2 / ERR-1): segment, its sequence among segments of that name, field. */
export interface ErrorLocation {
  segment: string;
  sequence: number;
  field?: number;
}

/** A message Sen does not take, with a reason a person can read (Vietnamese / English). */
export class Hl7Problem extends Error {
  constructor(
    readonly code: ProblemCode,
    message: string,
    readonly location?: ErrorLocation,
  ) {
    super(message);
    this.name = 'Hl7Problem';
  }

  get ack(): AckCode {
    return PROBLEMS[this.code].ack;
  }
}

/** The MSH fields Sen keeps with every message (also for the duplicate check). */
export interface Hl7Header {
  /** e.g. ORU^R01 */
  type: string;
  controlId: string;
  version: string;
  /** MSH-3 (and MSH-4 when present): which analyzer sent it, e.g. `XN-550/K06`. */
  analyzer: string;
}

/**
 * The text of a message as HL7 wants it: without a byte-order mark or leading blank characters, segments separated
 * by CR whatever line ends the sender used, no empty segments.
 */
export function normalizeHl7(text: string): string {
  return text
    .replace(/^[\uFEFF\s]+/, '')
    .split(/\r\n|\n|\r/)
    .filter((s) => s.trim().length > 0)
    .join('\r');
}

function field(seg: Hl7Segment | undefined, i: number): string {
  return seg?.getField(i)?.toString() ?? '';
}

/** The first subcomponent of a component (1-based field and component, as in `OBR-3.1`). */
function comp(seg: Hl7Segment | undefined, f: number, c: number): string {
  return seg?.getField(f)?.getComponent(c, 0) ?? '';
}

/** HL7 escape sequences back to text (\F\ | \S\ ^ \T\ & \R\ ~ \E\ \; highlighting and hex escapes dropped). */
export function unescapeHl7(s: string): string {
  return s.replace(/\\([FSTRE]|[HN]|X[0-9A-Fa-f]*|\.br)\\/g, (_m, e: string) => {
    switch (e) {
      case 'F':
        return '|';
      case 'S':
        return '^';
      case 'T':
        return '&';
      case 'R':
        return '~';
      case 'E':
        return '\\';
      default:
        return e === '.br' ? ' ' : '';
    }
  });
}

/** Text made safe for one HL7 field with the standard delimiters |^~\&. */
export function escapeHl7(s: string): string {
  return s
    .replace(/\\/g, '\\E\\')
    .replace(/\|/g, '\\F\\')
    .replace(/\^/g, '\\S\\')
    .replace(/&/g, '\\T\\')
    .replace(/~/g, '\\R\\')
    .replace(/[\r\n]+/g, ' ');
}

/** Parses a message and its header; a text that is not HL7 v2 (no MSH, no type or control id) is a problem. */
export function parseHl7(text: string): { message: Hl7Message; header: Hl7Header } {
  const t = normalizeHl7(text);
  if (!t.startsWith('MSH') || t.length < 8) {
    throw new Hl7Problem(
      'malformed',
      'Tin nhắn không bắt đầu bằng đoạn MSH: không phải HL7 v2 / The message does not start with an MSH segment: not HL7 v2',
      { segment: 'MSH', sequence: 1 },
    );
  }
  let message: Hl7Message;
  try {
    message = Hl7Message.parse(t);
  } catch {
    throw new Hl7Problem('malformed', 'Không đọc được tin nhắn HL7 v2 / The HL7 v2 message cannot be parsed', {
      segment: 'MSH',
      sequence: 1,
    });
  }
  const msh = message.getSegment('MSH');
  const type = [comp(msh, 9, 1), comp(msh, 9, 2)].filter(Boolean).join('^');
  const controlId = comp(msh, 10, 1);
  if (!comp(msh, 9, 1)) {
    throw new Hl7Problem('missing-field', 'Thiếu loại tin nhắn (MSH-9) / The message type (MSH-9) is missing', {
      segment: 'MSH',
      sequence: 1,
      field: 9,
    });
  }
  if (!controlId) {
    throw new Hl7Problem(
      'missing-field',
      'Thiếu mã kiểm soát tin nhắn (MSH-10) / The message control ID (MSH-10) is missing',
      {
        segment: 'MSH',
        sequence: 1,
        field: 10,
      },
    );
  }
  const analyzer = [comp(msh, 3, 1), comp(msh, 4, 1)].filter(Boolean).join('/') || 'unknown';
  return { message, header: { type, controlId, version: comp(msh, 12, 1), analyzer } };
}

/** The header of a text, or undefined when it has none (for storing what arrived before anything else is done). */
export function peekHeader(text: string): Hl7Header | undefined {
  try {
    return parseHl7(text).header;
  } catch {
    return undefined;
  }
}

/**
 * An HL7 timestamp (YYYY[MM[DD[HH[MM[SS[.S…]]]]]][+/-ZZZZ]) as a FHIR dateTime. Analyzers in Vietnam send local time
 * without an offset: it is then taken as +07:00. A date alone stays a date. Anything else: undefined.
 */
export function hl7Time(ts: string, defaultOffset = '+07:00'): string | undefined {
  const m = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.\d+)?([+-]\d{4})?$/.exec(ts.trim());
  if (!m) {
    return undefined;
  }
  const [, y, mo, d, h, mi, s, z] = m;
  if (!h) {
    return [y, mo, d].filter(Boolean).join('-');
  }
  const offset = z ? `${z.slice(0, 3)}:${z.slice(3)}` : defaultOffset;
  const iso = `${y}-${mo}-${d}T${h}:${mi ?? '00'}:${s ?? '00'}${offset}`;
  return Number.isNaN(Date.parse(iso)) ? undefined : iso;
}

/** FHIR instant → HL7 DTM with offset, e.g. 20261203143000+0700 (Vietnam time). */
export function hl7Now(now: Date = new Date()): string {
  const vn = new Date(now.getTime() + 7 * 3600_000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return (
    `${vn.getUTCFullYear()}${p(vn.getUTCMonth() + 1)}${p(vn.getUTCDate())}` +
    `${p(vn.getUTCHours())}${p(vn.getUTCMinutes())}${p(vn.getUTCSeconds())}+0700`
  );
}

/** Whether MSH-12 is 2.5 or later (ERR-2…8, SPM and OML^O21 exist from 2.5 on). */
export function atLeast25(version: string): boolean {
  const [major, minor] = version.split('.').map((x) => Number(x));
  return major > 2 || (major === 2 && (minor ?? 0) >= 5);
}

/** One OBR of a result message: the specimen barcode it names and its results. */
export interface ResultGroup {
  /** 1-based position of the OBR among the message's OBRs. */
  obr: number;
  barcode: string;
  /** Which field the barcode was taken from (SPM-2.1, SPM-2.2, OBR-3.1, OBR-2.1). */
  barcodeField: string;
  results: AnalyzerResult[];
}

const BARCODE_FIELDS = ['SPM-2.1', 'SPM-2.2', 'OBR-3.1', 'OBR-2.1'] as const;

/**
 * The barcode of an OBR group: SPM-2.1 (placer specimen id), SPM-2.2 (filler specimen id), OBR-3.1 (filler order
 * number, where most analyzers echo the tube's barcode), then OBR-2.1 (placer order number): the first that is digits
 * only (contract 1), or else the first that is present (it then names no specimen, and the message goes to quarantine
 * saying so).
 */
export function pickBarcode(
  obr: Hl7Segment,
  spm: Hl7Segment | undefined,
): { barcode: string; field: string } | undefined {
  const values: Record<(typeof BARCODE_FIELDS)[number], string> = {
    'SPM-2.1': comp(spm, 2, 1).trim(),
    'SPM-2.2': comp(spm, 2, 2).trim(),
    'OBR-3.1': comp(obr, 3, 1).trim(),
    'OBR-2.1': comp(obr, 2, 1).trim(),
  };
  const present = BARCODE_FIELDS.filter((f) => values[f] !== '');
  const digits = present.find((f) => /^\d+$/.test(values[f]));
  const chosen = digits ?? present[0];
  return chosen ? { barcode: values[chosen], field: chosen } : undefined;
}

const NOT_A_RESULT = new Set(['X', 'D', 'W', 'I']);

/** OBX-5 as text: SN as comparator+number(+separator+number), coded values by their text or code. */
function obxValue(obx: Hl7Segment): string {
  const type = field(obx, 2).toUpperCase();
  const f = obx.getField(5);
  if (!f) {
    return '';
  }
  if (type === 'SN') {
    const [cmp, n1, sep, n2] = [1, 2, 3, 4].map((c) => f.getComponent(c, 0));
    return `${cmp}${n1}${sep && n2 ? `${sep}${n2}` : ''}`.trim();
  }
  if (type === 'CE' || type === 'CWE' || type === 'CNE') {
    return unescapeHl7(f.getComponent(2, 0) || f.getComponent(1, 0)).trim();
  }
  return unescapeHl7(f.toString().split(f.context.repetitionSeparator)[0]).trim();
}

function obxResult(obx: Hl7Segment, seq: number, fallbackTime: string | undefined): AnalyzerResult | undefined {
  const code = unescapeHl7(comp(obx, 3, 1)).trim();
  const value = obxValue(obx);
  const status = field(obx, 11).toUpperCase();
  if (value === '' || NOT_A_RESULT.has(status)) {
    return undefined; // pending, cannot be obtained, deleted: not a result
  }
  if (!code) {
    throw new Hl7Problem(
      'missing-code',
      `Kết quả OBX thứ ${seq} thiếu mã xét nghiệm (OBX-3) / OBX ${seq} has no test code (OBX-3)`,
      { segment: 'OBX', sequence: seq, field: 3 },
    );
  }
  const codingSystem = comp(obx, 3, 3).toUpperCase();
  const r: AnalyzerResult = { code, value };
  if (codingSystem === 'LN' || codingSystem === 'LOINC') {
    r.system = LOINC;
  }
  const display = unescapeHl7(comp(obx, 3, 2)).trim();
  if (display) {
    r.display = display;
  }
  const unit = unescapeHl7(comp(obx, 6, 1)).trim();
  if (unit) {
    r.unit = unit;
  }
  const flag = comp(obx, 8, 1).trim();
  if (flag) {
    r.abnormalFlag = flag;
  }
  const at = hl7Time(comp(obx, 14, 1)) ?? fallbackTime;
  if (at) {
    r.observedAt = at;
  }
  return r;
}

/**
 * The result groups of an ORU^R01: one per OBR, with the OBX that follow it (OBX after an SPM describe the specimen,
 * and OBX before the first OBR the patient, not the test: they are left out). A message without OBR, an OBR without
 * a barcode, or a message without a single result value is a problem.
 */
export function resultGroups(message: Hl7Message): ResultGroup[] {
  const groups: { obr: Hl7Segment; spm?: Hl7Segment; obx: Hl7Segment[]; obxSeq: number[] }[] = [];
  let inSpecimen = false;
  let obxSeq = 0;
  for (const seg of message.segments) {
    switch (seg.name) {
      case 'OBR':
        groups.push({ obr: seg, obx: [], obxSeq: [] });
        inSpecimen = false;
        break;
      case 'SPM':
        if (groups.length > 0 && !groups[groups.length - 1].spm) {
          groups[groups.length - 1].spm = seg;
        }
        inSpecimen = true;
        break;
      case 'OBX':
        obxSeq += 1;
        // before any OBR: an observation about the patient (2.7+ PATIENT_OBSERVATION), not a test result
        if (groups.length > 0 && !inSpecimen) {
          groups[groups.length - 1].obx.push(seg);
          groups[groups.length - 1].obxSeq.push(obxSeq);
        }
        break;
      default:
        break;
    }
  }
  if (groups.length === 0) {
    throw new Hl7Problem('malformed', 'Tin nhắn kết quả không có đoạn OBR / The result message has no OBR segment', {
      segment: 'OBR',
      sequence: 1,
    });
  }
  const out: ResultGroup[] = [];
  groups.forEach((g, i) => {
    const picked = pickBarcode(g.obr, g.spm);
    if (!picked) {
      throw new Hl7Problem(
        'missing-barcode',
        `OBR thứ ${i + 1} không có mã vạch mẫu (SPM-2, OBR-3 hoặc OBR-2) / OBR ${i + 1} names no specimen barcode (SPM-2, OBR-3 or OBR-2)`,
        { segment: 'OBR', sequence: i + 1, field: 3 },
      );
    }
    const fallback = hl7Time(comp(g.obr, 7, 1));
    const results = g.obx
      .map((obx, k) => obxResult(obx, g.obxSeq[k], fallback))
      .filter((r): r is AnalyzerResult => r !== undefined);
    out.push({ obr: i + 1, barcode: picked.barcode, barcodeField: picked.field, results });
  });
  if (out.every((g) => g.results.length === 0)) {
    throw new Hl7Problem(
      'no-results',
      'Tin nhắn không có giá trị kết quả nào (OBX-5 trống hoặc đang chờ) / The message carries no result value (OBX-5 empty or pending)',
      { segment: 'OBX', sequence: 1, field: 5 },
    );
  }
  return out.filter((g) => g.results.length > 0);
}

/** The specimen barcode an order query asks about: QRY^Q02 QRD-8.1 (who subject filter), QBP^Q11 QPD-3.1. */
export function queryBarcode(message: Hl7Message, type: string): string {
  const qrd = message.getSegment('QRD');
  const qpd = message.getSegment('QPD');
  const barcode = type.startsWith('QRY') ? comp(qrd, 8, 1) : comp(qpd, 3, 1);
  if (!barcode.trim()) {
    throw new Hl7Problem(
      'missing-barcode',
      type.startsWith('QRY')
        ? 'Truy vấn không có mã vạch mẫu (QRD-8) / The query names no specimen barcode (QRD-8)'
        : 'Truy vấn không có mã vạch mẫu (QPD-3) / The query names no specimen barcode (QPD-3)',
      type.startsWith('QRY') ? { segment: 'QRD', sequence: 1, field: 8 } : { segment: 'QPD', sequence: 1, field: 3 },
    );
  }
  return barcode.trim();
}

/** A new message control id for what Sen sends (unique enough across restarts: time plus a random part). */
export function newControlId(): string {
  return `SEN${Date.now().toString(36).toUpperCase()}${Math.floor(Math.random() * 36 ** 4)
    .toString(36)
    .toUpperCase()
    .padStart(4, '0')}`;
}

export interface AckInput {
  /** The parsed message being answered; absent when it could not be parsed. */
  message?: Hl7Message;
  ack: AckCode;
  problem?: { code: ProblemCode; reason: string; location?: ErrorLocation };
  facility: string;
  now?: Date;
}

/**
 * The ACK for a message: MSH answering the sender (application and facility swapped, same event and version), MSA
 * with the code, the original control id and, on an error, the reason as text; on an error an ERR segment with both
 * the 2.3/2.4 ERR-1 and the 2.5+ ERR-2 (location), ERR-3 (HL7 table 0357 code), ERR-4 (severity) and ERR-8 (the reason
 * for a person).
 */
export function buildAck(input: AckInput): Hl7Message {
  const msh = input.message?.getSegment('MSH');
  const version = comp(msh, 12, 1) || '2.5';
  const event = comp(msh, 9, 2);
  const header = [
    'MSH',
    '^~\\&',
    comp(msh, 5, 1) || 'SEN',
    comp(msh, 6, 1) || escapeHl7(input.facility),
    field(msh, 3),
    field(msh, 4),
    hl7Now(input.now),
    '',
    event ? `ACK^${event}^ACK` : 'ACK',
    newControlId(),
    comp(msh, 11, 1) || 'P',
    version,
  ].join('|');
  const controlId = comp(msh, 10, 1);
  const segments = [header];
  if (input.problem) {
    const p = PROBLEMS[input.problem.code];
    const reason = escapeHl7(input.problem.reason);
    segments.push(`MSA|${input.ack}|${controlId}|${reason}`);
    const loc = input.problem.location;
    const err1 = loc ? `${loc.segment}^${loc.sequence}^${loc.field ?? ''}^${p.hl7}&${p.text}&HL70357` : '';
    const err2 = loc ? `${loc.segment}^${loc.sequence}${loc.field ? `^${loc.field}` : ''}` : '';
    segments.push(`ERR|${err1}|${err2}|${p.hl7}^${p.text}^HL70357|E||||${reason}`);
  } else {
    segments.push(`MSA|${input.ack}|${controlId}`);
  }
  return Hl7Message.parse(segments.join('\r'));
}

/**
 * The lab's quarantine of analyzer messages: the server's `$analyzer-messages` / `$analyzer-message` answers
 * (Parameters) as plain rows, and the `$analyzer-replay` body from what a person fixed. Pure functions, tested in
 * analyzer.logic.test.ts.
 */
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';

export const STATUSES = ['quarantined', 'received', 'processed', 'duplicate', 'answered', 'discarded'] as const;
export type MessageStatus = (typeof STATUSES)[number];

export interface MessageRow {
  id: string;
  receivedAt?: string;
  status: MessageStatus | string;
  ack?: string;
  reasonCode?: string;
  reason?: string;
  analyzer?: string;
  controlId?: string;
  messageType?: string;
  barcodes: string[];
  attempts: number;
  handledBy?: string;
  note?: string;
  reports: string[];
}

export interface ResultLine {
  code: string;
  system?: string;
  display?: string;
  value: string;
  unit?: string;
  flag?: string;
}

export interface ResultGroup {
  obr: number;
  barcode: string;
  barcodeField: string;
  results: ResultLine[];
}

export interface MessageDetail {
  message: MessageRow;
  raw: string;
  corrected?: string;
  barcodeFixes: Record<string, string>;
  codeFixes: Record<string, { code: string; system?: string }>;
  groups: ResultGroup[];
  readError?: string;
}

function valueOf(p: ParametersParameter | undefined): string | number | boolean | undefined {
  if (!p) {
    return undefined;
  }
  for (const [k, v] of Object.entries(p)) {
    if (k.startsWith('value') && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) {
      return v;
    }
  }
  return undefined;
}

function str(p: ParametersParameter | undefined, name: string): string | undefined {
  const v = valueOf(p?.part?.find((x) => x.name === name));
  return v === undefined ? undefined : String(v);
}

export function parseMessage(p: ParametersParameter): MessageRow {
  const all = (name: string): ParametersParameter[] => (p.part ?? []).filter((x) => x.name === name);
  return {
    id: str(p, 'id') ?? '',
    receivedAt: str(p, 'receivedAt'),
    status: str(p, 'status') ?? 'received',
    ack: str(p, 'ack'),
    reasonCode: str(p, 'reasonCode'),
    reason: str(p, 'reason'),
    analyzer: str(p, 'analyzer'),
    controlId: str(p, 'controlId'),
    messageType: str(p, 'messageType'),
    barcodes: all('barcode').map((x) => String(valueOf(x) ?? '')),
    attempts: Number(str(p, 'attempts') ?? 0),
    handledBy: str(p, 'handledBy'),
    note: str(p, 'note'),
    reports: all('report')
      .map((x) => x.valueReference?.reference ?? '')
      .filter(Boolean),
  };
}

export function parseMessageList(body: Parameters | undefined): { counts: Record<string, number>; rows: MessageRow[] } {
  const counts: Record<string, number> = {};
  for (const c of body?.parameter?.find((p) => p.name === 'counts')?.part ?? []) {
    counts[c.name] = Number(valueOf(c) ?? 0);
  }
  const rows = (body?.parameter ?? []).filter((p) => p.name === 'message').map(parseMessage);
  return { counts, rows };
}

export function parseMessageDetail(body: Parameters | undefined): MessageDetail | undefined {
  const params = body?.parameter ?? [];
  const first = params.find((p) => p.name === 'message');
  if (!first) {
    return undefined;
  }
  const barcodeFixes: Record<string, string> = {};
  for (const f of params.filter((p) => p.name === 'barcodeFix')) {
    barcodeFixes[str(f, 'from') ?? ''] = str(f, 'to') ?? '';
  }
  const codeFixes: MessageDetail['codeFixes'] = {};
  for (const f of params.filter((p) => p.name === 'codeFix')) {
    const system = str(f, 'system');
    codeFixes[str(f, 'from') ?? ''] = { code: str(f, 'to') ?? '', ...(system ? { system } : {}) };
  }
  const groups = params
    .filter((p) => p.name === 'group')
    .map((g): ResultGroup => ({
      obr: Number(str(g, 'obr') ?? 0),
      barcode: str(g, 'barcode') ?? '',
      barcodeField: str(g, 'barcodeField') ?? '',
      results: (g.part ?? [])
        .filter((x) => x.name === 'result')
        .map((r) => ({
          code: str(r, 'code') ?? '',
          system: str(r, 'system'),
          display: str(r, 'display'),
          value: str(r, 'value') ?? '',
          unit: str(r, 'unit'),
          flag: str(r, 'flag'),
        })),
    }));
  return {
    message: parseMessage(first),
    raw: String(valueOf(params.find((p) => p.name === 'raw')) ?? ''),
    corrected: params.find((p) => p.name === 'corrected')?.valueString,
    barcodeFixes,
    codeFixes,
    groups,
    readError: params.find((p) => p.name === 'readError')?.valueString,
  };
}

/** The message text for a screen: one segment a line (HL7 separates segments with CR). */
export function segmentsOf(text: string): string {
  return text
    .replace(/^\uFEFF/, '')
    .split(/\r\n|\r|\n/)
    .join('\n');
}

export interface Fixes {
  /** Barcode as received → corrected barcode (empty: unchanged). */
  barcodes: Record<string, string>;
  /** Analyzer code → Sen code (empty: unchanged), with the system and whether to keep it for the analyzer. */
  codes: Record<string, { to: string; system?: string; remember: boolean }>;
  /** The corrected text (one segment a line); empty or unchanged: none. */
  corrected?: string;
}

/** Corrected barcodes must be digits only (contract 1); the codes of the ones that are not. */
export function invalidBarcodes(fixes: Fixes): string[] {
  return Object.entries(fixes.barcodes)
    .filter(([, to]) => to.trim() !== '' && !/^\d+$/.test(to.trim()))
    .map(([from]) => from);
}

/** The Parameters of `$analyzer-replay` for a message and what a person fixed. */
export function replayBody(id: string, fixes: Fixes, original?: string): Parameters {
  const parameter: ParametersParameter[] = [{ name: 'id', valueString: id }];
  for (const [from, to] of Object.entries(fixes.barcodes)) {
    if (to.trim() !== '' && to.trim() !== from) {
      parameter.push({
        name: 'barcode',
        part: [
          { name: 'from', valueString: from },
          { name: 'to', valueString: to.trim() },
        ],
      });
    }
  }
  for (const [from, c] of Object.entries(fixes.codes)) {
    if (c.to.trim() !== '' && c.to.trim() !== from) {
      parameter.push({
        name: 'code',
        part: [
          { name: 'from', valueString: from },
          { name: 'to', valueString: c.to.trim() },
          ...(c.system ? [{ name: 'system', valueUri: c.system }] : []),
          { name: 'remember', valueBoolean: c.remember },
        ],
      });
    }
  }
  const corrected = fixes.corrected?.trim();
  if (corrected && corrected !== (original ? segmentsOf(original).trim() : undefined)) {
    parameter.push({ name: 'correctedMessage', valueString: corrected.split('\n').join('\r') });
  }
  return { resourceType: 'Parameters', parameter };
}

export function statusColor(status: string): string {
  switch (status) {
    case 'processed':
    case 'answered':
      return 'green';
    case 'quarantined':
      return 'red';
    case 'received':
      return 'yellow';
    default:
      return 'gray';
  }
}

/** Only a quarantined message can be fixed, replayed or discarded. */
export function canFix(m: MessageRow): boolean {
  return m.status === 'quarantined';
}

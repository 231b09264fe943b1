/**
 * The XML of the e-health-book payload, written with xmlbuilder2 (escaping, UTF-8 declaration) and read back with @xmldom/xmldom (the DOM xml-crypto
 * verifies on):
 * each table as its own document with the wrapper/list/record elements of Decision 130 (XML1 `TONG_HOP`, XML2
 * `CHITIEU_CHITIET_THUOC/DSACH_CHI_TIET_THUOC/CHI_TIET_THUOC`, XML3 `CHITIEU_CHITIET_DVKT_VTYT/DSACH_CHI_TIET_DVKT/
 * CHI_TIET_DVKT`, XML4 `CHITIEU_CHITIET_DICHVUCANLAMSANG/DSACH_CHI_TIET_CLS/CHI_TIET_CLS`, XML8
 * `CHI_TIEU_DU_LIEU_TOM_TAT_HO_SO_BENH_AN`), and the envelope `GIAMDINHHS/THONGTINDONVI, THONGTINHOSO/DANHSACHHOSO/
 * HOSO/FILEHOSO{LOAIHOSO, NOIDUNGFILE (base64)}` with an empty `CHUKYDONVI` that signer.ts fills (VIETNAM.md §2).
 */
import { DOMParser } from '@xmldom/xmldom';
import { create } from 'xmlbuilder2';
import { type EhbTables, type Row, TABLE_NAMES, type TableName } from './tables.ts';

/** root / list / record element of each table (a single-record table has no list). */
export const TABLE_LAYOUT: Record<TableName, { root: string; list?: string; record: string }> = {
  XML1: { root: 'TONG_HOP', record: 'TONG_HOP' },
  XML2: { root: 'CHITIEU_CHITIET_THUOC', list: 'DSACH_CHI_TIET_THUOC', record: 'CHI_TIET_THUOC' },
  XML3: { root: 'CHITIEU_CHITIET_DVKT_VTYT', list: 'DSACH_CHI_TIET_DVKT', record: 'CHI_TIET_DVKT' },
  XML4: { root: 'CHITIEU_CHITIET_DICHVUCANLAMSANG', list: 'DSACH_CHI_TIET_CLS', record: 'CHI_TIET_CLS' },
  XML8: { root: 'CHI_TIEU_DU_LIEU_TOM_TAT_HO_SO_BENH_AN', record: 'CHI_TIEU_DU_LIEU_TOM_TAT_HO_SO_BENH_AN' },
};

function fields(el: ReturnType<typeof create>, row: Row): void {
  for (const [name, value] of row) {
    el.ele(name).txt(value);
  }
}

/** One table as an XML document. */
export function tableXml(name: TableName, rows: Row | Row[]): string {
  const layout = TABLE_LAYOUT[name];
  const doc = create({ version: '1.0', encoding: 'utf-8' });
  const root = doc.ele(layout.root);
  if (layout.list) {
    const list = root.ele(layout.list);
    for (const row of rows as Row[]) {
      fields(list.ele(layout.record), row);
    }
  } else {
    fields(root, rows as Row);
  }
  return doc.end({ prettyPrint: false });
}

/** The unsigned envelope of one episode: every table base64-encoded in its FILEHOSO. */
export function envelopeXml(input: { facilityCode: string; createdAt: Date; tables: EhbTables }): string {
  const doc = create({ version: '1.0', encoding: 'utf-8' });
  const root = doc.ele('GIAMDINHHS');
  root.ele('THONGTINDONVI').ele('MACSKCB').txt(input.facilityCode);
  const info = root.ele('THONGTINHOSO');
  const day = new Date(input.createdAt.getTime() + 7 * 3_600_000).toISOString().slice(0, 10).replaceAll('-', '');
  info.ele('NGAYLAP').txt(day);
  info.ele('SOLUONGHOSO').txt('1');
  const hoso = info.ele('DANHSACHHOSO').ele('HOSO');
  for (const name of TABLE_NAMES) {
    const file = hoso.ele('FILEHOSO');
    file.ele('LOAIHOSO').txt(name);
    file.ele('NOIDUNGFILE').txt(Buffer.from(tableXml(name, input.tables[name]), 'utf8').toString('base64'));
  }
  root.ele('CHUKYDONVI');
  return doc.end({ prettyPrint: false });
}

/** A table read back: its records as column → text. */
export type ParsedTable = Record<string, string>[];

function parseXml(xml: string): Document {
  const errors: string[] = [];
  const doc = new DOMParser({
    errorHandler: { error: (msg: string) => errors.push(msg), fatalError: (msg: string) => errors.push(msg) },
  }).parseFromString(xml, 'text/xml') as unknown as Document;
  if (errors.length > 0 || !doc.documentElement) {
    throw new Error('malformed XML');
  }
  return doc;
}

function children(el: Element, name?: string): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (name === undefined || (n as Element).nodeName === name)) {
      out.push(n as Element);
    }
  }
  return out;
}

function child(el: Element | undefined, name: string): Element | undefined {
  return el ? children(el, name)[0] : undefined;
}

function flat(rec: Element): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of children(rec)) {
    out[c.nodeName] = c.textContent ?? '';
  }
  return out;
}

/** Parses one table document (throws on malformed XML or an unexpected root). */
export function parseTable(name: TableName, xml: string): ParsedTable {
  const layout = TABLE_LAYOUT[name];
  const root = parseXml(xml).documentElement;
  if (root.nodeName !== layout.root) {
    throw new Error(`${name}: the root element is not ${layout.root}`);
  }
  if (!layout.list) {
    return [flat(root)];
  }
  return children(child(root, layout.list) ?? root, layout.record).map(flat);
}

export interface ParsedEnvelope {
  facilityCode: string;
  files: { type: string; content: string }[];
  tables: Partial<Record<TableName, ParsedTable>>;
  /** Whether the CHUKYDONVI element holds an XML signature. */
  signed: boolean;
}

/** Reads an envelope: the FILEHOSO entries decoded and the known tables parsed (throws when malformed). */
export function parseEnvelope(xml: string): ParsedEnvelope {
  const root = parseXml(xml).documentElement;
  if (root.nodeName !== 'GIAMDINHHS') {
    throw new Error('the root element is not GIAMDINHHS');
  }
  const facilityCode = child(child(root, 'THONGTINDONVI'), 'MACSKCB')?.textContent ?? '';
  const hoso = child(child(child(root, 'THONGTINHOSO'), 'DANHSACHHOSO'), 'HOSO');
  const files = (hoso ? children(hoso, 'FILEHOSO') : []).map((f) => ({
    type: child(f, 'LOAIHOSO')?.textContent ?? '',
    content: Buffer.from(child(f, 'NOIDUNGFILE')?.textContent ?? '', 'base64').toString('utf8'),
  }));
  const tables: ParsedEnvelope['tables'] = {};
  for (const f of files) {
    if ((TABLE_NAMES as readonly string[]).includes(f.type)) {
      tables[f.type as TableName] = parseTable(f.type as TableName, f.content);
    }
  }
  const sig = child(root, 'CHUKYDONVI');
  const signed = sig ? children(sig).some((c) => c.localName === 'Signature') : false;
  return { facilityCode, files, tables, signed };
}

/**
 * The catalog importer: validates every row, reports accepted and rejected rows (row number, field, reason), and
 * writes a new catalog version — the CodeSystem (and ConceptMaps) in the FHIR store plus the look-up rows of
 * migration 0006 — in one transaction, or nothing at all. Re-importing the same content creates no new version.
 */
import { createHash } from 'node:crypto';
import type {
  CodeSystem,
  CodeSystemConcept,
  CodeSystemConceptProperty,
  ConceptMap,
  ConceptMapGroupElement,
  Extension,
} from '@medplum/fhirtypes';
import type { Queryable } from '@sen/db';
import type { FhirStore } from '@sen/store';
import { foldCode, searchText } from '@sen/vn';
import { isoDate, matchRows, type RowProblem } from './columns.ts';
import type { CatalogTable } from './files.ts';
import {
  type ConceptDraft,
  icd10Kind,
  CATALOG_URLS,
  drugsKind,
  type KindSpec,
  type MapDraft,
  servicesKind,
  suppliesKind,
} from './kinds.ts';
import { adminUnitsKind, adminUnitsOldKind, labKind, listKinds } from './kinds-lists.ts';

export const EFFECTIVE_PERIOD_EXT = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-CodeSystem.effectivePeriod';
export const RELATED_ARTIFACT_EXT = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-CodeSystem.relatedArtifact';

/** Every kind, by the name the CLI takes. */
export const CATALOG_KINDS: ReadonlyMap<string, KindSpec> = new Map(
  [
    icd10Kind(
      'icd10',
      CATALOG_URLS.icd10,
      'vn-icd10',
      'Bảng phân loại ICD-10 / ICD-10 (Vietnamese)',
      'Thông tư 06/2026/TT-BYT (danh mục ICD-10, hiệu lực 01/07/2026)',
    ),
    icd10Kind(
      'icd10-yhct',
      CATALOG_URLS.icd10Yhct,
      'icd10-yhct',
      'Bệnh danh y học cổ truyền / ICD-10 traditional medicine',
      'Danh mục bệnh y học cổ truyền đối chiếu ICD-10 (Bộ Y tế)',
    ),
    servicesKind,
    suppliesKind,
    drugsKind,
    labKind,
    adminUnitsKind,
    adminUnitsOldKind,
    ...listKinds,
  ].map((k) => [k.kind, k]),
);

export interface ImportOptions {
  /** Catalog version (default: valid-from date, else today's date). */
  version?: string;
  /** YYYY-MM-DD (or DD/MM/YYYY). */
  validFrom?: string;
  validTo?: string;
  /** The legal document (default: the kind's usual source). */
  source?: string;
  /** Marks a demo catalog (CodeSystem.experimental, a DEMO title). */
  demo?: boolean;
}

export interface ImportReport {
  kind: string;
  url: string;
  /** imported: a new version; unchanged: the same content is already there; rejected: nothing was written. */
  status: 'imported' | 'unchanged' | 'rejected';
  version?: string;
  resourceId?: string;
  total: number;
  accepted: number;
  rejected: number;
  concepts: number;
  problems: RowProblem[];
  maps: { url: string; elements: number; resourceId: string }[];
}

export class ImportError extends Error {}

function slug(v: string): string {
  return v.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '');
}

function pascal(id: string): string {
  return id
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join('');
}

function conceptJson(spec: KindSpec, c: ConceptDraft): CodeSystemConcept {
  const out: CodeSystemConcept = { code: c.code, display: c.display };
  if (c.designations?.length) {
    out.designation = c.designations.map((d) =>
      d.language ? { language: d.language, value: d.value } : { value: d.value },
    );
  }
  if (c.properties?.length) {
    out.property = c.properties.map(([code, value]) => {
      const type = spec.properties.find((p) => p.code === code)?.type ?? 'string';
      const p: CodeSystemConceptProperty = { code };
      if (type === 'boolean') {
        p.valueBoolean = value === true;
      } else if (type === 'decimal') {
        p.valueDecimal = Number(value);
      } else if (type === 'integer') {
        p.valueInteger = Number(value);
      } else if (type === 'code') {
        p.valueCode = String(value);
      } else if (type === 'dateTime') {
        p.valueDateTime = String(value);
      } else {
        p.valueString = String(value);
      }
      return p;
    });
  }
  return out;
}

function metaExtensions(validFrom: string | undefined, validTo: string | undefined, source: string): Extension[] {
  const ext: Extension[] = [];
  if (validFrom || validTo) {
    ext.push({
      url: EFFECTIVE_PERIOD_EXT,
      valuePeriod: { ...(validFrom ? { start: validFrom } : {}), ...(validTo ? { end: validTo } : {}) },
    });
  }
  ext.push({ url: RELATED_ARTIFACT_EXT, valueRelatedArtifact: { type: 'derived-from', display: source } });
  return ext;
}

/** Validates and builds everything an import would write, without writing. */
export function prepareImport(
  kind: string,
  table: CatalogTable,
): {
  spec: KindSpec;
  concepts: ConceptDraft[];
  maps: MapDraft[];
  problems: RowProblem[];
  total: number;
} {
  const spec = CATALOG_KINDS.get(kind);
  if (!spec) {
    throw new ImportError(`Unknown catalog kind '${kind}'; known: ${[...CATALOG_KINDS.keys()].join(', ')}`);
  }
  const matched = matchRows(spec.columns, table.records, table.firstRow);
  const built = spec.build(matched.rows);
  const problems = [...matched.problems, ...built.problems].sort((a, b) => a.row - b.row);
  if (table.records.length === 0) {
    problems.push({ row: table.firstRow, field: '-', reason: 'tệp không có dòng dữ liệu / the file has no data rows' });
  }
  return { spec, concepts: built.concepts, maps: built.maps, problems, total: table.records.length };
}

async function insertConcepts(
  q: Queryable,
  vid: string,
  concepts: readonly ConceptDraft[],
  spec: KindSpec,
): Promise<void> {
  const CHUNK = 2000;
  for (let i = 0; i < concepts.length; i += CHUNK) {
    const part = concepts.slice(i, i + CHUNK);
    await q.query(
      `INSERT INTO terminology_concept (vid, code, code_fold, display, words, priority, concept)
       SELECT $1::bigint, x.c, x.f, x.d, x.w, x.p, x.j
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[]) AS x(c, f, d, w, p, j)`,
      [
        vid,
        part.map((c) => c.code),
        part.map((c) => foldCode(c.code)),
        part.map((c) => c.display),
        part.map((c) => searchText(c.code, [c.display, ...(c.designations ?? []).map((d) => d.value)])),
        part.map((c) => c.priority ?? 0),
        part.map((c) => JSON.stringify(conceptJson(spec, c))),
      ],
    );
  }
}

async function insertMap(q: Queryable, vid: string, map: MapDraft): Promise<void> {
  const CHUNK = 5000;
  for (let i = 0; i < map.elements.length; i += CHUNK) {
    const part = map.elements.slice(i, i + CHUNK);
    await q.query(
      `INSERT INTO terminology_map (vid, source_code, target_code, target_display, equivalence, comment)
       SELECT $1::bigint, x.s, x.t, x.d, x.e, x.c
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS x(s, t, d, e, c)`,
      [
        vid,
        part.map((e) => e.source),
        part.map((e) => e.target),
        part.map((e) => e.targetDisplay ?? null),
        part.map((e) => e.equivalence),
        part.map((e) => e.comment ?? null),
      ],
    );
  }
}

function conceptMapResource(map: MapDraft, id: string, version: string, source: string, demo: boolean): ConceptMap {
  const elements = new Map<string, ConceptMapGroupElement>();
  for (const e of map.elements) {
    const el = elements.get(e.source) ?? { code: e.source, target: [] };
    el.target?.push({
      code: e.target,
      ...(e.targetDisplay ? { display: e.targetDisplay } : {}),
      equivalence: e.equivalence,
      ...(e.comment ? { comment: e.comment } : {}),
    });
    elements.set(e.source, el);
  }
  return {
    resourceType: 'ConceptMap',
    id,
    url: map.url,
    version,
    name: pascal(map.idBase),
    title: demo ? `${map.title} (DEMO)` : map.title,
    status: 'active',
    experimental: demo,
    publisher: 'Sen',
    purpose: `Nguồn / source: ${source}`,
    sourceUri: map.sourceUrl,
    targetUri: map.targetUrl,
    group: [{ source: map.sourceUrl, target: map.targetUrl, element: [...elements.values()] }],
  };
}

/**
 * Imports one catalog file. Returns a report; `status: 'rejected'` means nothing was written. Throws ImportError
 * for problems with the request itself (unknown kind, a version that exists with other content, bad dates).
 */
export async function importCatalog(
  store: FhirStore,
  kind: string,
  table: CatalogTable,
  options: ImportOptions = {},
): Promise<ImportReport> {
  const { spec, concepts, maps, problems, total } = prepareImport(kind, table);
  const badRows = new Set(problems.map((p) => p.row));
  const report: ImportReport = {
    kind,
    url: spec.url,
    status: 'rejected',
    total,
    accepted: total - badRows.size,
    rejected: badRows.size,
    concepts: concepts.length,
    problems,
    maps: [],
  };
  if (problems.length > 0) {
    return report;
  }
  const validFrom = options.validFrom === undefined ? undefined : isoDate(options.validFrom);
  const validTo = options.validTo === undefined ? undefined : isoDate(options.validTo);
  if ((options.validFrom !== undefined && !validFrom) || (options.validTo !== undefined && !validTo)) {
    throw new ImportError('valid-from / valid-to must be dates (YYYY-MM-DD or DD/MM/YYYY)');
  }
  if (validFrom && validTo && validTo < validFrom) {
    throw new ImportError('valid-to is before valid-from');
  }
  const source = options.source ?? spec.source;
  const demo = options.demo ?? false;
  const hash = createHash('sha256').update(JSON.stringify({ concepts, maps, demo })).digest('hex');
  return store.transaction(async (tx) => {
    const same = await tx.query<{ version: string; resource_id: string }>(
      `SELECT version, resource_id FROM terminology_version WHERE url = $1 AND content_hash = $2 ORDER BY vid DESC LIMIT 1`,
      [spec.url, hash],
    );
    if (same.rows[0]) {
      return { ...report, status: 'unchanged', version: same.rows[0].version, resourceId: same.rows[0].resource_id };
    }
    let version = options.version ?? validFrom ?? new Date().toISOString().slice(0, 10);
    const taken = async (v: string): Promise<boolean> =>
      (await tx.query('SELECT 1 FROM terminology_version WHERE url = $1 AND version = $2', [spec.url, v])).rows.length >
      0;
    if (await taken(version)) {
      if (options.version !== undefined) {
        throw new ImportError(
          `Phiên bản '${version}' của ${spec.url} đã có với nội dung khác / version '${version}' already exists with other content: give a new --version`,
        );
      }
      let n = 2;
      while (await taken(`${version}.${n}`)) {
        n++;
      }
      version = `${version}.${n}`;
    }
    const resourceId = `${spec.idBase}-${slug(version)}`.slice(0, 64);
    const cs: CodeSystem = {
      resourceType: 'CodeSystem',
      id: resourceId,
      extension: metaExtensions(validFrom, validTo, source),
      url: spec.url,
      version,
      name: pascal(spec.idBase),
      title: demo ? `${spec.title} (DEMO — dữ liệu mẫu, không dùng cho thực tế)` : spec.title,
      status: 'active',
      experimental: demo,
      date: new Date().toISOString(),
      publisher: 'Sen',
      purpose: `Nguồn / source: ${source}`,
      caseSensitive: true,
      content: 'complete',
      count: concepts.length,
      ...(spec.properties.length > 0 ? { property: [...spec.properties] } : {}),
      concept: concepts.map((c) => conceptJson(spec, c)),
    };
    const { rows } = await tx.query<{ vid: string }>(
      `INSERT INTO terminology_version (kind, url, version, valid_from, valid_to, source, content_hash, concepts, resource_type, resource_id)
       VALUES ($1, $2, $3, $4::date, $5::date, $6, $7, $8, 'CodeSystem', $9) RETURNING vid::text AS vid`,
      [kind, spec.url, version, validFrom ?? null, validTo ?? null, source, hash, concepts.length, resourceId],
    );
    await insertConcepts(tx, rows[0].vid, concepts, spec);
    await store.create(cs, tx, resourceId);
    for (const map of maps) {
      const mapId = `${map.idBase}-${slug(version)}`.slice(0, 64);
      const mv = await tx.query<{ vid: string }>(
        `INSERT INTO terminology_version (kind, url, version, valid_from, valid_to, source, content_hash, concepts, resource_type, resource_id, source_url, target_url)
         VALUES ('map', $1, $2, $3::date, $4::date, $5, $6, $7, 'ConceptMap', $8, $9, $10) RETURNING vid::text AS vid`,
        [
          map.url,
          version,
          map.timeless ? null : (validFrom ?? null),
          map.timeless ? null : (validTo ?? null),
          source,
          hash,
          map.elements.length,
          mapId,
          map.sourceUrl,
          map.targetUrl,
        ],
      );
      await insertMap(tx, mv.rows[0].vid, map);
      await store.create(conceptMapResource(map, mapId, version, source, demo), tx, mapId);
      report.maps.push({ url: map.url, elements: map.elements.length, resourceId: mapId });
    }
    return { ...report, status: 'imported', version, resourceId };
  });
}

/** A report as lines of text (CLI and logs): counts, then each rejected row with its field and reason. */
export function formatReport(r: ImportReport): string[] {
  const lines = [
    `Danh mục / catalog ${r.kind} (${r.url})`,
    `  ${r.total} dòng / rows: ${r.accepted} hợp lệ / accepted, ${r.rejected} bị từ chối / rejected`,
  ];
  if (r.status === 'rejected') {
    lines.push('  KHÔNG nhập gì / NOTHING imported: sửa các dòng sau rồi nhập lại / fix these rows and import again');
    for (const p of r.problems.slice(0, 200)) {
      lines.push(`  dòng / row ${p.row}, ${p.field}: ${p.reason}`);
    }
    if (r.problems.length > 200) {
      lines.push(`  … ${r.problems.length - 200} lỗi khác / more problems`);
    }
  } else if (r.status === 'unchanged') {
    lines.push(`  Không đổi / unchanged: nội dung đã có ở phiên bản / same content as version ${r.version}`);
  } else {
    lines.push(
      `  Đã nhập phiên bản / imported version ${r.version}: ${r.concepts} mã / codes (CodeSystem/${r.resourceId})`,
    );
    for (const m of r.maps) {
      lines.push(`  ConceptMap/${m.resourceId}: ${m.elements} ánh xạ / mappings (${m.url})`);
    }
  }
  return lines;
}

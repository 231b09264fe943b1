/**
 * Terminology look-ups over the tables of migration 0006: which catalog version applies on a date, a code's details,
 * typeahead expansion (code prefix or words in any order, case- and diacritic-insensitive, ranked), validation,
 * translation through ConceptMaps, and the ICD-10 coding rules with the flags of the version in force.
 */
import type { CodeSystemConcept } from '@medplum/fhirtypes';
import type { Queryable } from '@sen/db';
import { outcomes } from '@sen/fhir';
import {
  type CodingCheckResult,
  checkDiagnoses,
  type DiagnosisEntry,
  foldCode,
  type Icd10Flags,
  searchWords,
} from '@sen/vn';
import { isoDate } from './columns.ts';
import { type IndexedConcept, TypeaheadIndex } from './typeahead-index.ts';
import { CATALOG_URLS } from './kinds.ts';

export interface CatalogVersion {
  vid: string;
  kind: string;
  url: string;
  version: string;
  validFrom: string | null;
  validTo: string | null;
  source: string | null;
  resourceType: 'CodeSystem' | 'ConceptMap';
  resourceId: string;
  sourceUrl: string | null;
  targetUrl: string | null;
}

export interface VersionSelector {
  version?: string;
  /** YYYY-MM-DD (a dateTime is cut to its date); default today, falling back to the newest version. */
  date?: string;
}

export interface ExpandOptions extends VersionSelector {
  filter?: string;
  count?: number;
  offset?: number;
  displayLanguage?: string;
}

export interface ExpandItem {
  code: string;
  display: string;
  concept: CodeSystemConcept;
}

export interface Expansion {
  version: CatalogVersion;
  total: number;
  offset: number;
  items: ExpandItem[];
}

export interface TranslateMatch {
  equivalence: string;
  code: string;
  display?: string;
  system: string;
  source: string;
}

const VERSION_COLUMNS = `vid::text AS vid, kind, url, version, valid_from::text AS "validFrom", valid_to::text AS "validTo",
  source, resource_type AS "resourceType", resource_id AS "resourceId", source_url AS "sourceUrl", target_url AS "targetUrl"`;

/** The implicit "all codes" value set of a code system (FHIR convention `<system>?fhir_vs`). */
export function implicitValueSet(system: string): string {
  return `${system}?fhir_vs`;
}

/** The code system of an implicit value set URL, or the URL itself. */
export function systemOfValueSet(url: string): string {
  return url.replace(/\?fhir_vs$/, '');
}

export const MAX_EXPAND_COUNT = 1000;
/** Catalog versions whose typeahead index is kept in memory at once. */
const MAX_INDEXES = 8;

function dateOf(v: string | undefined): string | undefined {
  if (v === undefined) {
    return undefined;
  }
  const d = isoDate(v.slice(0, 10));
  if (!d) {
    throw outcomes.badRequest(`The parameter 'date' must be a date (YYYY-MM-DD), got '${v}'`);
  }
  return d;
}

function displayIn(concept: CodeSystemConcept, language?: string): string {
  if (language && !language.startsWith('vi')) {
    const d = concept.designation?.find((x) => x.language && language.startsWith(x.language));
    if (d) {
      return d.value;
    }
  }
  return concept.display ?? concept.code;
}

export class TerminologyService {
  private readonly db: Queryable;

  /** Typeahead indexes of the versions used lately, by vid (versions are immutable, so these never go stale). */
  private readonly indexes = new Map<string, Promise<TypeaheadIndex>>();

  /** Resolved versions, reused for cacheMs: a version imported by another process is served within that time. */
  private readonly resolved = new Map<string, { at: number; value: CatalogVersion }>();
  private readonly cacheMs: number;

  constructor(db: Queryable, options: { cacheMs?: number } = {}) {
    this.db = db;
    this.cacheMs = options.cacheMs ?? 1000;
  }

  private index(version: CatalogVersion): Promise<TypeaheadIndex> {
    let p = this.indexes.get(version.vid);
    if (p) {
      // most recently used last
      this.indexes.delete(version.vid);
      this.indexes.set(version.vid, p);
      return p;
    }
    p = this.db
      .query<IndexedConcept>(
        `SELECT code, code_fold AS "codeFold", words, priority, display, concept FROM terminology_concept WHERE vid = $1`,
        [version.vid],
      )
      .then(({ rows }) => new TypeaheadIndex(rows.map((r) => ({ ...r, priority: Number(r.priority) }))));
    p.catch(() => this.indexes.delete(version.vid));
    this.indexes.set(version.vid, p);
    while (this.indexes.size > MAX_INDEXES) {
      this.indexes.delete(this.indexes.keys().next().value as string);
    }
    return p;
  }

  /** The catalog version that applies: the given version, else the newest one valid on the date (default today). */
  async resolve(
    url: string,
    sel: VersionSelector = {},
    kind: 'CodeSystem' | 'ConceptMap' = 'CodeSystem',
  ): Promise<CatalogVersion> {
    const date = dateOf(sel.date);
    const on = date ?? new Date().toISOString().slice(0, 10);
    const key = `${kind} ${url} ${sel.version ?? ''} ${date ?? `~${on}`}`;
    const hit = this.resolved.get(key);
    if (hit && Date.now() - hit.at < this.cacheMs) {
      return hit.value;
    }
    const { rows } = await this.db.query<CatalogVersion>(
      `SELECT ${VERSION_COLUMNS} FROM terminology_version
       WHERE url = $1 AND resource_type = $2 AND ($3::text IS NULL OR version = $3)
         AND (valid_from IS NULL OR valid_from <= $4::date) AND (valid_to IS NULL OR valid_to >= $4::date)
       ORDER BY valid_from DESC NULLS LAST, vid DESC LIMIT 1`,
      [url, kind, sel.version ?? null, on],
      { prepare: true },
    );
    let found = rows[0];
    if (!found && date === undefined) {
      const newest = await this.db.query<CatalogVersion>(
        `SELECT ${VERSION_COLUMNS} FROM terminology_version WHERE url = $1 AND resource_type = $2 AND ($3::text IS NULL OR version = $3)
         ORDER BY vid DESC LIMIT 1`,
        [url, kind, sel.version ?? null],
      );
      found = newest.rows[0];
    }
    if (!found) {
      const what = kind === 'CodeSystem' ? 'code system' : 'concept map';
      throw outcomes.notFound(
        `Không có danh mục ${url}${sel.version ? ` phiên bản ${sel.version}` : ''}${date ? ` hiệu lực ngày ${date}` : ''} / ` +
          `no ${what} ${url}${sel.version ? ` version ${sel.version}` : ''}${date ? ` in force on ${date}` : ''}`,
      );
    }
    if (this.cacheMs > 0) {
      if (this.resolved.size >= 1000) {
        this.resolved.clear();
      }
      this.resolved.set(key, { at: Date.now(), value: found });
    }
    return found;
  }

  /** One concept of the version in force, by code (with or without the dot of ICD-10 codes); undefined if absent. */
  async concept(version: CatalogVersion, code: string): Promise<CodeSystemConcept | undefined> {
    const { rows } = await this.db.query<{ concept: string }>(
      `SELECT concept FROM terminology_concept WHERE vid = $1 AND (code = $2 OR code_fold = $3)
       ORDER BY (code = $2) DESC LIMIT 1`,
      [version.vid, code, foldCode(code)],
      { prepare: true },
    );
    return rows[0] ? (JSON.parse(rows[0].concept) as CodeSystemConcept) : undefined;
  }

  async lookup(
    url: string,
    code: string,
    sel: VersionSelector = {},
  ): Promise<{ version: CatalogVersion; concept: CodeSystemConcept }> {
    const version = await this.resolve(url, sel);
    const concept = await this.concept(version, code);
    if (!concept) {
      throw outcomes.notFound(
        `Mã '${code}' không có trong ${url} phiên bản ${version.version} / code '${code}' is not in ${url} version ${version.version}`,
      );
    }
    return { version, concept };
  }

  /**
   * Typeahead: codes starting with the filter (dots, case ignored) or names holding every typed word as a word
   * prefix, in any order, diacritics ignored. Ranked: exact code, code prefix, the typed words as one phrase, the
   * other matches; then the catalog's priority, shorter codes (categories before their subcodes), shorter names.
   */
  async expand(url: string, opts: ExpandOptions = {}): Promise<Expansion> {
    const version = await this.resolve(url, opts);
    const count = Math.min(opts.count ?? 20, MAX_EXPAND_COUNT);
    const offset = opts.offset ?? 0;
    if (count < 0 || offset < 0) {
      throw outcomes.badRequest('count and offset must not be negative');
    }
    const index = await this.index(version);
    const page = index.search(opts.filter ?? '', count, offset);
    const items = page.items.map((r) => {
      const concept = JSON.parse(r.concept) as CodeSystemConcept;
      return { code: r.code, display: displayIn(concept, opts.displayLanguage), concept };
    });
    const total = page.total;
    return { version, total, offset, items };
  }

  /** Whether a code is in the catalog version in force (and, when a display is given, whether it matches). */
  async validateCode(
    url: string,
    code: string,
    sel: VersionSelector & { display?: string } = {},
  ): Promise<{ result: boolean; message?: string; display?: string; version: CatalogVersion }> {
    const version = await this.resolve(url, sel);
    const concept = await this.concept(version, code);
    if (!concept) {
      return {
        result: false,
        version,
        message: `Mã '${code}' không có trong ${url} phiên bản ${version.version} / code '${code}' is not in ${url} version ${version.version}`,
      };
    }
    if (sel.display !== undefined) {
      const names = [concept.display ?? '', ...(concept.designation ?? []).map((d) => d.value)];
      if (!names.some((n) => searchWords(n).join(' ') === searchWords(sel.display ?? '').join(' '))) {
        return {
          result: false,
          version,
          display: concept.display,
          message: `Tên '${sel.display}' không khớp với mã ${concept.code} ('${concept.display}') / the display does not match code ${concept.code}`,
        };
      }
    }
    return { result: true, version, display: concept.display };
  }

  /**
   * Maps a code through a ConceptMap, found by its URL or by the code's system and the system wanted. With
   * `reverse` the map is read backwards (the code is in the map's target system, the answer in its source system).
   */
  async translate(opts: {
    url?: string;
    system?: string;
    targetSystem?: string;
    code: string;
    reverse?: boolean;
    date?: string;
  }): Promise<{ version: CatalogVersion; matches: TranslateMatch[] }> {
    let url = opts.url;
    if (!url) {
      if (!opts.system && !opts.targetSystem) {
        throw outcomes.badRequest(
          "$translate needs 'url', or 'system' and 'targetsystem' (the code's system and the one wanted)",
        );
      }
      const { rows } = await this.db.query<{ url: string }>(
        `SELECT url FROM terminology_version WHERE resource_type = 'ConceptMap'
           AND ($1::text IS NULL OR source_url = $1) AND ($2::text IS NULL OR target_url = $2)
           ORDER BY vid DESC LIMIT 1`,
        opts.reverse
          ? [opts.targetSystem ?? null, opts.system ?? null]
          : [opts.system ?? null, opts.targetSystem ?? null],
      );
      if (!rows[0]) {
        throw outcomes.notFound(
          `Không có bảng ánh xạ / no concept map from ${opts.system ?? '*'} to ${opts.targetSystem ?? '*'}`,
        );
      }
      url = rows[0].url;
    }
    const version = await this.resolve(url, { date: opts.date }, 'ConceptMap');
    const { rows } = await this.db.query<{ s: string; t: string; d: string | null; e: string }>(
      opts.reverse
        ? 'SELECT target_code AS s, source_code AS t, NULL AS d, equivalence AS e FROM terminology_map WHERE vid = $1 AND target_code = $2 ORDER BY source_code'
        : 'SELECT source_code AS s, target_code AS t, target_display AS d, equivalence AS e FROM terminology_map WHERE vid = $1 AND source_code = $2 ORDER BY target_code',
      [version.vid, opts.code],
    );
    const system = (opts.reverse ? version.sourceUrl : version.targetUrl) ?? '';
    return {
      version,
      matches: rows.map((r) => ({
        equivalence: r.e,
        code: r.t,
        ...(r.d ? { display: r.d } : {}),
        system,
        source: `${version.url}|${version.version}`,
      })),
    };
  }

  /** The ICD-10 flags of codes in the version in force on a date (for checkDiagnoses). */
  async icd10Flags(codes: readonly string[], date?: string): Promise<Map<string, Icd10Flags>> {
    const version = await this.resolve(CATALOG_URLS.icd10, { date });
    const out = new Map<string, Icd10Flags>();
    for (const code of new Set(codes)) {
      const c = await this.concept(version, code);
      if (c) {
        const flags: Icd10Flags = {};
        for (const p of c.property ?? []) {
          if (p.valueBoolean === true && p.code in FLAG_NAMES) {
            flags[p.code as keyof Icd10Flags] = true;
          }
        }
        out.set(code, flags);
      }
    }
    return out;
  }

  /** Runs the ICD-10 coding rules against the catalog version in force on the episode's end date. */
  async checkCoding(input: {
    diagnoses: readonly DiagnosisEntry[];
    sex?: 'male' | 'female' | 'other' | 'unknown';
    purpose?: 'record' | 'claim';
    date?: string;
  }): Promise<CodingCheckResult> {
    const flags = await this.icd10Flags(
      input.diagnoses.map((d) => d.code.trim()),
      input.date,
    );
    return checkDiagnoses({ ...input, flags: (code) => flags.get(code) });
  }
}

const FLAG_NAMES: Record<keyof Icd10Flags, true> = {
  notMain: true,
  discouragedMain: true,
  neverUse: true,
  causeOfDeathOnly: true,
  femaleOnly: true,
  maleOnly: true,
};

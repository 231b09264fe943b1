/**
 * `POST Patient/$match` (FHIR R4 OperationDefinition Patient-match): finds the patients a registration may be about.
 *
 * 1. An exact personal ID number (CCCD, current or old — old numbers stay on the record as identifiers with `use: old`
 *    and a `period.end`) or old CMND number → score 1, grade certain.
 * 2. Otherwise candidates that share the birth date, whose name holds the same family name and given name, or the
 *    same family name and birth year, are scored on the folded name, birth date, sex and address (scoring.ts).
 * A merged patient (inactive, `link` replaced-by) is replaced by the patient it was merged into. Every search runs with
 * the caller's access policy in its SQL, and every patient read is checked with the gate.
 */
import type { Bundle, BundleEntry, Identifier, Patient } from '@medplum/fhirtypes';
import type { Queryable } from '@sen/db';
import { outcomes, parseSearchRequest } from '@sen/fhir';
import { searchRows } from '@sen/store';
import { fold, normalizeCccd, VN_CORE_SID, vietnamDay } from '@sen/vn';
import type { FhirOperation } from '../../fhir/operations.ts';
import type { FhirRouter } from '../../fhir/router.ts';
import type { AccessContext } from '../../fhir/types.ts';
import { gradeOf, MATCH_GRADE_URL, type MatchGrade, matchKey, POSSIBLE_THRESHOLD, scoreCandidate } from './scoring.ts';

const R4 = 'http://hl7.org/fhir/OperationDefinition';
const CANDIDATES_PER_QUERY = 100;
const MAX_COUNT = 50;

/** ID-number-like identifier values of the query: CCCD and CMND systems, or bare 9/12-digit values. */
function idNumbers(identifiers: readonly Identifier[] | undefined): string[] {
  const out = new Set<string>();
  for (const i of identifiers ?? []) {
    if (!i.value) {
      continue;
    }
    const v = normalizeCccd(i.value);
    const idSystem = i.system === VN_CORE_SID.cccd || i.system === VN_CORE_SID.cmnd;
    if ((idSystem || !i.system) && /^\d+$/.test(v) && (v.length === 12 || v.length === 9)) {
      out.add(v);
    }
  }
  return [...out];
}

function replacedBy(p: Patient): string | undefined {
  if (p.active !== false) {
    return undefined;
  }
  const link = p.link?.find((l) => l.type === 'replaced-by' && l.other?.reference?.startsWith('Patient/'));
  return link?.other.reference?.slice('Patient/'.length);
}

interface Scored {
  patient: Patient;
  score: number;
  grade: MatchGrade;
}

export interface MatchOptions {
  count?: number;
  onlyCertain?: boolean;
  access?: AccessContext;
  q?: Queryable;
  /** Reference day for "current" identifiers (tests pin it). */
  today?: string;
}

/** The $match algorithm, callable without HTTP (the bench script uses it). */
export async function matchPatients(router: FhirRouter, query: Patient, options: MatchOptions = {}): Promise<Scored[]> {
  const { access, q } = options;
  const today = options.today ?? vietnamDay();
  const count = Math.min(Math.max(options.count ?? 5, 1), MAX_COUNT);
  const store = router.store;
  const search = async (params: [string, string][]): Promise<Patient[]> => {
    const req = parseSearchRequest('Patient', [...params, ['_count', String(CANDIDATES_PER_QUERY)]]);
    const res = await searchRows(store, req, q, access?.policy);
    return res.rows.map((r) => JSON.parse(r.content) as Patient);
  };
  const byId = new Map<string, Scored>();
  const resolve = async (p: Patient, depth = 0): Promise<Patient | undefined> => {
    const next = replacedBy(p);
    if (!next || depth > 3) {
      return p;
    }
    try {
      const stored = await store.readWithCompartment('Patient', next, q);
      const target = JSON.parse(stored.content as string) as Patient;
      access?.check('read', 'Patient', target, stored.patientIds);
      return resolve(target, depth + 1);
    } catch {
      return undefined; // the surviving record is gone or not for this caller
    }
  };

  // 1. exact ID numbers, current or old
  const numbers = idNumbers(query.identifier);
  if (numbers.length > 0) {
    const values = numbers.flatMap((n) => [`${VN_CORE_SID.cccd}|${n}`, `${VN_CORE_SID.cmnd}|${n}`]).join(',');
    for (const found of await search([['identifier', values]])) {
      const p = await resolve(found);
      if (p?.id) {
        byId.set(p.id, { patient: p, score: 1, grade: 'certain' });
      }
    }
  }
  if (options.onlyCertain) {
    return [...byId.values()].slice(0, count);
  }

  // 2. scored candidates
  const key = matchKey(query, today);
  const candidates = new Map<string, Patient>();
  if (query.birthDate && /^\d{4}-\d{2}-\d{2}$/.test(query.birthDate)) {
    for (const p of await search([['birthdate', query.birthDate]])) {
      candidates.set(p.id as string, p);
    }
  }
  const words = key.name.split(' ').filter((w) => w.length > 0);
  if (words.length >= 2) {
    const family = words[0];
    const last = words[words.length - 1];
    for (const p of await search([
      ['name', family],
      ['name:contains', last],
    ])) {
      candidates.set(p.id as string, p);
    }
    if (query.birthDate && /^\d{4}/.test(query.birthDate)) {
      // a mistyped given name and birth day: same family name and birth year
      for (const p of await search([
        ['name', family],
        ['birthdate', query.birthDate.slice(0, 4)],
      ])) {
        candidates.set(p.id as string, p);
      }
    }
  } else if (words.length === 1 && query.birthDate) {
    for (const p of await search([
      ['name:contains', words[0]],
      ['birthdate', query.birthDate.slice(0, 4)],
    ])) {
      candidates.set(p.id as string, p);
    }
  }
  for (const found of candidates.values()) {
    const p = await resolve(found);
    if (!p?.id || byId.has(p.id)) {
      continue;
    }
    const score = scoreCandidate(key, matchKey(p, today));
    if (score >= POSSIBLE_THRESHOLD) {
      byId.set(p.id, { patient: p, score, grade: gradeOf(score) });
    }
  }
  return [...byId.values()].sort((a, b) => b.score - a.score).slice(0, count);
}

export function matchOperation(router: FhirRouter): FhirOperation {
  return {
    name: 'match',
    resourceTypes: ['Patient'],
    levels: ['type'],
    methods: ['POST'],
    access: { action: 'search', resourceType: 'Patient' },
    definitionUrl: `${R4}/Patient-match`,
    async handler({ req, input, q }) {
      const resource = input.resource<Patient>('resource');
      if (!resource || resource.resourceType !== 'Patient') {
        throw outcomes.badRequest(
          "Cần tham số 'resource' là một Patient / The parameter 'resource' (a Patient) is required",
        );
      }
      const hasName = (resource.name ?? []).some((n) => fold([n.family, ...(n.given ?? []), n.text].join(' ')) !== '');
      if (idNumbers(resource.identifier).length === 0 && !(hasName && resource.birthDate)) {
        throw outcomes.badRequest(
          'Cần số định danh, hoặc họ tên và ngày sinh để tìm người bệnh / ' +
            'Give an ID number, or a name and a birth date, to match on',
        );
      }
      const count = input.integer('count');
      if (count !== undefined && (count < 1 || count > MAX_COUNT)) {
        throw outcomes.badRequest(`'count' phải từ 1 đến ${MAX_COUNT} / 'count' must be 1..${MAX_COUNT}`);
      }
      const found = await matchPatients(router, resource, {
        count,
        onlyCertain: input.boolean('onlyCertainMatches') ?? false,
        access: req.access,
        q,
      });
      const base = router.options.baseUrl;
      const entry: BundleEntry[] = found.map((m) => ({
        fullUrl: `${base}/Patient/${m.patient.id}`,
        resource: m.patient,
        search: {
          mode: 'match',
          score: m.score,
          extension: [{ url: MATCH_GRADE_URL, valueCode: m.grade }],
        },
      }));
      const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset', total: entry.length, entry };
      return { status: 200, body: bundle };
    },
  };
}

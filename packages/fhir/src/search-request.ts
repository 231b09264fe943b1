import { isResourceType } from './definitions.ts';
import { outcomes } from './outcomes.ts';
import { getSearchParam, type SearchParamDef } from './search-params.ts';

/** One search criterion; the values of a criterion are OR-ed, criteria are AND-ed. */
export type Criterion =
  | { kind: 'param'; param: SearchParamDef; modifier?: string; values: string[] }
  | { kind: 'id'; not: boolean; values: string[] }
  | { kind: 'lastUpdated'; values: string[] }
  /** The reference points at one of `targets` (one inner criterion per candidate type) that matches. */
  | { kind: 'chain'; param: SearchParamDef; targets: { type: string; inner: Criterion }[] }
  | { kind: 'has'; sourceType: string; refParam: SearchParamDef; inner: Criterion }
  | { kind: 'compartment'; compartmentType: string; compartmentId: string };

export interface SortKey {
  /** `_id`, `_lastUpdated`, or a search parameter of the resource type. */
  code: string;
  param?: SearchParamDef;
  desc: boolean;
}

export interface IncludeSpec {
  sourceType: string;
  /** A reference search parameter code, or '*' for every reference parameter. */
  code: string;
  targetType?: string;
  iterate: boolean;
}

export type SummaryMode = 'true' | 'text' | 'data' | 'count' | 'false';

export interface SearchRequest {
  resourceType: string;
  criteria: Criterion[];
  sort: SortKey[];
  count: number;
  cursor?: string;
  offset?: number;
  total: 'none' | 'estimate' | 'accurate' | 'default';
  summary?: SummaryMode;
  elements?: string[];
  include: IncludeSpec[];
  revinclude: IncludeSpec[];
}

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 1000;

const RESULT_PARAMS = new Set([
  '_count',
  '_sort',
  '_total',
  '_summary',
  '_elements',
  '_include',
  '_revinclude',
  '_cursor',
  '_offset',
  '_format',
  '_pretty',
  '_contained',
  '_containedType',
]);

/** Modifiers allowed per parameter type (R4 3.1.1.5.5). Type modifiers (`:Patient`) are handled for references. */
const MODIFIERS: Record<string, readonly string[]> = {
  string: ['exact', 'contains', 'missing'],
  token: ['missing', 'not', 'text', 'of-type', 'in', 'not-in', 'above', 'below'],
  reference: ['missing', 'identifier'],
  date: ['missing'],
  number: ['missing'],
  quantity: ['missing'],
  uri: ['missing', 'above', 'below'],
  composite: ['missing'],
  special: ['missing'],
};
const UNSUPPORTED_MODIFIERS = new Set(['in', 'not-in', 'above', 'below', 'of-type']);

export interface ParseOptions {
  /** `Prefer: handling=lenient`: unknown parameters are ignored instead of refused. */
  lenient?: boolean;
}

/** Parses the query of a FHIR search into a SearchRequest; bad parameters are a 400 OperationOutcome. */
export function parseSearchRequest(
  resourceType: string,
  query: Iterable<[string, string]>,
  options: ParseOptions = {},
): SearchRequest {
  const req: SearchRequest = {
    resourceType,
    criteria: [],
    sort: [],
    count: DEFAULT_COUNT,
    total: 'default',
    include: [],
    revinclude: [],
  };
  for (const [rawKey, value] of query) {
    const key = rawKey.trim();
    if (RESULT_PARAMS.has(key) || key.startsWith('_include') || key.startsWith('_revinclude')) {
      parseResultParam(req, key, value);
      continue;
    }
    const c = parseCriterion(resourceType, key, value, options);
    if (c) {
      req.criteria.push(c);
    }
  }
  return req;
}

function parseResultParam(req: SearchRequest, key: string, value: string): void {
  switch (key) {
    case '_count': {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) {
        throw outcomes.badRequest(`_count must be a non-negative integer, got '${value}'`, ['_count']);
      }
      req.count = Math.min(n, MAX_COUNT);
      return;
    }
    case '_offset': {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) {
        throw outcomes.badRequest(`_offset must be a non-negative integer, got '${value}'`, ['_offset']);
      }
      req.offset = n;
      return;
    }
    case '_cursor':
      req.cursor = value;
      return;
    case '_total':
      if (value !== 'none' && value !== 'estimate' && value !== 'accurate') {
        throw outcomes.badRequest(`_total must be none, estimate or accurate, got '${value}'`, ['_total']);
      }
      req.total = value;
      return;
    case '_summary':
      if (!['true', 'text', 'data', 'count', 'false'].includes(value)) {
        throw outcomes.badRequest(`_summary must be true, text, data, count or false, got '${value}'`, ['_summary']);
      }
      req.summary = value as SummaryMode;
      return;
    case '_elements':
      req.elements = value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      return;
    case '_sort':
      for (const part of value.split(',')) {
        const p = part.trim();
        if (!p) {
          continue;
        }
        const desc = p.startsWith('-');
        const code = desc ? p.slice(1) : p;
        if (code === '_id' || code === '_lastUpdated') {
          req.sort.push({ code, desc });
          continue;
        }
        const param = getSearchParam(req.resourceType, code);
        if (!param || param.type === 'composite' || param.type === 'special') {
          throw outcomes.badRequest(`Cannot sort ${req.resourceType} by '${code}'`, ['_sort']);
        }
        req.sort.push({ code, param, desc });
      }
      return;
    case '_format':
    case '_pretty':
    case '_contained':
    case '_containedType':
      return;
    default:
      break;
  }
  const [base, mod] = key.split(':');
  if (base === '_include' || base === '_revinclude') {
    if (mod !== undefined && mod !== 'iterate' && mod !== 'recurse') {
      throw outcomes.badRequest(`Unknown modifier ':${mod}' on ${base}`, [key]);
    }
    const spec = parseIncludeValue(
      value,
      mod === 'iterate' || mod === 'recurse',
      base === '_revinclude' ? undefined : req.resourceType,
    );
    (base === '_include' ? req.include : req.revinclude).push(spec);
    return;
  }
  throw outcomes.badRequest(`Unknown search result parameter '${key}'`, [key]);
}

function parseIncludeValue(value: string, iterate: boolean, defaultSource: string | undefined): IncludeSpec {
  if (value === '*') {
    return { sourceType: defaultSource ?? '*', code: '*', iterate };
  }
  const [sourceType, code, targetType] = value.split(':');
  if (!sourceType || !code || !isResourceType(sourceType)) {
    throw outcomes.badRequest(`Invalid _include/_revinclude value '${value}' (expected Type:param[:TargetType])`);
  }
  if (code !== '*') {
    const p = getSearchParam(sourceType, code);
    if (p?.type !== 'reference') {
      throw outcomes.badRequest(`'${code}' is not a reference search parameter of ${sourceType}`);
    }
  }
  if (targetType && !isResourceType(targetType)) {
    throw outcomes.badRequest(`Unknown resource type '${targetType}' in '${value}'`);
  }
  return { sourceType, code, targetType, iterate };
}

function splitValues(value: string): string[] {
  // Commas separate alternatives; a backslash escapes a comma (R4 3.1.1.5.7).
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (
      ch === '\\' &&
      i + 1 < value.length &&
      (value[i + 1] === ',' || value[i + 1] === '$' || value[i + 1] === '|' || value[i + 1] === '\\')
    ) {
      cur += `\\${value[i + 1]}`;
      i++;
    } else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  out.push(cur);
  return out.filter((v) => v.length > 0);
}

/** Removes the search escapes (`\,` `\$` `\|` `\\`) once a value has been split. */
export function unescapeSearchValue(v: string): string {
  return v.replace(/\\([,$|\\])/g, '$1');
}

function parseCriterion(
  resourceType: string,
  key: string,
  value: string,
  options: ParseOptions,
): Criterion | undefined {
  if (key.startsWith('_has:')) {
    // _has:Observation:patient:code=1234 (one level; the inner part may itself be a parameter with modifiers)
    const rest = key.slice(5);
    const first = rest.indexOf(':');
    const second = rest.indexOf(':', first + 1);
    if (first < 0 || second < 0) {
      throw outcomes.badRequest(`Invalid _has parameter '${key}' (expected _has:Type:reference:parameter)`, [key]);
    }
    const sourceType = rest.slice(0, first);
    const refCode = rest.slice(first + 1, second);
    const innerKey = rest.slice(second + 1);
    if (!isResourceType(sourceType)) {
      throw outcomes.badRequest(`Unknown resource type '${sourceType}' in '${key}'`, [key]);
    }
    const refParam = getSearchParam(sourceType, refCode);
    if (refParam?.type !== 'reference') {
      throw outcomes.badRequest(`'${refCode}' is not a reference search parameter of ${sourceType}`, [key]);
    }
    if (refParam.targets.length > 0 && !refParam.targets.includes(resourceType)) {
      throw outcomes.badRequest(`${sourceType}.${refCode} cannot refer to ${resourceType}`, [key]);
    }
    const inner = parseCriterion(sourceType, innerKey, value, { lenient: false });
    if (!inner) {
      return undefined;
    }
    return { kind: 'has', sourceType, refParam, inner };
  }

  const dot = key.indexOf('.');
  if (dot > 0) {
    // chained: subject:Patient.name=x or subject.name=x (multi-level chains nest)
    const head = key.slice(0, dot);
    const tail = key.slice(dot + 1);
    const [code, typeMod] = head.split(':');
    const param = getSearchParam(resourceType, code);
    if (param?.type !== 'reference') {
      if (options.lenient) {
        return undefined;
      }
      throw outcomes.badRequest(`'${code}' is not a reference search parameter of ${resourceType}`, [key]);
    }
    let targetTypes: string[];
    if (typeMod) {
      if (!isResourceType(typeMod) || (param.targets.length > 0 && !param.targets.includes(typeMod))) {
        throw outcomes.badRequest(`${resourceType}.${code} cannot refer to ${typeMod}`, [key]);
      }
      targetTypes = [typeMod];
    } else {
      // Without a type modifier the chain searches every target type that has the chained parameter.
      targetTypes = param.targets.filter((t) => isResourceType(t) && getSearchParam(t, tail.split(/[.:]/)[0]));
      if (targetTypes.length === 0) {
        if (options.lenient) {
          return undefined;
        }
        throw outcomes.badRequest(
          `Chained parameter '${key}': no target type of ${resourceType}.${code} has a parameter '${tail.split(/[.:]/)[0]}'; name the target type, e.g. ${code}:Patient.${tail}`,
          [key],
        );
      }
    }
    const targets: { type: string; inner: Criterion }[] = [];
    for (const type of targetTypes) {
      const inner = parseCriterion(type, tail, value, { lenient: false });
      if (inner) {
        targets.push({ type, inner });
      }
    }
    if (targets.length === 0) {
      return undefined;
    }
    return { kind: 'chain', param, targets };
  }

  const colon = key.indexOf(':');
  const code = colon >= 0 ? key.slice(0, colon) : key;
  const modifier = colon >= 0 ? key.slice(colon + 1) : undefined;
  const values = splitValues(value);

  if (code === '_id') {
    if (modifier && modifier !== 'not' && modifier !== 'missing') {
      throw outcomes.badRequest(`Modifier ':${modifier}' is not allowed on _id`, [key]);
    }
    return { kind: 'id', not: modifier === 'not', values: values.map(unescapeSearchValue) };
  }
  if (code === '_lastUpdated') {
    if (modifier) {
      throw outcomes.badRequest(`Modifier ':${modifier}' is not allowed on _lastUpdated`, [key]);
    }
    return { kind: 'lastUpdated', values };
  }
  const param = getSearchParam(resourceType, code);
  if (!param) {
    if (options.lenient) {
      return undefined;
    }
    throw outcomes.badRequest(`Unknown search parameter '${code}' for resource type ${resourceType}`, [key]);
  }
  if (param.type === 'special') {
    throw outcomes.notSupported(`Search parameter '${code}' (special) is not supported`);
  }
  if (modifier !== undefined) {
    const allowed = MODIFIERS[param.type] ?? [];
    const isTypeModifier = param.type === 'reference' && isResourceType(modifier);
    if (!isTypeModifier && !allowed.includes(modifier)) {
      throw outcomes.badRequest(`Modifier ':${modifier}' is not allowed on ${param.type} parameter '${code}'`, [key]);
    }
    if (
      UNSUPPORTED_MODIFIERS.has(modifier) &&
      !(param.type === 'uri' && (modifier === 'above' || modifier === 'below'))
    ) {
      throw outcomes.notSupported(`Modifier ':${modifier}' on ${param.type} parameter '${code}' is not supported yet`);
    }
    if (modifier === 'missing' && values.some((v) => v !== 'true' && v !== 'false')) {
      throw outcomes.badRequest(`:missing takes true or false, got '${value}'`, [key]);
    }
  }
  if (values.length === 0) {
    throw outcomes.badRequest(`Search parameter '${key}' has no value`, [key]);
  }
  return { kind: 'param', param, modifier, values };
}

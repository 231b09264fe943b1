import {
  type Criterion,
  getSearchParam,
  isResourceType,
  outcomes,
  parseDateRange,
  parseReference,
  type SearchParamDef,
  type SortKey,
  unescapeSearchValue,
} from '@sen/fhir';
import { fold } from '@sen/vn';
import { type AccessPolicy, accessCondition } from './access.ts';
import type { SqlParams } from './sql.ts';

const PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'] as const;
type Prefix = (typeof PREFIXES)[number];

function splitPrefix(v: string): { prefix: Prefix; rest: string } {
  const p = v.slice(0, 2);
  if ((PREFIXES as readonly string[]).includes(p) && v.length > 2 && /[0-9-]/.test(v[2])) {
    return { prefix: p as Prefix, rest: v.slice(2) };
  }
  return { prefix: 'eq', rest: v };
}

/** Splits `a|b|c` on unescaped pipes. */
function splitPipes(v: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < v.length; i++) {
    if (v[i] === '\\' && i + 1 < v.length) {
      cur += v[i] + v[i + 1];
      i++;
    } else if (v[i] === '|') {
      out.push(cur);
      cur = '';
    } else {
      cur += v[i];
    }
  }
  out.push(cur);
  return out.map(unescapeSearchValue);
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export interface CompileContext {
  params: SqlParams;
  /** The server's base URL, to treat absolute references to itself as local. */
  base?: string;
  /**
   * Check each candidate row with a correlated lookup instead of joining the whole match set: used when
   * the query already walks an ordered index (a patient's resources by date) and should stop after a page.
   */
  correlated?: boolean;
  /** The access gate's per-type filter, applied to the resources that chains and _has look into. */
  access?: AccessPolicy;
}

/** Compiles one criterion to a boolean SQL expression over the resource row alias `alias`. */
export function compileCriterion(c: Criterion, alias: string, type: string, ctx: CompileContext): string {
  const P = ctx.params;
  switch (c.kind) {
    case 'id': {
      const cond = `${alias}.id = ANY(${P.add(c.values)}::text[])`;
      return c.not ? `NOT (${cond})` : cond;
    }
    case 'lastUpdated':
      return c.values
        .map((v) => dateCondition(v, `${alias}.last_updated`, `${alias}.last_updated`, P, '_lastUpdated'))
        .map((s) => `(${s})`)
        .join(' OR ');
    case 'compartment':
      return `${alias}.rid IN (SELECT rid FROM compartment WHERE ctype = ${P.add(c.compartmentType)} AND cid = ${P.add(c.compartmentId)})`;
    case 'chain': {
      // subject:Patient.name=x → this resource references a Patient whose name matches
      // (subject.name=x without a type: any of the target types that has `name`)
      return c.targets
        .map((t) => {
          const inner = compileCriterion(t.inner, 'c', t.type, ctx);
          const visible = accessCondition(ctx.access, t.type, 'c', P);
          return `${alias}.rid IN (SELECT ref.rid FROM idx_reference ref JOIN resource c ON c.type = ${P.add(t.type)} AND c.id = ref.target_id AND NOT c.deleted WHERE ref.code = ${P.add(c.param.code)} AND ref.target_type = c.type AND (${inner}) AND ${visible})`;
        })
        .join(' OR ');
    }
    case 'has': {
      // _has:Observation:patient:code=x → some Observation whose `patient` refers to this resource and matches
      const inner = compileCriterion(c.inner, 'h', c.sourceType, ctx);
      const visible = accessCondition(ctx.access, c.sourceType, 'h', P);
      return `${alias}.id IN (SELECT ref.target_id FROM idx_reference ref JOIN resource h ON h.rid = ref.rid AND h.type = ${P.add(c.sourceType)} AND NOT h.deleted WHERE ref.code = ${P.add(c.refParam.code)} AND ref.target_type = ${P.add(type)} AND (${inner}) AND ${visible})`;
    }
    case 'param':
      return compileParam(c.param, c.modifier, c.values, alias, type, ctx);
    default:
      throw outcomes.serverError('unknown criterion');
  }
}

const TABLE: Record<string, string> = {
  string: 'idx_string',
  token: 'idx_token',
  reference: 'idx_reference',
  date: 'idx_date',
  number: 'idx_number',
  quantity: 'idx_quantity',
  uri: 'idx_uri',
  composite: 'idx_composite',
};

function compileParam(
  p: SearchParamDef,
  modifier: string | undefined,
  values: string[],
  alias: string,
  type: string,
  ctx: CompileContext,
): string {
  const P = ctx.params;
  const table = TABLE[p.type];
  if (!table) {
    throw outcomes.notSupported(`Search parameter '${p.code}' of type ${p.type} is not supported`);
  }
  const code = P.add(p.code);
  if (modifier === 'missing') {
    const exists = `EXISTS (SELECT 1 FROM ${table} m WHERE m.rid = ${alias}.rid AND m.code = ${code})`;
    return values[0] === 'true' ? `NOT ${exists}` : exists;
  }
  const ors: string[] = [];
  for (const raw of values) {
    ors.push(`(${valueCondition(p, modifier, raw, type, ctx)})`);
  }
  if (ctx.correlated) {
    // OFFSET 0 keeps the planner from turning this into a join over every match
    const exists = `EXISTS (SELECT 1 FROM ${table} i WHERE i.rid = ${alias}.rid AND i.code = ${code} AND (${ors.join(' OR ')}) OFFSET 0)`;
    return modifier === 'not' ? `NOT ${exists}` : exists;
  }
  const match = `SELECT i.rid FROM ${table} i WHERE i.code = ${code} AND (${ors.join(' OR ')})`;
  if (modifier === 'not') {
    return `${alias}.rid NOT IN (${match})`;
  }
  return `${alias}.rid IN (${match})`;
}

function valueCondition(
  p: SearchParamDef,
  modifier: string | undefined,
  raw: string,
  type: string,
  ctx: CompileContext,
): string {
  const P = ctx.params;
  switch (p.type) {
    case 'string': {
      const v = unescapeSearchValue(raw);
      if (modifier === 'exact') {
        return `i.raw = ${P.add(v)}`;
      }
      const f = escapeLike(fold(v));
      if (modifier === 'contains') {
        return `i.value LIKE ${P.add(`%${f}%`)}`;
      }
      return `i.value LIKE ${P.add(`${f}%`)}`;
    }
    case 'token':
      return tokenCondition(raw, modifier, P);
    case 'reference':
      return referenceCondition(p, modifier, raw, ctx);
    case 'date': {
      return dateCondition(raw, 'i.lo', 'i.hi', P, p.code);
    }
    case 'number': {
      const { prefix, rest } = splitPrefix(raw);
      return numberCondition(prefix, rest, 'i.value', P, p.code);
    }
    case 'quantity':
      return quantityCondition(raw, 'i.value', 'i.system', 'i.unit', P, p.code);
    case 'uri': {
      const v = unescapeSearchValue(raw);
      if (modifier === 'below') {
        return `i.value LIKE ${P.add(`${escapeLike(v)}%`)}`;
      }
      if (modifier === 'above') {
        // every stored URL that is a prefix of the given one
        return `${P.add(v)} LIKE (replace(replace(replace(i.value, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%')`;
      }
      return `i.value = ${P.add(v)}`;
    }
    case 'composite':
      return compositeCondition(p, raw, P, type);
    default:
      throw outcomes.notSupported(`Search parameter type ${p.type} is not supported`);
  }
}

function tokenCondition(raw: string, modifier: string | undefined, P: SqlParams): string {
  if (modifier === 'text') {
    return `i.text LIKE ${P.add(`${escapeLike(fold(unescapeSearchValue(raw)))}%`)}`;
  }
  const parts = splitPipes(raw);
  if (parts.length === 1) {
    return `i.value = ${P.add(parts[0])}`;
  }
  const [system, value] = parts;
  if (system === '' && value !== '') {
    return `i.value = ${P.add(value)} AND i.system IS NULL`;
  }
  if (value === '') {
    return `i.system = ${P.add(system)}`;
  }
  return `i.value = ${P.add(value)} AND i.system = ${P.add(system)}`;
}

function referenceCondition(p: SearchParamDef, modifier: string | undefined, raw: string, ctx: CompileContext): string {
  const P = ctx.params;
  const v = unescapeSearchValue(raw);
  if (modifier === 'identifier') {
    const parts = splitPipes(raw);
    if (parts.length === 1) {
      return `i.ident_value = ${P.add(parts[0])}`;
    }
    if (parts[1] === '') {
      return `i.ident_system = ${P.add(parts[0])}`;
    }
    return `i.ident_value = ${P.add(parts[1])} AND i.ident_system = ${P.add(parts[0])}`;
  }
  let local = v;
  if (ctx.base && local.startsWith(ctx.base)) {
    local = local.slice(ctx.base.length).replace(/^\//, '');
  }
  const typeModifier = modifier && isResourceType(modifier) ? modifier : undefined;
  if (/^[a-z][a-z0-9+.-]*:/i.test(local)) {
    // absolute URL or canonical of another server: match as written
    return `i.raw = ${P.add(local)}`;
  }
  const parsed = parseReference(local);
  if (parsed) {
    if (typeModifier && typeModifier !== parsed.type) {
      return 'false';
    }
    return `i.target_id = ${P.add(parsed.id)} AND i.target_type = ${P.add(parsed.type)}`;
  }
  // a bare id: with a type modifier, or any of the parameter's target types
  if (typeModifier) {
    return `i.target_id = ${P.add(local)} AND i.target_type = ${P.add(typeModifier)}`;
  }
  if (p.targets.length === 1) {
    return `i.target_id = ${P.add(local)} AND i.target_type = ${P.add(p.targets[0])}`;
  }
  return `i.target_id = ${P.add(local)}`;
}

/** Date comparison between a stored range [lo, hi] and a searched range per the prefix (R4 3.1.1.4.2). */
export function dateCondition(raw: string, lo: string, hi: string, P: SqlParams, code: string): string {
  const { prefix, rest } = splitPrefix(raw);
  const r = parseDateRange(rest);
  if (!r) {
    throw outcomes.badRequest(`Invalid date '${raw}' for parameter '${code}'`, [code]);
  }
  const qlo = (): string => `${P.add(r.lo)}::timestamptz`;
  const qhi = (): string => `${P.add(r.hi)}::timestamptz`;
  switch (prefix) {
    case 'eq':
      return `${lo} >= ${qlo()} AND ${hi} <= ${qhi()}`;
    case 'ne':
      return `NOT (${lo} >= ${qlo()} AND ${hi} <= ${qhi()})`;
    case 'gt':
      return `${hi} > ${qhi()}`;
    case 'lt':
      return `${lo} < ${qlo()}`;
    case 'ge':
      return `${hi} >= ${qlo()}`;
    case 'le':
      return `${lo} <= ${qhi()}`;
    case 'sa':
      return `${lo} > ${qhi()}`;
    case 'eb':
      return `${hi} < ${qlo()}`;
    case 'ap': {
      // approximately: within 10% of the distance from now, at least a day
      const now = Date.now();
      const t = Date.parse(r.lo);
      const gap = Math.max(86_400_000, Math.abs(now - t) * 0.1);
      const alo = `${P.add(new Date(Date.parse(r.lo) - gap).toISOString())}::timestamptz`;
      const ahi = `${P.add(new Date(Date.parse(r.hi) + gap).toISOString())}::timestamptz`;
      return `${lo} <= ${ahi} AND ${hi} >= ${alo}`;
    }
    default:
      throw outcomes.badRequest(`Invalid prefix on '${code}'`);
  }
}

function decimalPlaces(s: string): number {
  const m = /\.(\d+)/.exec(s.replace(/e.*$/i, ''));
  return m ? m[1].length : 0;
}

/** Number comparison with the implicit precision of the searched value (100 means [99.5, 100.5)). */
function numberCondition(prefix: Prefix, rest: string, col: string, P: SqlParams, code: string): string {
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(rest)) {
    throw outcomes.badRequest(`Invalid number '${rest}' for parameter '${code}'`, [code]);
  }
  const n = Number(rest);
  const half = 0.5 * 10 ** -decimalPlaces(rest);
  const val = (): string => `${P.add(rest)}::numeric`;
  switch (prefix) {
    case 'eq':
      return `${col} >= ${P.add(String(n - half))}::numeric AND ${col} < ${P.add(String(n + half))}::numeric`;
    case 'ne':
      return `NOT (${col} >= ${P.add(String(n - half))}::numeric AND ${col} < ${P.add(String(n + half))}::numeric)`;
    case 'gt':
    case 'sa':
      return `${col} > ${val()}`;
    case 'lt':
    case 'eb':
      return `${col} < ${val()}`;
    case 'ge':
      return `${col} >= ${val()}`;
    case 'le':
      return `${col} <= ${val()}`;
    case 'ap': {
      const gap = Math.abs(n) * 0.1;
      return `${col} >= ${P.add(String(n - gap))}::numeric AND ${col} <= ${P.add(String(n + gap))}::numeric`;
    }
    default:
      throw outcomes.badRequest(`Invalid prefix on '${code}'`);
  }
}

function quantityCondition(
  raw: string,
  valueCol: string,
  systemCol: string,
  unitCol: string,
  P: SqlParams,
  code: string,
): string {
  const parts = splitPipes(raw);
  const { prefix, rest } = splitPrefix(parts[0]);
  const conds = [numberCondition(prefix, rest, valueCol, P, code)];
  if (parts.length >= 3) {
    if (parts[1] !== '') {
      conds.push(`${systemCol} = ${P.add(parts[1])}`);
    }
    if (parts[2] !== '') {
      conds.push(`${unitCol} = ${P.add(parts[2])}`);
    }
  } else if (parts.length === 2 && parts[1] !== '') {
    conds.push(`${unitCol} = ${P.add(parts[1])}`);
  }
  return conds.join(' AND ');
}

function compositeCondition(p: SearchParamDef, raw: string, P: SqlParams, type: string): string {
  const comps = p.components;
  if (comps?.length !== 2) {
    throw outcomes.notSupported(`Composite parameter '${p.code}' of ${type} is not supported`);
  }
  const dollar = raw.search(/(?<!\\)\$/);
  if (dollar < 0) {
    throw outcomes.badRequest(`Composite parameter '${p.code}' needs two parts joined by '$'`, [p.code]);
  }
  const first = raw.slice(0, dollar);
  const second = raw.slice(dollar + 1);
  const tok = splitPipes(first);
  const conds: string[] = [];
  if (tok.length === 1) {
    conds.push(`i.value1 = ${P.add(tok[0])}`);
  } else {
    conds.push(`i.value1 = ${P.add(tok[1])}`);
    if (tok[0] !== '') {
      conds.push(`i.system1 = ${P.add(tok[0])}`);
    }
  }
  switch (comps[1].type) {
    case 'quantity':
    case 'number':
      conds.push(quantityCondition(second, 'i.num2', 'i.system2', 'i.value2', P, p.code));
      break;
    case 'token': {
      const t2 = splitPipes(second);
      if (t2.length === 1) {
        conds.push(`i.value2 = ${P.add(t2[0])}`);
      } else {
        conds.push(`i.value2 = ${P.add(t2[1])}`);
        if (t2[0] !== '') {
          conds.push(`i.system2 = ${P.add(t2[0])}`);
        }
      }
      break;
    }
    case 'date':
      conds.push(dateCondition(second, 'i.lo2', 'i.hi2', P, p.code));
      break;
    case 'string':
      conds.push(`i.value2 LIKE ${P.add(`${escapeLike(fold(unescapeSearchValue(second)))}%`)}`);
      break;
    default:
      throw outcomes.notSupported(`Composite parameter '${p.code}' is not supported`);
  }
  return conds.join(' AND ');
}

/** The SQL expression of one sort key and its type for keyset paging (missing values sort last). */
export function sortExpression(key: SortKey, alias: string, P: SqlParams): { expr: string; cast: string } {
  if (key.code === '_id') {
    return { expr: `${alias}.id COLLATE "C"`, cast: 'text' };
  }
  if (key.code === '_lastUpdated') {
    return { expr: `${alias}.last_updated`, cast: 'timestamptz' };
  }
  const p = key.param ?? getSearchParam('Resource', key.code);
  if (!p) {
    throw outcomes.badRequest(`Cannot sort by '${key.code}'`);
  }
  const code = P.add(p.code);
  const agg = key.desc ? 'max' : 'min';
  switch (p.type) {
    case 'date': {
      const col = key.desc ? 'hi' : 'lo';
      const fill = key.desc ? "'-infinity'" : "'infinity'";
      return {
        expr: `COALESCE((SELECT ${agg}(s.${col}) FROM idx_date s WHERE s.rid = ${alias}.rid AND s.code = ${code}), ${fill}::timestamptz)`,
        cast: 'timestamptz',
      };
    }
    case 'number':
    case 'quantity': {
      const table = p.type === 'number' ? 'idx_number' : 'idx_quantity';
      const fill = key.desc ? "'-Infinity'" : "'Infinity'";
      return {
        expr: `COALESCE((SELECT ${agg}(s.value) FROM ${table} s WHERE s.rid = ${alias}.rid AND s.code = ${code}), ${fill}::numeric)`,
        cast: 'numeric',
      };
    }
    case 'string':
    case 'token':
    case 'uri':
    case 'reference': {
      const table = TABLE[p.type];
      const col = p.type === 'reference' ? 'raw' : 'value';
      const fill = key.desc ? "''" : 'chr(1114111)';
      return {
        expr: `COALESCE((SELECT ${agg}(s.${col} COLLATE "C") FROM ${table} s WHERE s.rid = ${alias}.rid AND s.code = ${code}), ${fill}) COLLATE "C"`,
        cast: 'text',
      };
    }
    default:
      throw outcomes.badRequest(`Cannot sort by '${key.code}'`);
  }
}

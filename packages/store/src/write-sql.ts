import type { IndexRows } from './indexing.ts';
import type { SqlParams } from './sql.ts';

/**
 * The index inserts of one resource as data-modifying CTEs bound to `rid` from the CTE `r`,
 * so a create or update is one statement — one round trip, atomic on its own.
 */
export function indexInsertCtes(rows: IndexRows, P: SqlParams): string[] {
  const out: string[] = [];
  if (rows.string.code.length > 0) {
    out.push(
      `xs AS (INSERT INTO idx_string (rid, code, value, raw) SELECT r.rid, x.c, x.v, x.w FROM r, unnest(${P.add(rows.string.code)}::text[], ${P.add(rows.string.value)}::text[], ${P.add(rows.string.raw)}::text[]) AS x(c, v, w))`,
    );
  }
  if (rows.token.code.length > 0) {
    out.push(
      `xt AS (INSERT INTO idx_token (rid, code, system, value, text) SELECT r.rid, x.c, x.s, x.v, x.t FROM r, unnest(${P.add(rows.token.code)}::text[], ${P.add(rows.token.system)}::text[], ${P.add(rows.token.value)}::text[], ${P.add(rows.token.text)}::text[]) AS x(c, s, v, t))`,
    );
  }
  const ref = rows.reference;
  if (ref.code.length > 0) {
    out.push(
      `xr AS (INSERT INTO idx_reference (rid, code, target_type, target_id, raw, ident_system, ident_value) SELECT r.rid, x.c, x.tt, x.ti, x.w, x.iss, x.iv FROM r, unnest(${P.add(ref.code)}::text[], ${P.add(ref.targetType)}::text[], ${P.add(ref.targetId)}::text[], ${P.add(ref.raw)}::text[], ${P.add(ref.identSystem)}::text[], ${P.add(ref.identValue)}::text[]) AS x(c, tt, ti, w, iss, iv))`,
    );
  }
  if (rows.date.code.length > 0) {
    out.push(
      `xd AS (INSERT INTO idx_date (rid, code, lo, hi) SELECT r.rid, x.c, x.lo, x.hi FROM r, unnest(${P.add(rows.date.code)}::text[], ${P.add(rows.date.lo)}::timestamptz[], ${P.add(rows.date.hi)}::timestamptz[]) AS x(c, lo, hi))`,
    );
  }
  if (rows.number.code.length > 0) {
    out.push(
      `xn AS (INSERT INTO idx_number (rid, code, value) SELECT r.rid, x.c, x.v FROM r, unnest(${P.add(rows.number.code)}::text[], ${P.add(rows.number.value)}::numeric[]) AS x(c, v))`,
    );
  }
  const q = rows.quantity;
  if (q.code.length > 0) {
    out.push(
      `xq AS (INSERT INTO idx_quantity (rid, code, system, unit, value) SELECT r.rid, x.c, x.s, x.u, x.v FROM r, unnest(${P.add(q.code)}::text[], ${P.add(q.system)}::text[], ${P.add(q.unit)}::text[], ${P.add(q.value)}::numeric[]) AS x(c, s, u, v))`,
    );
  }
  if (rows.uri.code.length > 0) {
    out.push(
      `xu AS (INSERT INTO idx_uri (rid, code, value) SELECT r.rid, x.c, x.v FROM r, unnest(${P.add(rows.uri.code)}::text[], ${P.add(rows.uri.value)}::text[]) AS x(c, v))`,
    );
  }
  const c = rows.composite;
  if (c.code.length > 0) {
    out.push(
      `xc AS (INSERT INTO idx_composite (rid, code, system1, value1, system2, value2, num2, lo2, hi2) SELECT r.rid, x.c, x.s1, x.v1, x.s2, x.v2, x.n2, x.lo2, x.hi2 FROM r, unnest(${P.add(c.code)}::text[], ${P.add(c.system1)}::text[], ${P.add(c.value1)}::text[], ${P.add(c.system2)}::text[], ${P.add(c.value2)}::text[], ${P.add(c.num2)}::numeric[], ${P.add(c.lo2)}::timestamptz[], ${P.add(c.hi2)}::timestamptz[]) AS x(c, s1, v1, s2, v2, n2, lo2, hi2))`,
    );
  }
  if (rows.compartment.ctype.length > 0) {
    out.push(
      `xm AS (INSERT INTO compartment (rid, ctype, cid, rtype, date_lo, date_hi) SELECT r.rid, x.t, x.i, x.rt, x.lo, x.hi FROM r, unnest(${P.add(rows.compartment.ctype)}::text[], ${P.add(rows.compartment.cid)}::text[], ${P.add(rows.compartment.rtype)}::text[], ${P.add(rows.compartment.dateLo)}::timestamptz[], ${P.add(rows.compartment.dateHi)}::timestamptz[]) AS x(t, i, rt, lo, hi))`,
    );
  }
  return out;
}

const INDEX_TABLES = [
  'idx_string',
  'idx_token',
  'idx_reference',
  'idx_date',
  'idx_number',
  'idx_quantity',
  'idx_uri',
  'idx_composite',
  'compartment',
] as const;

/** Deletes of the previous version's index rows (same statement: the deletes see only the old rows). */
export function indexDeleteCtes(): string[] {
  return INDEX_TABLES.map((t, i) => `d${i} AS (DELETE FROM ${t} WHERE rid IN (SELECT rid FROM r))`);
}

import type { SqlParams } from './sql.ts';

/**
 * How the access gate narrows what one resource type shows, applied inside the SQL of every search,
 * include, reverse include, chain and _has, so counts and paging are right and nothing leaks.
 */
export interface AccessFilter {
  /** Only resources in the Patient compartment of one of these patients. */
  patientIds?: readonly string[];
  /** Leave out resources carrying one of these security labels, unless they belong to one of `unlessPatientIn`. */
  excludeLabels?: { codes: readonly string[]; unlessPatientIn: readonly string[] };
}

/** Per resource type: undefined → no restriction; 'deny' → nothing of this type is visible; or a filter. */
export type AccessPolicy = (type: string) => AccessFilter | undefined | 'deny';

/** The SQL condition of an access filter over the resource row alias (true when there is no filter). */
export function accessCondition(policy: AccessPolicy | undefined, type: string, alias: string, P: SqlParams): string {
  if (!policy) {
    return 'true';
  }
  const f = policy(type);
  if (f === 'deny') {
    return 'false';
  }
  if (!f) {
    return 'true';
  }
  const conds: string[] = [];
  if (f.patientIds) {
    conds.push(
      `${alias}.rid IN (SELECT ac.rid FROM compartment ac WHERE ac.ctype = 'Patient' AND ac.cid = ANY(${P.add(f.patientIds)}::text[]))`,
    );
  }
  if (f.excludeLabels && f.excludeLabels.codes.length > 0) {
    conds.push(
      `(NOT EXISTS (SELECT 1 FROM idx_token sl WHERE sl.rid = ${alias}.rid AND sl.code = '_security' AND sl.value = ANY(${P.add(f.excludeLabels.codes)}::text[])) OR ${alias}.rid IN (SELECT ac2.rid FROM compartment ac2 WHERE ac2.ctype = 'Patient' AND ac2.cid = ANY(${P.add(f.excludeLabels.unlessPatientIn)}::text[])))`,
    );
  }
  return conds.length > 0 ? conds.join(' AND ') : 'true';
}

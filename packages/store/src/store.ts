import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import { classifyDbError, type Db, type Queryable } from '@sen/db';
import { isResourceType, isValidId, outcomes, parseSearchRequest } from '@sen/fhir';
import type { AccessPolicy } from './access.ts';
import { extractIndex } from './indexing.ts';
import { searchRows } from './search.ts';
import { SqlParams } from './sql.ts';
import { indexDeleteCtes, indexInsertCtes } from './write-sql.ts';

/** One stored version: the JSON text is kept as written so reads need no re-serialisation. */
export interface StoredVersion {
  type: string;
  id: string;
  version: number;
  lastUpdated: string;
  deleted: boolean;
  /** JSON text of the resource (undefined for a deletion). */
  content?: string;
}

export type Validator = (resource: Resource) => void;

/**
 * Refuses changes to stored resources that may no longer change (a sent prescription, a signed record): asked
 * before every update and deletion of a resource of one of `types`, whichever path writes it (REST, patch,
 * conditional, bundle, operation). Throws an OutcomeError (409) to refuse.
 */
export interface WriteGuard {
  types: readonly string[];
  /** `next` is undefined for a deletion. */
  check(current: Resource, next: Resource | undefined): void;
}

export interface StoreOptions {
  /** Called on every write before anything is stored; throws an OutcomeError (422) when invalid. */
  validate?: Validator;
  /** The server's base URL, so absolute references to itself are indexed as local references. */
  baseUrl?: string;
  /** Told about every write, to keep planner statistics fresh. */
  onWrite?: () => void;
  /** Asked before a stored resource of its types changes or is deleted. */
  writeGuard?: WriteGuard;
}

export interface WriteResult {
  stored: StoredVersion;
  resource: Resource;
  created: boolean;
}

const MAX_RETRIES = 20;

function nowIso(): string {
  return new Date().toISOString();
}

/**
 * The version row and the change event of a write, as CTEs over the written row `r` (parameters already bound:
 * type, id, version, lastUpdated and the content; no content for a deletion).
 */
function versionCtes(
  t: string,
  i: string,
  ver: string,
  lu: string,
  action: 'create' | 'update' | 'delete',
  content: string | undefined,
): string[] {
  const deleted = action === 'delete';
  return [
    `v AS (INSERT INTO resource_version (rid, type, id, version, last_updated, method, deleted, content) SELECT rid, ${t}, ${i}, ${ver}, ${lu}, '${action}', ${deleted}, ${content ?? 'NULL'} FROM r)`,
    `e AS (INSERT INTO change_event (rid, type, id, version, action, occurred_at) SELECT rid, ${t}, ${i}, ${ver}, '${action}', ${lu} FROM r)`,
  ];
}

/** Puts the server-owned fields in place and the resourceType/id/meta first. */
function stamp(resource: Resource, id: string, version: number, lastUpdated: string): Resource {
  const { resourceType, id: _id, meta, ...rest } = resource as Resource & Record<string, unknown>;
  const newMeta: Record<string, unknown> = { ...(meta ?? {}), versionId: String(version), lastUpdated };
  return { resourceType, id, meta: newMeta, ...rest } as unknown as Resource;
}

/** A row of `resource` or `resource_version` as the read queries select it. */
interface VersionRow {
  type: string;
  id: string;
  version: number;
  last_updated: string;
  deleted: boolean;
  content: string | null;
}

function toStored(row: VersionRow): StoredVersion {
  return {
    type: row.type,
    id: row.id,
    version: Number(row.version),
    lastUpdated: normalizeTs(row.last_updated),
    deleted: row.deleted,
    content: row.content ?? undefined,
  };
}

/** PostgreSQL prints timestamptz as `2024-01-01 10:00:00.123+00`; FHIR wants ISO 8601. */
export function normalizeTs(ts: string): string {
  if (ts.includes('T')) {
    return ts;
  }
  const d = new Date(ts.replace(' ', 'T').replace(/\+00$/, 'Z'));
  return Number.isNaN(d.getTime()) ? ts : d.toISOString();
}

/** The access gate's part in conditional operations: what the caller may match, and a check per match. */
export interface ConditionalGuard {
  policy?: AccessPolicy;
  onMatch?: (id: string, q: Queryable) => Promise<void>;
}

export interface HistoryOptions {
  since?: string;
  at?: string;
  count?: number;
  /** Keyset cursor: only versions with seq below this (newest first). */
  beforeSeq?: string;
}

export interface HistoryEntry extends StoredVersion {
  seq: string;
  method: string;
}

/**
 * The FHIR resource store: every version kept, a search index per parameter type, a change event per
 * write — each write a single atomic statement, or part of the caller's transaction.
 */
export class FhirStore {
  readonly db: Db;
  readonly baseUrl?: string;
  private readonly validate?: Validator;
  private readonly onWrite?: () => void;
  private readonly writeGuard?: WriteGuard;

  constructor(db: Db, options: StoreOptions = {}) {
    this.db = db;
    this.validate = options.validate;
    this.onWrite = options.onWrite;
    this.writeGuard = options.writeGuard;
    this.baseUrl = options.baseUrl;
  }

  /** Runs fn in one database transaction (all or nothing). */
  transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  private checkType(type: string): void {
    if (!isResourceType(type)) {
      throw outcomes.notFound(`Unknown resource type '${type}'`);
    }
  }

  prepare(resource: Resource): void {
    if (!resource || typeof resource !== 'object' || typeof resource.resourceType !== 'string') {
      throw outcomes.badRequest('The body is not a FHIR resource (resourceType missing)');
    }
    if (!isResourceType(resource.resourceType)) {
      throw outcomes.badRequest(`Unknown resource type '${resource.resourceType}'`, ['resourceType']);
    }
    this.validate?.(resource);
  }

  /** Creates a resource with a new server id (or the given id, for update-as-create paths). */
  async create(resource: Resource, q: Queryable = this.db, id: string = randomUUID()): Promise<WriteResult> {
    this.prepare(resource);
    const lastUpdated = nowIso();
    const stamped = stamp(resource, id, 1, lastUpdated);
    const content = JSON.stringify(stamped);
    const rows = extractIndex(stamped, this.baseUrl);
    const P = new SqlParams();
    const t = P.add(resource.resourceType);
    const i = P.add(id);
    const lu = P.add(lastUpdated);
    const c = P.add(content);
    const ctes = [
      `r AS (INSERT INTO resource (type, id, version, last_updated, deleted, content) VALUES (${t}, ${i}, 1, ${lu}, false, ${c}) RETURNING rid)`,
      ...versionCtes(t, i, '1', lu, 'create', c),
      ...indexInsertCtes(rows, P),
    ];
    try {
      await q.query(`WITH ${ctes.join(', ')} SELECT rid FROM r`, P.values, { prepare: true });
      this.onWrite?.();
    } catch (err) {
      if (classifyDbError(err).kind === 'unique') {
        throw outcomes.conflict(`${resource.resourceType}/${id} already exists`);
      }
      throw err;
    }
    return {
      stored: { type: resource.resourceType, id, version: 1, lastUpdated, deleted: false, content },
      resource: stamped,
      created: true,
    };
  }

  /** The current version, or 404 / 410. */
  async read(type: string, id: string, q: Queryable = this.db): Promise<StoredVersion> {
    return this.readWith(type, id, q, false);
  }

  /** The current version plus the patients whose compartment holds it (one query, for the access gate). */
  async readWithCompartment(
    type: string,
    id: string,
    q: Queryable = this.db,
  ): Promise<StoredVersion & { patientIds: string[] }> {
    return this.readWith(type, id, q, true) as Promise<StoredVersion & { patientIds: string[] }>;
  }

  private async readWith(
    type: string,
    id: string,
    q: Queryable,
    compartment: boolean,
  ): Promise<StoredVersion & { patientIds?: string[] }> {
    this.checkType(type);
    const { rows } = await q.query<VersionRow & { patients?: string[] | null }>(
      compartment
        ? "SELECT r.type, r.id, r.version, r.last_updated::text AS last_updated, r.deleted, r.content, ARRAY(SELECT c.cid FROM compartment c WHERE c.rid = r.rid AND c.ctype = 'Patient') AS patients FROM resource r WHERE r.type = $1 AND r.id = $2"
        : 'SELECT type, id, version, last_updated::text AS last_updated, deleted, content FROM resource WHERE type = $1 AND id = $2',
      [type, id],
      { prepare: true },
    );
    const row = rows[0];
    if (!row) {
      throw outcomes.notFound(`${type}/${id} not found`);
    }
    const s = toStored(row);
    if (s.deleted) {
      throw outcomes.gone(`${type}/${id} was deleted`);
    }
    return compartment ? { ...s, patientIds: row.patients ?? [] } : s;
  }

  async vread(type: string, id: string, versionId: string, q: Queryable = this.db): Promise<StoredVersion> {
    this.checkType(type);
    const v = Number(versionId);
    if (!Number.isInteger(v) || v < 1) {
      throw outcomes.notFound(`${type}/${id}/_history/${versionId} not found`);
    }
    const { rows } = await q.query<VersionRow>(
      `SELECT v.type, v.id, v.version, v.last_updated::text AS last_updated, v.deleted, v.content
         FROM resource r JOIN resource_version v ON v.rid = r.rid AND v.version = $3
        WHERE r.type = $1 AND r.id = $2`,
      [type, id, v],
    );
    const row = rows[0];
    if (!row) {
      throw outcomes.notFound(`${type}/${id}/_history/${versionId} not found`);
    }
    const s = toStored(row);
    if (s.deleted) {
      throw outcomes.gone(`${type}/${id}/_history/${versionId} is a deletion`);
    }
    return s;
  }

  /**
   * Updates (or creates, when the id is new: update-as-create). With ifMatch, the update applies only
   * to that version (412 otherwise). Without it, concurrent writers each get their own version: none is lost.
   */
  async update(resource: Resource, options: { ifMatch?: number } = {}, q: Queryable = this.db): Promise<WriteResult> {
    this.prepare(resource);
    const id = resource.id;
    if (!id || !isValidId(id)) {
      throw outcomes.badRequest('Resource id is missing or invalid', ['id']);
    }
    const type = resource.resourceType;
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const current = await this.currentVersion(type, id, q);
      if (!current) {
        if (options.ifMatch !== undefined) {
          throw outcomes.preconditionFailed(`${type}/${id} does not exist (If-Match ${options.ifMatch})`);
        }
        try {
          return await this.create(resource, q, id);
        } catch (err) {
          if ((err as { status?: number }).status === 409) {
            continue; // created concurrently: update it instead
          }
          throw err;
        }
      }
      const prev = Number(current.version);
      if (options.ifMatch !== undefined && options.ifMatch !== prev) {
        throw outcomes.preconditionFailed(
          `Version conflict: ${type}/${id} is at version ${prev}, If-Match was ${options.ifMatch}`,
        );
      }
      if (!current.deleted && !(await this.guardChange(type, id, prev, resource, q))) {
        continue; // changed since it was read: read it again
      }
      const result = await this.writeVersion(resource, prev, current.deleted ? 'create' : 'update', q);
      if (result) {
        return result;
      }
      if (options.ifMatch !== undefined) {
        throw outcomes.preconditionFailed(`Version conflict: ${type}/${id} changed while updating`);
      }
    }
    throw outcomes.conflict(`${type}/${id} is being updated too often; try again`);
  }

  /** The current version number and deletion flag, or undefined when the id was never written. */
  private async currentVersion(
    type: string,
    id: string,
    q: Queryable,
  ): Promise<{ version: number; deleted: boolean } | undefined> {
    const { rows } = await q.query<{ version: number; deleted: boolean }>(
      'SELECT version, deleted FROM resource WHERE type = $1 AND id = $2',
      [type, id],
      { prepare: true },
    );
    return rows[0];
  }

  /**
   * Asks the write guard about changing version `prev` into `next` (undefined: deletion); false when the
   * resource is no longer at `prev` (the caller reads it again).
   */
  private async guardChange(
    type: string,
    id: string,
    prev: number,
    next: Resource | undefined,
    q: Queryable,
  ): Promise<boolean> {
    if (!this.writeGuard?.types.includes(type)) {
      return true;
    }
    const { rows } = await q.query<{ version: number; content: string | null }>(
      'SELECT version, content FROM resource WHERE type = $1 AND id = $2',
      [type, id],
      { prepare: true },
    );
    const row = rows[0];
    if (!row || Number(row.version) !== prev) {
      return false;
    }
    if (row.content) {
      this.writeGuard.check(JSON.parse(row.content) as Resource, next);
    }
    return true;
  }

  /** Writes version prev+1 if the resource is still at prev; undefined when another writer got there first. */
  private async writeVersion(
    resource: Resource,
    prev: number,
    method: string,
    q: Queryable,
  ): Promise<WriteResult | undefined> {
    const type = resource.resourceType;
    const id = resource.id as string;
    const version = prev + 1;
    const lastUpdated = nowIso();
    const stamped = stamp(resource, id, version, lastUpdated);
    const content = JSON.stringify(stamped);
    const rows = extractIndex(stamped, this.baseUrl);
    const P = new SqlParams();
    const t = P.add(type);
    const i = P.add(id);
    const lu = P.add(lastUpdated);
    const c = P.add(content);
    const ver = P.add(version);
    const pv = P.add(prev);
    const ctes = [
      `r AS (UPDATE resource SET version = ${ver}, last_updated = ${lu}, deleted = false, content = ${c} WHERE type = ${t} AND id = ${i} AND version = ${pv} RETURNING rid)`,
      ...versionCtes(t, i, ver, lu, method === 'create' ? 'create' : 'update', c),
      ...indexDeleteCtes(),
      ...indexInsertCtes(rows, P),
    ];
    const res = await q.query<{ rid: string }>(`WITH ${ctes.join(', ')} SELECT rid FROM r`, P.values, {
      prepare: true,
    });
    if (res.rows.length === 0) {
      return undefined;
    }
    this.onWrite?.();
    return {
      stored: { type, id, version, lastUpdated, deleted: false, content },
      resource: stamped,
      created: method === 'create',
    };
  }

  /** Soft delete: a tombstone version is written, history is kept, reads answer 410. Idempotent. */
  async delete(
    type: string,
    id: string,
    q: Queryable = this.db,
    options: { ifMatch?: number } = {},
  ): Promise<{ deleted: boolean; version?: number }> {
    this.checkType(type);
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const current = await this.currentVersion(type, id, q);
      if (!current || current.deleted) {
        if (options.ifMatch !== undefined) {
          throw outcomes.preconditionFailed(`${type}/${id} does not exist`);
        }
        return { deleted: false };
      }
      const prev = Number(current.version);
      if (options.ifMatch !== undefined && options.ifMatch !== prev) {
        throw outcomes.preconditionFailed(
          `Version conflict: ${type}/${id} is at version ${prev}, If-Match was ${options.ifMatch}`,
        );
      }
      if (!(await this.guardChange(type, id, prev, undefined, q))) {
        continue;
      }
      const version = prev + 1;
      const lastUpdated = nowIso();
      const P = new SqlParams();
      const t = P.add(type);
      const i = P.add(id);
      const lu = P.add(lastUpdated);
      const ver = P.add(version);
      const pv = P.add(prev);
      const ctes = [
        `r AS (UPDATE resource SET version = ${ver}, last_updated = ${lu}, deleted = true, content = NULL WHERE type = ${t} AND id = ${i} AND version = ${pv} RETURNING rid)`,
        ...versionCtes(t, i, ver, lu, 'delete', undefined),
        ...indexDeleteCtes(),
      ];
      const res = await q.query(`WITH ${ctes.join(', ')} SELECT rid FROM r`, P.values, { prepare: true });
      if (res.rows.length > 0) {
        return { deleted: true, version };
      }
    }
    throw outcomes.conflict(`${type}/${id} is being updated too often; try again`);
  }

  /** History, newest first: of one resource, of a type, or of the whole system. */
  async history(
    type: string | undefined,
    id: string | undefined,
    options: HistoryOptions = {},
    q: Queryable = this.db,
  ): Promise<{ entries: HistoryEntry[]; total?: number; next?: string }> {
    if (type) {
      this.checkType(type);
    }
    const P = new SqlParams();
    const conds: string[] = [];
    if (type) {
      conds.push(`v.type = ${P.add(type)}`);
    }
    if (id) {
      conds.push(`v.id = ${P.add(id)}`);
    }
    if (options.since) {
      conds.push(`v.last_updated >= ${P.add(options.since)}::timestamptz`);
    }
    if (options.at) {
      conds.push(`v.last_updated <= ${P.add(options.at)}::timestamptz`);
    }
    if (options.beforeSeq) {
      conds.push(`v.seq < ${P.add(options.beforeSeq)}::bigint`);
    }
    const count = Math.min(options.count ?? 20, 1000);
    const where = conds.length > 0 ? `WHERE ${conds.join(' AND ')}` : '';
    const { rows } = await q.query<VersionRow & { seq: string; method: string }>(
      `SELECT v.seq::text AS seq, v.type, v.id, v.version, v.last_updated::text AS last_updated, v.deleted, v.content, v.method
         FROM resource_version v ${where} ORDER BY v.seq DESC LIMIT ${count + 1}`,
      P.values,
    );
    if (id && rows.length === 0 && !options.beforeSeq) {
      const exists = await q.query('SELECT 1 FROM resource WHERE type = $1 AND id = $2', [type, id]);
      if (exists.rows.length === 0) {
        throw outcomes.notFound(`${type}/${id} not found`);
      }
    }
    const page = rows.slice(0, count);
    const entries = page.map((r) => ({ ...toStored(r), seq: r.seq, method: r.method }));
    const next = rows.length > count ? page[page.length - 1]?.seq : undefined;
    return { entries, next };
  }

  /** Runs a search given as a query string (for conditional operations and references). */
  async searchIds(
    type: string,
    query: string,
    q: Queryable = this.db,
    limit = 2,
    access?: AccessPolicy,
  ): Promise<{ id: string; version: number }[]> {
    const req = parseSearchRequest(type, new URLSearchParams(query).entries());
    if (req.criteria.length === 0) {
      throw outcomes.badRequest(`Conditional criteria '${query}' select nothing: give at least one search parameter`);
    }
    req.count = limit;
    req.total = 'none';
    const res = await searchRows(this, req, q, access);
    return res.rows.map((r) => ({ id: r.id, version: r.version }));
  }

  /** The patients whose compartment holds this resource (for the access gate). */
  async compartmentOf(type: string, id: string, q: Queryable = this.db): Promise<string[]> {
    const { rows } = await q.query<{ cid: string }>(
      "SELECT c.cid FROM compartment c JOIN resource r ON r.rid = c.rid WHERE r.type = $1 AND r.id = $2 AND c.ctype = 'Patient'",
      [type, id],
      { prepare: true },
    );
    return rows.map((r) => r.cid);
  }

  /** Takes a row lock on a key until the surrounding transaction ends (serialises conditional writes). */
  async lockKey(key: string, q: Queryable): Promise<void> {
    await q.query('INSERT INTO conditional_lock (key) VALUES ($1) ON CONFLICT (key) DO UPDATE SET key = EXCLUDED.key', [
      key,
    ]);
  }

  /** Conditional create (If-None-Exist): 0 matches → create; 1 → return it; more → 412. */
  async conditionalCreate(
    resource: Resource,
    query: string,
    guard: ConditionalGuard = {},
  ): Promise<{ result?: WriteResult; existing?: StoredVersion }> {
    return this.db.transaction(async (q) => {
      await this.lockKey(`${resource.resourceType}?${query}`, q);
      const found = await this.searchIds(resource.resourceType, query, q, 2, guard.policy);
      if (found.length > 1) {
        throw outcomes.multipleMatches(`If-None-Exist '${query}' matched more than one ${resource.resourceType}`);
      }
      if (found.length === 1) {
        await guard.onMatch?.(found[0].id, q);
        return { existing: await this.read(resource.resourceType, found[0].id, q) };
      }
      return { result: await this.create(resource, q) };
    });
  }

  /** Conditional update: 0 matches → create (with the body's id if any); 1 → update it; more → 412. */
  async conditionalUpdate(
    resource: Resource,
    query: string,
    q?: Queryable,
    guard: ConditionalGuard = {},
  ): Promise<WriteResult> {
    const run = async (tx: Queryable): Promise<WriteResult> => {
      await this.lockKey(`${resource.resourceType}?${query}`, tx);
      const found = await this.searchIds(resource.resourceType, query, tx, 2, guard.policy);
      if (found.length > 1) {
        throw outcomes.multipleMatches(`Conditional update '${query}' matched more than one ${resource.resourceType}`);
      }
      if (found.length === 1) {
        if (resource.id && resource.id !== found[0].id) {
          throw outcomes.badRequest(`The body's id ${resource.id} differs from the matched resource ${found[0].id}`, [
            'id',
          ]);
        }
        await guard.onMatch?.(found[0].id, tx);
        return this.update({ ...resource, id: found[0].id }, {}, tx);
      }
      if (resource.id) {
        return this.update(resource, {}, tx);
      }
      return this.create(resource, tx);
    };
    return q ? run(q) : this.db.transaction(run);
  }

  /** Conditional delete: deletes every match (up to 100), or 412 beyond that. */
  async conditionalDelete(type: string, query: string, q?: Queryable, guard: ConditionalGuard = {}): Promise<number> {
    const run = async (tx: Queryable): Promise<number> => {
      const found = await this.searchIds(type, query, tx, 101, guard.policy);
      if (found.length > 100) {
        throw outcomes.multipleMatches(`Conditional delete '${query}' matched more than 100 ${type} resources`);
      }
      for (const f of found) {
        await guard.onMatch?.(f.id, tx);
        await this.delete(type, f.id, tx);
      }
      return found.length;
    };
    return q ? run(q) : this.db.transaction(run);
  }
}

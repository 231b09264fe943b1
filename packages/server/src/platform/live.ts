/**
 * The live channel: `GET /api/live?types=Encounter,ServiceRequest` streams server-sent events of the store's changes
 * to a signed-in caller, each as `event: change` with `data: {"resourceType","type","id","versionId","op","action"}`
 * (the web client reads `resourceType`/`versionId`/`op`; `type`/`action` are the same values under the API contract's
 * names). Only changes the gate lets the caller read are sent; comment heartbeats keep the connection open.
 *
 * One hub per app polls `change_event` with the change feed's rule (only events of transactions older than every
 * running one, in (txid, seq) order, so nothing is seen uncommitted or skipped). Its position is kept in memory and
 * starts at the present: a live view wants what changes from now on, and a reconnecting client refetches instead of
 * replaying (so no `change_consumer` row is written per connection).
 */
import type { ServerResponse } from 'node:http';
import type { Resource } from '@medplum/fhirtypes';
import type { Db } from '@sen/db';
import { isOutcomeError, isResourceType, outcomes } from '@sen/fhir';
import { type ChangeEvent, extractIndex, type FhirStore } from '@sen/store';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type FhirSecurity, principalWho } from '../fhir/rest.ts';
import type { AccessAction } from '../fhir/types.ts';
import { type BoundAccess, createAccessContext } from './gate/context.ts';
import type { Principal } from './gate/gate.ts';
import { throttledOutcome } from './rate-limit.ts';

export interface LiveOptions {
  /** How often the change events are read while someone listens, ms (default 1000). */
  pollMs?: number;
  /** How often a comment heartbeat is sent (and the caller's token checked again), ms (default 15 000). */
  heartbeatMs?: number;
  /** Most types one connection may follow (default 30). */
  maxTypes?: number;
}

type LiveEvent = Omit<ChangeEvent, 'occurredAt'>;

interface Subscriber {
  res: ServerResponse;
  types: ReadonlySet<string>;
  /** Undefined when the API is open (no sign-in configured). */
  access?: BoundAccess;
  /** Re-checks the caller's token and refreshes their access; false: the stream ends. */
  reauthenticate?: () => Promise<boolean>;
}

/** The content and patients of one changed version, loaded once per event for every subscriber's gate check. */
interface Subject {
  resource?: Resource;
  patientIds: string[];
}

const MAX_BATCH = 500;

/** `event: change` with the JSON payload the web client's parser reads. */
export function changeFrame(e: { type: string; id: string; version: number; action: string; seq?: string }): string {
  const data = {
    resourceType: e.type,
    type: e.type,
    id: e.id,
    versionId: String(e.version),
    op: e.action,
    action: e.action,
  };
  return `event: change\n${e.seq ? `id: ${e.seq}\n` : ''}data: ${JSON.stringify(data)}\n\n`;
}

/** Fans the change events of one database out to the open streams; polls only while someone listens. */
export class LiveHub {
  private readonly db: Db;
  private readonly store: FhirStore;
  private readonly subscribers = new Set<Subscriber>();
  private readonly pollMs: number;
  private readonly heartbeatMs: number;
  private position: { txid: string; seq: string } | undefined;
  private starting: Promise<void> | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private polling = false;
  /** True while nobody listens: the next listener takes the present as the position. */
  private stale = true;
  private closed = false;
  private readonly onError: (err: unknown) => void;

  constructor(store: FhirStore, options: LiveOptions & { onError?: (err: unknown) => void } = {}) {
    this.store = store;
    this.db = store.db;
    this.pollMs = options.pollMs ?? 1000;
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.onError = options.onError ?? ((): void => undefined);
  }

  get size(): number {
    return this.subscribers.size;
  }

  /** Starts following the feed from the present (before the stream is answered, so no later write is missed). */
  async ensureStarted(): Promise<void> {
    if (this.closed) {
      throw outcomes.unavailable('Máy chủ đang dừng / The server is shutting down');
    }
    if (!this.stale) {
      return;
    }
    this.starting ??= (async () => {
      const { rows } = await this.db.query<{ txid: string; seq: string }>(
        `SELECT txid::text AS txid, seq::text AS seq FROM change_event
          WHERE txid < pg_snapshot_xmin(pg_current_snapshot())
          ORDER BY txid DESC, seq DESC LIMIT 1`,
      );
      this.position = rows[0] ?? { txid: '0', seq: '0' };
      this.stale = false;
    })().finally(() => {
      this.starting = undefined;
    });
    await this.starting;
  }

  add(sub: Subscriber): void {
    this.subscribers.add(sub);
    this.stale = false;
    this.pollTimer ??= setInterval(() => void this.poll(), this.pollMs);
    this.heartbeatTimer ??= setInterval(() => void this.heartbeat(), this.heartbeatMs);
  }

  remove(sub: Subscriber): void {
    if (!this.subscribers.delete(sub)) {
      return;
    }
    if (!sub.res.writableEnded) {
      sub.res.end();
    }
    if (this.subscribers.size === 0) {
      this.stopTimers();
      // the next listener starts from its own present, not from where the last one left
      this.stale = true;
    }
  }

  private stopTimers(): void {
    if (this.pollTimer) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
    if (this.heartbeatTimer) {
      clearInterval(this.heartbeatTimer);
      this.heartbeatTimer = undefined;
    }
  }

  /** Ends every stream and stops polling (app close). */
  close(): void {
    this.closed = true;
    for (const sub of [...this.subscribers]) {
      this.remove(sub);
    }
    this.stopTimers();
  }

  private async heartbeat(): Promise<void> {
    for (const sub of [...this.subscribers]) {
      if (sub.reauthenticate && !(await sub.reauthenticate())) {
        this.remove(sub); // token expired or revoked, account disabled: the client signs in again and reconnects
        continue;
      }
      sub.res.write(': heartbeat\n\n');
    }
  }

  /** Reads the next batch of committed changes and sends each to the subscribers allowed to read it. */
  async poll(): Promise<void> {
    if (this.polling || !this.position || this.subscribers.size === 0) {
      return;
    }
    this.polling = true;
    try {
      for (;;) {
        const pos = this.position;
        const { rows } = await this.db.query<LiveEvent>(
          `SELECT seq::text AS seq, txid::text AS txid, type, id, version, action FROM change_event
            WHERE (txid, seq) > ($1::xid8, $2::bigint) AND txid < pg_snapshot_xmin(pg_current_snapshot())
            ORDER BY txid, seq LIMIT ${MAX_BATCH}`,
          [pos.txid, pos.seq],
        );
        for (const e of rows) {
          await this.deliver(e);
          pos.txid = e.txid;
          pos.seq = e.seq;
        }
        if (rows.length < MAX_BATCH) {
          return;
        }
      }
    } catch (err) {
      this.onError(err);
    } finally {
      this.polling = false;
    }
  }

  private async deliver(e: LiveEvent): Promise<void> {
    let subject: Subject | undefined;
    const frame = changeFrame({ ...e, version: Number(e.version) });
    for (const sub of this.subscribers) {
      if (!sub.types.has(e.type)) {
        continue;
      }
      if (sub.access?.needsResource) {
        subject ??= await this.subject(e);
      }
      if (!mayRead(sub.access, e.type, subject)) {
        continue;
      }
      sub.res.write(frame);
    }
  }

  /** The version the event wrote (for a deletion, the version before it) and the patients it belongs to. */
  private async subject(e: LiveEvent): Promise<Subject> {
    const version = e.action === 'delete' ? Number(e.version) - 1 : Number(e.version);
    const { rows } = await this.db.query<{ content: string | null }>(
      `SELECT v.content FROM resource r JOIN resource_version v ON v.rid = r.rid AND v.version = $3
        WHERE r.type = $1 AND r.id = $2`,
      [e.type, e.id, version],
    );
    const content = rows[0]?.content;
    if (!content) {
      return { patientIds: [] };
    }
    const resource = JSON.parse(content) as Resource;
    const patientIds = [...new Set(extractIndex(resource, this.store.baseUrl).compartment.cid)];
    return { resource, patientIds };
  }
}

/** Whether the gate lets the caller read this changed resource (a refusal just leaves the event out). */
function mayRead(access: BoundAccess | undefined, type: string, subject: Subject | undefined): boolean {
  if (!access) {
    return true;
  }
  try {
    if (access.needsResource) {
      if (!subject?.resource) {
        return false; // nothing to decide on: say nothing
      }
      access.check('read', type, subject.resource, subject.patientIds);
    } else {
      access.check('read', type);
    }
    return true;
  } catch (err) {
    if (isOutcomeError(err)) {
      return false;
    }
    throw err;
  } finally {
    access.notes.patientIds.length = 0; // a long-lived stream must not collect every patient it was told about
  }
}

/** Whether the caller may follow a type at all (read or search on it, by role, scopes and purpose). */
function mayFollow(access: BoundAccess | undefined, type: string): boolean {
  if (!access) {
    return true;
  }
  const attempt = (action: AccessAction): boolean => {
    try {
      access.check(action, type);
      return true;
    } catch (err) {
      if (isOutcomeError(err)) {
        return false;
      }
      throw err;
    }
  };
  return attempt('search') || attempt('read');
}

function parseTypes(req: FastifyRequest, max: number): string[] {
  const raw = (req.query as { types?: string | string[] } | undefined)?.types;
  const text = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
  const types = [
    ...new Set(
      text
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ];
  if (types.length === 0) {
    throw outcomes.badRequest(
      "Hãy nêu các loại tài nguyên cần theo dõi: ?types=Encounter,ServiceRequest / Give the resource types to follow in 'types'",
    );
  }
  if (types.length > max) {
    throw outcomes.badRequest(`Tối đa ${max} loại tài nguyên / At most ${max} resource types`);
  }
  const unknown = types.filter((t) => !isResourceType(t));
  if (unknown.length > 0) {
    throw outcomes.badRequest(`Loại tài nguyên không hợp lệ / Unknown resource type(s): ${unknown.join(', ')}`);
  }
  return types;
}

/**
 * Registers `GET /api/live`. With `security`, the caller signs in with a bearer token exactly as on the FHIR API
 * (401 without one), is rate-limited the same way, and the opening is audited; without it the channel is open
 * (local development only, like the API).
 */
export function registerLive(
  app: FastifyInstance,
  store: FhirStore,
  security: FhirSecurity | undefined,
  options: LiveOptions = {},
): LiveHub {
  const hub = new LiveHub(store, {
    ...options,
    onError: (err) => app.log.error({ errName: (err as Error).name }, 'live channel poll failed'),
  });
  const maxTypes = options.maxTypes ?? 30;
  app.get('/api/live', async (req, reply) => {
    const types = parseTypes(req, maxTypes);
    let access: BoundAccess | undefined;
    let principal: Principal | undefined;
    if (security) {
      principal = await security.authenticate(req);
      const wait = security.rateLimit?.take(principal) ?? 0;
      if (wait > 0) {
        reply.header('Retry-After', String(wait));
        return reply.code(429).type('application/fhir+json').send(throttledOutcome(wait));
      }
      access = createAccessContext(principal);
    }
    const followed = types.filter((t) => mayFollow(access, t));
    const refused = types.filter((t) => !followed.includes(t));
    if (security && principal) {
      await security.recorder.record({
        action: 'search',
        outcome: followed.length > 0 ? 'success' : 'denied',
        ...principalWho(principal),
        sourceIp: req.ip,
        query: new URLSearchParams({ types: types.join(',') }).toString(),
        detail: { channel: 'live', status: followed.length > 0 ? 200 : 403, ...(refused.length ? { refused } : {}) },
      });
    }
    if (followed.length === 0) {
      throw outcomes.forbidden(
        `Tài khoản không được xem các loại tài nguyên này / This account may not read ${types.join(', ')}`,
      );
    }
    await hub.ensureStarted();
    const headers = {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
    };
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, headers);
    res.flushHeaders();
    const sub: Subscriber = {
      res,
      types: new Set(followed),
      access,
      reauthenticate: security
        ? async (): Promise<boolean> => {
            try {
              sub.access = createAccessContext(await security.authenticate(req));
              return true;
            } catch {
              return false;
            }
          }
        : undefined,
    };
    res.write(`retry: 3000\n\nevent: ready\ndata: ${JSON.stringify({ types: followed, refused })}\n\n`);
    hub.add(sub);
    res.on('close', () => hub.remove(sub));
    res.on('error', () => hub.remove(sub));
    return reply;
  });
  // before the server stops: open streams would otherwise hold app.close() forever
  app.addHook('preClose', async () => {
    hub.close();
  });
  app.addHook('onClose', async () => {
    hub.close();
  });
  return hub;
}

/**
 * The change-feed consumer "ehb-feed": for every committed Encounter version whose status is `finished` (an outpatient
 * visit concluded with $conclude, any closed episode, insured or not) it reads the episode through the access gate as
 * the system principal `sen-ehb-feed`, builds the five tables, signs the envelope and inserts the submission — in the
 * same database transaction that moves the consumer's stored position past the event, with its audit record. So a
 * crash or restart neither loses an episode (the position did not move) nor queues one twice (it did, together with
 * the row; and (encounter id, version) is unique). A later finished version with the same content (a billing touch,
 * a queue update) is not queued again; one with changed content (an amendment) is queued as a resend, same MA_LK.
 */
import { referenceId } from '@sen/fhir';
import { createHash } from 'node:crypto';
import type {
  AllergyIntolerance,
  Bundle,
  ClinicalImpression,
  Condition,
  Coverage,
  DiagnosticReport,
  Encounter,
  Immunization,
  MedicationDispense,
  MedicationRequest,
  Observation,
  Organization,
  Patient,
  Practitioner,
  Resource,
  ServiceRequest,
} from '@medplum/fhirtypes';
import type { Db, Queryable } from '@sen/db';
import { type AuditLog, type ChangeEvent, ChangeFeed } from '@sen/store';
import type { FhirRouter } from '../../fhir/router.ts';
import type { AccessContext } from '../../fhir/types.ts';
import { FACILITY_TAG_SYSTEM } from '../../platform/gate/gate.ts';
import { VISIT_COVERAGE_EXT } from '../visits/encounter.ts';
import type { EhbSigner } from './signer.ts';
import { buildTables, type EhbTables, type EpisodeData, TABLE_NAMES } from './tables.ts';
import { envelopeXml } from './xml.ts';
import { SEN_SID, VN_CORE_SID } from '@sen/vn';

export const FEED_NAME = 'ehb-feed';
export const EHB_CLIENT_ID = 'sen-ehb-feed';

/** Reads through the router with the worker's access (the gate checks every read), in the caller's transaction. */
export class GatedReader {
  constructor(
    private readonly router: FhirRouter,
    private readonly access: AccessContext,
    private readonly q: Queryable,
  ) {}

  private async get(path: string, query: [string, string][] = []): Promise<unknown> {
    const res = await this.router.handle({ method: 'GET', path, query, access: this.access }, this.q);
    const body = res.body;
    return typeof body === 'string' ? JSON.parse(body) : JSON.parse(JSON.stringify(body));
  }

  async read<T extends Resource>(type: string, id: string | undefined): Promise<T | undefined> {
    if (!id) {
      return undefined;
    }
    try {
      return (await this.get(`${type}/${id}`)) as T;
    } catch (err) {
      if ((err as { status?: number }).status === 404 || (err as { status?: number }).status === 410) {
        return undefined;
      }
      throw err;
    }
  }

  async vread<T extends Resource>(type: string, id: string, version: number): Promise<T> {
    return (await this.get(`${type}/${id}/_history/${version}`)) as T;
  }

  async search<T extends Resource>(type: string, query: [string, string][]): Promise<T[]> {
    const bundle = (await this.get(type, [...query, ['_count', '1000']])) as Bundle;
    return (bundle.entry ?? [])
      .filter((e) => e.search?.mode !== 'include' && e.resource?.resourceType === type)
      .map((e) => e.resource as T);
  }
}

/** Everything the tables need about one finished Encounter version. */
export async function gatherEpisode(reader: GatedReader, encounter: Encounter): Promise<EpisodeData | undefined> {
  const patientId = referenceId(encounter.subject, 'Patient');
  const patient = await reader.read<Patient>('Patient', patientId);
  if (!patient || !patientId) {
    return undefined;
  }
  const encRef = `Encounter/${encounter.id}`;
  const patRef = `Patient/${patientId}`;
  const coverageRef = encounter.extension?.find((x) => x.url === VISIT_COVERAGE_EXT)?.valueReference;
  const facilityId = encounter.meta?.tag?.find((t) => t.system === FACILITY_TAG_SYSTEM)?.code;
  // one after the other: the reads share the feed's transaction (one connection)
  const coverage = await reader.read<Coverage>('Coverage', referenceId(coverageRef, 'Coverage'));
  const facility = await reader.read<Organization>('Organization', facilityId);
  const department = await reader.read<Organization>(
    'Organization',
    referenceId(encounter.serviceProvider, 'Organization'),
  );
  const diagnoses = await reader.search<Condition>('Condition', [['encounter', encRef]]);
  const conditions = await reader.search<Condition>('Condition', [['patient', patRef]]);
  const allergies = await reader.search<AllergyIntolerance>('AllergyIntolerance', [['patient', patRef]]);
  const immunizations = await reader.search<Immunization>('Immunization', [['patient', patRef]]);
  const services = await reader.search<ServiceRequest>('ServiceRequest', [['encounter', encRef]]);
  const medications = await reader.search<MedicationRequest>('MedicationRequest', [['encounter', encRef]]);
  const dispenses = await reader.search<MedicationDispense>('MedicationDispense', [['context', encRef]]);
  const observations = await reader.search<Observation>('Observation', [['encounter', encRef]]);
  const reports = await reader.search<DiagnosticReport>('DiagnosticReport', [['encounter', encRef]]);
  const impressions = await reader.search<ClinicalImpression>('ClinicalImpression', [['encounter', encRef]]);
  const practitionerIds = new Set<string>();
  for (const ref of [
    ...(encounter.participant ?? []).map((p) => p.individual),
    ...services.map((s) => s.requester),
    ...medications.map((m) => m.requester),
    ...observations.flatMap((o) => o.performer ?? []),
  ]) {
    const id = referenceId(ref, 'Practitioner');
    if (id) {
      practitionerIds.add(id);
    }
  }
  const practitioners = new Map<string, Practitioner>();
  for (const id of practitionerIds) {
    const p = await reader.read<Practitioner>('Practitioner', id);
    if (p) {
      practitioners.set(id, p);
    }
  }
  return {
    encounter,
    patient,
    coverage: coverage?.beneficiary?.reference?.endsWith(patRef) ? coverage : undefined,
    facility,
    department,
    diagnoses,
    conditions,
    allergies,
    immunizations,
    services,
    medications,
    dispenses,
    observations,
    reports,
    impressions,
    practitioners,
  };
}

/** sha256 of the tables (the same episode data always gives the same hash). */
export function tablesHash(tables: EhbTables): string {
  return createHash('sha256')
    .update(JSON.stringify(TABLE_NAMES.map((n) => tables[n])))
    .digest('hex');
}

export interface FeedDeps {
  db: Db;
  router: FhirRouter;
  /** The gate bound to the worker's system principal. */
  access: () => AccessContext;
  signer: () => Promise<EhbSigner>;
  audit?: AuditLog;
  /** SEN_EHB_SINCE: episodes that ended before this instant are not sent (default: when the feed first ran). */
  since?: string;
  now?: () => Date;
}

export interface FeedRun {
  events: number;
  queued: number;
}

export class EhbFeed {
  private readonly deps: FeedDeps;
  private readonly feed: ChangeFeed;
  private running?: Promise<FeedRun>;
  private since?: string;

  constructor(deps: FeedDeps) {
    this.deps = deps;
    this.feed = new ChangeFeed(deps.db, FEED_NAME);
  }

  /** Processes the events waiting now; concurrent calls share one run. */
  runOnce(): Promise<FeedRun> {
    if (!this.running) {
      this.running = this.process().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  /** Moves the stored position past `e` (never backwards: another node may be further); false when it was already. */
  private async advance(e: ChangeEvent, q: Queryable): Promise<boolean> {
    const r = await q.query(
      `UPDATE change_consumer SET last_txid = $2::xid8, last_seq = $3::bigint, updated_at = now()
        WHERE name = $1 AND (last_txid, last_seq) < ($2::xid8, $3::bigint)`,
      [FEED_NAME, e.txid, e.seq],
    );
    return r.rowCount > 0;
  }

  /** The instant before which ended episodes are history (stored on the first run, so it survives restarts). */
  private async historyEnd(): Promise<string> {
    if (this.deps.since) {
      return this.deps.since;
    }
    if (!this.since) {
      const now = (this.deps.now?.() ?? new Date()).toISOString();
      await this.deps.db.query(
        'INSERT INTO ehb_feed_state (name, since) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING',
        [FEED_NAME, now],
      );
      const { rows } = await this.deps.db.query<{ since: unknown }>(
        'SELECT since FROM ehb_feed_state WHERE name = $1',
        [FEED_NAME],
      );
      const v = rows[0]?.since;
      this.since = v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString();
    }
    return this.since;
  }

  private async process(): Promise<FeedRun> {
    const run: FeedRun = { events: 0, queued: 0 };
    const since = await this.historyEnd();
    // loaded before any transaction: PGlite has one connection, a query outside an open transaction would wait on it
    const signer = await this.deps.signer();
    for (;;) {
      const events = await this.feed.peek(200);
      if (events.length === 0) {
        return run;
      }
      let skipped: ChangeEvent | undefined;
      for (const e of events) {
        run.events++;
        if (e.type !== 'Encounter' || e.action === 'delete') {
          skipped = e;
          continue;
        }
        if (skipped) {
          await this.advance(skipped, this.deps.db);
          skipped = undefined;
        }
        let queued = false;
        try {
          queued = await this.deps.db.transaction(async (q) => {
            // the position row is locked from here to the commit: one node handles the event
            if (!(await this.advance(e, q))) {
              return false;
            }
            return this.queue(e, q, since, signer);
          });
        } catch (err) {
          // an episode whose payload cannot be built must not stop the feed behind it: it becomes a failed
          // submission the IT screen shows (and "send again" rebuilds); if even that cannot be written, the
          // position stays and the next run tries the event again
          await this.recordBuildFailure(e, err as Error);
        }
        if (queued) {
          run.queued++;
        }
      }
      if (skipped) {
        await this.advance(skipped, this.deps.db);
      }
    }
  }

  private async recordBuildFailure(e: ChangeEvent, err: Error): Promise<void> {
    const now = (this.deps.now?.() ?? new Date()).toISOString();
    await this.deps.db.transaction(async (q) => {
      if (!(await this.advance(e, q))) {
        return;
      }
      let encounter: Encounter | undefined;
      try {
        encounter = JSON.parse(
          (await this.deps.router.store.vread('Encounter', e.id, String(e.version), q)).content as string,
        );
      } catch {
        encounter = undefined;
      }
      await q.query(
        `INSERT INTO ehb_submission (encounter_id, encounter_version, patient_id, facility_id, facility_code, ma_lk, kind,
                                     content_hash, tables, payload, status, last_error, next_attempt_at, created_at,
                                     updated_at)
         VALUES ($1, $2, $3, $4, '', $1, 'new', 'build-failed', '', '', 'failed', $5, $6, $6, $6)
         ON CONFLICT (encounter_id, encounter_version) DO NOTHING`,
        [
          e.id,
          e.version,
          referenceId(encounter?.subject, 'Patient') ?? '',
          encounter?.meta?.tag?.find((t) => t.system === FACILITY_TAG_SYSTEM)?.code ?? null,
          `build-failed: ${err.name}`, // the kind only: an error message may quote data
          now,
        ],
      );
    });
  }

  /** The signed payload of one finished Encounter version, read through the gate. */
  private async build(
    reader: GatedReader,
    encounter: Encounter,
    signer: EhbSigner,
  ): Promise<
    { data: EpisodeData; hash: string; payload: string; facilityCode: string; facilityId: string | null } | undefined
  > {
    const data = await gatherEpisode(reader, encounter);
    if (!data) {
      return undefined;
    }
    const tables = buildTables(data);
    const facilityCode =
      data.facility?.identifier?.find((i) => i.system === SEN_SID.facility || i.system === VN_CORE_SID.maCskcb)
        ?.value ?? '';
    const now = this.deps.now?.() ?? new Date();
    return {
      data,
      hash: tablesHash(tables),
      payload: signer.sign(envelopeXml({ facilityCode, createdAt: now, tables })),
      facilityCode,
      facilityId: encounter.meta?.tag?.find((t) => t.system === FACILITY_TAG_SYSTEM)?.code ?? null,
    };
  }

  /**
   * "Send again" on a submission whose payload could not be built: builds it now from the stored Encounter version
   * and queues it; throws (the row keeps its error) when it still cannot be built.
   */
  async rebuild(id: string): Promise<void> {
    const signer = await this.deps.signer();
    await this.deps.db.transaction(async (q) => {
      const { rows } = await q.query<{ encounter_id: string; encounter_version: number }>(
        `SELECT encounter_id, encounter_version FROM ehb_submission WHERE id = $1::bigint AND payload = '' FOR UPDATE`,
        [id],
      );
      const row = rows[0];
      if (!row) {
        return;
      }
      const reader = new GatedReader(this.deps.router, this.deps.access(), q);
      const encounter = await reader.vread<Encounter>('Encounter', row.encounter_id, row.encounter_version);
      const built = await this.build(reader, encounter, signer);
      if (!built) {
        throw new Error('the episode has no patient');
      }
      await q.query(
        `UPDATE ehb_submission SET payload = $2, content_hash = $3, patient_id = $4, facility_id = $5, facility_code = $6,
                tables = $7, status = 'queued', last_error = NULL, next_attempt_at = now(), updated_at = now()
          WHERE id = $1::bigint`,
        [
          id,
          built.payload,
          built.hash,
          built.data.patient.id,
          built.facilityId,
          built.facilityCode,
          TABLE_NAMES.join(';'),
        ],
      );
      await this.audit(q, built.data.patient.id as string, row.encounter_id, row.encounter_version, id, 'rebuild');
    });
  }

  private async audit(
    q: Queryable,
    patient: string,
    encounter: string,
    version: number,
    submission: string,
    kind: string,
  ): Promise<void> {
    await this.deps.audit?.record(
      {
        action: 'export',
        outcome: 'success',
        who: `Device/${EHB_CLIENT_ID}`,
        role: 'system',
        client: EHB_CLIENT_ID,
        patient,
        resourceType: 'Encounter',
        resourceId: encounter,
        resourceVersion: String(version),
        purpose: 'PUBHLTH',
        detail: { via: 'ehb-feed', submission, kind },
      },
      q,
    );
  }

  /** Builds and inserts the submission for one Encounter version, in the feed's transaction. */
  private async queue(e: ChangeEvent, q: Queryable, since: string, signer: EhbSigner): Promise<boolean> {
    const reader = new GatedReader(this.deps.router, this.deps.access(), q);
    const encounter = await reader.vread<Encounter>('Encounter', e.id, e.version);
    if (encounter.status !== 'finished') {
      return false;
    }
    const end = encounter.period?.end;
    if (end && Date.parse(end) < Date.parse(since)) {
      return false; // history from before the feed started
    }
    const built = await this.build(reader, encounter, signer);
    if (!built) {
      return false;
    }
    const { data, hash, payload, facilityCode, facilityId } = built;
    const { rows: previous } = await q.query<{ content_hash: string }>(
      'SELECT content_hash FROM ehb_submission WHERE encounter_id = $1 ORDER BY id DESC LIMIT 1',
      [e.id],
    );
    if (previous[0]?.content_hash === hash) {
      return false;
    }
    const now = this.deps.now?.() ?? new Date();
    const { rows } = await q.query<{ id: string }>(
      `INSERT INTO ehb_submission (encounter_id, encounter_version, patient_id, facility_id, facility_code, ma_lk, kind,
                                   content_hash, tables, payload, next_attempt_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $11, $5, $6, $7, $8, $9, $10, $10, $10)
       ON CONFLICT (encounter_id, encounter_version) DO NOTHING
       RETURNING id::text AS id`,
      [
        e.id,
        e.version,
        data.patient.id,
        facilityId,
        encounter.id,
        previous[0] ? 'resend' : 'new',
        hash,
        TABLE_NAMES.join(';'),
        payload,
        now.toISOString(),
        facilityCode,
      ],
    );
    if (!rows[0]) {
      return false;
    }
    await this.audit(q, data.patient.id as string, e.id, e.version, rows[0].id, previous[0] ? 'resend' : 'new');
    return true;
  }
}

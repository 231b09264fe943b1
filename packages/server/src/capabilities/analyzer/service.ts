/**
 * What happens to a message from an analyzer: it is stored as received (committed) before anything else, then
 * processed — results imported through the lab's contract (importAnalyzerResults) in one transaction with the
 * message's new status and its audit record, order queries answered with the pending orders — and only then is the
 * ACK sent. A message Sen cannot take is quarantined with the reason and answered with an error ACK. On start-up the
 * messages still 'received' (the server stopped in between) are processed. The analyzer acts as a system principal
 * of the facility: every resource it reads or writes is checked by the access gate, and every message is audited.
 */
import type { Hl7Message } from '@medplum/core';
import { isOutcomeError } from '@sen/fhir';
import type { AuditEntry, AuditLog } from '@sen/store';
import type { FhirRouter } from '../../fhir/router.ts';
import type { AccessContext } from '../../fhir/types.ts';
import { type BoundAccess, createAccessContext } from '../../platform/gate/context.ts';
import type { Principal } from '../../platform/gate/gate.ts';
import { parseScopes } from '../../platform/gate/scopes.ts';
import { AnalyzerImportError, type AnalyzerResult, importAnalyzerResults } from '../lab/analyzer-import.ts';
import {
  type AckCode,
  buildAck,
  type ErrorLocation,
  type Hl7Header,
  Hl7Problem,
  parseHl7,
  peekHeader,
  type ResultGroup,
  resultGroups,
} from './hl7.ts';
import { answerOrderQuery } from './orders.ts';
import { type MessageFixes, MessageStore, type StoredMessage } from './store.ts';

/** The OAuth-style client id the analyzer listener acts as (audit: `Device/sen-mllp`). */
export const ANALYZER_CLIENT = 'sen-mllp';

/** What the listener may touch: read specimens, orders and patients; write results and their alerts. */
const ANALYZER_SCOPES = parseScopes(
  [
    'system/Specimen.rus',
    'system/ServiceRequest.rus',
    'system/Patient.rs',
    'system/Encounter.rs',
    'system/Observation.crus',
    'system/DiagnosticReport.crus',
    'system/Communication.crus',
    'system/Flag.crus',
    'system/Task.crus',
    'system/Provenance.cr',
    'system/Practitioner.rs',
    'system/PractitionerRole.rs',
    'system/Organization.rs',
    'system/Location.rs',
    'system/Device.rs',
    'system/ObservationDefinition.rs',
    'system/CodeSystem.rs',
    'system/ValueSet.rs',
  ].join(' '),
);

const LOCATION_OF: Record<string, (obr: number) => ErrorLocation> = {
  'SPM-2.1': (obr) => ({ segment: 'SPM', sequence: obr, field: 2 }),
  'SPM-2.2': (obr) => ({ segment: 'SPM', sequence: obr, field: 2 }),
  'OBR-3.1': (obr) => ({ segment: 'OBR', sequence: obr, field: 3 }),
  'OBR-2.1': (obr) => ({ segment: 'OBR', sequence: obr, field: 2 }),
};

export interface AnalyzerServiceOptions {
  /** Organization.id of the facility whose analyzers these are (the principal's facility). */
  facilityId: string;
  audit: AuditLog;
  /**
   * Called once a message is stored (committed) and before it is processed. The restart test stops the process
   * here to prove a message cut short is processed on the next start-up.
   */
  afterStore?: (id: string, header: Hl7Header | undefined) => Promise<void> | void;
  /** How the analyzers' bytes are read as text (default utf-8). */
  encoding?: BufferEncoding;
  /** Where processing failures are logged (kind and message id only, never the message). */
  log?: { error(obj: Record<string, unknown>, msg: string): void };
}

/** What processing a message came to, and the reply for the analyzer. */
export interface ProcessOutcome {
  id: string;
  status: StoredMessage['status'];
  ack: AckCode;
  reasonCode?: string;
  reason?: string;
  /** What to send back; absent for an acknowledgement from the analyzer (an ACK is never acknowledged). */
  reply?: Hl7Message;
  result?: StoredMessage['result'];
}

/** A person acting through the API (replay): their access and who they are, for the message's record. */
export interface Actor {
  access: AccessContext;
  who?: string;
}

class AlreadySettled extends Error {}

export class AnalyzerService {
  readonly store: MessageStore;
  readonly principal: Extract<Principal, { kind: 'system' }>;

  constructor(
    readonly router: FhirRouter,
    readonly options: AnalyzerServiceOptions,
  ) {
    this.store = new MessageStore(router.store.db, options.encoding);
    this.principal = {
      kind: 'system',
      clientId: ANALYZER_CLIENT,
      facilityId: options.facilityId,
      scopes: ANALYZER_SCOPES,
    };
  }

  get encoding(): BufferEncoding {
    return this.options.encoding ?? 'utf-8';
  }

  get facilityId(): string {
    return this.options.facilityId;
  }

  /** One message from an analyzer: stored first, then processed; resolves to the reply (ACK or order response). */
  async receive(frame: Uint8Array | string, remote?: string): Promise<ProcessOutcome> {
    const bytes = typeof frame === 'string' ? Buffer.from(frame, this.encoding) : frame;
    const header = peekHeader(Buffer.from(bytes).toString(this.encoding));
    const id = await this.store.insert({
      facility: this.facilityId,
      raw: bytes,
      remote,
      analyzer: header?.analyzer,
      controlId: header?.controlId,
      messageType: header?.type,
    });
    await this.options.afterStore?.(id, header);
    return this.process(id);
  }

  /** Processes the messages left 'received' by a stop; returns how many. */
  async recover(): Promise<number> {
    const ids = await this.store.pendingIds(this.facilityId);
    for (const id of ids) {
      await this.process(id);
    }
    return ids.length;
  }

  /** Processes one stored message (received, or quarantined and being replayed by a person). */
  async process(id: string, actor?: Actor): Promise<ProcessOutcome> {
    const row = await this.store.get(id);
    if (!row) {
      throw new Error(`analyzer message ${id} does not exist`);
    }
    if (row.status !== 'received' && row.status !== 'quarantined') {
      return this.settled(row);
    }
    let message: Hl7Message | undefined;
    let header: Hl7Header | undefined;
    try {
      ({ message, header } = parseHl7(row.corrected ?? row.raw));
      if (header.type === 'ACK' || header.type.startsWith('ACK^')) {
        return await this.acknowledged(row, message, header);
      }
      switch (header.type) {
        case 'ORU^R01':
          return await this.importResults(row, message, header, actor);
        case 'QRY^Q02':
        case 'QBP^Q11':
          return await this.answerQuery(row, message, header);
        default:
          throw new Hl7Problem(
            'unsupported-message',
            `Sen không nhận loại tin nhắn ${header.type} từ máy xét nghiệm (chỉ ORU^R01, QRY^Q02, QBP^Q11) / ` +
              `Sen does not take ${header.type} messages from an analyzer (only ORU^R01, QRY^Q02, QBP^Q11)`,
            { segment: 'MSH', sequence: 1, field: 9 },
          );
      }
    } catch (err) {
      if (err instanceof AlreadySettled) {
        return this.settled((await this.store.get(id)) as StoredMessage);
      }
      const problem =
        err instanceof Hl7Problem
          ? err
          : new Hl7Problem(
              'processing-error',
              'Lỗi khi xử lý tin nhắn; bộ phận CNTT đã được ghi nhận, hãy gửi lại sau / The message could not be processed; retry later',
            );
      if (!(err instanceof Hl7Problem)) {
        this.options.log?.error(
          {
            errName: (err as Error).name,
            message: id,
            stack: (err as Error).stack?.split('\n').slice(1, 5).join('\n'),
          },
          'analyzer message processing failed',
        );
      }
      return this.quarantine(row, problem, message, header, actor);
    }
  }

  private async importResults(
    row: StoredMessage,
    message: Hl7Message,
    header: Hl7Header,
    actor: Actor | undefined,
  ): Promise<ProcessOutcome> {
    const earlier = await this.store.earlier({
      id: row.id,
      facility: row.facility,
      analyzer: header.analyzer,
      controlId: header.controlId,
    });
    if (earlier) {
      return this.duplicate(row, message, header, earlier);
    }
    const groups = this.applyFixes(resultGroups(message), {
      barcodes: row.fixes.barcodes,
      codes: { ...(await this.store.codeMap(row.facility, header.analyzer)), ...row.fixes.codes },
    });
    const byBarcode = new Map<string, ResultGroup>();
    for (const g of groups) {
      const seen = byBarcode.get(g.barcode);
      if (seen) {
        seen.results.push(...g.results);
      } else {
        byBarcode.set(g.barcode, { ...g, results: [...g.results] });
      }
    }
    const access = actor?.access ?? createAccessContext(this.principal);
    const barcodes = [...byBarcode.keys()];
    let current: ResultGroup | undefined;
    try {
      const result = await this.router.store.transaction(async (tx) => {
        const locked = await this.store.get(row.id, tx, true);
        if (!locked || (locked.status !== 'received' && locked.status !== 'quarantined')) {
          throw new AlreadySettled();
        }
        const written: NonNullable<StoredMessage['result']> = [];
        for (const g of byBarcode.values()) {
          current = g;
          const out = await importAnalyzerResults(
            this.router,
            access,
            { barcode: g.barcode, results: g.results, analyzer: header.analyzer, messageControlId: header.controlId },
            tx,
          );
          written.push({ barcode: g.barcode, ...out });
        }
        await this.store.settle(
          row.id,
          { status: 'processed', ack: 'AA', barcodes, header, result: written, handledBy: actor?.who },
          tx,
        );
        if (!actor) {
          await this.audit(access, {
            action: 'create',
            outcome: 'success',
            resourceType: 'DiagnosticReport',
            resourceId: written[0]?.diagnosticReportId,
            detail: this.detail(row, header, 'AA', { reports: written.map((w) => w.diagnosticReportId) }),
            q: tx,
          });
        }
        return written;
      });
      return {
        id: row.id,
        status: 'processed',
        ack: 'AA',
        reply: buildAck({ message, ack: 'AA', facility: this.facilityId }),
        result,
      };
    } catch (err) {
      if (err instanceof AlreadySettled) {
        throw err;
      }
      const where = current ? LOCATION_OF[current.barcodeField]?.(current.obr) : undefined;
      if (err instanceof AnalyzerImportError) {
        const loc =
          err.code === 'unknown-test' || err.code === 'invalid-value'
            ? { segment: 'OBX', sequence: 1, field: err.code === 'unknown-test' ? 3 : 5 }
            : where;
        return this.quarantine(row, new Hl7Problem(err.code, err.message, loc), message, header, actor, barcodes);
      }
      if ((err as { code?: string }).code === '23505') {
        // the same control id was imported concurrently (unique index analyzer_message_once)
        const first = await this.store.earlier({
          id: row.id,
          facility: row.facility,
          analyzer: header.analyzer,
          controlId: header.controlId,
        });
        if (first) {
          return this.duplicate(row, message, header, first);
        }
      }
      if (isOutcomeError(err) && (err.status === 404 || err.status === 403)) {
        const text =
          err.status === 404
            ? `Không tìm thấy mẫu hoặc chỉ định của mã vạch ${current?.barcode ?? ''} tại cơ sở này / No specimen or order for barcode ${current?.barcode ?? ''} at this facility`
            : `Không được phép ghi kết quả này / Writing these results is not allowed: ${err.message}`;
        return this.quarantine(
          row,
          new Hl7Problem(err.status === 404 ? 'unknown-specimen' : 'processing-error', text, where),
          message,
          header,
          actor,
          barcodes,
        );
      }
      throw err;
    }
  }

  /** Applies a person's fixes: corrected barcodes, and test codes mapped to the ones Sen knows. */
  private applyFixes(groups: ResultGroup[], fixes: MessageFixes): ResultGroup[] {
    return groups.map((g) => ({
      ...g,
      barcode: fixes.barcodes?.[g.barcode]?.trim() || g.barcode,
      results: g.results.map((r): AnalyzerResult => {
        const mapped = fixes.codes?.[r.code];
        if (!mapped) {
          return r;
        }
        const out: AnalyzerResult = { ...r, code: mapped.code };
        if (mapped.system) {
          out.system = mapped.system;
        } else {
          delete out.system;
        }
        return out;
      }),
    }));
  }

  private async answerQuery(row: StoredMessage, message: Hl7Message, header: Hl7Header): Promise<ProcessOutcome> {
    const access = createAccessContext(this.principal);
    const answer = await answerOrderQuery(this.router, access, message, header, this.facilityId);
    await this.router.store.transaction(async (tx) => {
      const ok = await this.store.settle(
        row.id,
        {
          status: 'answered',
          ack: answer.ack,
          reasonCode: answer.problem?.code,
          reason: answer.problem?.message,
          barcodes: [answer.barcode].filter((b): b is string => !!b),
          header,
        },
        tx,
      );
      if (!ok) {
        throw new AlreadySettled();
      }
      await this.audit(access, {
        action: 'search',
        outcome: answer.ack === 'AA' ? 'success' : 'failure',
        resourceType: 'ServiceRequest',
        detail: this.detail(row, header, answer.ack, { orders: answer.orders }),
        q: tx,
      });
    });
    return {
      id: row.id,
      status: 'answered',
      ack: answer.ack,
      reasonCode: answer.problem?.code,
      reason: answer.problem?.message,
      reply: answer.reply,
    };
  }

  /** The analyzer acknowledges an order answer: kept, never answered. */
  private async acknowledged(row: StoredMessage, message: Hl7Message, header: Hl7Header): Promise<ProcessOutcome> {
    const code = message.getSegment('MSA')?.getField(1)?.getComponent(1, 0);
    const ack: AckCode = code === 'AE' || code === 'AR' || code === 'CE' || code === 'CR' ? 'AE' : 'AA';
    await this.store.settle(row.id, { status: 'answered', ack, header });
    return { id: row.id, status: 'answered', ack };
  }

  private async duplicate(
    row: StoredMessage,
    message: Hl7Message,
    header: Hl7Header,
    earlier: { id: string; status: StoredMessage['status']; reason?: string },
  ): Promise<ProcessOutcome> {
    const imported = earlier.status === 'processed';
    const reason = imported
      ? `Tin nhắn ${header.controlId} đã được nhận và nhập trước đó (#${earlier.id}); không nhập lại / Message ${header.controlId} was already imported (#${earlier.id}); not imported again`
      : `Tin nhắn ${header.controlId} đã nằm trong danh sách cách ly (#${earlier.id}) chờ người xử lý / Message ${header.controlId} is already in quarantine (#${earlier.id}) waiting for a person`;
    const ack: AckCode = imported ? 'AA' : 'AE';
    const access = createAccessContext(this.principal);
    await this.router.store.transaction(async (tx) => {
      await this.store.settle(
        row.id,
        { status: 'duplicate', ack, reasonCode: 'duplicate', reason, header, duplicateOf: earlier.id },
        tx,
      );
      await this.audit(access, {
        action: 'create',
        outcome: imported ? 'success' : 'failure',
        resourceType: 'DiagnosticReport',
        detail: this.detail(row, header, ack, { duplicateOf: earlier.id }),
        q: tx,
      });
    });
    return {
      id: row.id,
      status: 'duplicate',
      ack,
      reasonCode: 'duplicate',
      reason,
      reply: buildAck({
        message,
        ack,
        facility: this.facilityId,
        problem: imported
          ? undefined
          : { code: 'duplicate', reason, location: { segment: 'MSH', sequence: 1, field: 10 } },
      }),
    };
  }

  private async quarantine(
    row: StoredMessage,
    problem: Hl7Problem,
    message: Hl7Message | undefined,
    header: Hl7Header | undefined,
    actor: Actor | undefined,
    barcodes?: readonly string[],
  ): Promise<ProcessOutcome> {
    const access = actor?.access ?? createAccessContext(this.principal);
    const stored = await this.router.store.transaction(async (tx) => {
      const ok = await this.store.settle(
        row.id,
        {
          status: 'quarantined',
          ack: problem.ack,
          reasonCode: problem.code,
          reason: problem.message,
          barcodes,
          header: header ? { analyzer: header.analyzer, controlId: header.controlId, type: header.type } : undefined,
          handledBy: actor?.who,
        },
        tx,
      );
      if (!ok) {
        return false;
      }
      if (!actor) {
        await this.audit(access, {
          action: 'create',
          outcome: 'failure',
          resourceType: header?.type === 'ORU^R01' ? 'DiagnosticReport' : undefined,
          detail: this.detail(row, header, problem.ack, { reason: problem.code }),
          q: tx,
        });
      }
      return true;
    });
    if (!stored) {
      return this.settled((await this.store.get(row.id)) as StoredMessage);
    }
    return {
      id: row.id,
      status: 'quarantined',
      ack: problem.ack,
      reasonCode: problem.code,
      reason: problem.message,
      reply: buildAck({
        message,
        ack: problem.ack,
        facility: this.facilityId,
        problem: { code: problem.code, reason: problem.message, location: problem.location },
      }),
    };
  }

  /** The reply for a message handled before (a replay of a processed message, a concurrent recovery). */
  private settled(row: StoredMessage): ProcessOutcome {
    let message: Hl7Message | undefined;
    try {
      message = parseHl7(row.corrected ?? row.raw).message;
    } catch {
      message = undefined;
    }
    const ack = row.ackCode ?? 'AA';
    const code = (row.reasonCode ?? 'processing-error') as Hl7Problem['code'];
    return {
      id: row.id,
      status: row.status,
      ack,
      reasonCode: row.reasonCode,
      reason: row.reason,
      result: row.result,
      reply: buildAck({
        message,
        ack,
        facility: this.facilityId,
        problem: ack === 'AA' || !row.reason ? undefined : { code, reason: row.reason },
      }),
    };
  }

  private detail(
    row: StoredMessage,
    header: Hl7Header | undefined,
    ack: AckCode,
    extra: Record<string, unknown>,
  ): Record<string, unknown> {
    return {
      channel: 'mllp',
      message: row.id,
      analyzer: header?.analyzer,
      controlId: header?.controlId,
      type: header?.type,
      ack,
      ...extra,
    };
  }

  /** The audit record of the listener's own work (a person's replay is audited by the API like any call). */
  private async audit(
    access: AccessContext,
    e: Omit<AuditEntry, 'who' | 'role' | 'client'> & { q: Parameters<AuditLog['record']>[1] },
  ): Promise<void> {
    const { q, ...entry } = e;
    const patients = (access as BoundAccess).notes?.patientIds ?? [];
    await this.options.audit.record(
      {
        ...entry,
        who: `Device/${ANALYZER_CLIENT}`,
        role: 'system',
        client: ANALYZER_CLIENT,
        patient: patients.length === 1 ? patients[0] : undefined,
        purpose: (access as BoundAccess).notes?.purposeOfUse,
        detail: { ...entry.detail, ...(patients.length > 1 ? { patients } : {}) },
      },
      q,
    );
  }
}

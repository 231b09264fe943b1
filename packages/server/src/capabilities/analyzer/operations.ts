/**
 * The quarantine of analyzer messages, for the lab: $analyzer-messages (list), $analyzer-message (one, with its text
 * and what Sen read from it), $analyzer-replay (fix the barcode / test code mapping / text, and process again) and
 * $analyzer-discard. Each declares what the gate is asked before it runs (results of the lab: DiagnosticReport);
 * a replay imports the results with the caller's own access, so the gate checks every resource it writes.
 */
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { outcomes } from '@sen/fhir';
import type { FhirOperation, OperationInput } from '../../fhir/operations.ts';
import { principalWho } from '../../fhir/rest.ts';
import type { AccessContext } from '../../fhir/types.ts';
import { principalOf } from '../../platform/gate/context.ts';
import { rolesMayRun } from '../../platform/gate/matrix.ts';
import { Hl7Problem, parseHl7, resultGroups } from './hl7.ts';
import type { AnalyzerService } from './service.ts';
import { MESSAGE_STATUSES, type MessageFixes, type MessageStatus, type StoredMessage } from './store.ts';

const OPS = 'https://sen.health.vn/fhir/OperationDefinition';

function params(parameter: ParametersParameter[]): Parameters {
  return { resourceType: 'Parameters', parameter };
}

function str(name: string, v: string | undefined): ParametersParameter[] {
  return v === undefined || v === '' ? [] : [{ name, valueString: v }];
}

/** The facility whose messages the caller may see (undefined: a system client of no facility sees all). */
function facilityOf(access: AccessContext | undefined): string | undefined {
  const p = principalOf(access);
  return p?.kind === 'staff' ? p.facilityId : p?.kind === 'system' ? p.facilityId : undefined;
}

function whoOf(access: AccessContext | undefined): string | undefined {
  const p = principalOf(access);
  return p ? principalWho(p).who : undefined;
}

function messageId(input: OperationInput): string {
  const id = input.required('id');
  if (!/^\d{1,18}$/.test(id)) {
    throw outcomes.badRequest(`Mã tin nhắn 'id' không hợp lệ: '${id}' / 'id' is not a message id`, ['id']);
  }
  return id;
}

async function load(service: AnalyzerService, access: AccessContext | undefined, id: string): Promise<StoredMessage> {
  const m = await service.store.get(id);
  const facility = facilityOf(access);
  if (!m || (facility !== undefined && m.facility !== facility)) {
    throw outcomes.notFound(`Không có tin nhắn máy xét nghiệm #${id} / No analyzer message #${id}`);
  }
  return m;
}

/** One message as a parameter: what the list shows (no message text). */
export function summaryPart(m: StoredMessage): ParametersParameter {
  return {
    name: 'message',
    part: [
      { name: 'id', valueString: m.id },
      { name: 'receivedAt', valueInstant: m.receivedAt },
      { name: 'status', valueCode: m.status },
      ...(m.ackCode ? [{ name: 'ack', valueCode: m.ackCode }] : []),
      ...(m.reasonCode ? [{ name: 'reasonCode', valueCode: m.reasonCode }] : []),
      ...str('reason', m.reason),
      ...str('analyzer', m.analyzer),
      ...str('controlId', m.controlId),
      ...str('messageType', m.messageType),
      ...m.barcodes.map((b) => ({ name: 'barcode', valueString: b })),
      { name: 'attempts', valueInteger: m.attempts },
      ...str('duplicateOf', m.duplicateOf),
      ...str('handledBy', m.handledBy),
      ...(m.handledAt ? [{ name: 'handledAt', valueInstant: m.handledAt }] : []),
      ...str('note', m.note),
      ...(m.result ?? []).map((r) => ({
        name: 'report',
        valueReference: { reference: `DiagnosticReport/${r.diagnosticReportId}`, display: r.barcode },
      })),
    ],
  };
}

function statusesOf(input: OperationInput): MessageStatus[] | undefined {
  const raw = input.string('status') ?? 'quarantined';
  if (raw === 'all') {
    return undefined;
  }
  const list = raw.split(',').map((s) => s.trim());
  for (const s of list) {
    if (!(MESSAGE_STATUSES as readonly string[]).includes(s)) {
      throw outcomes.badRequest(
        `Trạng thái '${s}' không hợp lệ (${MESSAGE_STATUSES.join(', ')}, all) / Unknown status '${s}'`,
        ['status'],
      );
    }
  }
  return list as MessageStatus[];
}

/** The fixes of a replay call: barcode (from → to, or just the new barcode), code (from → to, system, remember). */
function fixesOf(input: OperationInput, m: StoredMessage): { fixes: MessageFixes; remember: MessageFixes['codes'] } {
  const fixes: MessageFixes = { barcodes: { ...m.fixes.barcodes }, codes: { ...m.fixes.codes } };
  const remember: NonNullable<MessageFixes['codes']> = {};
  for (const p of input.all('barcode')) {
    const part = (n: string): string | undefined =>
      p.part?.find((x) => x.name === n)?.valueString?.trim() ?? p.part?.find((x) => x.name === n)?.valueCode?.trim();
    const to = p.part ? part('to') : p.valueString?.trim();
    const from = p.part ? part('from') : undefined;
    if (!to || !/^\d{1,40}$/.test(to)) {
      throw outcomes.badRequest('Mã vạch mới phải là dãy chữ số / The corrected barcode must be digits only', [
        'barcode',
      ]);
    }
    const received = from ?? (m.barcodes.length === 1 ? m.barcodes[0] : undefined);
    if (!received) {
      throw outcomes.badRequest(
        "Tin nhắn có nhiều mã vạch: hãy nêu 'from' / The message names several barcodes: say which one ('from')",
        ['barcode'],
      );
    }
    (fixes.barcodes as Record<string, string>)[received] = to;
  }
  for (const p of input.all('code')) {
    const part = p.part ?? [];
    const get = (n: string): ParametersParameter | undefined => part.find((x) => x.name === n);
    const from = (get('from')?.valueString ?? get('from')?.valueCode)?.trim();
    const to = (get('to')?.valueString ?? get('to')?.valueCode)?.trim();
    const system = get('system')?.valueUri?.trim() || get('system')?.valueString?.trim() || undefined;
    if (!from || !to) {
      throw outcomes.badRequest(
        "Ánh xạ mã xét nghiệm cần 'from' (mã của máy) và 'to' (mã Sen) / A code mapping needs 'from' and 'to'",
        ['code'],
      );
    }
    const target = { code: to, ...(system ? { system } : {}) };
    (fixes.codes as NonNullable<MessageFixes['codes']>)[from] = target;
    if (get('remember')?.valueBoolean) {
      remember[from] = target;
    }
  }
  return { fixes, remember };
}

export function analyzerOperations(service: AnalyzerService): FhirOperation[] {
  const list: FhirOperation = {
    name: 'analyzer-messages',
    resourceTypes: [],
    levels: ['system'],
    methods: ['GET', 'POST'],
    access: { action: 'search', resourceType: 'DiagnosticReport' },
    definitionUrl: `${OPS}/analyzer-messages`,
    async handler({ req, input }) {
      const count = input.integer('_count') ?? 50;
      if (count < 1 || count > 200) {
        throw outcomes.badRequest('_count phải từ 1 đến 200 / _count must be 1–200', ['_count']);
      }
      const before = input.string('before');
      if (before !== undefined && !/^\d{1,18}$/.test(before)) {
        throw outcomes.badRequest(`'before' phải là mã tin nhắn / 'before' must be a message id`, ['before']);
      }
      const facility = facilityOf(req.access);
      const rows = await service.store.list({ facility, statuses: statusesOf(input), count, before });
      const counts = await service.store.counts(facility);
      return {
        status: 200,
        body: params([
          {
            name: 'counts',
            part: MESSAGE_STATUSES.map((s) => ({ name: s, valueInteger: counts[s] ?? 0 })),
          },
          ...rows.map(summaryPart),
        ]),
      };
    },
  };

  const one: FhirOperation = {
    name: 'analyzer-message',
    resourceTypes: [],
    levels: ['system'],
    methods: ['GET', 'POST'],
    access: { action: 'read', resourceType: 'DiagnosticReport' },
    definitionUrl: `${OPS}/analyzer-message`,
    async handler({ req, input }) {
      const m = await load(service, req.access, messageId(input));
      const parts: ParametersParameter[] = [summaryPart(m), { name: 'raw', valueString: m.raw }];
      if (m.corrected) {
        parts.push({ name: 'corrected', valueString: m.corrected });
      }
      for (const [from, to] of Object.entries(m.fixes.barcodes ?? {})) {
        parts.push({
          name: 'barcodeFix',
          part: [
            { name: 'from', valueString: from },
            { name: 'to', valueString: to },
          ],
        });
      }
      for (const [from, to] of Object.entries(m.fixes.codes ?? {})) {
        parts.push({
          name: 'codeFix',
          part: [
            { name: 'from', valueString: from },
            { name: 'to', valueString: to.code },
            ...(to.system ? [{ name: 'system', valueUri: to.system }] : []),
          ],
        });
      }
      // what Sen reads from it: one group per OBR with its barcode and results (or why it cannot be read)
      try {
        const { message, header } = parseHl7(m.corrected ?? m.raw);
        if (header.type === 'ORU^R01') {
          for (const g of resultGroups(message)) {
            parts.push({
              name: 'group',
              part: [
                { name: 'obr', valueInteger: g.obr },
                { name: 'barcode', valueString: g.barcode },
                { name: 'barcodeField', valueString: g.barcodeField },
                ...g.results.map((r) => ({
                  name: 'result',
                  part: [
                    { name: 'code', valueString: r.code },
                    ...(r.system ? [{ name: 'system', valueUri: r.system }] : []),
                    ...str('display', r.display),
                    { name: 'value', valueString: r.value },
                    ...str('unit', r.unit),
                    ...str('flag', r.abnormalFlag),
                  ],
                })),
              ],
            });
          }
        }
      } catch (err) {
        if (!(err instanceof Hl7Problem)) {
          throw err;
        }
        parts.push({ name: 'readError', valueString: err.message });
      }
      return { status: 200, body: params(parts) };
    },
  };

  const replay: FhirOperation = {
    name: 'analyzer-replay',
    resourceTypes: [],
    levels: ['system'],
    methods: ['POST'],
    access: { action: 'create', resourceType: 'DiagnosticReport' },
    definitionUrl: `${OPS}/analyzer-replay`,
    async handler({ req, input }) {
      const p = principalOf(req.access);
      if (p?.kind === 'staff' && !rolesMayRun(p.roles, '$analyzer-replay')) {
        throw outcomes.forbidden(
          'Vai trò này không được xử lý lại tin nhắn máy xét nghiệm / This role may not replay analyzer messages',
        );
      }
      const m = await load(service, req.access, messageId(input));
      if (m.status !== 'quarantined') {
        throw outcomes.conflict(
          `Tin nhắn #${m.id} đang ở trạng thái ${m.status}, không phải cách ly: không xử lý lại / Message #${m.id} is ${m.status}, not quarantined: it cannot be replayed`,
        );
      }
      const corrected = input.string('correctedMessage');
      if (corrected !== undefined && corrected.length > 1_000_000) {
        throw outcomes.badRequest('Tin nhắn sửa quá dài / The corrected message is too long', ['correctedMessage']);
      }
      const { fixes, remember } = fixesOf(input, m);
      const who = whoOf(req.access);
      await service.store.saveFixes(m.id, fixes, corrected);
      if (remember && Object.keys(remember).length > 0 && m.analyzer) {
        await service.store.saveCodeMap(m.facility, m.analyzer, remember, who);
      }
      const out = await service.process(m.id, { access: req.access as AccessContext, who });
      const after = (await service.store.get(m.id)) as StoredMessage;
      return {
        status: 200,
        body: params([summaryPart(after), { name: 'ack', valueCode: out.ack }, ...str('reason', out.reason)]),
      };
    },
  };

  const discard: FhirOperation = {
    name: 'analyzer-discard',
    resourceTypes: [],
    levels: ['system'],
    methods: ['POST'],
    access: { action: 'update', resourceType: 'DiagnosticReport' },
    definitionUrl: `${OPS}/analyzer-discard`,
    async handler({ req, input }) {
      const p = principalOf(req.access);
      if (p?.kind === 'staff' && !rolesMayRun(p.roles, '$analyzer-discard')) {
        throw outcomes.forbidden(
          'Vai trò này không được bỏ tin nhắn máy xét nghiệm / This role may not discard analyzer messages',
        );
      }
      const m = await load(service, req.access, messageId(input));
      const note = input.string('reason')?.trim() ?? '';
      if (note.length < 5 || note.length > 1000) {
        throw outcomes.badRequest(
          'Hãy nêu lý do bỏ tin nhắn (5–1000 ký tự) / Give a reason for discarding (5–1000 characters)',
          ['reason'],
        );
      }
      if (m.status !== 'quarantined') {
        throw outcomes.conflict(
          `Tin nhắn #${m.id} đang ở trạng thái ${m.status}: chỉ bỏ được tin nhắn cách ly / Message #${m.id} is ${m.status}: only quarantined messages can be discarded`,
        );
      }
      await service.store.settle(m.id, {
        status: 'discarded',
        ack: m.ackCode,
        reasonCode: m.reasonCode,
        reason: m.reason,
        handledBy: whoOf(req.access) ?? 'unknown',
        note,
      });
      return { status: 200, body: params([summaryPart((await service.store.get(m.id)) as StoredMessage)]) };
    },
  };

  return [list, one, replay, discard];
}

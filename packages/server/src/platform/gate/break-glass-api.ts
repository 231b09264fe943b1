import type { Parameters } from '@medplum/fhirtypes';
import { isOutcomeError, outcome, OutcomeError, outcomes } from '@sen/fhir';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FhirRouter } from '../../fhir/router.ts';
import type { Security } from '../security.ts';
import { BREAK_GLASS_MAX_MINUTES, BREAK_GLASS_ROLES, type StoredBreakGlassGrant } from './break-glass.ts';
import { principalOf } from './context.ts';
import type { Principal } from './gate.ts';

type Staff = Extract<Principal, { kind: 'staff' }>;

export const BREAK_GLASS_OPERATION_URL = 'https://sen.health.vn/fhir/OperationDefinition/Patient-break-glass';

function who(p: Staff): string {
  return p.practitionerId ? `Practitioner/${p.practitionerId}` : p.accountId;
}

/** A grant as the review list shows it (JSON). */
function grantJson(g: StoredBreakGlassGrant, now: Date): Record<string, unknown> {
  return {
    id: g.id,
    practitioner: g.practitionerId ? `Practitioner/${g.practitionerId}` : undefined,
    account: g.accountId,
    patient: `Patient/${g.patientId}`,
    reason: g.reason,
    grantedAt: g.grantedAt,
    expiresAt: g.expiresAt,
    active: Date.parse(g.expiresAt) > now.getTime(),
    departments: g.departmentIds,
    accessCount: g.accessCount,
    reviewedBy: g.reviewedBy,
    reviewedAt: g.reviewedAt,
    reviewNote: g.reviewNote,
  };
}

/**
 * Break-the-glass, end to end:
 * - `POST /fhir/R4/Patient/{id}/$break-glass` (reason, minutes): a clinician outside the care team opens the
 *   patient's restricted records for a limited time; the grant is stored and audited (action break-glass, reason),
 *   and every access under it is flagged (detail.breakGlass, purpose ETREAT).
 * - `GET /api/break-glass?status=unreviewed|reviewed|all` and `POST /api/break-glass/{id}/review` (note): the
 *   department head's review list (their facility and departments), with the accesses made under each grant.
 */
export function registerBreakGlass(app: FastifyInstance, router: FhirRouter, security: Security): void {
  const grants = security.breakGlass;
  router.operations.register({
    name: 'break-glass',
    resourceTypes: ['Patient'],
    levels: ['instance'],
    methods: ['POST'],
    // the patient must exist and be of the caller's facility; its labels are what this operation is about
    access: { action: 'search', resourceType: 'Patient' },
    definitionUrl: BREAK_GLASS_OPERATION_URL,
    definition: {
      resourceType: 'OperationDefinition',
      url: BREAK_GLASS_OPERATION_URL,
      name: 'BreakGlass',
      title: 'Truy cập khẩn cấp / Break the glass',
      status: 'active',
      kind: 'operation',
      code: 'break-glass',
      resource: ['Patient'],
      system: false,
      type: false,
      instance: true,
      affectsState: true,
      parameter: [
        { name: 'reason', use: 'in', min: 1, max: '1', type: 'string', documentation: 'At least 10 characters' },
        { name: 'minutes', use: 'in', min: 0, max: '1', type: 'integer', documentation: 'Default 240, at most 720' },
        { name: 'grant', use: 'out', min: 1, max: '1', type: 'string' },
        { name: 'patient', use: 'out', min: 1, max: '1', type: 'Reference' },
        { name: 'expires', use: 'out', min: 1, max: '1', type: 'instant' },
      ],
    },
    async handler({ req, input, id }) {
      const principal = principalOf(req.access);
      if (principal?.kind !== 'staff' || !principal.roles.some((r) => BREAK_GLASS_ROLES.has(r))) {
        throw outcomes.forbidden(
          'Chỉ nhân viên lâm sàng mới được truy cập khẩn cấp. / Only clinical staff may use emergency access.',
        );
      }
      const reason = (input.string('reason') ?? '').trim();
      if (reason.length < 10) {
        throw outcomes.badRequest(
          'Hãy nêu lý do truy cập khẩn cấp (ít nhất 10 ký tự). / Give a reason for emergency access (10+ characters).',
        );
      }
      const minutes = input.integer('minutes');
      if (minutes !== undefined && minutes < 1) {
        throw outcomes.badRequest(`minutes must be between 1 and ${BREAK_GLASS_MAX_MINUTES}`);
      }
      const g = await grants.grant({
        accountId: principal.accountId,
        practitionerId: principal.practitionerId,
        patientId: id as string,
        reason,
        minutes,
        facilityId: principal.facilityId,
        departmentIds: principal.departmentIds,
      });
      await security.fhir.recorder.record({
        action: 'break-glass',
        outcome: 'success',
        who: who(principal),
        role: principal.roles.join(' '),
        patient: g.patientId,
        resourceType: 'Patient',
        resourceId: g.patientId,
        purpose: 'ETREAT',
        breakGlassReason: g.reason,
        detail: { grant: g.id, expiresAt: g.expiresAt },
      });
      const body: Parameters = {
        resourceType: 'Parameters',
        parameter: [
          { name: 'grant', valueString: g.id },
          { name: 'patient', valueReference: { reference: `Patient/${g.patientId}` } },
          { name: 'expires', valueInstant: g.expiresAt },
        ],
      };
      return { status: 200, body };
    },
  });

  /** The caller, who must be a department head; every call (allowed or not) leaves an audit record. */
  const reviewer = async (req: FastifyRequest): Promise<Staff> => {
    const principal = await security.fhir.authenticate(req);
    if (principal.kind !== 'staff' || !principal.roles.includes('department-head')) {
      await security.fhir.recorder.record({
        action: req.method === 'GET' ? 'search' : 'break-glass-review',
        outcome: 'denied',
        ...(principal.kind === 'staff'
          ? { who: who(principal), role: principal.roles.join(' ') }
          : { who: principal.kind === 'patient' ? `Patient/${principal.patientId}` : `Device/${principal.clientId}` }),
        sourceIp: req.ip,
        resourceType: 'BreakGlassGrant',
        detail: { status: 403 },
      });
      throw outcomes.forbidden(
        'Chỉ trưởng khoa được xem xét truy cập khẩn cấp. / Only a department head reviews emergency access.',
      );
    }
    return principal;
  };

  const fail = (reply: FastifyReply, err: unknown): FastifyReply => {
    if (isOutcomeError(err)) {
      if (err.status === 401) {
        reply.header('WWW-Authenticate', 'Bearer realm="Sen", error="invalid_token"');
      }
      return reply.code(err.status).type('application/fhir+json; charset=utf-8').send(err.outcome);
    }
    throw err;
  };

  app.get('/api/break-glass', async (req, reply) => {
    try {
      const head = await reviewer(req);
      const status = (req.query as { status?: string }).status ?? 'unreviewed';
      if (status !== 'unreviewed' && status !== 'reviewed' && status !== 'all') {
        throw outcomes.badRequest("status must be 'unreviewed', 'reviewed' or 'all'");
      }
      const list = await grants.list({ facilityId: head.facilityId, departmentIds: head.departmentIds, status });
      await security.fhir.recorder.record({
        action: 'search',
        outcome: 'success',
        who: who(head),
        role: head.roles.join(' '),
        sourceIp: req.ip,
        resourceType: 'BreakGlassGrant',
        query: `status=${status}`,
        purpose: 'HOPERAT',
        detail: { status: 200, grants: list.length },
      });
      const now = new Date();
      return reply.type('application/json; charset=utf-8').send({ grants: list.map((g) => grantJson(g, now)) });
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.post('/api/break-glass/:id/review', async (req, reply) => {
    try {
      const head = await reviewer(req);
      const { id } = req.params as { id: string };
      const body = (req.body ?? {}) as { note?: unknown };
      const note = typeof body.note === 'string' ? body.note.trim() : '';
      if (!note) {
        throw outcomes.badRequest('Hãy ghi nhận xét. / Write a review note (JSON body: {"note": "…"}).');
      }
      const g = await grants.find(id);
      const inScope =
        g &&
        g.facilityId === head.facilityId &&
        (g.departmentIds.length === 0 || g.departmentIds.some((d) => head.departmentIds.includes(d)));
      if (!g || !inScope) {
        throw new OutcomeError(404, outcome('error', 'not-found', `Break-the-glass grant ${id} not found`));
      }
      if (!(await grants.review(id, head.accountId, note))) {
        throw new OutcomeError(409, outcome('error', 'conflict', 'This grant has already been reviewed'));
      }
      await security.fhir.recorder.record({
        action: 'break-glass-review',
        outcome: 'success',
        who: who(head),
        role: head.roles.join(' '),
        sourceIp: req.ip,
        patient: g.patientId,
        resourceType: 'BreakGlassGrant',
        resourceId: id,
        purpose: 'HOPERAT',
        detail: { status: 200 },
      });
      const reviewed = (await grants.find(id)) as StoredBreakGlassGrant;
      return reply.type('application/json; charset=utf-8').send(grantJson(reviewed, new Date()));
    } catch (err) {
      return fail(reply, err);
    }
  });
}

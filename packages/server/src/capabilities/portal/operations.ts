/**
 * The portal's FHIR operations. Each declares what the gate is asked before it runs (reading the patient, the slot
 * or updating the appointment); the handlers ask the gate again about what they write, and the record the patient
 * sees is read through the caller's own access policy.
 *
 *   Patient/{id}/$portal-record   GET   the patient's record as the portal shows it (final results only)
 *   Patient/{id}/$summary         GET   International Patient Summary (document Bundle)
 *   Patient/{id}/$summary-pdf     GET   the readable PDF (a Binary)
 *   Slot/{id}/$book               POST  book the slot → Appointment, booking code, check-in QR
 *   Appointment/{id}/$cancel      POST  cancel (frees the seat)
 *   Appointment/{id}/$move        POST  move to another slot
 *   Appointment/$check-in         POST  reception: booking code or scanned QR → arrived
 *   Patient/{id}/$family          GET   grants made, and the people this account can follow
 *   Patient/{id}/$grant-access    POST  let a family member follow the record
 *   Patient/{id}/$revoke-access   POST  take it back (at once)
 *   Patient/{id}/$share-link      POST  time-limited link / QR to the IPS
 *   Patient/{id}/$share-links     GET   the links with their uses
 *   Patient/{id}/$revoke-share    POST  revoke a link
 *   Patient/{id}/$rights-request  POST  a data-subject request (correction, …) with its legal deadlines
 *   Patient/{id}/$rights-requests GET   the patient's requests
 *   Patient/$rights-queue         GET   staff: open requests, nearest deadline first
 *   Patient/$rights-answer        POST  staff: acknowledge, complete or refuse a request
 */
import type { Binary, Organization, Parameters, ParametersParameter, Patient, RelatedPerson } from '@medplum/fhirtypes';
import type { Queryable } from '@sen/db';
import { OutcomeError, outcome, outcomes, parseSearchRequest } from '@sen/fhir';
import { searchRows } from '@sen/store';
import { VN_CORE_SID } from '@sen/vn';
import type { FhirOperation, OperationCall } from '../../fhir/operations.ts';
import type { FhirRouter } from '../../fhir/router.ts';
import { principalOf } from '../../platform/gate/context.ts';
import type { Booked, BookingService } from './booking.ts';
import { type FamilyAccess, isGrant } from './family.ts';
import { recordPdf } from './pdf.ts';
import type { RightsRequest, RightsRequests } from './rights.ts';
import type { ShareLink, ShareLinks } from './share.ts';
import { ipsDocument, patientRecord, recordBundle } from './summary.ts';

const OPS = 'https://sen.health.vn/fhir/OperationDefinition';

export interface PortalDeps {
  router: FhirRouter;
  booking: BookingService;
  family: FamilyAccess;
  shares: ShareLinks;
  rights: RightsRequests;
  /** Public base URL of the server (share links point here). */
  publicUrl: string;
}

function params(parameter: ParametersParameter[]): Parameters {
  return { resourceType: 'Parameters', parameter };
}

function run<T>(deps: PortalDeps, call: OperationCall, fn: (q: Queryable) => Promise<T>): Promise<T> {
  return call.q ? fn(call.q) : deps.router.store.transaction(fn);
}

/** The patient a call acts for must be the signed-in patient themselves (share links, requests). */
function assertSelf(call: OperationCall, patientId: string): string {
  const p = principalOf(call.req.access);
  if (!call.req.access) {
    return `Patient/${patientId}`;
  }
  if (p?.kind !== 'patient' || p.patientId !== patientId) {
    throw new OutcomeError(
      403,
      outcome(
        'error',
        'forbidden',
        'Chỉ chính người bệnh mới thực hiện được việc này trên hồ sơ của mình / Only the patient can do this for their own record',
      ),
    );
  }
  return `Patient/${patientId}`;
}

/** Staff work (the privacy officer's queue): never a patient's token. */
function assertStaff(call: OperationCall): void {
  if (principalOf(call.req.access)?.kind === 'patient') {
    throw new OutcomeError(
      403,
      outcome('error', 'forbidden', 'Chỉ nhân viên cơ sở xử lý yêu cầu / Requests are handled by the facility'),
    );
  }
}

function bookedParams(b: Booked): Parameters {
  return params([
    { name: 'appointment', resource: b.appointment },
    { name: 'code', valueString: b.code },
    { name: 'checkinQr', valueString: b.checkinQr },
  ]);
}

function linkPart(l: ShareLink): ParametersParameter {
  return {
    name: 'link',
    part: [
      { name: 'id', valueString: l.id },
      { name: 'status', valueCode: l.status },
      { name: 'createdAt', valueDateTime: l.createdAt },
      { name: 'expiresAt', valueDateTime: l.expiresAt },
      { name: 'uses', valueInteger: l.uses },
      ...(l.label ? [{ name: 'label', valueString: l.label }] : []),
      ...(l.revokedAt ? [{ name: 'revokedAt', valueDateTime: l.revokedAt }] : []),
      ...(l.lastUsedAt ? [{ name: 'lastUsedAt', valueDateTime: l.lastUsedAt }] : []),
    ],
  };
}

function requestPart(r: RightsRequest): ParametersParameter {
  return {
    name: 'request',
    part: [
      { name: 'id', valueString: r.id },
      { name: 'kind', valueCode: r.kind },
      { name: 'status', valueCode: r.status },
      { name: 'detail', valueString: r.detail },
      ...(r.target ? [{ name: 'target', valueString: r.target }] : []),
      { name: 'receivedAt', valueDateTime: r.receivedAt },
      { name: 'acknowledgeBy', valueDateTime: r.ackDue },
      { name: 'due', valueDateTime: r.due },
      { name: 'overdue', valueBoolean: r.overdue },
      ...(r.answer ? [{ name: 'answer', valueString: r.answer }] : []),
    ],
  };
}

/** The facility that holds the record (the author of the IPS and the PDF header). */
export async function facilityOf(deps: Pick<PortalDeps, 'router'>, q: Queryable): Promise<Organization | undefined> {
  const res = await searchRows(
    deps.router.store,
    parseSearchRequest('Organization', [
      ['type', 'prov'],
      ['_count', '1'],
    ]),
    q,
  );
  return res.rows[0] ? (JSON.parse(res.rows[0].content as string) as Organization) : undefined;
}

export function portalOperations(deps: PortalDeps): FhirOperation[] {
  const store = deps.router.store;
  const base = deps.router.options.baseUrl;
  const patientOp = (
    name: string,
    methods: ('GET' | 'POST')[],
    handler: (
      call: OperationCall,
      patientId: string,
    ) => Promise<{ status: number; body: Parameters | Binary | object }>,
  ): FhirOperation => ({
    name,
    resourceTypes: ['Patient'],
    levels: ['instance'],
    methods,
    access: { action: 'read' },
    definitionUrl: `${OPS}/Patient-${name}`,
    async handler(call) {
      const r = await handler(call, call.id as string);
      return r as never;
    },
  });

  return [
    patientOp('portal-record', ['GET'], async (call, id) => {
      const q = call.q ?? store.db;
      const record = await patientRecord(store, id, q, call.req.access?.policy);
      return { status: 200, body: recordBundle(record, base) };
    }),
    patientOp('summary', ['GET'], async (call, id) => {
      const q = call.q ?? store.db;
      const record = await patientRecord(store, id, q, call.req.access?.policy);
      return { status: 200, body: ipsDocument(record, await facilityOf(deps, q)) };
    }),
    patientOp('summary-pdf', ['GET'], async (call, id) => {
      const q = call.q ?? store.db;
      const record = await patientRecord(store, id, q, call.req.access?.policy);
      const facility = await facilityOf(deps, q);
      const pdf = await recordPdf(record, facility?.name ?? 'Sen');
      const binary: Binary = { resourceType: 'Binary', contentType: 'application/pdf', data: pdf.toString('base64') };
      return { status: 200, body: binary };
    }),
    {
      name: 'book',
      resourceTypes: ['Slot'],
      levels: ['instance'],
      methods: ['POST'],
      access: { action: 'read' },
      definitionUrl: `${OPS}/Slot-book`,
      async handler(call) {
        const p = principalOf(call.req.access);
        const patientId =
          call.input.reference('patient', 'Patient', p?.kind !== 'patient') ?? (p as { patientId: string }).patientId;
        const reason = call.input.string('reason')?.trim();
        if (reason && reason.length > 500) {
          throw outcomes.badRequest('Lý do khám quá dài (tối đa 500 ký tự) / The reason is too long', ['reason']);
        }
        const b = await run(deps, call, (q) =>
          deps.booking.book({ slotId: call.id as string, patientId, reason: reason || undefined }, call.req.access, q),
        );
        return { status: 200, body: bookedParams(b) };
      },
    },
    {
      name: 'cancel',
      resourceTypes: ['Appointment'],
      levels: ['instance'],
      methods: ['POST'],
      access: { action: 'update' },
      definitionUrl: `${OPS}/Appointment-cancel`,
      async handler(call) {
        const reason = call.input.string('reason')?.trim().slice(0, 500);
        const appt = await run(deps, call, (q) => deps.booking.cancel(call.id as string, reason || undefined, q));
        return { status: 200, body: params([{ name: 'appointment', resource: appt }]) };
      },
    },
    {
      name: 'move',
      resourceTypes: ['Appointment'],
      levels: ['instance'],
      methods: ['POST'],
      access: { action: 'update' },
      definitionUrl: `${OPS}/Appointment-move`,
      async handler(call) {
        const slotId = call.input.reference('slot', 'Slot', true);
        const b = await run(deps, call, (q) => deps.booking.move(call.id as string, slotId, call.req.access, q));
        return { status: 200, body: bookedParams(b) };
      },
    },
    {
      name: 'check-in',
      resourceTypes: ['Appointment'],
      levels: ['type'],
      methods: ['POST'],
      access: { action: 'search', resourceType: 'Appointment' },
      definitionUrl: `${OPS}/Appointment-check-in`,
      async handler(call) {
        if (principalOf(call.req.access)?.kind === 'patient') {
          throw new OutcomeError(
            403,
            outcome('error', 'forbidden', 'Check-in được thực hiện tại quầy tiếp đón / Check-in is done at reception'),
          );
        }
        const code = call.input.required('code');
        const b = await run(deps, call, (q) => deps.booking.checkIn(code, call.req.access, q));
        return { status: 200, body: bookedParams(b) };
      },
    },
    patientOp('family', ['GET'], async (call, id) => {
      const q = call.q ?? store.db;
      const p = principalOf(call.req.access);
      const grants = p?.kind === 'patient' && p.patientId !== id ? [] : await deps.family.grantsOf(id, q);
      const people: ParametersParameter[] = [];
      if (p?.kind === 'patient' && p.patientId === id) {
        const own = JSON.parse((await store.read('Patient', id, q)).content as string) as Patient;
        const numbers = new Set(
          (own.identifier ?? []).filter((i) => i.system === VN_CORE_SID.cccd).map((i) => i.value),
        );
        for (const other of p.guardianOf) {
          const s = await store.readWithCompartment('Patient', other, q);
          const patient = JSON.parse(s.content as string) as Patient;
          call.req.access?.check('read', 'Patient', patient, [other]);
          const links = await searchRows(
            store,
            parseSearchRequest('RelatedPerson', [
              ['patient', `Patient/${other}`],
              ['_count', '100'],
            ]),
            q,
          );
          const mine = links.rows
            .map((r) => JSON.parse(r.content as string) as RelatedPerson)
            .filter((rp) => rp.active !== false && rp.identifier?.some((i) => numbers.has(i.value)));
          const kind = mine.some((rp) => !isGrant(rp)) ? 'guardian' : 'granted';
          people.push({
            name: 'person',
            part: [
              { name: 'patient', resource: patient },
              { name: 'kind', valueCode: kind },
            ],
          });
        }
      }
      return {
        status: 200,
        body: params([
          ...grants.map((g) => ({
            name: 'grant',
            part: [
              { name: 'relatedPerson', resource: g.relatedPerson },
              ...(g.consent ? [{ name: 'consent', resource: g.consent }] : []),
              { name: 'active', valueBoolean: g.relatedPerson.active !== false },
            ],
          })),
          ...people,
        ]),
      };
    }),
    patientOp('grant-access', ['POST'], async (call, id) => {
      const days = call.input.integer('days');
      if (days !== undefined && (days < 1 || days > 3650)) {
        throw outcomes.badRequest("'days' phải từ 1 đến 3650 / 'days' must be 1–3650", ['days']);
      }
      const name = call.input.required('name').trim();
      if (name.length < 2 || name.length > 200) {
        throw outcomes.badRequest('Họ tên người thân không hợp lệ / The family member’s name is not valid', ['name']);
      }
      const g = await run(deps, call, (q) =>
        deps.family.grant(
          {
            patientId: id,
            nationalId: call.input.required('nationalId'),
            name,
            relationship: call.input.string('relationship') ?? 'FAMMEMB',
            days,
          },
          call.req.access,
          q,
        ),
      );
      return {
        status: 200,
        body: params([
          { name: 'relatedPerson', resource: g.relatedPerson },
          ...(g.consent ? [{ name: 'consent', resource: g.consent }] : []),
        ]),
      };
    }),
    patientOp('revoke-access', ['POST'], async (call, id) => {
      const rp = call.input.reference('relatedPerson', 'RelatedPerson', true);
      const g = await run(deps, call, (q) =>
        deps.family.revoke({ patientId: id, relatedPersonId: rp }, call.req.access, q),
      );
      return { status: 200, body: params([{ name: 'relatedPerson', resource: g.relatedPerson }]) };
    }),
    patientOp('share-link', ['POST'], async (call, id) => {
      const by = assertSelf(call, id);
      const r = await run(deps, call, (q) =>
        deps.shares.create(
          { patientId: id, createdBy: by, hours: call.input.integer('hours'), label: call.input.string('label') },
          q,
        ),
      );
      const url = `${deps.publicUrl}/share/${r.token}`;
      return {
        status: 200,
        body: params([linkPart(r.link), { name: 'url', valueUrl: url }, { name: 'qr', valueString: url }]),
      };
    }),
    patientOp('share-links', ['GET'], async (call, id) => {
      assertSelf(call, id);
      const links = await deps.shares.list(id, call.q ?? store.db);
      return { status: 200, body: params(links.map(linkPart)) };
    }),
    patientOp('revoke-share', ['POST'], async (call, id) => {
      assertSelf(call, id);
      const linkId = call.input.required('link');
      const link = await run(deps, call, (q) => deps.shares.revoke(id, linkId, q));
      return { status: 200, body: params([linkPart(link)]) };
    }),
    patientOp('rights-request', ['POST'], async (call, id) => {
      const by = assertSelf(call, id);
      const r = await run(deps, call, (q) =>
        deps.rights.create(
          {
            patientId: id,
            kind: call.input.string('kind') ?? 'correction',
            detail: call.input.required('detail'),
            target: call.input.string('target'),
            requestedBy: by,
          },
          q,
        ),
      );
      return { status: 200, body: params([requestPart(r)]) };
    }),
    {
      // the privacy officer's queue (whoever may review the audit trail): open requests, nearest deadline first
      name: 'rights-queue',
      resourceTypes: ['Patient'],
      levels: ['type'],
      methods: ['GET'],
      access: { action: 'search', resourceType: 'AuditEvent' },
      definitionUrl: `${OPS}/Patient-rights-queue`,
      async handler(call) {
        assertStaff(call);
        const list = await deps.rights.list(undefined, call.q ?? store.db, true);
        return {
          status: 200,
          body: params(
            list.map((r) => ({
              ...requestPart(r),
              part: [
                ...(requestPart(r).part ?? []),
                { name: 'patient', valueReference: { reference: `Patient/${r.patientId}` } },
              ],
            })),
          ),
        };
      },
    },
    {
      name: 'rights-answer',
      resourceTypes: ['Patient'],
      levels: ['type'],
      methods: ['POST'],
      access: { action: 'search', resourceType: 'AuditEvent' },
      definitionUrl: `${OPS}/Patient-rights-answer`,
      async handler(call) {
        assertStaff(call);
        const status = call.input.required('status');
        if (status !== 'acknowledged' && status !== 'completed' && status !== 'refused') {
          throw outcomes.badRequest(
            "'status' phải là acknowledged, completed hoặc refused / 'status' must be acknowledged, completed or refused",
            ['status'],
          );
        }
        const r = await run(deps, call, (q) =>
          deps.rights.update(call.input.required('request'), status, call.input.string('answer'), q),
        );
        return { status: 200, body: params([requestPart(r)]) };
      },
    },
    patientOp('rights-requests', ['GET'], async (call, id) => {
      assertSelf(call, id);
      const list = await deps.rights.list(id, call.q ?? store.db);
      return { status: 200, body: params(list.map(requestPart)) };
    }),
  ];
}

/**
 * The queue operations: Encounter/$register-visit, Location/$queue-summary, Encounter/$queue, Encounter/$call-next,
 * Encounter/{id}/$skip and Encounter/{id}/$recall. Each declares what the gate is asked before it runs; the service
 * asks the gate again about every resource it reads or writes.
 */
import type { Bundle, BundleEntry, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { outcomes } from '@sen/fhir';
import type { FhirOperation } from '../../fhir/operations.ts';
import { VISIT_TYPES, type VisitType } from './encounter.ts';
import type { Called, VisitQueueService } from './service.ts';

const OPS = 'https://sen.health.vn/fhir/OperationDefinition';

function params(parameter: ParametersParameter[]): Parameters {
  return { resourceType: 'Parameters', parameter };
}

function calledParams(c: Called | undefined): Parameters {
  if (!c) {
    return params([]);
  }
  return params([
    { name: 'encounter', resource: c.encounter },
    { name: 'queueNumber', valueInteger: c.queueNumber },
  ]);
}

/** The operations over one service; `baseUrl` is the FHIR base for the fullUrls of $queue. */
export function visitOperations(service: VisitQueueService, baseUrl: string): FhirOperation[] {
  const register: FhirOperation = {
    name: 'register-visit',
    resourceTypes: ['Encounter'],
    levels: ['type'],
    methods: ['POST'],
    access: { action: 'create', resourceType: 'Encounter' },
    definitionUrl: `${OPS}/Encounter-register-visit`,
    async handler({ req, input, q }) {
      const patientId = input.reference('patient', 'Patient', true);
      const locationId = input.reference('location', 'Location', true);
      const coverageId = input.reference('coverage', 'Coverage');
      const visitType = input.string('visitType');
      if (!visitType || !Object.hasOwn(VISIT_TYPES, visitType)) {
        throw outcomes.badRequest(
          `Loại khám 'visitType' phải là bhyt, fee hoặc emergency / 'visitType' must be bhyt, fee or emergency${visitType ? ` (got '${visitType}')` : ''}`,
          ['visitType'],
        );
      }
      const reason = input.string('reason')?.trim();
      if (reason && reason.length > 1000) {
        throw outcomes.badRequest('Lý do khám quá dài (tối đa 1000 ký tự) / The reason is too long', ['reason']);
      }
      const r = await service.register(
        { patientId, locationId, coverageId, visitType: visitType as VisitType, reason: reason || undefined },
        req.access,
        q,
      );
      return {
        status: 200,
        body: params([
          { name: 'encounter', resource: r.encounter },
          { name: 'queueNumber', valueInteger: r.queueNumber },
          { name: 'roomName', valueString: r.roomName },
          ...(r.departmentName ? [{ name: 'departmentName', valueString: r.departmentName }] : []),
          { name: 'date', valueDate: r.date },
          { name: 'waitingBefore', valueInteger: r.waitingBefore },
        ]),
      };
    },
  };

  const summary: FhirOperation = {
    name: 'queue-summary',
    resourceTypes: ['Location'],
    levels: ['type'],
    methods: ['GET', 'POST'],
    access: { action: 'search', resourceType: 'Location' },
    definitionUrl: `${OPS}/Location-queue-summary`,
    async handler({ req, input }) {
      const departmentId = input.reference('department', 'Organization');
      const rooms = await service.summary(req.access, departmentId);
      return {
        status: 200,
        body: params(
          rooms.map((r) => ({
            name: 'room',
            part: [
              { name: 'location', valueReference: { reference: `Location/${r.locationId}`, display: r.name } },
              { name: 'name', valueString: r.name },
              ...(r.departmentName ? [{ name: 'departmentName', valueString: r.departmentName }] : []),
              { name: 'waiting', valueInteger: r.waiting },
              ...(r.current !== undefined ? [{ name: 'current', valueInteger: r.current }] : []),
              ...r.recentCalled.map((n) => ({ name: 'recentCalled', valueInteger: n })),
            ],
          })),
        ),
      };
    },
  };

  const queue: FhirOperation = {
    name: 'queue',
    resourceTypes: ['Encounter'],
    levels: ['type'],
    methods: ['GET', 'POST'],
    access: { action: 'search', resourceType: 'Encounter' },
    definitionUrl: `${OPS}/Encounter-queue`,
    async handler({ req, input, q }) {
      const locationId = input.reference('location', 'Location', true);
      const { entries, patients } = await service.queue(locationId, req.access, q);
      const entry: BundleEntry[] = [
        ...entries.map((e) => ({
          fullUrl: `${baseUrl}/Encounter/${e.encounter.id}`,
          resource: e.encounter,
          search: { mode: 'match' as const },
        })),
        ...patients.map((p) => ({
          fullUrl: `${baseUrl}/Patient/${p.id}`,
          resource: p,
          search: { mode: 'include' as const },
        })),
      ];
      const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset', total: entries.length, entry };
      return { status: 200, body: bundle };
    },
  };

  const callNext: FhirOperation = {
    name: 'call-next',
    resourceTypes: ['Encounter'],
    levels: ['type'],
    methods: ['POST'],
    access: { action: 'update', resourceType: 'Encounter' },
    definitionUrl: `${OPS}/Encounter-call-next`,
    async handler({ req, input, q }) {
      const locationId = input.reference('location', 'Location', true);
      return { status: 200, body: calledParams(await service.callNext(locationId, req.access, q)) };
    },
  };

  const skip: FhirOperation = {
    name: 'skip',
    resourceTypes: ['Encounter'],
    levels: ['instance'],
    methods: ['POST'],
    access: { action: 'update' },
    definitionUrl: `${OPS}/Encounter-skip`,
    async handler({ req, id, q }) {
      return { status: 200, body: calledParams(await service.skip(id as string, req.access, q)) };
    },
  };

  const recall: FhirOperation = {
    name: 'recall',
    resourceTypes: ['Encounter'],
    levels: ['instance'],
    methods: ['POST'],
    access: { action: 'update' },
    definitionUrl: `${OPS}/Encounter-recall`,
    async handler({ req, id, q }) {
      return { status: 200, body: calledParams(await service.recall(id as string, req.access, q)) };
    },
  };

  return [register, summary, queue, callNext, skip, recall];
}

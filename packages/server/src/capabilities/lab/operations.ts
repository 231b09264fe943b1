/** The lab's FHIR operations: inputs checked here (400 with the parameter named), the workflow in service.ts. */
import type { Bundle, ParametersParameter, Resource } from '@medplum/fhirtypes';
import { outcomes } from '@sen/fhir';
import type { FhirOperation, OperationCall } from '../../fhir/operations.ts';
import type { FhirResponse } from '../../fhir/types.ts';
import { isLabStatus, LAB_STATUSES, type LabStatus } from './model.ts';
import { LabInputError, type LabService, type ResultInput } from './service.ts';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const PRIORITIES = ['routine', 'urgent', 'asap', 'stat'];

function collection(lab: LabService, resources: readonly Resource[]): Bundle {
  const base = lab.router.options.baseUrl;
  return {
    resourceType: 'Bundle',
    type: 'collection',
    timestamp: new Date().toISOString(),
    entry: resources.map((r) => ({ fullUrl: `${base}/${r.resourceType}/${r.id ?? ''}`, resource: r })),
  };
}

function instanceId(call: OperationCall, type: string): string {
  if (!call.id) {
    throw outcomes.badRequest(`Thao tác này gọi trên một ${type}: ${type}/{id}/$… / call this on ${type}/{id}`);
  }
  return call.id;
}

/** LabInputError → 400 with its text. */
async function inputErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof LabInputError) {
      throw outcomes.badRequest(err.message, ['result']);
    }
    throw err;
  }
}

function day(call: OperationCall, name: string): string | undefined {
  const v = call.input.string(name);
  if (v === undefined || v === '') {
    return undefined;
  }
  if (!DAY.test(v) || Number.isNaN(Date.parse(v))) {
    throw outcomes.badRequest(`'${name}' phải là ngày YYYY-MM-DD / '${name}' must be a date YYYY-MM-DD, got '${v}'`);
  }
  return v;
}

function worklist(lab: LabService): FhirOperation {
  return {
    name: 'lab-worklist',
    resourceTypes: ['ServiceRequest'],
    levels: ['type'],
    methods: ['GET', 'POST'],
    access: { action: 'search' },
    async handler(call) {
      const statuses: LabStatus[] = [];
      for (const p of call.input.all('status')) {
        for (const s of String(p.valueCode ?? p.valueString ?? '').split(',')) {
          const t = s.trim();
          if (t === '') {
            continue;
          }
          if (!isLabStatus(t)) {
            throw outcomes.badRequest(
              `'status' phải là một trong ${LAB_STATUSES.join(', ')} / 'status' must be one of ${LAB_STATUSES.join(', ')}, got '${t}'`,
            );
          }
          statuses.push(t);
        }
      }
      const priority = call.input.string('priority') || undefined;
      if (priority !== undefined && !PRIORITIES.includes(priority)) {
        throw outcomes.badRequest(
          `'priority' phải là ${PRIORITIES.join(' | ')} / must be one of ${PRIORITIES.join(', ')}`,
        );
      }
      const date = day(call, 'date');
      const from = day(call, 'from') ?? date;
      const to = day(call, 'to') ?? date ?? from;
      if (from && to && from > to) {
        throw outcomes.badRequest("'from' sau 'to' / 'from' is after 'to'");
      }
      const body = await lab.worklist(
        call.req.access,
        { statuses, priority, room: call.input.string('room') || undefined, from, to },
        call.q,
      );
      return { status: 200, body };
    },
  };
}

function collect(lab: LabService): FhirOperation {
  return {
    name: 'collect-specimen',
    resourceTypes: ['ServiceRequest'],
    levels: ['instance'],
    methods: ['POST'],
    access: { action: 'update' },
    async handler(call) {
      const specimen = await lab.collect(call.req.access, instanceId(call, 'ServiceRequest'), call.q);
      return { status: 201, body: specimen, location: `${lab.router.options.baseUrl}/Specimen/${specimen.id ?? ''}` };
    },
  };
}

function receive(lab: LabService): FhirOperation {
  return {
    name: 'receive',
    resourceTypes: ['Specimen'],
    levels: ['type'],
    methods: ['POST'],
    access: { action: 'update' },
    async handler(call) {
      const barcode = call.input.string('barcode');
      if (!barcode) {
        throw outcomes.badRequest("Thiếu mã vạch 'barcode' / the parameter 'barcode' is required");
      }
      const out = await lab.receive(call.req.access, barcode, call.q);
      return { status: 200, body: collection(lab, [out.specimen, ...out.orders]) };
    },
  };
}

function form(lab: LabService): FhirOperation {
  return {
    name: 'lab-form',
    resourceTypes: ['ServiceRequest'],
    levels: ['instance'],
    methods: ['GET'],
    access: { action: 'read' },
    async handler(call) {
      const f = await lab.form(call.req.access, instanceId(call, 'ServiceRequest'), call.q);
      const num = (name: string, v: number | undefined): ParametersParameter[] =>
        v === undefined ? [] : [{ name, valueDecimal: v }];
      const str = (name: string, v: string | undefined): ParametersParameter[] =>
        v === undefined ? [] : [{ name, valueString: v }];
      const parameter: ParametersParameter[] = [
        { name: 'order', resource: f.order },
        ...(f.specimen ? [{ name: 'specimen', resource: f.specimen }] : []),
        ...(f.report ? [{ name: 'report', resource: f.report }] : []),
        ...f.rows.map((r) => ({
          name: 'indicator',
          part: [
            { name: 'code', valueCode: r.indicator.code },
            { name: 'display', valueString: r.indicator.display },
            ...str('displayEn', r.indicator.displayEn),
            ...str('unit', r.indicator.unit),
            ...(r.indicator.loinc ? [{ name: 'loinc', valueCode: r.indicator.loinc }] : []),
            ...num('low', r.range?.low),
            ...num('high', r.range?.high),
            ...str('rangeText', r.range?.text),
            ...num('criticalLow', r.indicator.critical?.low),
            ...num('criticalHigh', r.indicator.critical?.high),
            ...(r.observation ? [{ name: 'observation', resource: r.observation }] : []),
          ],
        })),
      ];
      return { status: 200, body: { resourceType: 'Parameters', parameter } };
    },
  };
}

/** `result` parameters: parts code (valueCode/valueString/valueCoding), value (valueString/valueDecimal), unit. */
export function resultsOf(params: readonly ParametersParameter[]): ResultInput[] {
  return params.map((p, i) => {
    const part = (n: string): ParametersParameter | undefined => p.part?.find((x) => x.name === n);
    const code = part('code');
    const value = part('value');
    const c = code?.valueCoding?.code ?? code?.valueCode ?? code?.valueString;
    const v =
      value?.valueString ??
      (value?.valueDecimal !== undefined ? String(value.valueDecimal) : undefined) ??
      (value?.valueInteger !== undefined ? String(value.valueInteger) : undefined) ??
      (value?.valueQuantity?.value !== undefined ? String(value.valueQuantity.value) : undefined);
    if (!c) {
      throw outcomes.badRequest(`Kết quả thứ ${i + 1} thiếu mã chỉ số 'code' / result ${i + 1} has no 'code'`, [
        'result',
      ]);
    }
    if (v === undefined) {
      throw outcomes.badRequest(`Kết quả ${c} thiếu giá trị 'value' / result ${c} has no 'value'`, ['result']);
    }
    const unit = part('unit')?.valueString ?? part('unit')?.valueCode ?? value?.valueQuantity?.unit;
    return { code: c, system: code?.valueCoding?.system, value: v, ...(unit ? { unit } : {}) };
  });
}

function enter(lab: LabService): FhirOperation {
  return {
    name: 'enter-results',
    resourceTypes: ['ServiceRequest'],
    levels: ['instance'],
    methods: ['POST'],
    access: { action: 'update' },
    async handler(call): Promise<FhirResponse> {
      const results = resultsOf(call.input.all('result'));
      if (results.length === 0) {
        throw outcomes.badRequest("Chưa nhập kết quả nào ('result') / give at least one 'result'", ['result']);
      }
      const out = await inputErrors(() =>
        lab.enterResults(call.req.access, instanceId(call, 'ServiceRequest'), results, call.q),
      );
      return { status: 200, body: collection(lab, [out.report, ...out.observations, ...out.alerts]) };
    },
  };
}

function verify(lab: LabService): FhirOperation {
  return {
    name: 'verify-results',
    resourceTypes: ['ServiceRequest'],
    levels: ['instance'],
    methods: ['POST'],
    access: { action: 'update' },
    async handler(call) {
      return { status: 200, body: await lab.verify(call.req.access, instanceId(call, 'ServiceRequest'), call.q) };
    },
  };
}

function sign(lab: LabService): FhirOperation {
  return {
    name: 'sign-results',
    resourceTypes: ['ServiceRequest'],
    levels: ['instance'],
    methods: ['POST'],
    access: { action: 'update' },
    async handler(call) {
      return { status: 200, body: await lab.signOff(call.req.access, instanceId(call, 'ServiceRequest'), call.q) };
    },
  };
}

function acknowledge(lab: LabService): FhirOperation {
  return {
    name: 'acknowledge',
    resourceTypes: ['Communication'],
    levels: ['instance'],
    methods: ['POST'],
    access: { action: 'update' },
    async handler(call) {
      return { status: 200, body: await lab.acknowledge(call.req.access, instanceId(call, 'Communication'), call.q) };
    },
  };
}

export function labOperations(lab: LabService): FhirOperation[] {
  return [worklist(lab), collect(lab), receive(lab), form(lab), enter(lab), verify(lab), sign(lab), acknowledge(lab)];
}

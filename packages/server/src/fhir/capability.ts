import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { getResourceTypes, getSearchParams } from '@sen/fhir';
import type { FhirOperation } from './operations.ts';

export interface CapabilityOptions {
  baseUrl: string;
  version: string;
  /** The registered operations, listed per resource type and at the system level. */
  operations?: readonly FhirOperation[];
}

function opEntry(op: FhirOperation): { name: string; definition: string } {
  return { name: op.name, definition: op.definitionUrl ?? `http://hl7.org/fhir/OperationDefinition/${op.name}` };
}

/** A true CapabilityStatement, generated from what the store supports for every R4 resource type. */
export function buildCapabilityStatement(options: CapabilityOptions): CapabilityStatement {
  const resources: CapabilityStatementRestResource[] = getResourceTypes().map((type) => {
    const searchParam = [...getSearchParams(type).values()]
      .filter((p) => p.type !== 'special')
      .map((p) => ({ name: p.code, definition: p.url || undefined, type: p.type }));
    const refParams = [...getSearchParams(type).values()]
      .filter((p) => p.type === 'reference')
      .map((p) => `${type}:${p.code}`);
    const r: CapabilityStatementRestResource = {
      type: type as CapabilityStatementRestResource['type'],
      profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
      interaction: [
        'read',
        'vread',
        'update',
        'patch',
        'delete',
        'history-instance',
        'history-type',
        'create',
        'search-type',
      ].map((code) => ({ code: code as 'read' })),
      versioning: 'versioned-update',
      readHistory: true,
      updateCreate: true,
      conditionalCreate: true,
      conditionalRead: 'full-support',
      conditionalUpdate: true,
      conditionalDelete: 'multiple',
      referencePolicy: ['literal', 'logical', 'local'],
      searchInclude: ['*', ...refParams],
      searchRevInclude: ['*'],
      searchParam,
    };
    const ops = (options.operations ?? []).filter((op) => op.resourceTypes.includes(type)).map(opEntry);
    if (type === 'Patient') {
      ops.unshift({ name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' });
    }
    if (ops.length > 0) {
      r.operation = ops;
    }
    return r;
  });
  const systemOps = (options.operations ?? []).filter((op) => op.levels.includes('system')).map(opEntry);
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    publisher: 'Sen',
    kind: 'instance',
    software: { name: 'Sen', version: options.version },
    implementation: { description: 'Sen — FHIR-native hospital information system', url: options.baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'application/json'],
    patchFormat: ['application/json-patch+json'],
    rest: [
      {
        mode: 'server',
        resource: resources,
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }],
        ...(systemOps.length > 0 ? { operation: systemOps } : {}),
        searchParam: [
          { name: '_id', type: 'token' },
          { name: '_lastUpdated', type: 'date' },
          { name: '_count', type: 'number' },
          { name: '_sort', type: 'string' },
          { name: '_total', type: 'token' },
          { name: '_summary', type: 'token' },
          { name: '_elements', type: 'string' },
        ],
      },
    ],
  };
}

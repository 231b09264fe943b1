import type { OperationDefinition, Parameters, ParametersParameter, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '@sen/db';
import { isValidId, outcomes } from '@sen/fhir';
import type { AccessAction, FhirRequest, FhirResponse } from './types.ts';

/** Where an operation is invoked: `/$op`, `/Type/$op` or `/Type/id/$op`. */
export type OperationLevel = 'system' | 'type' | 'instance';

/** The inputs of one operation call, from the query string (GET) or a Parameters body (POST), or both. */
export class OperationInput {
  readonly parameters: ParametersParameter[];

  constructor(parameters: ParametersParameter[]) {
    this.parameters = parameters;
  }

  /** Builds the inputs of a request: query parameters, then the Parameters resource in the body (if any). */
  static from(req: FhirRequest): OperationInput {
    const params: ParametersParameter[] = req.query
      .filter(([k]) => !k.startsWith('_') || k === '_count' || k === '_offset')
      .map(([name, valueString]) => ({ name, valueString }));
    const body = req.body as Resource | undefined;
    if (req.method === 'POST' && body && typeof body === 'object') {
      if ((body as { resourceType?: string }).resourceType !== 'Parameters') {
        throw outcomes.badRequest('The body of an operation call must be a Parameters resource');
      }
      params.push(...((body as Parameters).parameter ?? []));
    }
    return new OperationInput(params);
  }

  all(name: string): ParametersParameter[] {
    return this.parameters.filter((p) => p.name === name);
  }

  has(name: string): boolean {
    return this.parameters.some((p) => p.name === name);
  }

  /** A primitive value as text (valueString, valueCode, valueUri, valueDate…, or the query string). */
  string(name: string): string | undefined {
    const p = this.all(name)[0];
    if (!p) {
      return undefined;
    }
    for (const [k, v] of Object.entries(p)) {
      if (k.startsWith('value') && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) {
        return String(v);
      }
    }
    return undefined;
  }

  /** A required primitive value: 400 with the parameter's name when it is absent. */
  required(name: string): string {
    const v = this.string(name);
    if (v === undefined || v === '') {
      throw outcomes.badRequest(`The parameter '${name}' is required`);
    }
    return v;
  }

  integer(name: string): number | undefined {
    const v = this.string(name);
    if (v === undefined) {
      return undefined;
    }
    if (!/^-?\d+$/.test(v)) {
      throw outcomes.badRequest(`The parameter '${name}' must be an integer, got '${v}'`);
    }
    return Number(v);
  }

  boolean(name: string): boolean | undefined {
    const v = this.string(name);
    if (v === undefined) {
      return undefined;
    }
    if (v !== 'true' && v !== 'false') {
      throw outcomes.badRequest(`The parameter '${name}' must be true or false, got '${v}'`);
    }
    return v === 'true';
  }

  /**
   * The id of a reference parameter to a resource of this type: valueReference, or `Type/id` / `id` as text; 400
   * naming the parameter when it is required and absent, or refers to something else.
   */
  reference(name: string, type: string, required: true): string;
  reference(name: string, type: string, required?: boolean): string | undefined;
  reference(name: string, type: string, required = false): string | undefined {
    const raw = this.first(name)?.valueReference?.reference ?? this.string(name);
    if (raw === undefined || raw === '') {
      if (required) {
        throw outcomes.badRequest(`Thiếu tham số '${name}' (${type}) / The parameter '${name}' is required`, [name]);
      }
      return undefined;
    }
    const parts = raw.split('/');
    const id = parts[parts.length - 1];
    const given = parts.length > 1 ? parts[parts.length - 2] : type;
    if (given !== type || !isValidId(id)) {
      throw outcomes.badRequest(
        `Tham số '${name}' phải tham chiếu tới ${type} (${type}/<id>) / '${name}' must reference a ${type}`,
        [name],
      );
    }
    return id;
  }

  /** A resource parameter (POST only). */
  resource<T extends Resource = Resource>(name: string): T | undefined {
    return this.all(name)[0]?.resource as T | undefined;
  }

  /** The whole parameter, for complex values (valueCoding, valueCodeableConcept, parts). */
  first(name: string): ParametersParameter | undefined {
    return this.all(name)[0];
  }
}

export interface OperationCall {
  req: FhirRequest;
  input: OperationInput;
  /** The resource type of a type- or instance-level call. */
  resourceType?: string;
  /** The id of an instance-level call. */
  id?: string;
  q?: Queryable;
}

/**
 * A FHIR operation (`$name`) registered with the router. The router checks the declared access with the gate
 * before the handler runs; a handler that touches other data checks that too, through `req.access`.
 */
export interface FhirOperation {
  /** The name without `$`, e.g. `lookup`. */
  name: string;
  /** The resource types it is defined on (type and instance level); empty for system level only. */
  resourceTypes: readonly string[];
  levels: readonly OperationLevel[];
  /** GET is allowed only for operations that change nothing. */
  methods: readonly ('GET' | 'POST')[];
  /** What the gate is asked before the handler runs (the resource type defaults to the call's). */
  access: { action: AccessAction; resourceType?: string };
  /** Canonical URL of the OperationDefinition, for the CapabilityStatement. */
  definitionUrl?: string;
  definition?: OperationDefinition;
  handler(call: OperationCall): Promise<FhirResponse>;
}

/** The operations a router serves, by name and resource type. */
export class OperationRegistry {
  private readonly ops: FhirOperation[] = [];

  register(op: FhirOperation): void {
    for (const existing of this.ops) {
      if (
        existing.name === op.name &&
        (existing.resourceTypes.some((t) => op.resourceTypes.includes(t)) ||
          (existing.levels.includes('system') && op.levels.includes('system')))
      ) {
        throw new Error(`Operation $${op.name} is registered twice`);
      }
    }
    this.ops.push(op);
  }

  find(name: string, level: OperationLevel, resourceType?: string): FhirOperation | undefined {
    return this.ops.find(
      (op) =>
        op.name === name &&
        op.levels.includes(level) &&
        (level === 'system' || (resourceType !== undefined && op.resourceTypes.includes(resourceType))),
    );
  }

  list(): readonly FhirOperation[] {
    return this.ops;
  }
}

import type { FhirPathAtom, TypedValue } from '@medplum/core';
import { evalFhirPathTyped, LRUCache, parseFhirPath, toTypedValue } from '@medplum/core';
import { loadDefinitions } from './definitions.ts';

/*
 * FHIRPath for Sen: @medplum/core's engine (the one its validator and search indexing use), with a cache of
 * compiled expressions and the standard FHIR environment variables (%resource, %rootResource, %context, %ucum,
 * %sct, %loinc).
 */

const compiled = new LRUCache<FhirPathAtom>(2_000);

const ENVIRONMENT: Record<string, TypedValue> = {
  '%ucum': { type: 'uri', value: 'http://unitsofmeasure.org' },
  '%sct': { type: 'uri', value: 'http://snomed.info/sct' },
  '%loinc': { type: 'uri', value: 'http://loinc.org' },
};

/** Parses an expression once; later calls with the same text return the cached AST. Throws on syntax errors. */
export function compile(expression: string): FhirPathAtom {
  let ast = compiled.get(expression);
  if (!ast) {
    ast = parseFhirPath(expression);
    compiled.set(expression, ast);
  }
  return ast;
}

function isTypedValue(v: unknown): v is TypedValue {
  return typeof v === 'object' && v !== null && 'type' in v && 'value' in v;
}

/**
 * Evaluates an expression and returns typed results (`{ type, value }`), which keeps the FHIR type of each item
 * (e.g. `code` vs `string`, `Quantity`). `input` is a resource/element or an array of TypedValues.
 * `variables` are extra `%name` values (keys without the `%`), given as plain values.
 */
export function evaluateTyped(
  expression: string,
  input: object | TypedValue[] | undefined,
  variables?: Record<string, unknown>,
): TypedValue[] {
  loadDefinitions();
  const typed: TypedValue[] =
    input === undefined
      ? []
      : Array.isArray(input)
        ? input.map((v) => (isTypedValue(v) ? v : toTypedValue(v)))
        : [toTypedValue(input)];
  const vars: Record<string, TypedValue> = { ...ENVIRONMENT };
  if (typed.length === 1) {
    vars['%resource'] = typed[0];
    vars['%rootResource'] = typed[0];
    vars['%context'] = typed[0];
  }
  if (variables) {
    for (const [k, v] of Object.entries(variables)) {
      vars[k.startsWith('%') ? k : `%${k}`] = isTypedValue(v) ? v : toTypedValue(v);
    }
  }
  return evalFhirPathTyped(compile(expression), typed, vars);
}

/** Evaluates a FHIRPath expression against a resource (or any element) and returns the plain result values. */
export function evaluate(expression: string, resource: object, variables?: Record<string, unknown>): unknown[] {
  return evaluateTyped(expression, resource, variables).map((v) => v.value);
}

/** FHIRPath boolean evaluation as used by invariants: true only for a single `true` result. */
export function evaluateBoolean(expression: string, resource: object, variables?: Record<string, unknown>): boolean {
  const result = evaluateTyped(expression, resource, variables);
  return result.length === 1 && result[0].value === true;
}

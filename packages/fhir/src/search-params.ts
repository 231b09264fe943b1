import type { FhirPathAtom } from '@medplum/core';
import { getParsedExpressionForResourceType, getSearchParameters, parseFhirPath } from '@medplum/core';
import type { SearchParameter } from '@medplum/fhirtypes';
import {
  getAllSearchParameters,
  getPatientCompartmentDefinition,
  getResourceTypes,
  loadDefinitions,
} from './definitions.ts';

export type SearchParamType =
  'number' | 'date' | 'string' | 'token' | 'reference' | 'composite' | 'quantity' | 'uri' | 'special';

export interface CompositeComponent {
  code: string;
  type: SearchParamType;
  expression: string;
  /** The component expression, parsed once. */
  atom?: FhirPathAtom;
}

export interface SearchParamDef {
  readonly code: string;
  readonly type: SearchParamType;
  readonly url: string;
  readonly expression?: string;
  /** The expression parsed for one resource type (union members of other types removed). */
  readonly atom?: FhirPathAtom;
  readonly targets: readonly string[];
  readonly modifiers: readonly string[];
  readonly components?: readonly CompositeComponent[];
  /**
   * Top-level elements the expression starts from for this resource type (choice elements by prefix:
   * `value` for valueQuantity…). When none is present in a resource, the parameter has no value there and
   * indexing skips the FHIRPath evaluation. Undefined: always evaluate.
   */
  readonly keys?: readonly string[];
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The first element of each union member of the expression that applies to this type (see SearchParamDef.keys). */
function startingKeys(resourceType: string, expression: string): string[] | undefined {
  if (/exists\(|empty\(|not\(|iif\(/.test(expression)) {
    return undefined; // may yield a value (e.g. false) even when the element is absent
  }
  const keys = new Set<string>();
  const re = new RegExp(`(?:^|[^A-Za-z.])(?:${escapeRe(resourceType)}|Resource|DomainResource)\\.([a-z][A-Za-z0-9]*)`);
  for (const raw of expression.split('|')) {
    const member = raw.trim();
    const relevant =
      member.includes(`${resourceType}.`) ||
      member.includes('Resource.') ||
      member.replace(/[()]/g, '').trim() === resourceType;
    if (!relevant) {
      continue;
    }
    const m = re.exec(member);
    if (!m) {
      return undefined; // the whole resource, or a form we do not recognise: always evaluate
    }
    keys.add(m[1]);
  }
  return keys.size > 0 ? [...keys] : undefined;
}

const byType = new Map<string, Map<string, SearchParamDef>>();
let byUrl: Map<string, SearchParameter> | undefined;

function urlIndex(): Map<string, SearchParameter> {
  if (!byUrl) {
    byUrl = new Map();
    for (const sp of getAllSearchParameters()) {
      if (sp.url) {
        byUrl.set(sp.url, sp);
      }
    }
  }
  return byUrl;
}

/** Parameters evaluated by the store itself, not by an index table. */
export const SPECIAL_PARAMS = new Set(['_id', '_lastUpdated']);

function build(resourceType: string): Map<string, SearchParamDef> {
  loadDefinitions();
  const out = new Map<string, SearchParamDef>();
  const params = getSearchParameters(resourceType) ?? {};
  for (const [code, sp] of Object.entries(params)) {
    if (!sp.type) {
      continue;
    }
    let components: CompositeComponent[] | undefined;
    if (sp.type === 'composite') {
      components = [];
      for (const c of sp.component ?? []) {
        const target = c.definition ? urlIndex().get(c.definition) : undefined;
        if (!target?.type || !target.code) {
          components = undefined;
          break;
        }
        let catom: FhirPathAtom | undefined;
        try {
          catom = parseFhirPath(c.expression ?? '');
        } catch {
          catom = undefined;
        }
        components.push({
          code: target.code,
          type: target.type as SearchParamType,
          expression: c.expression ?? '',
          atom: catom,
        });
      }
    }
    let atom: FhirPathAtom | undefined;
    if (sp.expression) {
      try {
        // medplum keeps only the union members that contain `Type.`, dropping a bare `Type` member
        // (combo-code-value-* is `Observation | Observation.component`): parse those whole.
        const bare = sp.expression.split('|').some((m) => m.trim() === resourceType);
        atom = bare ? parseFhirPath(sp.expression) : getParsedExpressionForResourceType(resourceType, sp.expression);
      } catch {
        atom = undefined;
      }
    }
    out.set(code, {
      code,
      type: sp.type as SearchParamType,
      url: sp.url ?? '',
      expression: sp.expression,
      atom,
      targets: sp.target ?? [],
      modifiers: sp.modifier ?? [],
      components,
      keys: sp.expression ? startingKeys(resourceType, sp.expression) : undefined,
    });
  }
  return out;
}

/** All official R4 search parameters of a resource type, by code (including _id, _lastUpdated, _tag, _profile, _security). */
export function getSearchParams(resourceType: string): Map<string, SearchParamDef> {
  let m = byType.get(resourceType);
  if (!m) {
    m = build(resourceType);
    byType.set(resourceType, m);
  }
  return m;
}

export function getSearchParam(resourceType: string, code: string): SearchParamDef | undefined {
  return getSearchParams(resourceType).get(code);
}

let patientCompartment: Map<string, string[]> | undefined;
/** For each resource type in the Patient compartment, the search parameters that link it to the patient. */
export function getPatientCompartmentParams(): Map<string, string[]> {
  if (!patientCompartment) {
    patientCompartment = new Map();
    for (const r of getPatientCompartmentDefinition().resource ?? []) {
      if (r.code && r.param && r.param.length > 0) {
        patientCompartment.set(r.code, r.param);
      }
    }
  }
  return patientCompartment;
}

/** Warms every resource type's parameters (for servers: pay the parse cost at boot, not on first request). */
export function warmSearchParams(): void {
  for (const t of getResourceTypes()) {
    getSearchParams(t);
  }
}

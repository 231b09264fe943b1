/**
 * The master patient index capability (M1): `Patient/$match` (duplicate detection at registration) and
 * `Patient/$merge` (folding a duplicate into the surviving record). Called once from buildApp.
 */
import type { FhirRouter } from '../../fhir/router.ts';
import { matchOperation } from './match.ts';
import { mergeOperation } from './merge.ts';

export function registerMpi(router: FhirRouter): void {
  router.operations.register(matchOperation(router));
  router.operations.register(mergeOperation(router));
}

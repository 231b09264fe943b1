import type { Resource } from '@medplum/fhirtypes';
import type { AccessPolicy } from '@sen/store';

/** A FHIR interaction independent of HTTP: the REST routes and bundle entries both become one of these. */
export interface FhirRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
  /** Path below the FHIR base, without leading slash: `Patient/123/_history/2`. */
  path: string;
  query: [string, string][];
  body?: unknown;
  contentType?: string;
  ifMatch?: string;
  ifNoneExist?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  prefer?: string;
  /** The caller's access, from the gate; absent for the server's own work (seed, workers). */
  access?: AccessContext;
}

export type AccessAction = 'create' | 'read' | 'vread' | 'history' | 'update' | 'patch' | 'delete' | 'search';

/** What the access gate tells the FHIR layer about one caller. */
export interface AccessContext {
  /** Throws an OutcomeError (403, or 404 where existence must not leak) when the interaction is refused. */
  check(action: AccessAction, resourceType: string, resource?: Resource, patientIds?: readonly string[]): void;
  /** Per-type filter applied inside the SQL of searches, includes, chains and _has. */
  policy: AccessPolicy;
  /** True when no type is filtered (history across resources is then allowed). */
  unrestricted: boolean;
  /**
   * Whether decisions depend on the resource itself (labels, facility, patient compartment). False for a
   * system client without a facility: the FHIR layer then skips the compartment lookups.
   */
  needsResource: boolean;
}

export interface FhirResponse {
  status: number;
  /** A resource object, or the stored JSON text of one (sent as is). */
  body?: Resource | string;
  location?: string;
  etag?: string;
  lastModified?: string;
}

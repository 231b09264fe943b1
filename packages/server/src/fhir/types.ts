import type { Resource } from '@medplum/fhirtypes';

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
}

export interface FhirResponse {
  status: number;
  /** A resource object, or the stored JSON text of one (sent as is). */
  body?: Resource | string;
  location?: string;
  etag?: string;
  lastModified?: string;
}

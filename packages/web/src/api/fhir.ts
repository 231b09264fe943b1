import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';

/** An API error with the OperationOutcome's text, readable in the UI. */
export class FhirError extends Error {
  readonly status: number;
  readonly outcome?: OperationOutcome;

  constructor(status: number, message: string, outcome?: OperationOutcome) {
    super(message);
    this.status = status;
    this.outcome = outcome;
  }
}

export type TokenSource = () => Promise<string | undefined>;

/** A small FHIR client over fetch: bearer token from the sign-in, errors as FhirError with the server's words. */
export class FhirClient {
  readonly base: string;
  /** The current bearer token (the live channel sends it too). */
  readonly token: TokenSource;

  constructor(token: TokenSource, base = '/fhir/R4') {
    this.base = base;
    this.token = token;
  }

  async request<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    const token = await this.token();
    const headers: Record<string, string> = { accept: 'application/fhir+json' };
    if (token) {
      headers.authorization = `Bearer ${token}`;
    }
    if (init.body !== undefined) {
      headers['content-type'] = 'application/fhir+json';
    }
    const res = await fetch(`${this.base}/${path.replace(/^\//, '')}`, {
      method: init.method ?? 'GET',
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    const body = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const outcome =
        (body as Resource | undefined)?.resourceType === 'OperationOutcome' ? (body as OperationOutcome) : undefined;
      const message =
        outcome?.issue
          ?.map((i) => i.diagnostics ?? i.details?.text)
          .filter(Boolean)
          .join('; ') || `HTTP ${res.status}`;
      throw new FhirError(res.status, message, outcome);
    }
    return body as T;
  }

  read<T extends Resource>(type: T['resourceType'], id: string): Promise<T> {
    return this.request<T>(`${type}/${encodeURIComponent(id)}`);
  }

  search<T extends Resource = Resource>(
    type: string,
    params: Record<string, string> | [string, string][],
  ): Promise<Bundle<T>> {
    const qs = new URLSearchParams(params).toString();
    return this.request<Bundle<T>>(`${type}${qs ? `?${qs}` : ''}`);
  }
}

/** The resources of a search result, by type (matches and included resources alike). */
export function entriesOf<T extends Resource>(bundle: Bundle | undefined, type: T['resourceType']): T[] {
  return (bundle?.entry ?? []).map((e) => e.resource).filter((r): r is T => r?.resourceType === type);
}

/** Finds an included resource by its reference (`Patient/123`). */
export function resolve<T extends Resource>(bundle: Bundle | undefined, reference: string | undefined): T | undefined {
  if (!reference) {
    return undefined;
  }
  const [type, id] = reference.split('/').slice(-2);
  return bundle?.entry?.find((e) => e.resource?.resourceType === type && e.resource.id === id)?.resource as
    T | undefined;
}

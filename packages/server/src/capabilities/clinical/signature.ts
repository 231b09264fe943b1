/**
 * The content hash a signature covers (VIETNAM.md R4/R5): SHA-256 over the canonical JSON of the signed resources —
 * object keys sorted, no whitespace, `meta` left out (server stamps), resources in the order of their references.
 * Anyone holding the same versions computes the same hash, so a changed byte shows.
 */
import { createHash } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';

export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) {
    return `[${v.map(canonicalJson).join(',')}]`;
  }
  if (v && typeof v === 'object') {
    const keys = Object.keys(v as Record<string, unknown>)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** `Type/id/_history/version` of a stored resource. */
export function versionedReference(r: Resource): string {
  return `${r.resourceType}/${r.id}/_history/${r.meta?.versionId ?? ''}`;
}

/** SHA-256 (hex) of the resources' canonical JSON, sorted by their versioned references. */
export function contentHash(resources: readonly Resource[]): string {
  const sorted = [...resources].sort((a, b) => (versionedReference(a) < versionedReference(b) ? -1 : 1));
  const h = createHash('sha256');
  for (const r of sorted) {
    const { meta: _meta, ...rest } = r;
    h.update(versionedReference(r));
    h.update('\n');
    h.update(canonicalJson(rest));
    h.update('\n');
  }
  return h.digest('hex');
}

/**
 * The content hash a signature covers (VIETNAM.md R4/R5): SHA-256 over the canonical JSON of the signed resources —
 * object keys sorted, no whitespace, `meta` left out (server stamps), resources in the order of their references.
 * Anyone holding the same versions computes the same hash, so a changed byte shows.
 */
import { createHash } from 'node:crypto';
import type { Practitioner, Provenance, ProvenanceEntity, Reference, Resource } from '@medplum/fhirtypes';
import { SEN_STAFF_ROLE_SYSTEM } from '../../seed/demo-facility.ts';

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

const SD = 'https://sen.health.vn/fhir/StructureDefinition';

/**
 * The Provenance of a signature (VIETNAM.md R4/R5): the signed versions as targets, "legally authenticated", the
 * signer as author in their role, the content hash as the signature's data and as an extension. The method is the
 * signer's sign-in session (password + TOTP); a PKI or remote signature is not wired in yet.
 */
export function signatureProvenance(input: {
  signed: readonly Resource[];
  hash: string;
  signer: Reference<Practitioner>;
  role: string;
  /** What was signed, in words (Provenance.activity.text). */
  activity: string;
  now: string;
  reason?: string;
  entity?: ProvenanceEntity[];
}): Provenance {
  const { signer, hash, now } = input;
  return {
    resourceType: 'Provenance',
    target: input.signed.map((r) => ({ reference: versionedReference(r) })),
    recorded: now,
    activity: {
      coding: [
        {
          system: 'http://terminology.hl7.org/CodeSystem/v3-DocumentCompletion',
          code: 'LA',
          display: 'legally authenticated',
        },
      ],
      text: input.activity,
    },
    ...(input.reason ? { reason: [{ text: input.reason }] } : {}),
    agent: [
      {
        type: {
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'author' }],
        },
        role: [{ coding: [{ system: SEN_STAFF_ROLE_SYSTEM, code: input.role }] }],
        who: signer,
      },
    ],
    ...(input.entity && input.entity.length > 0 ? { entity: input.entity } : {}),
    signature: [
      {
        type: [{ system: 'urn:iso-astm:E1762-95:2013', code: '1.2.840.10065.1.12.1.1', display: "Author's Signature" }],
        when: now,
        who: signer,
        sigFormat: 'application/octet-stream',
        data: Buffer.from(hash, 'hex').toString('base64'),
      },
    ],
    extension: [
      { url: `${SD}/content-hash`, valueString: `sha256:${hash}` },
      { url: `${SD}/signature-method`, valueCode: 'session-mfa' },
    ],
  };
}

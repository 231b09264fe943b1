/**
 * What Sen keeps about a registered system client besides OAuth: the facility it belongs to, whether it is another
 * facility's system, and its purpose. Stored as extra client metadata of oidc-provider (`sen_facility`,
 * `sen_external`, `sen_purpose`); the FHIR layer reads them to decide which consent the client needs.
 */
import { errors } from 'oidc-provider';

export const SEN_CLIENT_PROPERTIES = ['sen_facility', 'sen_external', 'sen_purpose'] as const;

export interface SenClientAttributes {
  facilityId?: string;
  external: boolean;
  purpose?: 'research';
}

/** Checks one extra metadata value (oidc-provider calls this for every property on registration). */
export function validateSenClientProperty(key: string, value: unknown): void {
  if (value === undefined) {
    return;
  }
  if (key === 'sen_facility' && (typeof value !== 'string' || !/^[A-Za-z0-9\-.]{1,64}$/.test(value))) {
    throw new errors.InvalidClientMetadata('sen_facility must be a FHIR id (the facility Organization)');
  }
  if (key === 'sen_external' && typeof value !== 'boolean') {
    throw new errors.InvalidClientMetadata('sen_external must be true or false');
  }
  if (key === 'sen_purpose' && value !== 'research') {
    throw new errors.InvalidClientMetadata("sen_purpose must be 'research'");
  }
}

/** The metadata of a registration. */
export function senClientMetadata(client: {
  facilityId?: string;
  external?: boolean;
  purpose?: 'research';
}): Record<string, unknown> {
  if (client.external && !client.facilityId) {
    throw new Error('an external client needs the facility it represents (facilityId)');
  }
  return {
    ...(client.facilityId ? { sen_facility: client.facilityId } : {}),
    ...(client.external ? { sen_external: true } : {}),
    ...(client.purpose ? { sen_purpose: client.purpose } : {}),
  };
}

/** Reads the attributes back from a client's metadata. */
export function senClientAttributes(metadata: Record<string, unknown> | undefined): SenClientAttributes {
  const facility = metadata?.sen_facility;
  return {
    facilityId: typeof facility === 'string' ? facility : undefined,
    external: metadata?.sen_external === true,
    purpose: metadata?.sen_purpose === 'research' ? 'research' : undefined,
  };
}

import type { Db } from '@sen/db';
import type { AuthServer } from '../oauth/index.ts';
import { type SenClientAttributes, senClientAttributes } from '../oauth/client-facility.ts';
import { type ConsentPurpose, loadConsentedPatients } from './consent.ts';
import type { Principal } from './gate.ts';
import type { ResourceScope } from './scopes.ts';

const CLIENT_CACHE_MS = 30_000;

/**
 * Builds the Principal of a system client per request: the facility and purpose from its registration (cached
 * briefly), and, for a client of another facility or a research client, the patients who consent to that purpose
 * now (read on every request, so a withdrawal stops access at once).
 */
export function systemPrincipals(
  db: Db,
  authServer: AuthServer,
): (clientId: string, scopes: readonly ResourceScope[]) => Promise<Principal> {
  const cache = new Map<string, { at: number; attrs: SenClientAttributes }>();
  const attributes = async (clientId: string): Promise<SenClientAttributes> => {
    const hit = cache.get(clientId);
    if (hit && Date.now() - hit.at < CLIENT_CACHE_MS) {
      return hit.attrs;
    }
    const client = await authServer.provider.Client.find(clientId);
    const attrs = senClientAttributes(client?.metadata() as Record<string, unknown> | undefined);
    if (cache.size > 1000) {
      cache.clear();
    }
    cache.set(clientId, { at: Date.now(), attrs });
    return attrs;
  };
  return async (clientId, scopes) => {
    const attrs = await attributes(clientId);
    const purpose: ConsentPurpose | undefined =
      attrs.purpose === 'research' ? 'research' : attrs.external ? 'treatment-sharing' : undefined;
    if (!purpose) {
      return { kind: 'system', clientId, facilityId: attrs.facilityId, scopes };
    }
    return {
      kind: 'system',
      clientId,
      facilityId: attrs.facilityId,
      scopes,
      consentPurpose: purpose,
      consentedPatientIds: await loadConsentedPatients(db, purpose, new Date()),
    };
  };
}

/**
 * SMART on FHIR scopes as the authorization server knows them.
 *
 * oidc-provider treats two kinds of scope differently: the static `scopes` of its configuration are OpenID Connect
 * scopes (openid, fhirUser, launch…), and every other scope is granted only when the resource server (here: the FHIR
 * API, the resource indicator) lists it in its `scope`. The resource scopes `patient|user|system/<Type|*>.<perms>`
 * are therefore not a configuration list: for each client, getResourceServerInfo() returns every resource scope that
 * client may be granted — the SMART scopes its registration allows (`smart_scope`), expanded over every R4 resource
 * type (from @sen/fhir getResourceTypes()) and every narrower permission (v2 `cruds` subsets and v1 read/write/*).
 * The expansion is computed once per distinct allowance and cached.
 */
import { getResourceTypes } from '@sen/fhir';
import type { Interaction } from '../gate/matrix.ts';
import { parseScopes } from '../gate/scopes.ts';

/** The OpenID Connect / SMART context scopes (oidc-provider's static `scopes`). */
export const OIDC_SCOPES = ['openid', 'fhirUser', 'launch', 'launch/patient', 'offline_access', 'online_access'];

const LETTERS = ['c', 'r', 'u', 'd', 's'] as const;
/** Every SMART v2 permission string (non-empty subsets of cruds, in order) and the v1 ones. */
const PERMISSIONS: { text: string; letters: Interaction[] }[] = (() => {
  const out: { text: string; letters: Interaction[] }[] = [];
  for (let mask = 1; mask < 32; mask++) {
    const letters = LETTERS.filter((_, i) => mask & (1 << (4 - i)));
    out.push({ text: letters.join(''), letters: letters as Interaction[] });
  }
  out.push({ text: 'read', letters: ['r', 's'] as Interaction[] });
  out.push({ text: 'write', letters: ['c', 'u', 'd'] as Interaction[] });
  out.push({ text: '*', letters: ['c', 'r', 'u', 'd', 's'] as Interaction[] });
  return out;
})();

const RESOURCE_SCOPE = /^(patient|user|system)\/([A-Za-z]+|\*)\.([a-z]+|\*)$/;

/** True for a well-formed SMART resource scope naming a known type and valid permissions (no `?` filters). */
export function isResourceScope(scope: string): boolean {
  const m = RESOURCE_SCOPE.exec(scope);
  if (!m) {
    return false;
  }
  const [, , type, perms] = m;
  if (type !== '*' && !getResourceTypes().includes(type)) {
    return false;
  }
  return PERMISSIONS.some((p) => p.text === perms);
}

/** Validates a space-separated list of SMART resource scopes (a client's allowance); throws on the first bad one. */
export function assertResourceScopes(scope: string): void {
  for (const s of scope.split(' ').filter(Boolean)) {
    if (!isResourceScope(s)) {
      throw new Error(`'${s}' is not a SMART resource scope (patient|user|system/<Type|*>.<cruds|read|write|*>)`);
    }
  }
}

const cache = new Map<string, string>();

/**
 * Every resource scope covered by the allowance (e.g. `system/*.cruds` covers `system/Patient.rs`,
 * `system/*.read`…), space-separated, plus the OpenID Connect scopes so that they appear in the access token's scope.
 */
export function grantableScopes(allowance: string | undefined): string {
  const key = allowance ?? '';
  let out = cache.get(key);
  if (out === undefined) {
    const set = new Set<string>(OIDC_SCOPES);
    const types = getResourceTypes();
    for (const a of parseScopes(key)) {
      const perms = PERMISSIONS.filter((p) => p.letters.every((l) => a.interactions.has(l)));
      for (const type of a.type === '*' ? ['*', ...types] : [a.type]) {
        for (const p of perms) {
          set.add(`${a.context}/${type}.${p.text}`);
        }
      }
    }
    out = [...set].join(' ');
    cache.set(key, out);
  }
  return out;
}

import type { Interaction } from './matrix.ts';

/** A parsed SMART on FHIR resource scope (v2 `patient/Observation.rs`, or v1 `user/*.read`). */
export interface ResourceScope {
  context: 'patient' | 'user' | 'system';
  /** A resource type or '*' */
  type: string;
  interactions: ReadonlySet<Interaction>;
}

const V1: Record<string, string> = { read: 'rs', write: 'cud', '*': 'cruds' };

/** Parses the resource scopes of a space-separated scope string; other scopes (openid, launch…) are ignored. */
export function parseScopes(scope: string | readonly string[]): ResourceScope[] {
  const list = typeof scope === 'string' ? scope.split(/\s+/) : scope;
  const out: ResourceScope[] = [];
  for (const s of list) {
    const m = /^(patient|user|system)\/([A-Za-z]+|\*)\.([a-z*]+)(\?.*)?$/.exec(s.trim());
    if (!m) {
      continue;
    }
    const [, context, type, perms] = m;
    const letters = V1[perms] ?? perms;
    if (!/^c?r?u?d?s?$/.test(letters) || letters.length === 0) {
      continue; // v2 letters must be in cruds order; anything else grants nothing
    }
    out.push({
      context: context as ResourceScope['context'],
      type,
      interactions: new Set(letters.split('') as Interaction[]),
    });
  }
  return out;
}

/** Whether any granted scope of the given context covers the interaction on the type. */
export function scopesAllow(
  scopes: readonly ResourceScope[],
  context: ResourceScope['context'],
  type: string,
  interaction: Interaction,
): boolean {
  return scopes.some(
    (s) => s.context === context && (s.type === '*' || s.type === type) && s.interactions.has(interaction),
  );
}

/**
 * A patient merge re-points references in records that may otherwise no longer change (a signed encounter, a sent
 * prescription). Write guards let exactly that change through: inside `duringPatientMerge`, a new version that
 * differs from the stored one only by its references to the merged-away patient now naming the surviving one.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Resource } from '@medplum/fhirtypes';

export interface PatientMerge {
  sourceId: string;
  targetId: string;
  /** The server's FHIR base: absolute references to it are re-pointed too. */
  base?: string;
}

const scope = new AsyncLocalStorage<PatientMerge>();

/** Runs fn as the re-pointing step of a merge of Patient/sourceId into Patient/targetId. */
export function duringPatientMerge<T>(merge: PatientMerge, fn: () => Promise<T>): Promise<T> {
  return scope.run(merge, fn);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Replaces every reference to Patient/source (relative, absolute to this server, or versioned) in place. */
export function repoint(value: unknown, sourceId: string, targetId: string, base?: string): number {
  let changed = 0;
  const prefix = base ? `(?:${escapeRe(base)}/)?` : '';
  const re = new RegExp(`^${prefix}Patient/${escapeRe(sourceId)}(?:/_history/[^/]+)?$`);
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      v.forEach(walk);
      return;
    }
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.reference === 'string' && re.test(o.reference)) {
        o.reference = `Patient/${targetId}`;
        changed++;
      }
      for (const [k, child] of Object.entries(o)) {
        if (k !== 'reference' && child && typeof child === 'object') {
          walk(child);
        }
      }
    }
  };
  walk(value);
  return changed;
}

function withoutMeta(r: Resource): string {
  const { meta: _meta, ...rest } = r as Resource & { meta?: unknown };
  return JSON.stringify(rest);
}

/** True inside a merge when `next` is `current` with only its references to the source patient re-pointed. */
export function isMergeRepoint(current: Resource, next: Resource | undefined): boolean {
  const merge = scope.getStore();
  if (!merge || !next) {
    return false;
  }
  const copy = structuredClone(current);
  if (repoint(copy, merge.sourceId, merge.targetId, merge.base) === 0) {
    return false;
  }
  return withoutMeta(copy) === withoutMeta(next);
}

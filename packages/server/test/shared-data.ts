import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The shared test data folder (../shared from the repository root); tests read it in place. */
export const SHARED_DIR = resolve(new URL('../../../../shared', import.meta.url).pathname);

export function sharedPath(...parts: string[]): string {
  return join(SHARED_DIR, ...parts);
}

export function hasShared(...parts: string[]): boolean {
  return existsSync(sharedPath(...parts));
}

export function readJson<T = any>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8').replace(/^\uFEFF/, '')) as T;
}

export function listJson(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(dir, f));
}

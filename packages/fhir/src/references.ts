/** A parsed local reference: `Patient/123`, `Patient/123/_history/2`, or an absolute URL ending so. */
export interface ParsedReference {
  type: string;
  id: string;
  version?: string;
}

const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;
const TYPE_RE = /^[A-Z][A-Za-z]+$/;

export function isValidId(id: string): boolean {
  return ID_RE.test(id);
}

export function parseReference(ref: string | undefined): ParsedReference | undefined {
  if (!ref || ref.startsWith('#') || ref.startsWith('urn:')) {
    return undefined;
  }
  const q = ref.indexOf('?');
  if (q >= 0) {
    return undefined;
  }
  const parts = ref.split('/');
  let i = parts.length;
  let version: string | undefined;
  if (i >= 4 && parts[i - 2] === '_history') {
    version = parts[i - 1];
    i -= 2;
  }
  if (i < 2) {
    return undefined;
  }
  const type = parts[i - 2];
  const id = parts[i - 1];
  if (!TYPE_RE.test(type) || !ID_RE.test(id)) {
    return undefined;
  }
  return version ? { type, id, version } : { type, id };
}

/**
 * The id of a reference to a resource of this type (`Type/id`, `Type/id/_history/v` or an absolute URL ending so);
 * undefined for a reference to another type, a contained or conditional reference, or none.
 */
export function referenceId(ref: string | { reference?: string } | undefined, type: string): string | undefined {
  const parsed = parseReference(typeof ref === 'string' ? ref : ref?.reference);
  return parsed?.type === type ? parsed.id : undefined;
}

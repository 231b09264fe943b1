import { randomBytes } from 'node:crypto';
import { RawJson } from './router.ts';

// A per-process nonce keeps user text from ever looking like a splice marker.
const NONCE = randomBytes(6).toString('hex');
const MARKER_RE = new RegExp(`"\\\\u0000${NONCE}(\\d+)\\\\u0000"`, 'g');

/**
 * JSON for the wire. Stored resources travel as their stored JSON text (RawJson) and are spliced in
 * without a parse/serialise round trip; `pretty` re-formats the whole document.
 */
export function serialize(body: unknown, pretty = false): string {
  if (body instanceof RawJson) {
    return pretty ? JSON.stringify(JSON.parse(body.json), null, 2) : body.json;
  }
  if (typeof body === 'string') {
    return pretty ? JSON.stringify(JSON.parse(body), null, 2) : body;
  }
  if (pretty) {
    return JSON.stringify(body, null, 2);
  }
  const raws: string[] = [];
  let text: string;
  RawJson.splicing = true;
  try {
    text = JSON.stringify(body, function replacer(this: Record<string, unknown>, key: string, value: unknown) {
      const original = this[key];
      if (original instanceof RawJson) {
        raws.push(original.json);
        return `\u0000${NONCE}${raws.length - 1}\u0000`;
      }
      return value;
    });
  } finally {
    RawJson.splicing = false;
  }
  if (raws.length === 0) {
    return text;
  }
  return text.replace(MARKER_RE, (_m, i: string) => raws[Number(i)]);
}

import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { useSession } from '../auth/AuthContext.tsx';

/** One change pushed by the server's live channel (`GET /api/live?types=…`, server-sent events). */
export interface LiveChange {
  resourceType: string;
  id: string;
  versionId?: string;
  /** create | update | delete */
  op?: string;
}

/** Splits a server-sent-events stream into `data:` payloads of `change` events (comments and other events skipped). */
export function parseSseChunk(buffer: string): { events: LiveChange[]; rest: string } {
  const events: LiveChange[] = [];
  const blocks = buffer.split(/\r?\n\r?\n/);
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    let name = 'message';
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) {
        continue;
      }
      const [field, ...value] = line.split(':');
      const v = value.join(':').replace(/^ /, '');
      if (field === 'event') {
        name = v;
      } else if (field === 'data') {
        data.push(v);
      }
    }
    if (name === 'change' && data.length > 0) {
      try {
        events.push(JSON.parse(data.join('\n')) as LiveChange);
      } catch {
        // a malformed event is skipped; the next refetch catches up
      }
    }
  }
  return { events, rest };
}

/**
 * Follows the live channel for some resource types while mounted and calls `onChange` for each change. The bearer
 * token goes in a header (EventSource cannot send one), so the stream is read with fetch; it reconnects after a
 * drop, and `onReconnect` lets the caller refetch what it may have missed.
 */
export function useLive(types: readonly string[], onChange: (c: LiveChange) => void, onReconnect?: () => void): void {
  const { fhir } = useSession();
  const key = [...types].sort().join(',');
  useEffect(() => {
    const abort = new AbortController();
    let attempt = 0;
    const run = async (): Promise<void> => {
      while (!abort.signal.aborted) {
        try {
          const token = await fhir.token();
          const res = await fetch(`/api/live?types=${encodeURIComponent(key)}`, {
            headers: { accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
            signal: abort.signal,
          });
          if (!res.ok || !res.body) {
            throw new Error(`live channel: HTTP ${res.status}`);
          }
          if (attempt > 0) {
            onReconnect?.();
          }
          attempt = 0;
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) {
              break;
            }
            const parsed = parseSseChunk(buffer + value);
            buffer = parsed.rest;
            parsed.events.forEach(onChange);
          }
        } catch {
          if (abort.signal.aborted) {
            return;
          }
        }
        attempt += 1;
        await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** Math.min(attempt, 5))));
      }
    };
    void run();
    return () => abort.abort();
    // reconnect only when the types change; onChange/onReconnect of the first render are kept on purpose
  }, [key, fhir]);
}

/**
 * Keeps TanStack queries fresh from the live channel: a change of type T invalidates every query whose key starts
 * with T (e.g. `['Encounter', …]`), and a reconnect invalidates them all.
 */
export function useLiveInvalidate(types: readonly string[]): void {
  const client = useQueryClient();
  useLive(
    types,
    (c) => void client.invalidateQueries({ queryKey: [c.resourceType] }),
    () => void client.invalidateQueries({ predicate: (q) => types.includes(String(q.queryKey[0])) }),
  );
}

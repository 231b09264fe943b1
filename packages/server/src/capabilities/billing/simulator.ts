/**
 * A local payment-gateway simulator: a real HTTP server on 127.0.0.1 that accepts Sen's signed payment requests and,
 * when the payer "scans and pays" (POST /payments/{ref}/pay, or by itself after `autoPayMs`), posts the signed
 * confirmation to Sen's webhook. Started by the tests and, in demo mode without SEN_PAYMENT_GATEWAY_URL, by main.ts.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { type PaymentConfirmation, type PaymentRequest, SIGNATURE_HEADER, sign, verifySignature } from './gateway.ts';
import { listenLocal, readBody, sendJson } from '../../platform/simulator-http.ts';

export interface PaymentSimulator {
  url: string;
  /** The payments it was asked to expect, by gateway reference. */
  readonly payments: ReadonlyMap<string, PaymentRequest & { paid: boolean }>;
  /** Pays one (as the payer's bank would): posts the confirmation, returns Sen's HTTP status. */
  pay(ref: string, override?: Partial<PaymentConfirmation>): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

export async function startPaymentSimulator(options: {
  secret: string;
  /** Pay every payment by itself this long after it was asked for (demo); absent: only on /pay. */
  autoPayMs?: number;
  port?: number;
}): Promise<PaymentSimulator> {
  const payments = new Map<string, PaymentRequest & { paid: boolean }>();
  const timers = new Set<NodeJS.Timeout>();

  async function pay(
    ref: string,
    override: Partial<PaymentConfirmation> = {},
  ): Promise<{ status: number; body: unknown }> {
    const p = payments.get(ref);
    if (!p) {
      return { status: 404, body: { error: 'unknown payment' } };
    }
    const confirmation: PaymentConfirmation = {
      eventId: randomUUID(),
      intentId: p.intentId,
      billNumber: p.billNumber,
      amount: p.amount,
      transactionId: `FT${Date.now()}${Math.floor(Math.random() * 1000)}`,
      paidAt: new Date().toISOString(),
      ...override,
    };
    const body = JSON.stringify(confirmation);
    const res = await fetch(p.callbackUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: sign(options.secret, body) },
      body,
    });
    const answer = await res.json().catch(() => ({}));
    if (res.ok) {
      p.paid = true;
    }
    return { status: res.status, body: { ...(answer as object), confirmation } };
  }

  const server = createServer((req, res) => {
    void (async () => {
      try {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        if (req.method === 'POST' && url.pathname === '/payments') {
          const text = await readBody(req);
          if (!verifySignature(options.secret, text, req.headers[SIGNATURE_HEADER] as string | undefined)) {
            sendJson(res, 401, { error: 'bad signature' });
            return;
          }
          const p = JSON.parse(text) as PaymentRequest;
          if (!p.intentId || !/^\d+$/.test(p.amount ?? '') || !p.callbackUrl) {
            sendJson(res, 400, { error: 'intentId, amount and callbackUrl are required' });
            return;
          }
          const ref = `SIM-${randomUUID()}`;
          payments.set(ref, { ...p, paid: false });
          if (options.autoPayMs !== undefined) {
            const t = setTimeout(() => {
              timers.delete(t);
              void pay(ref).catch(() => undefined);
            }, options.autoPayMs);
            timers.add(t);
          }
          sendJson(res, 201, { gatewayRef: ref });
          return;
        }
        const m = /^\/payments\/([^/]+)\/pay$/.exec(url.pathname);
        if (req.method === 'POST' && m) {
          const out = await pay(decodeURIComponent(m[1]));
          sendJson(res, out.status, out.body);
          return;
        }
        sendJson(res, 404, { error: 'not found' });
      } catch {
        sendJson(res, 400, { error: 'bad request' });
      }
    })();
  });
  const url = await listenLocal(server, options.port);
  return {
    url,
    payments,
    pay,
    async close() {
      for (const t of timers) {
        clearTimeout(t);
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The payment gateway adapter: Sen asks the gateway (over HTTP, JSON) to expect a VietQR transfer for a bill, and the
 * gateway tells Sen when the money has arrived by calling Sen's webhook. Both directions are signed with
 * HMAC-SHA256 over the exact request body with the shared secret (SEN_PAYMENT_SECRET), in the header
 * `x-sen-signature: sha256=<hex>`; Sen compares in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-sen-signature';
export const WEBHOOK_PATH = '/api/payments/webhook';

export function sign(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

export function verifySignature(secret: string, body: string, header: string | undefined): boolean {
  if (!header) {
    return false;
  }
  const expected = Buffer.from(sign(secret, body));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** What Sen asks the gateway to expect. */
export interface PaymentRequest {
  intentId: string;
  billNumber: string;
  /** Whole đồng, as a decimal string. */
  amount: string;
  /** The EMVCo payload shown to the payer. */
  qr: string;
  callbackUrl: string;
}

/** The confirmation the gateway posts to the webhook. */
export interface PaymentConfirmation {
  eventId: string;
  intentId: string;
  billNumber: string;
  amount: string;
  transactionId: string;
  paidAt: string;
}

export class PaymentGatewayError extends Error {}

export interface PaymentGateway {
  createPayment(p: PaymentRequest): Promise<{ gatewayRef: string }>;
}

export class HttpPaymentGateway implements PaymentGateway {
  constructor(private readonly opts: { url: string; secret: string; timeoutMs?: number }) {}

  async createPayment(p: PaymentRequest): Promise<{ gatewayRef: string }> {
    const body = JSON.stringify(p);
    let res: Response;
    try {
      res = await fetch(`${this.opts.url.replace(/\/$/, '')}/payments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: sign(this.opts.secret, body) },
        body,
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000),
      });
    } catch {
      throw new PaymentGatewayError('the payment gateway did not answer');
    }
    const answer = (await res.json().catch(() => ({}))) as { gatewayRef?: string };
    if (!res.ok || typeof answer.gatewayRef !== 'string') {
      throw new PaymentGatewayError(`the payment gateway refused the payment (${res.status})`);
    }
    return { gatewayRef: answer.gatewayRef };
  }
}

/**
 * The payment gateway's confirmation webhook, POST /api/payments/webhook (no user token: the gateway signs the body
 * with the shared secret). Bad or missing signature → 401; a replayed event id → the first answer again, nothing
 * done twice; an unknown payment → 404; an amount that is not the bill's → 422 and the invoice stays unpaid; a
 * payment for an invoice paid meanwhile (e.g. in cash) → 409 for the gateway to return the money. Every answer is an
 * OperationOutcome, Vietnamese first.
 */
import { outcome } from '@sen/fhir';
import Decimal from 'decimal.js';
import type { FastifyInstance } from 'fastify';
import type { Invoice, OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { BillingDeps } from './charges.ts';
import { type PaymentConfirmation, SIGNATURE_HEADER, verifySignature, WEBHOOK_PATH } from './gateway.ts';
import { recordPayment } from './payments.ts';

type Result = { status: number; code: string; text: string; paymentId?: string };

const RESULTS: Record<string, Omit<Result, 'paymentId'>> = {
  paid: { status: 200, code: 'paid', text: 'Đã ghi nhận thanh toán / payment recorded' },
  'unknown-intent': { status: 404, code: 'unknown-intent', text: 'Không có yêu cầu thanh toán này / no such payment' },
  'amount-mismatch': {
    status: 422,
    code: 'amount-mismatch',
    text: 'Số tiền không khớp với hóa đơn: không ghi nhận / the amount does not match the bill: refused',
  },
  'not-payable': {
    status: 409,
    code: 'not-payable',
    text: 'Hóa đơn đã được thanh toán hoặc đã hủy: cần hoàn lại tiền cho người chuyển / the invoice is paid or cancelled: return the money',
  },
};

const ISSUE_CODE: Record<number, OperationOutcomeIssue['code']> = {
  400: 'invalid',
  401: 'security',
  404: 'not-found',
  409: 'conflict',
  422: 'processing',
};

function reply(r: { status: number; code: string; text: string }, duplicate = false) {
  const o = outcome(
    r.status < 300 ? 'information' : 'error',
    r.status < 300 ? 'informational' : (ISSUE_CODE[r.status] ?? 'processing'),
    r.text,
  );
  return { ...o, id: r.code, ...(duplicate ? { meta: { tag: [{ code: 'duplicate' }] } } : {}) };
}

async function handle(deps: BillingDeps, c: PaymentConfirmation): Promise<{ result: Result; duplicate: boolean }> {
  return deps.router.store.transaction(async (q) => {
    const first = await q.query<{ outcome: string }>(
      `INSERT INTO billing_webhook_event (event_id, intent_id, outcome) VALUES ($1, $2, 'pending')
       ON CONFLICT (event_id) DO NOTHING RETURNING outcome`,
      [c.eventId, c.intentId],
    );
    if (first.rows.length === 0) {
      const seen = await q.query<{ outcome: string }>(`SELECT outcome FROM billing_webhook_event WHERE event_id = $1`, [
        c.eventId,
      ]);
      const code = seen.rows[0]?.outcome ?? 'paid';
      return { result: { ...(RESULTS[code] ?? RESULTS.paid) }, duplicate: true };
    }
    const done = async (code: keyof typeof RESULTS, paymentId?: string) => {
      await q.query(`UPDATE billing_webhook_event SET outcome = $2 WHERE event_id = $1`, [c.eventId, code]);
      return { result: { ...RESULTS[code], paymentId }, duplicate: false };
    };
    const intent = (
      await q.query<{ invoice_id: string; amount: string; status: string; bill_number: string }>(
        `SELECT invoice_id, amount::text AS amount, status, bill_number FROM billing_payment_intent WHERE id = $1 FOR UPDATE`,
        [c.intentId],
      )
    ).rows[0];
    if (!intent) {
      return done('unknown-intent');
    }
    let amount: Decimal;
    try {
      amount = new Decimal(c.amount);
    } catch {
      return done('amount-mismatch');
    }
    if (!amount.equals(intent.amount) || (c.billNumber && c.billNumber !== intent.bill_number)) {
      return done('amount-mismatch');
    }
    const invoice = JSON.parse(
      (await deps.router.store.read('Invoice', intent.invoice_id, q)).content as string,
    ) as Invoice;
    if (intent.status !== 'pending' || invoice.status !== 'issued' || !amount.equals(invoice.totalNet?.value ?? -1)) {
      return done('not-payable');
    }
    const paidAt = c.paidAt && !Number.isNaN(Date.parse(c.paidAt)) ? new Date(c.paidAt) : new Date();
    const { payment } = await recordPayment(
      deps,
      undefined,
      invoice,
      { method: 'vietqr', amount: amount.toFixed(0), transactionId: c.transactionId, paidAt },
      q,
    );
    await q.query(`UPDATE billing_payment_intent SET status = 'paid', paid_at = $2, payment_id = $3 WHERE id = $1`, [
      c.intentId,
      paidAt.toISOString(),
      payment.id,
    ]);
    return done('paid', payment.id);
  });
}

/** Registers the webhook route; the body is read raw so the signature is checked over the exact bytes sent. */
export function registerPaymentWebhook(app: FastifyInstance, deps: BillingDeps, secret: string): void {
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    scope.post(WEBHOOK_PATH, async (req, res) => {
      const raw = typeof req.body === 'string' ? req.body : '';
      res.header('content-type', 'application/fhir+json');
      if (!verifySignature(secret, raw, req.headers[SIGNATURE_HEADER] as string | undefined)) {
        return res
          .code(401)
          .send(reply({ status: 401, code: 'bad-signature', text: 'Chữ ký không hợp lệ / bad signature' }));
      }
      let c: PaymentConfirmation;
      try {
        c = JSON.parse(raw) as PaymentConfirmation;
      } catch {
        return res.code(400).send(reply({ status: 400, code: 'invalid', text: 'Nội dung không phải JSON / not JSON' }));
      }
      if (
        typeof c?.eventId !== 'string' ||
        typeof c.intentId !== 'string' ||
        c.eventId === '' ||
        c.amount === undefined
      ) {
        return res.code(400).send(
          reply({
            status: 400,
            code: 'invalid',
            text: 'Thiếu eventId, intentId hoặc amount / eventId, intentId and amount are required',
          }),
        );
      }
      const { result, duplicate } = await handle(deps, { ...c, amount: String(c.amount) });
      return res.code(result.status).send(reply(result, duplicate));
    });
  });
}

/**
 * The billing capability (M11, first part): charges with the BHYT share, invoices, cash and VietQR payments through a
 * gateway adapter, refunds, and the pay-first rule other departments ask through hold.ts. Called once from buildApp;
 * the gateway's webhook route is added with `webhook(app)`.
 */
import type { FastifyInstance } from 'fastify';
import type { FhirRouter } from '../../fhir/router.ts';
import type { TerminologyService } from '../terminology/service.ts';
import { type BillingDeps, chargesOperation } from './charges.ts';
import { HttpPaymentGateway, type PaymentGateway, PaymentGatewayError } from './gateway.ts';
import { setPayFirst } from './hold.ts';
import { DEMO_BANK_BIN, type PaymentDeps, paymentOperations } from './payments.ts';
import { DEFAULT_BASE_SALARY, type FacilityLevel } from './shares.ts';
import { registerPaymentWebhook } from './webhook.ts';

/** The demo secret shared with the local payment simulator (refused in production by config.ts). */
export const DEMO_PAYMENT_SECRET = 'sen-demo-payment-secret';

export interface BillingOptions {
  /** SEN_PAY_BEFORE_EXECUTION (default true): fee-paying orders wait for payment. */
  payFirst?: boolean;
  /** SEN_PAYMENT_GATEWAY_URL: the payment gateway (demo: the local simulator). */
  gatewayUrl?: string;
  /** SEN_PAYMENT_SECRET: HMAC key shared with the gateway (both directions). */
  secret?: string;
  /** SEN_PAYMENT_BANK_BIN / SEN_PAYMENT_ACCOUNT: the hospital's account the VietQR transfer goes to. */
  bankBin?: string;
  bankAccount?: string;
  /** SEN_BHYT_FACILITY_LEVEL (default provincial) and SEN_BHYT_BASE_SALARY (default 2,340,000). */
  facilityLevel?: FacilityLevel;
  baseSalary?: number;
  /** Another adapter (tests); wins over gatewayUrl. */
  gateway?: PaymentGateway;
}

const NO_GATEWAY: PaymentGateway = {
  createPayment: () => Promise.reject(new PaymentGatewayError('no payment gateway is configured')),
};

export interface BillingCapability {
  deps: PaymentDeps;
  /** Adds POST /api/payments/webhook to the app. */
  webhook(app: FastifyInstance): void;
}

export function registerBilling(
  router: FhirRouter,
  options: BillingOptions & { terminology: TerminologyService; publicUrl: string },
): BillingCapability {
  setPayFirst(router, options.payFirst ?? true);
  const secret = options.secret ?? DEMO_PAYMENT_SECRET;
  const deps: PaymentDeps = {
    router,
    terminology: options.terminology,
    facilityLevel: options.facilityLevel ?? 'provincial',
    baseSalary: options.baseSalary ?? DEFAULT_BASE_SALARY,
    gateway:
      options.gateway ??
      (options.gatewayUrl ? new HttpPaymentGateway({ url: options.gatewayUrl, secret }) : NO_GATEWAY),
    publicUrl: options.publicUrl,
    bankBin: options.bankBin ?? DEMO_BANK_BIN,
    bankAccount: options.bankAccount ?? '0011004266888',
  };
  const billing: BillingDeps = deps;
  router.operations.register(chargesOperation(billing));
  for (const op of paymentOperations(deps)) {
    router.operations.register(op);
  }
  return { deps, webhook: (app) => registerPaymentWebhook(app, billing, secret) };
}

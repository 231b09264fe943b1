import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { type PaymentSimulator, startPaymentSimulator } from '../../server/src/capabilities/billing/simulator.ts';
import { totpCode } from '../../server/src/platform/auth/totp.ts';
import {
  DEFAULT_DEMO_STAFF_PASSWORD,
  DEFAULT_DEMO_TOTP_SECRET,
  demoTotpSecret,
  seedDemoAccounts,
} from '../../server/src/seed/demo-accounts.ts';
import { seedDemo } from '../../server/src/seed/seed.ts';
import { startTestServer, type TestServer } from '../../server/test/harness.ts';
import { SHARED_DIR } from '../../server/test/shared-data.ts';

const ROOT = resolve(new URL('../../..', import.meta.url).pathname);

/** Builds the web app if its build is missing or stale (the same step `npm start` runs). */
export function buildWebApp(): void {
  const res = spawnSync(process.execPath, ['scripts/build-web.mjs'], { cwd: ROOT, stdio: 'inherit' });
  if (res.status !== 0) {
    throw new Error('the web app did not build');
  }
}

/** The demo staff password (`SEN_DEMO_STAFF_PASSWORD` default), as `npm start` seeds it. */
export const DEMO_PASSWORD = DEFAULT_DEMO_STAFF_PASSWORD;

/** The current TOTP code of a demo account, as `npm run demo:totp -- <username>` prints it. */
export function demoTotp(username: string): string {
  return totpCode(demoTotpSecret(DEFAULT_DEMO_TOTP_SECRET, username), new Date());
}

export interface DemoSite {
  srv: TestServer;
  /** The payment gateway simulator the site's VietQR payments go through (pays only when told to). */
  payments: PaymentSimulator;
  close(): Promise<void>;
}

const PAYMENT_SECRET = 'e2e-payment-secret';

/**
 * A real Sen server on 127.0.0.1 (PGlite, sign-in on) with the demo hospital and its demo staff accounts seeded as
 * `npm start` seeds them, and the web app built.
 */
export async function startDemoSite(patients = 20): Promise<DemoSite> {
  buildWebApp();
  const payments = await startPaymentSimulator({ secret: PAYMENT_SECRET });
  const srv = await startTestServer('pglite', {
    config: { billing: { gatewayUrl: payments.url, secret: PAYMENT_SECRET } },
  });
  await seedDemo(srv.router, { sharedDir: SHARED_DIR, patients });
  const security = srv.security;
  if (!security) {
    throw new Error('the test server has no security');
  }
  await seedDemoAccounts(security.accounts, {
    mode: 'demo',
    password: DEFAULT_DEMO_STAFF_PASSWORD,
    totpSecret: DEFAULT_DEMO_TOTP_SECRET,
  });
  return {
    srv,
    payments,
    close: async () => {
      await srv.close();
      await payments.close();
    },
  };
}

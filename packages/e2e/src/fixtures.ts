import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { AppConfig } from '../../server/src/app.ts';
import { type PaymentSimulator, startPaymentSimulator } from '../../server/src/capabilities/billing/simulator.ts';
import { totpCode } from '../../server/src/platform/auth/totp.ts';
import {
  DEFAULT_DEMO_STAFF_PASSWORD,
  DEFAULT_DEMO_TOTP_SECRET,
  demoTotpSecret,
  seedDemoAccounts,
} from '../../server/src/seed/demo-accounts.ts';
import { seedDemo } from '../../server/src/seed/seed.ts';
import { CATALOG_URLS } from '../../server/src/capabilities/terminology/kinds.ts';
import { VISIT_TYPE_SYSTEM } from '../../server/src/capabilities/visits/encounter.ts';
import type { StaffRole } from '../../server/src/platform/auth/index.ts';
import { FACILITY_TAG_SYSTEM } from '../../server/src/platform/gate/gate.ts';
import { HOSPITAL_ID } from '../../server/src/seed/demo-facility.ts';
import { fhirFetch, startTestServer, type TestServer } from '../../server/test/harness.ts';
import { SHARED_DIR } from '../../server/test/shared-data.ts';
import { type StaffLogin, staffLogin } from '../../server/test/staff-login.ts';

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
export async function startDemoSite(
  patients = 20,
  /** More app configuration (e.g. the analyzer's MLLP listener). */
  options: { config?: Partial<Omit<AppConfig, 'publicUrl'>> } = {},
): Promise<DemoSite> {
  buildWebApp();
  const payments = await startPaymentSimulator({ secret: PAYMENT_SECRET });
  const srv = await startTestServer('pglite', {
    config: { billing: { gatewayUrl: payments.url, secret: PAYMENT_SECRET }, ...options.config },
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

/** The demo hospital's facility tag, as its staff's writes carry it. */
export const HOSPITAL_TAG = [{ system: FACILITY_TAG_SYSTEM, code: HOSPITAL_ID }];

function fail(what: string, r: { status: number; body: unknown }): never {
  throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
}

/**
 * A staff member of the demo hospital for the journey's API set-up: their own Practitioner and account, signed in the
 * way the web app signs in (password, TOTP, code + PKCE), so the set-up goes through the access gate too.
 */
export async function apiStaff(
  site: DemoSite,
  input: { username: string; name: string; roles: StaffRole[]; departmentIds?: string[] },
): Promise<StaffLogin> {
  const [family, ...given] = input.name.split(' ');
  const practitioner = await fhirFetch(site.srv.fhir, 'Practitioner', {
    method: 'POST',
    body: { resourceType: 'Practitioner', active: true, name: [{ text: input.name, family, given }] },
  });
  if (practitioner.status !== 201) {
    fail('Practitioner', practitioner);
  }
  return staffLogin(site.srv, {
    username: input.username,
    practitionerId: practitioner.body.id,
    roles: input.roles,
    facilityId: HOSPITAL_ID,
    departmentIds: input.departmentIds,
  });
}

/** A patient of the demo hospital with an outpatient visit in progress (BHYT, fee or emergency; none: untyped). */
export async function openVisit(
  site: DemoSite,
  patient: { name: string; gender: 'male' | 'female'; birthDate: string },
  visitType?: 'bhyt' | 'fee' | 'emergency',
): Promise<{ patientId: string; encounterId: string }> {
  const [family, ...given] = patient.name.split(' ');
  const p = await fhirFetch(site.srv.fhir, 'Patient', {
    method: 'POST',
    body: {
      resourceType: 'Patient',
      meta: { tag: HOSPITAL_TAG },
      name: [{ text: patient.name, family, given }],
      gender: patient.gender,
      birthDate: patient.birthDate,
    },
  });
  if (p.status !== 201) {
    fail('Patient', p);
  }
  const e = await fhirFetch(site.srv.fhir, 'Encounter', {
    method: 'POST',
    body: {
      resourceType: 'Encounter',
      meta: { tag: HOSPITAL_TAG },
      status: 'in-progress',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      ...(visitType ? { type: [{ coding: [{ system: VISIT_TYPE_SYSTEM, code: visitType }] }] } : {}),
      subject: { reference: `Patient/${p.body.id}` },
      period: { start: new Date().toISOString() },
    },
  });
  if (e.status !== 201) {
    fail('Encounter', e);
  }
  return { patientId: p.body.id, encounterId: e.body.id };
}

/** The doctor orders catalog services for the visit (`Encounter/$order`); returns the ServiceRequest ids. */
export async function orderServices(
  site: DemoSite,
  doctor: StaffLogin,
  encounterId: string,
  services: string[],
  priority?: 'routine' | 'urgent' | 'stat',
): Promise<string[]> {
  const r = await fhirFetch(site.srv.fhir, `Encounter/${encounterId}/$order`, {
    method: 'POST',
    headers: { authorization: `Bearer ${doctor.token}` },
    body: {
      resourceType: 'Parameters',
      parameter: [
        ...services.map((code) => ({ name: 'service', valueCoding: { system: CATALOG_URLS.services, code } })),
        ...(priority ? [{ name: 'priority', valueCode: priority }] : []),
      ],
    },
  });
  if (r.status !== 200) {
    fail('$order', r);
  }
  return (r.body.entry as { resource: { id: string } }[]).map((x) => x.resource.id);
}

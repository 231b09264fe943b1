import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { PractitionerRole } from '@medplum/fhirtypes';
import type { StaffRole } from '../../server/src/platform/auth/roles.ts';
import { seedDemo } from '../../server/src/seed/seed.ts';
import { startTestServer, type TestServer } from '../../server/test/harness.ts';
import { SHARED_DIR } from '../../server/test/shared-data.ts';

const ROOT = resolve(new URL('../../..', import.meta.url).pathname);
export const STAFF_ROLE_SYSTEM = 'https://sen.health.vn/fhir/CodeSystem/staff-role';

/** Builds the web app if its build is missing or stale (the same step `npm start` runs). */
export function buildWebApp(): void {
  const res = spawnSync(process.execPath, ['scripts/build-web.mjs'], { cwd: ROOT, stdio: 'inherit' });
  if (res.status !== 0) {
    throw new Error('the web app did not build');
  }
}

export interface DemoSite {
  srv: TestServer;
  /** Creates a sign-in account for the first seeded staff member with this role; returns the username. */
  account(role: StaffRole, password: string): Promise<{ username: string; practitionerId: string }>;
  close(): Promise<void>;
}

/** A real Sen server on 127.0.0.1 (PGlite, sign-in on) with the demo hospital seeded, and the web app built. */
export async function startDemoSite(patients = 20): Promise<DemoSite> {
  buildWebApp();
  const srv = await startTestServer('pglite');
  await seedDemo(srv.router, { sharedDir: SHARED_DIR, patients });
  const security = srv.security;
  if (!security) {
    throw new Error('the test server has no security');
  }
  return {
    srv,
    async account(role, password) {
      const { rows } = await srv.store.db.query<{ content: string }>(
        "SELECT content::text AS content FROM resource WHERE type = 'PractitionerRole' AND NOT deleted",
      );
      const roles = rows.map((r) => JSON.parse(r.content) as PractitionerRole);
      const match = roles.find((r) =>
        r.code?.some((c) => c.coding?.some((x) => x.system === STAFF_ROLE_SYSTEM && x.code === role)),
      );
      const practitionerId = match?.practitioner?.reference?.split('/')[1];
      const dept = match?.organization?.reference?.split('/')[1];
      if (!practitionerId) {
        throw new Error(`no seeded staff member has the role ${role}`);
      }
      const username = `e2e.${role}`;
      await security.accounts.create({
        username,
        practitionerId,
        facilityId: 'benh-vien-sen',
        departmentIds: dept ? [dept] : [],
        roles: [role],
        password,
      });
      return { username, practitionerId };
    },
    close: () => srv.close(),
  };
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Bundle } from '@medplum/fhirtypes';
import { homeOf, SEN_STAFF_ROLE_SYSTEM, staffContext } from './staff.ts';

const bundle = (roles: { code: string; active?: boolean; org: string }[]): Bundle => ({
  resourceType: 'Bundle',
  type: 'searchset',
  entry: [
    ...roles.map((r, i) => ({
      resource: {
        resourceType: 'PractitionerRole' as const,
        id: `r${i}`,
        active: r.active ?? true,
        practitioner: { reference: 'Practitioner/p1' },
        organization: { reference: `Organization/${r.org}` },
        location: [{ reference: `Location/loc-${r.org}` }],
        code: [{ coding: [{ system: SEN_STAFF_ROLE_SYSTEM, code: r.code }] }],
      },
    })),
    {
      resource: { resourceType: 'Practitioner' as const, id: 'p1', name: [{ family: 'Trần', given: ['Thị', 'Mai'] }] },
    },
    { resource: { resourceType: 'Organization' as const, id: 'k02', name: 'Khoa Nội' } },
    { resource: { resourceType: 'Organization' as const, id: 'k06', name: 'Khoa Xét nghiệm' } },
  ],
});

describe('staff context of the web app', () => {
  it('reads roles, departments and the Vietnamese name order from PractitionerRole', () => {
    const ctx = staffContext(bundle([{ code: 'doctor', org: 'k02' }]));
    assert.ok(ctx);
    assert.equal(ctx.name, 'Trần Thị Mai');
    assert.deepEqual(ctx.roles, ['doctor']);
    assert.deepEqual(
      ctx.departments.map((d) => d.name),
      ['Khoa Nội'],
    );
    assert.deepEqual(ctx.departmentLocations, ['Location/loc-k02']);
    assert.equal(homeOf(ctx), '/clinic');
  });

  it('ignores inactive roles and unknown codes, and lands a lab technician on the lab worklist', () => {
    const ctx = staffContext(
      bundle([
        { code: 'doctor', active: false, org: 'k02' },
        { code: 'janitor', org: 'k02' },
        { code: 'lab-technician', org: 'k06' },
      ]),
    );
    assert.deepEqual(ctx?.roles, ['lab-technician']);
    assert.equal(ctx && homeOf(ctx), '/worklist/laboratory');
  });

  it('has no home for an account without a staff role', () => {
    const ctx = staffContext(bundle([]));
    assert.deepEqual(ctx?.roles, []);
    assert.equal(ctx && homeOf(ctx), undefined);
  });
});

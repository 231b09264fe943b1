import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import { getResourceTypes, loadDefinitions } from '@sen/fhir';
import { breakGlass, decide, type Principal } from './gate.ts';
import { type Interaction, RESOURCE_GROUPS, resourceGroup, roleAllows } from './matrix.ts';
import { renderAccessMatrix } from './matrix-doc.ts';
import { STAFF_ROLE_CODES, type StaffRole } from './roles.ts';
import { parseScopes } from './scopes.ts';

loadDefinitions();
const now = new Date('2026-11-23T08:00:00Z');
const staff = (roles: StaffRole[], extra: Partial<Extract<Principal, { kind: 'staff' }>> = {}): Principal => ({
  kind: 'staff',
  accountId: 'acc-1',
  roles,
  facilityId: '79999',
  departmentIds: ['K01'],
  scopes: parseScopes('openid fhirUser user/*.cruds'),
  careTeamPatientIds: new Set(['p-treated']),
  ...extra,
});
const hiv: Resource = {
  resourceType: 'Observation',
  id: 'o1',
  status: 'final',
  code: { text: 'HIV viral load' },
  meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HIV' }] },
} as Resource;

describe('access gate: the permission matrix', () => {
  it('puts every R4 resource type in a group, and no type in two groups', () => {
    const seen = new Map<string, string>();
    for (const [g, types] of Object.entries(RESOURCE_GROUPS)) {
      for (const t of types) {
        assert.ok(!seen.has(t), `${t} is in ${seen.get(t)} and ${g}`);
        seen.set(t, g);
        assert.ok(getResourceTypes().includes(t), `${t} is not an R4 resource type`);
      }
    }
  });

  it('matches the reviewed table in docs/access-matrix.md (every role × type × interaction)', () => {
    const doc = readFileSync(new URL('../../../../../docs/access-matrix.md', import.meta.url), 'utf8');
    assert.equal(renderAccessMatrix(), doc, 'the matrix changed: run `npm run gate:matrix` and review the diff');
    // and the table in the document is what roleAllows decides, cell by cell
    const rows = doc.split('\n').filter((l) => /^\| [A-Z][A-Za-z]+ \| [a-z]+ \|/.test(l));
    assert.equal(rows.length, getResourceTypes().length);
    for (const row of rows) {
      const cells = row
        .split('|')
        .map((c) => c.trim())
        .slice(1, -1);
      const [type, , ...perRole] = cells;
      STAFF_ROLE_CODES.forEach((role, i) => {
        for (const x of ['c', 'r', 'u', 'd', 's'] as Interaction[]) {
          assert.equal(roleAllows(role, type, x), perRole[i].includes(x), `${role} ${x} ${type}`);
        }
      });
    }
  });

  it('keeps the clinical boundaries a hospital expects', () => {
    assert.equal(roleAllows('receptionist', 'Condition', 'c'), false, 'a receptionist cannot write a diagnosis');
    assert.equal(roleAllows('receptionist', 'Patient', 'c'), true);
    assert.equal(roleAllows('doctor', 'Condition', 'c'), true);
    assert.equal(roleAllows('doctor', 'MedicationRequest', 'c'), true);
    assert.equal(roleAllows('nurse', 'MedicationRequest', 'c'), false, 'nurses do not prescribe');
    assert.equal(roleAllows('pharmacist', 'MedicationDispense', 'u'), true);
    assert.equal(roleAllows('pharmacist', 'MedicationDispense', 'c'), true);
    assert.equal(
      roleAllows('pharmacist', 'MedicationRequest', 'c'),
      false,
      'the pharmacist dispenses, never prescribes',
    );
    assert.equal(roleAllows('doctor', 'MedicationDispense', 'c'), false);
    assert.equal(roleAllows('cashier', 'Observation', 'r'), false, 'the cashier sees no results');
    assert.equal(roleAllows('lab-technician', 'DiagnosticReport', 'c'), true);
    assert.equal(roleAllows('facility-admin', 'Observation', 'r'), false, 'administrators do not read clinical data');
    for (const role of STAFF_ROLE_CODES) {
      assert.equal(roleAllows(role, 'AuditEvent', 'c'), false);
      assert.equal(roleAllows(role, 'Patient', 'd'), false, 'no role hard-deletes patients');
    }
    assert.equal(resourceGroup('TestScript'), 'other');
  });
});

describe('access gate: decisions', () => {
  it('refuses a receptionist writing a diagnosis with 403', () => {
    const d = decide(staff(['receptionist']), { action: 'create', resourceType: 'Condition' });
    assert.equal(d.allow, false);
    assert.equal(!d.allow && d.status, 403);
  });

  it('limits staff by the SMART scopes the app was granted', () => {
    const readOnlyApp = staff(['doctor'], { scopes: parseScopes('user/*.rs') });
    assert.equal(decide(readOnlyApp, { action: 'read', resourceType: 'Observation' }).allow, true);
    assert.equal(decide(readOnlyApp, { action: 'create', resourceType: 'Observation' }).allow, false);
    const v1 = staff(['doctor'], { scopes: parseScopes('user/Observation.read') });
    assert.equal(decide(v1, { action: 'search', resourceType: 'Observation' }).allow, true);
    assert.equal(decide(v1, { action: 'read', resourceType: 'Condition' }).allow, false);
  });

  it('limits the SMART patient/ scopes of a clinician to the launch patient compartment', () => {
    const launched = staff(['doctor'], {
      scopes: parseScopes('launch/patient patient/*.rs'),
      launchPatientId: 'p-launch',
    });
    const patient = { resourceType: 'Patient', id: 'p-launch' } as Resource;
    assert.equal(decide(launched, { action: 'read', resourceType: 'Patient', resource: patient, now }).allow, true);
    assert.deepEqual(
      decide(launched, {
        action: 'read',
        resourceType: 'Patient',
        resource: { resourceType: 'Patient', id: 'p-else' } as Resource,
        patientIds: ['p-else'],
        now,
      }),
      { allow: false, status: 404, reason: 'Not found' },
    );
    assert.equal(
      decide(launched, { action: 'read', resourceType: 'Observation', patientIds: ['p-launch'], now }).allow,
      true,
    );
    assert.deepEqual(decide(launched, { action: 'search', resourceType: 'Observation', now }), {
      allow: true,
      filter: { patientIds: ['p-launch'], sensitiveOnlyFor: [] },
      purposeOfUse: 'TREAT',
    });
    // patient/ scopes read only, and the role matrix still applies
    assert.equal(
      decide(launched, { action: 'update', resourceType: 'Observation', patientIds: ['p-launch'], now }).allow,
      false,
    );
    const cashier = staff(['cashier'], { scopes: parseScopes('patient/*.rs'), launchPatientId: 'p-launch' });
    assert.equal(
      decide(cashier, { action: 'read', resourceType: 'Observation', patientIds: ['p-launch'], now }).allow,
      false,
    );
    // without a launch patient, patient/ scopes give a clinician nothing
    const noLaunch = staff(['doctor'], { scopes: parseScopes('patient/*.rs') });
    assert.equal(decide(noLaunch, { action: 'read', resourceType: 'Patient', resource: patient, now }).allow, false);
  });

  it('hides resources of another facility as if they did not exist (404)', () => {
    const other = {
      ...hiv,
      meta: { tag: [{ system: 'https://sen.health.vn/fhir/CodeSystem/facility', code: '01001' }] },
    } as Resource;
    const d = decide(staff(['doctor']), {
      action: 'read',
      resourceType: 'Observation',
      resource: other,
      patientIds: ['p-treated'],
    });
    assert.deepEqual(d, { allow: false, status: 404, reason: 'Not found' });
  });

  it('restricts sensitive records to the treating team, and opens them by break-the-glass for a limited time', () => {
    const doctor = staff(['doctor']);
    const treating = decide(doctor, {
      action: 'read',
      resourceType: 'Observation',
      resource: hiv,
      patientIds: ['p-treated'],
      now,
    });
    assert.equal(treating.allow, true);
    const other = decide(doctor, {
      action: 'read',
      resourceType: 'Observation',
      resource: hiv,
      patientIds: ['p-other'],
      now,
    });
    assert.equal(other.allow, false);
    assert.throws(() => breakGlass('p-other', 'cấp cứu', now), /lý do/);
    const grant = breakGlass('p-other', 'Bệnh nhân hôn mê, cấp cứu', now, 60);
    const withGrant = staff(['doctor'], { breakGlass: [grant] });
    const opened = decide(withGrant, {
      action: 'read',
      resourceType: 'Observation',
      resource: hiv,
      patientIds: ['p-other'],
      now,
    });
    assert.deepEqual(opened, { allow: true, breakGlass: true, purposeOfUse: 'ETREAT' });
    const later = new Date(now.getTime() + 61 * 60_000);
    assert.equal(
      decide(withGrant, {
        action: 'read',
        resourceType: 'Observation',
        resource: hiv,
        patientIds: ['p-other'],
        now: later,
      }).allow,
      false,
    );
    const search = decide(withGrant, { action: 'search', resourceType: 'Observation', now });
    assert.deepEqual(search.allow && search.filter?.sensitiveOnlyFor, ['p-treated', 'p-other']);
  });

  it('lets a patient see only their own compartment and their children’s, hiding the rest with 404', () => {
    const mother: Principal = {
      kind: 'patient',
      accountId: 'a2',
      patientId: 'p-mother',
      guardianOf: ['p-child'],
      scopes: parseScopes('patient/*.rs patient/Appointment.cu'),
    };
    assert.equal(decide(mother, { action: 'read', resourceType: 'Observation', patientIds: ['p-child'] }).allow, true);
    assert.deepEqual(decide(mother, { action: 'read', resourceType: 'Observation', patientIds: ['p-stranger'] }), {
      allow: false,
      status: 404,
      reason: 'Not found',
    });
    const s = decide(mother, { action: 'search', resourceType: 'Observation' });
    assert.deepEqual(s.allow && s.filter?.patientIds, ['p-mother', 'p-child']);
    assert.equal(
      decide(mother, { action: 'create', resourceType: 'Appointment', patientIds: ['p-mother'] }).allow,
      true,
    );
    assert.equal(
      decide(mother, { action: 'create', resourceType: 'Observation', patientIds: ['p-mother'] }).allow,
      false,
    );
    assert.equal(decide(mother, { action: 'read', resourceType: 'Practitioner' }).allow, true);
    assert.equal(
      decide(mother, { action: 'read', resourceType: 'Patient', resource: { resourceType: 'Patient', id: 'p-mother' } })
        .allow,
      true,
    );
  });

  it('gives systems exactly their system/ scopes, and nobody writes the audit trail', () => {
    const gateway: Principal = { kind: 'system', clientId: 'sen-demo', scopes: parseScopes('system/*.rs') };
    assert.equal(decide(gateway, { action: 'search', resourceType: 'Patient' }).allow, true);
    assert.equal(decide(gateway, { action: 'create', resourceType: 'Patient' }).allow, false);
    const all: Principal = { kind: 'system', clientId: 'x', scopes: parseScopes('system/*.cruds') };
    assert.equal(decide(all, { action: 'create', resourceType: 'AuditEvent' }).allow, false);
    assert.equal(decide(staff(['department-head']), { action: 'search', resourceType: 'AuditEvent' }).allow, true);
  });

  it('parses SMART v1 and v2 scopes and ignores malformed ones', () => {
    const s = parseScopes(
      'openid launch/patient patient/*.rs user/Observation.cruds system/Patient.read patient/Foo.xyz user/*.sr',
    );
    assert.deepEqual(
      s.map((x) => `${x.context}/${x.type}.${[...x.interactions].join('')}`),
      ['patient/*.rs', 'user/Observation.cruds', 'system/Patient.rs'],
    );
  });
});

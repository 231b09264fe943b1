import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Consent, Resource } from '@medplum/fhirtypes';
import { OutcomeError } from '@sen/fhir';
import {
  assertConsentEvidence,
  CONSENT_PURPOSE_SYSTEM,
  consentedPatients,
  consentPurposesOf,
  consentRule,
  V3_ACT_REASON,
} from './consent.ts';
import { decide, type Principal } from './gate.ts';
import { parseScopes } from './scopes.ts';

const now = new Date('2026-11-23T08:00:00Z');
const permit = (patient: string, code: string, extra: Partial<Consent> = {}): Consent => ({
  resourceType: 'Consent',
  status: 'active',
  scope: { text: 'treatment' },
  category: [{ coding: [{ system: CONSENT_PURPOSE_SYSTEM, code }] }],
  patient: { reference: `Patient/${patient}` },
  sourceAttachment: { title: 'signed form' },
  provision: { type: 'permit' },
  ...extra,
});
const external = (consented: string[]): Principal => ({
  kind: 'system',
  clientId: 'bv-khac',
  facilityId: '01001',
  scopes: parseScopes('system/*.rs'),
  consentPurpose: 'treatment-sharing',
  consentedPatientIds: new Set(consented),
});
const obs = (patient: string, labels: string[] = []): Resource =>
  ({
    resourceType: 'Observation',
    id: `o-${patient}`,
    status: 'final',
    code: { text: 'x' },
    subject: { reference: `Patient/${patient}` },
    meta: { security: labels.map((code) => ({ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code })) },
  }) as Resource;

describe('consent rules', () => {
  it('reads the purpose from the Sen category or the v3 purpose of use', () => {
    assert.deepEqual(consentPurposesOf(permit('p1', 'research')), ['research']);
    const v3: Consent = {
      ...permit('p1', 'x'),
      category: [],
      provision: { type: 'permit', purpose: [{ system: V3_ACT_REASON, code: 'FAMRQT' }] },
    };
    assert.deepEqual(consentPurposesOf(v3), ['family-sharing']);
    assert.deepEqual(consentPurposesOf({ ...permit('p1', 'unknown') }), []);
  });

  it('counts only an explicit, active permit for that very purpose within its period', () => {
    assert.equal(consentRule(permit('p1', 'treatment-sharing'), 'treatment-sharing', now), 'permit');
    assert.equal(consentRule(permit('p1', 'treatment-sharing'), 'research', now), undefined, 'one purpose only');
    for (const status of ['draft', 'proposed', 'rejected', 'inactive', 'entered-in-error'] as const) {
      assert.equal(consentRule(permit('p1', 'research', { status }), 'research', now), undefined, status);
    }
    assert.equal(
      consentRule(permit('p1', 'research', { provision: undefined }), 'research', now),
      undefined,
      'no provision: no consent',
    );
    const ended = permit('p1', 'research', { provision: { type: 'permit', period: { end: '2026-11-01T00:00:00Z' } } });
    assert.equal(consentRule(ended, 'research', now), undefined, 'a period that ended stops it');
    const future = permit('p1', 'research', {
      provision: { type: 'permit', period: { start: '2026-12-01T00:00:00Z' } },
    });
    assert.equal(consentRule(future, 'research', now), undefined);
  });

  it('lets a deny override a permit, and a deny without purpose deny every purpose', () => {
    const all = [permit('p1', 'research'), permit('p2', 'research'), permit('p3', 'research')];
    const denyResearch = permit('p2', 'research', { provision: { type: 'deny' } });
    const denyAll: Consent = { ...permit('p3', 'x'), category: [], provision: { type: 'deny' } };
    assert.deepEqual([...consentedPatients([...all, denyResearch, denyAll], 'research', now)], ['p1']);
    assert.deepEqual([...consentedPatients([], 'research', now)], [], 'absence is no consent');
  });

  it('refuses an active permit without evidence with 422', () => {
    assert.throws(
      () => assertConsentEvidence({ ...permit('p1', 'research'), sourceAttachment: undefined } as Resource),
      (err: unknown) => err instanceof OutcomeError && err.status === 422 && /sourceAttachment/.test(err.message),
    );
    assertConsentEvidence(permit('p1', 'research'));
    assertConsentEvidence({ ...permit('p1', 'research'), sourceAttachment: undefined, status: 'draft' } as Resource);
  });
});

describe('access gate: consent-bound clients', () => {
  it('gives another facility only the patients who consent, never their sensitive records', () => {
    const d = decide(external(['p1']), {
      action: 'read',
      resourceType: 'Observation',
      resource: obs('p1'),
      patientIds: ['p1'],
      now,
    });
    assert.deepEqual(d, { allow: true, purposeOfUse: 'TREAT' });
    const other = decide(external(['p1']), {
      action: 'read',
      resourceType: 'Observation',
      resource: obs('p2'),
      patientIds: ['p2'],
      now,
    });
    assert.equal(other.allow, false);
    assert.equal(!other.allow && other.status, 403);
    const patient = decide(external(['p1']), {
      action: 'export',
      resourceType: 'Patient',
      resource: { resourceType: 'Patient', id: 'p2' },
      now,
    });
    assert.equal(patient.allow, false, '$everything of a patient without consent');
    const sensitive = decide(external(['p1']), {
      action: 'read',
      resourceType: 'Observation',
      resource: obs('p1', ['HIV']),
      patientIds: ['p1'],
      now,
    });
    assert.equal(sensitive.allow, false);
    const mixed = decide(external(['p1']), {
      action: 'read',
      resourceType: 'Observation',
      resource: obs('p1'),
      patientIds: ['p1', 'p2'],
      now,
    });
    assert.equal(mixed.allow, false, 'every patient the resource is about must consent');
  });

  it('filters their searches to the consenting patients in SQL and leaves the directory open', () => {
    assert.deepEqual(decide(external(['p1', 'p9']), { action: 'search', resourceType: 'Observation', now }), {
      allow: true,
      filter: { patientIds: ['p1', 'p9'], sensitiveOnlyFor: [] },
      purposeOfUse: 'TREAT',
    });
    assert.deepEqual(decide(external([]), { action: 'search', resourceType: 'Organization', now }), {
      allow: true,
      purposeOfUse: 'TREAT',
    });
    const research: Principal = {
      ...(external(['p1']) as Extract<Principal, { kind: 'system' }>),
      consentPurpose: 'research',
    };
    const d = decide(research, {
      action: 'read',
      resourceType: 'Observation',
      resource: obs('p1'),
      patientIds: ['p1'],
      now,
    });
    assert.deepEqual(d, { allow: true, purposeOfUse: 'HRESCH' });
  });

  it('never lets such a client write a Consent (it would open records to itself)', () => {
    const writer: Principal = {
      ...(external(['p1']) as Extract<Principal, { kind: 'system' }>),
      scopes: parseScopes('system/*.cruds'),
    };
    const consentOfP1 = { resourceType: 'Consent', id: 'c1', patient: { reference: 'Patient/p1' } } as Resource;
    for (const action of ['create', 'update', 'delete'] as const) {
      const d = decide(writer, { action, resourceType: 'Consent', resource: consentOfP1, patientIds: ['p1'], now });
      assert.equal(d.allow, false, action);
      assert.match(!d.allow ? d.reason : '', /Consents are recorded by the facility/);
    }
    const obsOfP1 = decide(writer, {
      action: 'create',
      resourceType: 'Observation',
      resource: obs('p1'),
      patientIds: ['p1'],
      now,
    });
    assert.equal(obsOfP1.allow, true, 'other writes about a consenting patient pass');
  });

  it('still applies the client scopes first', () => {
    const narrow: Principal = {
      ...(external(['p1']) as Extract<Principal, { kind: 'system' }>),
      scopes: parseScopes('system/Patient.rs'),
    };
    const d = decide(narrow, {
      action: 'read',
      resourceType: 'Observation',
      resource: obs('p1'),
      patientIds: ['p1'],
      now,
    });
    assert.equal(d.allow, false);
    assert.match(!d.allow ? d.reason : '', /scopes/);
  });
});

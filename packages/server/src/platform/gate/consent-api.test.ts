import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Consent, Resource } from '@medplum/fhirtypes';
import { testEngines } from '@sen/db/testing';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { fhirFetch, startTestServer, type TestServer } from '../../../test/harness.ts';
import { postForm } from '../oauth/test-support.ts';
import { CONSENT_PURPOSE_SYSTEM, type ConsentPurpose } from './consent.ts';

/** A Consent as the reception desk records it: explicit permit, the signed form attached as evidence. */
function consent(patientId: string, purpose: ConsentPurpose, evidence = true): Consent {
  const scope = purpose === 'research' ? 'research' : purpose === 'treatment-sharing' ? 'treatment' : 'patient-privacy';
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: scope }] },
    category: [{ coding: [{ system: CONSENT_PURPOSE_SYSTEM, code: purpose }] }],
    patient: { reference: `Patient/${patientId}` },
    dateTime: new Date().toISOString(),
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    ...(evidence
      ? { sourceAttachment: { contentType: 'application/pdf', title: 'Phiếu đồng ý đã ký', url: 'urn:uuid:form-1' } }
      : {}),
    provision: { type: 'permit', period: { start: new Date(Date.now() - 60_000).toISOString() } },
  };
}

// Consent enforced on another facility's system client and on a research client, through the real HTTP API.
for (const engine of testEngines()) {
  describe(`consent on cross-facility access and exports [${engine}]`, () => {
    let srv: TestServer;
    const id: Record<string, string> = {};
    const tokens: Record<string, string> = {};
    const as = (client: string): Record<string, string> => ({ authorization: `Bearer ${tokens[client]}` });
    const ids = (bundle: any): string[] =>
      (bundle.entry ?? []).map((e: any) => `${e.resource.resourceType}/${e.resource.id}`);

    const backendToken = async (
      clientId: string,
      registration: { facilityId?: string; external?: boolean; purpose?: 'research' },
    ): Promise<string> => {
      const { publicKey, privateKey } = await generateKeyPair('ES256');
      const jwk = { ...(await exportJWK(publicKey)), kid: `${clientId}-1`, alg: 'ES256', use: 'sig' };
      await srv.security!.authServer.registerBackendClient({
        clientId,
        jwks: { keys: [jwk] },
        scope: 'system/*.rs',
        ...registration,
      });
      const assertion = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: `${clientId}-1` })
        .setIssuer(clientId)
        .setSubject(clientId)
        .setAudience(`${srv.url}/oidc/token`)
        .setJti(randomBytes(12).toString('hex'))
        .setIssuedAt()
        .setExpirationTime('4m')
        .sign(privateKey);
      const res = await postForm(`${srv.url}/oidc/token`, {
        grant_type: 'client_credentials',
        scope: 'system/*.rs',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      });
      assert.equal(res.status, 200, res.text);
      return res.json.access_token as string;
    };

    before(async () => {
      srv = await startTestServer(engine);
      const mk = async (key: string, r: Resource): Promise<void> => {
        id[key] = (await srv.store.create(r)).stored.id;
      };
      for (const p of ['a', 'b']) {
        await mk(p, { resourceType: 'Patient', name: [{ family: p === 'a' ? 'Đặng' : 'Vũ' }] } as Resource);
        await mk(`${p}-obs`, {
          resourceType: 'Observation',
          status: 'final',
          code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
          subject: { reference: `Patient/${id[p]}` },
        } as Resource);
      }
      tokens.other = await backendToken('bv-cho-ray', { facilityId: '79001', external: true });
      tokens.research = await backendToken('nghien-cuu', { purpose: 'research' });
    });
    after(async () => {
      await srv.close();
    });

    it('refuses a permit Consent without evidence with 422, and stores one with its signed form', async () => {
      const bare = await fhirFetch(srv.fhir, 'Consent', {
        method: 'POST',
        body: consent(id.a, 'treatment-sharing', false),
      });
      assert.equal(bare.status, 422);
      assert.equal(bare.body.resourceType, 'OperationOutcome');
      assert.match(bare.body.issue[0].diagnostics, /sourceAttachment or sourceReference/);
      const withReference = {
        ...consent(id.a, 'research', false),
        sourceReference: { reference: 'DocumentReference/x' },
      };
      const stored = await fhirFetch(srv.fhir, 'Consent', {
        method: 'POST',
        body: { ...withReference, status: 'draft' },
      });
      assert.equal(stored.status, 201, 'a draft (not yet agreed) needs no evidence');
    });

    it('refuses another facility everything about a patient who has not consented', async () => {
      const read = await fhirFetch(srv.fhir, `Patient/${id.a}`, { headers: as('other') });
      assert.equal(read.status, 403);
      assert.equal(read.body.resourceType, 'OperationOutcome');
      assert.match(read.body.issue[0].diagnostics, /treatment-sharing consent/);
      const obs = await fhirFetch(srv.fhir, `Observation/${id['a-obs']}`, { headers: as('other') });
      assert.equal(obs.status, 403);
      const search = await fhirFetch(srv.fhir, 'Observation?_total=accurate', { headers: as('other') });
      assert.equal(search.status, 200);
      assert.equal(search.body.total, 0, 'the search is filtered in the query: the total says 0');
      const exported = await fhirFetch(srv.fhir, `Patient/${id.a}/$everything`, { headers: as('other') });
      assert.equal(exported.status, 403);
      assert.equal(exported.body.resourceType, 'OperationOutcome');
      const own = await fhirFetch(srv.fhir, `Patient/${id.a}`);
      assert.equal(own.status, 200, "the facility's own system still reads it");
    });

    it('opens the consenting patient (read, search, $everything) and nobody else', async () => {
      const created = await fhirFetch(srv.fhir, 'Consent', {
        method: 'POST',
        body: consent(id.a, 'treatment-sharing'),
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      id.consent = created.body.id;
      const read = await fhirFetch(srv.fhir, `Patient/${id.a}`, { headers: as('other') });
      assert.equal(read.status, 200);
      const other = await fhirFetch(srv.fhir, `Patient/${id.b}`, { headers: as('other') });
      assert.equal(other.status, 403);
      const search = await fhirFetch(srv.fhir, 'Observation?_total=accurate', { headers: as('other') });
      assert.deepEqual(ids(search.body), [`Observation/${id['a-obs']}`]);
      assert.equal(search.body.total, 1);
      const patients = await fhirFetch(srv.fhir, 'Patient', { headers: as('other') });
      assert.deepEqual(ids(patients.body), [`Patient/${id.a}`]);
      const exported = await fhirFetch(srv.fhir, `Patient/${id.a}/$everything`, { headers: as('other') });
      assert.equal(exported.status, 200);
      assert.ok(ids(exported.body).includes(`Observation/${id['a-obs']}`));
      assert.ok(!ids(exported.body).includes(`Observation/${id['b-obs']}`));
      const audit = await srv.security!.audit.search({ patient: id.a, action: 'export', count: 10 });
      const row = audit.rows.find((r) => r.client === 'bv-cho-ray' && r.outcome === 'success');
      assert.ok(row, 'the export is audited with the client');
      assert.equal(row.purpose, 'TREAT');
    });

    it('does not let a treatment-sharing consent serve research; a research client sees research consents only', async () => {
      const before = await fhirFetch(srv.fhir, 'Patient', { headers: as('research') });
      assert.equal(before.status, 200);
      assert.deepEqual(ids(before.body), []);
      const refused = await fhirFetch(srv.fhir, `Patient/${id.a}`, { headers: as('research') });
      assert.equal(refused.status, 403);
      assert.match(refused.body.issue[0].diagnostics, /research consent/);
      const created = await fhirFetch(srv.fhir, 'Consent', { method: 'POST', body: consent(id.b, 'research') });
      assert.equal(created.status, 201);
      const after = await fhirFetch(srv.fhir, 'Observation', { headers: as('research') });
      assert.deepEqual(ids(after.body), [`Observation/${id['b-obs']}`]);
      const audit = await srv.security!.audit.search({ who: 'Device/nghien-cuu', count: 10 });
      assert.ok(audit.rows.some((r) => r.purpose === 'HRESCH'));
    });

    it('stops at once when the consent is withdrawn', async () => {
      const current = await fhirFetch(srv.fhir, `Consent/${id.consent}`);
      const withdrawn = await fhirFetch(srv.fhir, `Consent/${id.consent}`, {
        method: 'PUT',
        body: { ...current.body, status: 'inactive' },
      });
      assert.equal(withdrawn.status, 200);
      const read = await fhirFetch(srv.fhir, `Patient/${id.a}`, { headers: as('other') });
      assert.equal(read.status, 403);
      assert.equal(read.body.resourceType, 'OperationOutcome');
      const exported = await fhirFetch(srv.fhir, `Patient/${id.a}/$everything`, { headers: as('other') });
      assert.equal(exported.status, 403);
      const search = await fhirFetch(srv.fhir, 'Observation', { headers: as('other') });
      assert.deepEqual(ids(search.body), []);
    });

    it('lets a deny Consent override a permit', async () => {
      const permit = await fhirFetch(srv.fhir, 'Consent', { method: 'POST', body: consent(id.b, 'treatment-sharing') });
      assert.equal(permit.status, 201);
      assert.equal((await fhirFetch(srv.fhir, `Patient/${id.b}`, { headers: as('other') })).status, 200);
      const deny = consent(id.b, 'treatment-sharing');
      deny.provision = { type: 'deny' };
      const denied = await fhirFetch(srv.fhir, 'Consent', { method: 'POST', body: deny });
      assert.equal(denied.status, 201);
      const read = await fhirFetch(srv.fhir, `Patient/${id.b}`, { headers: as('other') });
      assert.equal(read.status, 403);
    });
  });
}

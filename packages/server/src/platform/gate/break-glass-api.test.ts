import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import { testEngines } from '@sen/db/testing';
import { type FhirResult, fhirFetch, startTestServer, type TestServer } from '../../../test/harness.ts';
import { type StaffLogin, staffLogin } from '../../../test/staff-login.ts';

const HIV = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HIV' };

// Break-the-glass through the real HTTP API with real staff sign-in (password + TOTP, code flow), on both engines.
for (const engine of testEngines()) {
  describe(`break-the-glass, end to end [${engine}]`, () => {
    let srv: TestServer;
    let doctor: StaffLogin;
    let head: StaffLogin;
    let grantId: string;
    const id: Record<string, string> = {};
    const as = (who: StaffLogin): Record<string, string> => ({ authorization: `Bearer ${who.token}` });
    const api = async (
      who: StaffLogin,
      path: string,
      init: { method?: string; body?: unknown } = {},
    ): Promise<{ status: number; body: any }> => {
      const res = await fetch(`${srv.url}${path}`, {
        method: init.method ?? 'GET',
        headers: { ...as(who), ...(init.body ? { 'content-type': 'application/json' } : {}) },
        body: init.body ? JSON.stringify(init.body) : undefined,
      });
      return { status: res.status, body: await res.json() };
    };
    const breakGlass = (who: StaffLogin, parameter: unknown[]): Promise<FhirResult> =>
      fhirFetch(srv.fhir, `Patient/${id.patient}/$break-glass`, {
        method: 'POST',
        headers: as(who),
        body: { resourceType: 'Parameters', parameter },
      });

    before(async () => {
      srv = await startTestServer(engine);
      const mk = async (key: string, r: Resource): Promise<void> => {
        id[key] = (await srv.store.create(r)).stored.id;
      };
      await mk('doctor', { resourceType: 'Practitioner', name: [{ family: 'Trần', given: ['Minh'] }] } as Resource);
      await mk('head', { resourceType: 'Practitioner', name: [{ family: 'Lê', given: ['Hà'] }] } as Resource);
      await mk('patient', { resourceType: 'Patient', name: [{ family: 'Phạm', given: ['Thu'] }] } as Resource);
      await mk('hiv', {
        resourceType: 'Observation',
        status: 'final',
        meta: { security: [HIV] },
        code: { text: 'HIV RNA' },
        subject: { reference: `Patient/${id.patient}` },
      } as Resource);
      doctor = await staffLogin(srv, {
        username: 'bs.minh',
        practitionerId: id.doctor,
        roles: ['doctor'],
        facilityId: 'F1',
        departmentIds: ['K-CC'],
      });
      head = await staffLogin(srv, {
        username: 'tk.ha',
        practitionerId: id.head,
        roles: ['department-head'],
        facilityId: 'F1',
        departmentIds: ['K-CC'],
      });
    });
    after(async () => {
      await srv.close();
    });

    it('refuses the restricted record to a doctor outside the care team, pointing to break-the-glass', async () => {
      const res = await fhirFetch(srv.fhir, `Observation/${id.hiv}`, { headers: as(doctor) });
      assert.equal(res.status, 403);
      assert.equal(res.body.resourceType, 'OperationOutcome');
      assert.match(res.body.issue[0].diagnostics, /break-the-glass/);
    });

    it('refuses a reason shorter than 10 characters with 400 and says why in Vietnamese and English', async () => {
      const res = await breakGlass(doctor, [{ name: 'reason', valueString: 'cấp cứu' }]);
      assert.equal(res.status, 400);
      assert.equal(res.body.resourceType, 'OperationOutcome');
      assert.match(res.body.issue[0].diagnostics, /lý do.*10 ký tự.*10\+ characters/);
      const stillClosed = await fhirFetch(srv.fhir, `Observation/${id.hiv}`, { headers: as(doctor) });
      assert.equal(stillClosed.status, 403);
    });

    it('grants time-limited access with a reason: the record opens, the grant and the access are audited', async () => {
      const res = await breakGlass(doctor, [
        { name: 'reason', valueString: 'Cấp cứu: bệnh nhân bất tỉnh, cần xem kết quả' },
        { name: 'minutes', valueInteger: 100_000 },
      ]);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const param = (n: string): any => res.body.parameter.find((p: any) => p.name === n);
      grantId = param('grant').valueString;
      const expires = Date.parse(param('expires').valueInstant);
      assert.ok(expires > Date.now() && expires <= Date.now() + 720 * 60_000 + 1000, 'the duration is capped');
      const read = await fhirFetch(srv.fhir, `Observation/${id.hiv}`, { headers: as(doctor) });
      assert.equal(read.status, 200);
      assert.equal(read.body.id, id.hiv);
      const page = await srv.security!.audit.search({ patient: id.patient, count: 100 });
      const grantRow = page.rows.find((r) => r.action === 'break-glass');
      assert.ok(grantRow, 'the grant is in the audit trail');
      assert.equal(grantRow.who, `Practitioner/${id.doctor}`);
      assert.equal(grantRow.breakGlassReason, 'Cấp cứu: bệnh nhân bất tỉnh, cần xem kết quả');
      assert.equal(grantRow.purpose, 'ETREAT');
      const readRow = page.rows.find((r) => r.action === 'read' && r.outcome === 'success');
      assert.ok(readRow, 'the access under the grant is audited');
      assert.equal(readRow.detail?.breakGlass, true);
      assert.equal(readRow.purpose, 'ETREAT');
      const denied = page.rows.filter((r) => r.action === 'read' && r.outcome === 'denied');
      assert.equal(denied.length, 2, 'the earlier refusals are there too');
      assert.ok(denied.every((r) => r.detail?.breakGlass === undefined));
    });

    it('lists the grant for the department head with the accesses made under it', async () => {
      const res = await api(head, '/api/break-glass?status=unreviewed');
      assert.equal(res.status, 200);
      const g = res.body.grants.find((x: any) => x.id === grantId);
      assert.ok(g, 'the grant is listed');
      assert.equal(g.practitioner, `Practitioner/${id.doctor}`);
      assert.equal(g.patient, `Patient/${id.patient}`);
      assert.equal(g.reason, 'Cấp cứu: bệnh nhân bất tỉnh, cần xem kết quả');
      assert.equal(g.accessCount, 1);
      assert.equal(g.active, true);
      assert.equal(g.reviewedAt, undefined);
    });

    it('lets no doctor see or review the list (403 OperationOutcome)', async () => {
      const list = await api(doctor, '/api/break-glass');
      assert.equal(list.status, 403);
      assert.equal(list.body.resourceType, 'OperationOutcome');
      assert.match(list.body.issue[0].diagnostics, /department head/);
      const review = await api(doctor, `/api/break-glass/${grantId}/review`, {
        method: 'POST',
        body: { note: 'Tự duyệt' },
      });
      assert.equal(review.status, 403);
      assert.equal(review.body.resourceType, 'OperationOutcome');
      const anonymous = await fetch(`${srv.url}/api/break-glass`);
      assert.equal(anonymous.status, 401);
      assert.equal(((await anonymous.json()) as { resourceType: string }).resourceType, 'OperationOutcome');
    });

    it('lets the department head mark it reviewed, once, with a note (audited)', async () => {
      const empty = await api(head, `/api/break-glass/${grantId}/review`, { method: 'POST', body: { note: ' ' } });
      assert.equal(empty.status, 400);
      assert.equal(empty.body.resourceType, 'OperationOutcome');
      const res = await api(head, `/api/break-glass/${grantId}/review`, {
        method: 'POST',
        body: { note: 'Đã xác minh: ca cấp cứu thật' },
      });
      assert.equal(res.status, 200);
      assert.equal(res.body.reviewedBy, head.accountId);
      assert.equal(res.body.reviewNote, 'Đã xác minh: ca cấp cứu thật');
      const again = await api(head, `/api/break-glass/${grantId}/review`, { method: 'POST', body: { note: 'lần 2' } });
      assert.equal(again.status, 409);
      assert.equal(again.body.resourceType, 'OperationOutcome');
      const unreviewed = await api(head, '/api/break-glass?status=unreviewed');
      assert.ok(!unreviewed.body.grants.some((x: any) => x.id === grantId));
      const reviewed = await api(head, '/api/break-glass?status=reviewed');
      assert.ok(reviewed.body.grants.some((x: any) => x.id === grantId));
      const audit = await srv.security!.audit.search({ action: 'break-glass-review', count: 10 });
      assert.ok(audit.rows.some((r) => r.resourceId === grantId && r.outcome === 'success'));
      assert.ok(audit.rows.some((r) => r.who === `Practitioner/${id.doctor}` && r.outcome === 'denied'));
    });

    it('closes the record again once the grant has expired', async () => {
      await srv.store.db.query(
        `UPDATE break_glass_grant SET granted_at = $2::timestamptz, expires_at = $3::timestamptz WHERE id = $1`,
        [grantId, new Date(Date.now() - 2 * 3600_000).toISOString(), new Date(Date.now() - 1000).toISOString()],
      );
      srv.security!.breakGlass.forget(doctor.accountId);
      const res = await fhirFetch(srv.fhir, `Observation/${id.hiv}`, { headers: as(doctor) });
      assert.equal(res.status, 403);
      assert.equal(res.body.resourceType, 'OperationOutcome');
      const search = await fhirFetch(srv.fhir, `Observation?subject=Patient/${id.patient}`, { headers: as(doctor) });
      assert.equal(search.status, 200);
      assert.equal((search.body.entry ?? []).length, 0, 'searches hide it again too');
    });
  });
}

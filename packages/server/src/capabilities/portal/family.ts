/**
 * Family access (M12): a patient lets a family member follow their record, and takes it back.
 *
 * A grant is two resources written together: a RelatedPerson on the granting patient naming the family member's
 * personal ID number (VN Core CCCD identifier), their family role (v3 RoleCode, never a guardian code) and the
 * access-grant coding that GuardianLinks reads (platform/gate/guardians.ts), and a Consent with the purpose
 * `family-sharing` (permit, the portal statement as its evidence, the RelatedPerson as its actor) — the
 * verifiable record Law 91/2025 asks for. When the family member signs in with that number, the gate lets them
 * read the patient's compartment as it lets a guardian.
 *
 * Revoking ends both (RelatedPerson `active: false` with `period.end`, Consent `inactive`) and drops the guardian
 * cache at once, so the very next request of the family member is refused (other servers of the same database
 * drop theirs within GuardianLinks' change-feed poll).
 */
import type { Consent, Patient, RelatedPerson } from '@medplum/fhirtypes';
import type { Queryable } from '@sen/db';
import { OutcomeError, outcome, outcomes, parseSearchRequest } from '@sen/fhir';
import { type FhirStore, searchRows } from '@sen/store';
import { VN_CORE_SID, validateCccd } from '@sen/vn';
import type { AccessContext } from '../../fhir/types.ts';
import { CONSENT_PURPOSE_SYSTEM, V3_ACT_REASON } from '../../platform/gate/consent.ts';
import { principalOf } from '../../platform/gate/context.ts';
import { ACCESS_GRANT_SYSTEM, V3_ROLE_CODE } from '../../platform/gate/guardians.ts';

/** Family roles a patient may grant access to (v3 RoleCode; guardianship is recorded by the facility), Vietnamese first. */
export const FAMILY_ROLES: Record<string, { vi: string; en: string }> = {
  SPS: { vi: 'Vợ/chồng', en: 'Spouse' },
  CHILD: { vi: 'Con', en: 'Child' },
  SON: { vi: 'Con trai', en: 'Son' },
  DAU: { vi: 'Con gái', en: 'Daughter' },
  SIB: { vi: 'Anh/chị/em', en: 'Sibling' },
  GRNDCHILD: { vi: 'Cháu', en: 'Grandchild' },
  GRPRN: { vi: 'Ông/bà', en: 'Grandparent' },
  FAMMEMB: { vi: 'Người thân', en: 'Family member' },
};

export interface Grant {
  relatedPerson: RelatedPerson;
  consent?: Consent;
}

function forbidden(vi: string, en: string): OutcomeError {
  return new OutcomeError(403, outcome('error', 'forbidden', `${vi} / ${en}`));
}

export function isGrant(rp: RelatedPerson): boolean {
  return (rp.relationship ?? []).some((r) => (r.coding ?? []).some((c) => c.system === ACCESS_GRANT_SYSTEM));
}

export class FamilyAccess {
  readonly store: FhirStore;
  /** Drops the guardian links' cache (security.patients.guardians.invalidate), so a revoke counts at once. */
  private readonly changed: () => void;
  private readonly now: () => Date;

  constructor(store: FhirStore, changed: () => void, now: () => Date = () => new Date()) {
    this.store = store;
    this.changed = changed;
    this.now = now;
  }

  /** Only the patient themselves decides who sees their record (not a guardian, not someone granted access). */
  private assertSelf(access: AccessContext | undefined, patientId: string): void {
    const p = principalOf(access);
    if (access && (p?.kind !== 'patient' || p.patientId !== patientId)) {
      throw forbidden(
        'Chỉ chính người bệnh mới cấp hoặc thu hồi quyền xem hồ sơ của mình',
        'Only the patient can grant or revoke access to their own record',
      );
    }
  }

  async grant(
    input: { patientId: string; nationalId: string; name: string; relationship: string; days?: number },
    access: AccessContext | undefined,
    q: Queryable,
  ): Promise<Grant> {
    this.assertSelf(access, input.patientId);
    const cccd = validateCccd(input.nationalId, { asOf: this.now() });
    if (!cccd.ok) {
      throw outcomes.badRequest(`Số định danh cá nhân không hợp lệ / ${cccd.message}`, ['nationalId']);
    }
    const role = FAMILY_ROLES[input.relationship];
    if (!role) {
      throw outcomes.badRequest(
        `Quan hệ không hợp lệ; chọn một trong ${Object.keys(FAMILY_ROLES).join(', ')} / Unknown relationship '${input.relationship}'`,
        ['relationship'],
      );
    }
    const patient = JSON.parse((await this.store.read('Patient', input.patientId, q)).content as string) as Patient;
    const own = (patient.identifier ?? []).find((i) => i.system === VN_CORE_SID.cccd)?.value;
    if (own === cccd.value) {
      throw outcomes.badRequest('Không thể cấp quyền cho chính mình / You cannot grant access to yourself', [
        'nationalId',
      ]);
    }
    const existing = (await this.grantsOf(input.patientId, q)).filter(
      (g) =>
        g.relatedPerson.active !== false &&
        g.relatedPerson.identifier?.some((i) => i.system === VN_CORE_SID.cccd && i.value === cccd.value),
    );
    if (existing.length > 0) {
      throw new OutcomeError(
        409,
        outcome('error', 'conflict', 'Người này đã được cấp quyền / This person already has access'),
      );
    }
    const now = this.now();
    const end = input.days ? new Date(now.getTime() + input.days * 86_400_000).toISOString() : undefined;
    const period = { start: now.toISOString(), ...(end ? { end } : {}) };
    const rp: RelatedPerson = {
      resourceType: 'RelatedPerson',
      active: true,
      patient: { reference: `Patient/${input.patientId}` },
      identifier: [{ system: VN_CORE_SID.cccd, value: cccd.value }],
      name: [{ text: input.name.trim() }],
      relationship: [
        { coding: [{ system: V3_ROLE_CODE, code: input.relationship, display: role.vi }], text: role.vi },
        {
          coding: [{ system: ACCESS_GRANT_SYSTEM, code: 'granted', display: 'Được người bệnh cho xem hồ sơ' }],
          text: 'Được người bệnh cho xem hồ sơ / Granted access by the patient',
        },
      ],
      period,
    };
    const statement =
      `Tôi, người bệnh (Patient/${input.patientId}), đồng ý cho ${input.name.trim()} (${role.vi}, số định danh ${cccd.value}) ` +
      `xem sổ sức khỏe điện tử của tôi${end ? ` đến ${end.slice(0, 10)}` : ''}. Dữ liệu sức khỏe là dữ liệu cá nhân nhạy cảm; ` +
      'tôi có thể rút lại bất cứ lúc nào. / I allow this family member to read my e-health book; health data are ' +
      'sensitive personal data; I can withdraw at any time.';
    const consentOf = (rpId: string): Consent => ({
      resourceType: 'Consent',
      status: 'active',
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      category: [{ coding: [{ system: CONSENT_PURPOSE_SYSTEM, code: 'family-sharing' }] }],
      patient: { reference: `Patient/${input.patientId}` },
      dateTime: now.toISOString(),
      policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
      performer: [{ reference: `Patient/${input.patientId}` }],
      sourceAttachment: {
        contentType: 'text/plain; charset=utf-8',
        title: 'Đồng ý chia sẻ với người thân (cổng người bệnh) / Family sharing consent (portal)',
        data: Buffer.from(statement, 'utf8').toString('base64'),
        creation: now.toISOString(),
      },
      provision: {
        type: 'permit',
        period,
        purpose: [{ system: V3_ACT_REASON, code: 'FAMRQT' }],
        actor: [
          {
            role: {
              coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }],
            },
            reference: { reference: `RelatedPerson/${rpId}` },
          },
        ],
      },
    });
    access?.check('create', 'Consent', consentOf('pending'), [input.patientId]);
    const storedRp = (await this.store.create(rp, q)).resource as RelatedPerson;
    const consent = consentOf(storedRp.id as string);
    const storedConsent = (await this.store.create(consent, q)).resource as Consent;
    this.changed();
    return { relatedPerson: storedRp, consent: storedConsent };
  }

  /** Ends a grant now; the family member's next request no longer sees the record. */
  async revoke(
    input: { patientId: string; relatedPersonId: string },
    access: AccessContext | undefined,
    q: Queryable,
  ): Promise<Grant> {
    this.assertSelf(access, input.patientId);
    const grant = (await this.grantsOf(input.patientId, q)).find((g) => g.relatedPerson.id === input.relatedPersonId);
    if (!grant) {
      throw new OutcomeError(404, outcome('error', 'not-found', 'Không tìm thấy quyền đã cấp / No such grant'));
    }
    if (grant.relatedPerson.active === false) {
      throw new OutcomeError(409, outcome('error', 'conflict', 'Quyền này đã được thu hồi / Already revoked'));
    }
    const at = this.now().toISOString();
    if (grant.consent) {
      access?.check('update', 'Consent', grant.consent, [input.patientId]);
    }
    const ended = { ...grant.relatedPerson, active: false, period: { ...grant.relatedPerson.period, end: at } };
    const rp = (await this.store.update(ended, {}, q)).resource as RelatedPerson;
    const consent = grant.consent
      ? ((await this.store.update({ ...grant.consent, status: 'inactive' }, {}, q)).resource as Consent)
      : undefined;
    this.changed();
    return { relatedPerson: rp, consent };
  }

  /** The grants a patient has made (active and ended), each with its Consent. */
  async grantsOf(patientId: string, q: Queryable): Promise<Grant[]> {
    const rps = await searchRows(
      this.store,
      parseSearchRequest('RelatedPerson', [
        ['patient', `Patient/${patientId}`],
        ['_count', '200'],
      ]),
      q,
    );
    const grants = rps.rows.map((r) => JSON.parse(r.content as string) as RelatedPerson).filter(isGrant);
    const out: Grant[] = [];
    for (const rp of grants) {
      const c = await searchRows(
        this.store,
        parseSearchRequest('Consent', [
          ['actor', `RelatedPerson/${rp.id}`],
          ['_count', '10'],
        ]),
        q,
      );
      out.push({ relatedPerson: rp, consent: c.rows.map((r) => JSON.parse(r.content as string) as Consent)[0] });
    }
    return out.sort((a, b) => (b.relatedPerson.period?.start ?? '').localeCompare(a.relatedPerson.period?.start ?? ''));
  }
}

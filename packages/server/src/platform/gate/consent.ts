import type { Coding, Consent, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '@sen/db';
import { outcome, OutcomeError } from '@sen/fhir';

/**
 * Sen's consent purposes (CodeSystem on Sen's base). A Consent counts for a purpose when its `category` carries the
 * Sen code, or its `provision.purpose` the matching v3 ActReason code.
 */
export const CONSENT_PURPOSE_SYSTEM = 'https://sen.health.vn/fhir/CodeSystem/consent-purpose';
export const V3_ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';

export const CONSENT_PURPOSES = ['treatment-sharing', 'research', 'family-sharing'] as const;
export type ConsentPurpose = (typeof CONSENT_PURPOSES)[number];

/** Each purpose, its v3 ActReason (PurposeOfUse) equivalent and its name, Vietnamese first. */
export const CONSENT_PURPOSE_INFO: Record<ConsentPurpose, { v3: string; vi: string; en: string }> = {
  'treatment-sharing': {
    v3: 'TREAT',
    vi: 'Chia sẻ hồ sơ với cơ sở khám chữa bệnh khác để điều trị',
    en: 'Sharing the record with other facilities for treatment',
  },
  research: { v3: 'HRESCH', vi: 'Sử dụng dữ liệu cho nghiên cứu', en: 'Use of the data for research' },
  'family-sharing': {
    v3: 'FAMRQT',
    vi: 'Chia sẻ sổ sức khoẻ điện tử với người thân',
    en: 'Sharing the e-health book with family',
  },
};

function isPurpose(code: string | undefined): code is ConsentPurpose {
  return (CONSENT_PURPOSES as readonly (string | undefined)[]).includes(code);
}

/** The Sen purposes a Consent speaks of (none: it names no purpose Sen knows). */
export function consentPurposesOf(consent: Consent): ConsentPurpose[] {
  const found = new Set<ConsentPurpose>();
  const codings: Coding[] = [
    ...(consent.category ?? []).flatMap((c) => c.coding ?? []),
    ...(consent.provision?.purpose ?? []),
  ];
  for (const c of codings) {
    if (c.system === CONSENT_PURPOSE_SYSTEM && isPurpose(c.code)) {
      found.add(c.code);
    }
    if (c.system === V3_ACT_REASON) {
      for (const p of CONSENT_PURPOSES) {
        if (CONSENT_PURPOSE_INFO[p].v3 === c.code) {
          found.add(p);
        }
      }
    }
  }
  return [...found];
}

/** The patient a Consent is about (the id of `patient`, a local Patient reference). */
export function consentPatient(consent: Consent): string | undefined {
  const m = /^(?:.*\/)?Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/.*)?$/.exec(consent.patient?.reference ?? '');
  return m?.[1];
}

/**
 * What one Consent says about a purpose at a time: 'permit', 'deny', or nothing (not active, outside its period,
 * about another purpose, or no explicit provision). A deny that names no purpose denies every purpose; a permit must
 * name the purpose (never implied).
 */
export function consentRule(consent: Consent, purpose: ConsentPurpose, now: Date): 'permit' | 'deny' | undefined {
  if (consent.status !== 'active') {
    return undefined; // draft, proposed, rejected, inactive, entered-in-error: no consent (withdrawn)
  }
  const type = consent.provision?.type;
  if (type !== 'permit' && type !== 'deny') {
    return undefined;
  }
  const period = consent.provision?.period;
  if (period?.start && Date.parse(period.start) > now.getTime()) {
    return undefined;
  }
  if (period?.end && Date.parse(period.end) <= now.getTime()) {
    return undefined;
  }
  const purposes = consentPurposesOf(consent);
  if (type === 'deny') {
    return purposes.length === 0 || purposes.includes(purpose) ? 'deny' : undefined;
  }
  return purposes.includes(purpose) ? 'permit' : undefined;
}

/** The patients with an active permit for the purpose and no active deny (deny overrides). */
export function consentedPatients(consents: readonly Consent[], purpose: ConsentPurpose, now: Date): Set<string> {
  const permitted = new Set<string>();
  const denied = new Set<string>();
  for (const c of consents) {
    const patient = consentPatient(c);
    const rule = patient ? consentRule(c, purpose, now) : undefined;
    if (patient && rule === 'permit') {
      permitted.add(patient);
    } else if (patient && rule === 'deny') {
      denied.add(patient);
    }
  }
  for (const id of denied) {
    permitted.delete(id);
  }
  return permitted;
}

/**
 * Loads the patients who consent to a purpose now, from the stored Consent resources (only `active` ones are read:
 * a withdrawn consent stops counting on the very next request).
 */
export async function loadConsentedPatients(q: Queryable, purpose: ConsentPurpose, now: Date): Promise<Set<string>> {
  const { rows } = await q.query<{ content: string }>(
    `SELECT r.content FROM resource r
      WHERE r.type = 'Consent' AND NOT r.deleted
        AND r.rid IN (SELECT t.rid FROM idx_token t WHERE t.code = 'status' AND t.value = 'active')`,
    [],
  );
  return consentedPatients(
    rows.map((r) => JSON.parse(r.content) as Consent),
    purpose,
    now,
  );
}

/**
 * Consents are never pre-ticked: an active permit must carry its evidence (the signed form as sourceAttachment, or
 * sourceReference to the document or QuestionnaireResponse). Throws a 422 OutcomeError otherwise.
 */
export function assertConsentEvidence(resource: Resource): void {
  if (resource.resourceType !== 'Consent') {
    return;
  }
  const c = resource as Consent;
  if (c.status === 'active' && c.provision?.type === 'permit' && !c.sourceAttachment && !c.sourceReference) {
    throw new OutcomeError(
      422,
      outcome(
        'error',
        'required',
        'Đồng ý phải có bằng chứng (sourceAttachment hoặc sourceReference). / A permit Consent needs its evidence: sourceAttachment or sourceReference.',
      ),
    );
  }
}

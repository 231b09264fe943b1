import type { Bundle } from '@medplum/fhirtypes';
import { outcomes } from '@sen/fhir';
import { type AuditLog, type AuditSearch, toFhirAuditEvent } from '@sen/store';
import type { Principal } from '../platform/gate/gate.ts';
import type { AccessContext } from './types.ts';

/**
 * `GET AuditEvent?…` answered from the tamper-evident audit trail (not the resource store): administrators
 * and department heads search it; a patient asks "who looked at my record" and sees only their own.
 * Parameters: patient, agent (who), subtype/action, outcome, date (ge/gt/le/lt), _count, _cursor.
 */
export async function searchAuditEvents(
  audit: AuditLog,
  principal: Principal,
  access: AccessContext,
  query: [string, string][],
  selfUrl: string,
): Promise<Bundle> {
  access.check('search', 'AuditEvent');
  const params: AuditSearch = {};
  for (const [k, v] of query) {
    switch (k) {
      case 'patient':
        params.patient = v.replace(/^Patient\//, '');
        break;
      case 'agent':
      case 'who':
        params.who = v;
        break;
      case 'subtype':
      case 'action':
        params.action = v as AuditSearch['action'];
        break;
      case 'outcome':
        params.outcome = v as AuditSearch['outcome'];
        break;
      case 'date': {
        const m = /^(ge|gt|le|lt)?(.+)$/.exec(v);
        const when = m?.[2] ?? v;
        if (Number.isNaN(Date.parse(when))) {
          throw outcomes.badRequest(`Invalid date '${v}'`, ['date']);
        }
        if (m?.[1] === 'le' || m?.[1] === 'lt') {
          params.until = new Date(when).toISOString();
        } else {
          params.since = new Date(when).toISOString();
        }
        break;
      }
      case '_count':
        params.count = Number(v);
        break;
      case '_cursor':
        params.cursor = v;
        break;
      case '_format':
      case '_pretty':
        break;
      default:
        throw outcomes.badRequest(`Unsupported AuditEvent search parameter '${k}'`, [k]);
    }
  }
  if (principal.kind === 'patient') {
    // only the patient's own record, or that of someone they are guardian of
    const own = [principal.patientId, ...principal.guardianOf];
    if (!params.patient) {
      params.patient = principal.patientId;
    }
    if (!own.includes(params.patient)) {
      throw outcomes.forbidden('You can see who looked at your own record only');
    }
  }
  const page = await audit.search(params);
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    link: [{ relation: 'self', url: selfUrl }],
    entry: page.rows.map((row) => ({ resource: toFhirAuditEvent(row), search: { mode: 'match' } })),
  };
  if (page.next) {
    const keep = query.filter(([k]) => k !== '_cursor');
    const base = selfUrl.split('?')[0];
    bundle.link?.push({ relation: 'next', url: `${base}?${new URLSearchParams([...keep, ['_cursor', page.next]])}` });
  }
  return bundle;
}

/**
 * Orders (M4): what can be ordered (the services catalog through the terminology service, prices and BHYT from the
 * concept properties, the executing department and the order sets from data/), and Encounter/$order, which writes
 * one ServiceRequest per service to the department that performs it.
 */
import type { CodeSystemConcept, Coding, Organization, ParametersParameter, ServiceRequest } from '@medplum/fhirtypes';
import type { Queryable } from '@sen/db';
import { outcomes, referenceId } from '@sen/fhir';
import { SEN_SID } from '@sen/vn';
import type { FhirOperation } from '../../fhir/operations.ts';
import { CATALOG_URLS } from '../terminology/kinds.ts';
import {
  allow,
  type ClinicalDeps,
  collection,
  findAll,
  inTransaction,
  loadEncounter,
  parametersOf,
  staffOf,
  tagged,
} from './context.ts';
import { matchesWords, ORDER_CATEGORIES, type OrderCategory, routingOf } from './data.ts';

export const ORDER_CATEGORY_SYSTEM = 'https://sen.health.vn/fhir/CodeSystem/order-category';

const SNOMED_CATEGORY: Record<OrderCategory, Coding> = {
  lab: { system: 'http://snomed.info/sct', code: '108252007', display: 'Laboratory procedure' },
  imaging: { system: 'http://snomed.info/sct', code: '363679005', display: 'Imaging' },
  procedure: { system: 'http://snomed.info/sct', code: '387713003', display: 'Surgical procedure' },
};

const CATEGORY_VI: Record<OrderCategory, string> = {
  lab: 'Xét nghiệm',
  imaging: 'Chẩn đoán hình ảnh',
  procedure: 'Thủ thuật',
};

export interface Orderable {
  code: string;
  display: string;
  version: string;
  category: OrderCategory;
  department: string;
  price?: number;
  bhytPrice?: number;
  bhytRate: number;
}

function prop(c: CodeSystemConcept, code: string): string | number | boolean | undefined {
  const p = c.property?.find((x) => x.code === code);
  return p?.valueDecimal ?? p?.valueInteger ?? p?.valueString ?? p?.valueCode ?? p?.valueBoolean ?? p?.valueDateTime;
}

/** A catalog service as an orderable one; undefined when data/ routes it nowhere (consultations, bed days). */
export function orderableOf(deps: ClinicalDeps, concept: CodeSystemConcept, version: string): Orderable | undefined {
  const group = prop(concept, 'group');
  const routing = routingOf(deps.data, concept.code, typeof group === 'string' ? group : undefined);
  if (!routing) {
    return undefined;
  }
  const bhytPrice = prop(concept, 'bhytPrice');
  const servicePrice = prop(concept, 'servicePrice');
  const rate = prop(concept, 'bhytRate');
  return {
    code: concept.code,
    display: concept.display ?? concept.code,
    version,
    ...routing,
    price: typeof servicePrice === 'number' ? servicePrice : typeof bhytPrice === 'number' ? bhytPrice : undefined,
    bhytPrice: typeof bhytPrice === 'number' ? bhytPrice : undefined,
    // services in the BHYT list are paid at their BHYT price (the card's benefit level applies at billing)
    bhytRate: typeof rate === 'number' ? rate : typeof bhytPrice === 'number' ? 100 : 0,
  };
}

/** The departments of the facility by code (Organization with a SEN_SID.department identifier, part of it). */
async function departments(
  deps: ClinicalDeps,
  codes: readonly string[],
  facilityId: string | undefined,
  q: Queryable,
): Promise<Map<string, Organization>> {
  const out = new Map<string, Organization>();
  for (const code of new Set(codes)) {
    const found = await findAll<Organization>(
      deps,
      'Organization',
      [['identifier', `${SEN_SID.department}|${code}`]],
      q,
    );
    const active = found.filter((o) => o.active !== false);
    const own = active.find((o) => facilityId && referenceId(o.partOf, 'Organization') === facilityId) ?? active[0];
    if (own) {
      out.set(code, own);
    }
  }
  return out;
}

function category(input: string | undefined): OrderCategory | undefined {
  if (input === undefined || input === '') {
    return undefined;
  }
  if (!ORDER_CATEGORIES.includes(input as OrderCategory)) {
    throw outcomes.badRequest(
      `'category' phải là ${ORDER_CATEGORIES.join(' | ')} / must be one of ${ORDER_CATEGORIES.join(', ')}`,
    );
  }
  return input as OrderCategory;
}

function orderable(deps: ClinicalDeps): FhirOperation {
  return {
    name: 'orderable',
    resourceTypes: ['ServiceRequest'],
    levels: ['type'],
    methods: ['GET', 'POST'],
    access: { action: 'read', resourceType: 'CodeSystem' },
    async handler(call) {
      const text = (call.input.string('q') ?? '').trim();
      const cat = category(call.input.string('category'));
      const count = Math.min(call.input.integer('count') ?? call.input.integer('_count') ?? 50, 200);
      // the whole services catalog in force (a few thousand rows at most): routing and aliases are applied here
      const all = await deps.terminology.expand(CATALOG_URLS.services, { count: 1000 });
      const byCatalog = text
        ? new Set(
            (await deps.terminology.expand(CATALOG_URLS.services, { filter: text, count: 1000 })).items.map(
              (i) => i.code,
            ),
          )
        : undefined;
      const list: Orderable[] = [];
      for (const item of all.items) {
        const o = orderableOf(deps, item.concept, all.version.version);
        if (!o || (cat && o.category !== cat)) {
          continue;
        }
        if (
          byCatalog &&
          !byCatalog.has(o.code) &&
          !(deps.data.aliases.get(o.code) ?? []).some((a) => matchesWords(a, text))
        ) {
          continue;
        }
        list.push(o);
      }
      // catalog matches first in the catalog's ranking order, then alias matches
      if (byCatalog) {
        const rank = [...byCatalog];
        list.sort((a, b) => (rank.indexOf(a.code) + 1 || 1e9) - (rank.indexOf(b.code) + 1 || 1e9));
      }
      const staff = staffOf(call);
      const depts = await departments(
        deps,
        list.map((o) => o.department),
        staff?.facilityId,
        call.q ?? deps.router.store.db,
      );
      const out: ParametersParameter[] = list.slice(0, count).map((o) => ({
        name: 'service',
        part: [
          {
            name: 'code',
            valueCoding: { system: CATALOG_URLS.services, version: o.version, code: o.code, display: o.display },
          },
          { name: 'category', valueCode: o.category },
          ...(o.price !== undefined ? [{ name: 'price', valueDecimal: o.price }] : []),
          ...(o.bhytPrice !== undefined ? [{ name: 'bhytPrice', valueDecimal: o.bhytPrice }] : []),
          { name: 'bhytCovered', valueBoolean: o.bhytRate > 0 },
          { name: 'bhytRate', valueDecimal: o.bhytRate },
          { name: 'department', valueString: depts.get(o.department)?.name ?? o.department },
          { name: 'departmentCode', valueCode: o.department },
        ],
      }));
      const routedCodes = new Map(
        all.items.map((i) => [i.code, orderableOf(deps, i.concept, all.version.version)] as const),
      );
      for (const set of deps.data.orderSets) {
        if (text && !matchesWords(set.name, text) && !set.code.toLowerCase().startsWith(text.toLowerCase())) {
          continue;
        }
        if (cat && !set.services.some((s) => routedCodes.get(s)?.category === cat)) {
          continue;
        }
        out.push({
          name: 'orderSet',
          part: [
            { name: 'code', valueCode: set.code },
            { name: 'name', valueString: set.name },
            { name: 'services', valueString: set.services.join(',') },
          ],
        });
      }
      return { status: 200, body: parametersOf(out) };
    },
  };
}

const PRIORITIES = ['routine', 'urgent', 'stat'] as const;

function order(deps: ClinicalDeps): FhirOperation {
  return {
    name: 'order',
    resourceTypes: ['Encounter'],
    levels: ['instance'],
    methods: ['POST'],
    access: { action: 'read' },
    async handler(call) {
      const priority = call.input.string('priority') ?? 'routine';
      if (!(PRIORITIES as readonly string[]).includes(priority)) {
        throw outcomes.badRequest(`'priority' phải là routine | urgent | stat / must be routine, urgent or stat`);
      }
      const codes: string[] = [];
      for (const p of call.input.all('service')) {
        const c = p.valueCoding ?? (p.valueCode || p.valueString ? { code: p.valueCode ?? p.valueString } : undefined);
        if (!c?.code || (c.system && c.system !== CATALOG_URLS.services)) {
          throw outcomes.badRequest(
            `Dịch vụ phải là mã của danh mục ${CATALOG_URLS.services} / 'service' must be a coding of ${CATALOG_URLS.services}`,
          );
        }
        codes.push(c.code);
      }
      for (const p of call.input.all('orderSet')) {
        const code = p.valueCode ?? p.valueString;
        const set = deps.data.orderSets.find((s) => s.code === code);
        if (!set) {
          throw outcomes.badRequest(`Không có bộ chỉ định '${code ?? ''}' / no order set '${code ?? ''}'`);
        }
        codes.push(...set.services);
      }
      const unique = [...new Set(codes)];
      if (unique.length === 0) {
        throw outcomes.badRequest("Chưa chọn dịch vụ nào / give at least one 'service' or 'orderSet'");
      }
      if (unique.length > 100) {
        throw outcomes.badRequest('Tối đa 100 dịch vụ một lần / at most 100 services per order');
      }
      const services: Orderable[] = [];
      for (const code of unique) {
        const version = await deps.terminology.resolve(CATALOG_URLS.services);
        const concept = await deps.terminology.concept(version, code);
        if (!concept) {
          throw outcomes.badRequest(
            `Mã dịch vụ '${code}' không có trong danh mục / service '${code}' is not in the catalog`,
          );
        }
        const o = orderableOf(deps, concept, version.version);
        if (!o) {
          throw outcomes.unprocessable(
            `Dịch vụ ${code} (${concept.display ?? ''}) không chỉ định được: chưa gắn khoa thực hiện / service ${code} has no executing department`,
          );
        }
        services.push(o);
      }
      const written = await inTransaction(deps, call, async (q) => {
        const ctx = await loadEncounter(deps, call, q, { open: true });
        const depts = await departments(
          deps,
          services.map((s) => s.department),
          ctx.staff?.facilityId,
          q,
        );
        const now = new Date().toISOString();
        const out: ServiceRequest[] = [];
        for (const s of services) {
          const dept = depts.get(s.department);
          if (!dept) {
            throw outcomes.unprocessable(
              `Cơ sở chưa có khoa mã ${s.department} để thực hiện ${s.display} / no department ${s.department} in this facility`,
            );
          }
          const sr = tagged<ServiceRequest>(
            {
              resourceType: 'ServiceRequest',
              status: 'active',
              intent: 'order',
              priority: priority as ServiceRequest['priority'],
              category: [
                {
                  coding: [
                    SNOMED_CATEGORY[s.category],
                    { system: ORDER_CATEGORY_SYSTEM, code: s.category, display: CATEGORY_VI[s.category] },
                  ],
                },
              ],
              code: {
                coding: [{ system: CATALOG_URLS.services, version: s.version, code: s.code, display: s.display }],
                text: s.display,
              },
              subject: { reference: `Patient/${ctx.patientId}` },
              encounter: { reference: `Encounter/${ctx.encounter.id}` },
              authoredOn: now,
              ...(ctx.practitioner ? { requester: ctx.practitioner } : {}),
              performer: [{ reference: `Organization/${dept.id}`, display: dept.name }],
            },
            ctx,
          );
          allow(call, 'create', sr, ctx.patientId);
          out.push((await deps.router.store.create(sr, q)).resource as ServiceRequest);
        }
        return out;
      });
      return { status: 200, body: collection(deps, written) };
    },
  };
}

export function orderOperations(deps: ClinicalDeps): FhirOperation[] {
  return [orderable(deps), order(deps)];
}

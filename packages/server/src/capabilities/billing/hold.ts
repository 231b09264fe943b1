/**
 * The pay-first rule (contract 3 of issue 6): a fee-paying visit's orders are executed only after the patient has
 * paid for them; BHYT and emergency visits are never held. The lab and imaging worklists ask `awaitingPayment`
 * which of their orders to show as "Chờ thanh toán / Awaiting payment" and refuse to start them.
 *
 * An order is paid when a ChargeItem of its visit made for it (`supportingInformation` → the ServiceRequest, see
 * charges.ts) is a line of an Invoice whose status is `balanced` (paid in full; a refund cancels the invoice, so the
 * order is held again).
 */
import type { ChargeItem, Encounter, Invoice, Resource, ServiceRequest } from '@medplum/fhirtypes';
import type { Queryable } from '@sen/db';
import { referenceId } from '@sen/fhir';
import { searchResources } from '@sen/store';
import type { FhirRouter } from '../../fhir/router.ts';
import { VISIT_TYPE_SYSTEM } from '../visits/encounter.ts';

/** Whether the pay-first rule is on, per router (registerBilling sets it; on when billing was not registered). */
const payFirstOf = new WeakMap<FhirRouter, boolean>();

/** Sets the pay-first rule for this router (SEN_PAY_BEFORE_EXECUTION, on by default). */
export function setPayFirst(router: FhirRouter, on: boolean): void {
  payFirstOf.set(router, on);
}

export function payFirst(router: FhirRouter): boolean {
  return payFirstOf.get(router) ?? true;
}

/** The visit type of an Encounter: 'emergency' for the EMER class, else its visit-type coding (bhyt | fee | …). */
export function visitTypeOf(e: Encounter): string | undefined {
  if (e.class?.code === 'EMER') {
    return 'emergency';
  }
  for (const t of e.type ?? []) {
    const c = t.coding?.find((x) => x.system === VISIT_TYPE_SYSTEM);
    if (c?.code) {
      return c.code;
    }
  }
  return undefined;
}

/** Every resource of a server-side search (the caller has already been checked on what it asks about). */
export async function searchAll<T extends Resource>(
  router: FhirRouter,
  type: string,
  query: [string, string][],
  q: Queryable,
): Promise<T[]> {
  return searchResources<T>(router.store, type, query, q);
}

/** The ServiceRequest ids a ChargeItem was made for. */
export function ordersOfCharge(c: ChargeItem): string[] {
  return (c.supportingInformation ?? [])
    .map((r) => referenceId(r, 'ServiceRequest'))
    .filter((x): x is string => x !== undefined);
}

/** Ids of the orders that may not be executed yet: fee-paying and unpaid, when the pay-first rule is on. */
export async function awaitingPayment(
  router: FhirRouter,
  orders: ServiceRequest[],
  q?: Queryable,
): Promise<Set<string>> {
  const held = new Set<string>();
  if (!payFirst(router) || orders.length === 0) {
    return held;
  }
  const db = q ?? router.store.db;
  const byEncounter = new Map<string, ServiceRequest[]>();
  for (const o of orders) {
    const enc = referenceId(o.encounter, 'Encounter');
    if (o.id && enc) {
      byEncounter.set(enc, [...(byEncounter.get(enc) ?? []), o]);
    }
  }
  for (const [encounterId, list] of byEncounter) {
    let encounter: Encounter;
    try {
      encounter = JSON.parse((await router.store.read('Encounter', encounterId, db)).content as string) as Encounter;
    } catch {
      continue; // a deleted or unknown visit: nothing to collect for
    }
    if (visitTypeOf(encounter) !== 'fee') {
      continue; // BHYT and emergency visits: executed at once
    }
    const charges = await searchAll<ChargeItem>(router, 'ChargeItem', [['context', `Encounter/${encounterId}`]], db);
    const patient = referenceId(encounter.subject, 'Patient');
    const invoices = patient
      ? await searchAll<Invoice>(
          router,
          'Invoice',
          [
            ['subject', `Patient/${patient}`],
            ['status', 'balanced'],
          ],
          db,
        )
      : [];
    const paidCharges = new Set<string>();
    for (const inv of invoices) {
      for (const line of inv.lineItem ?? []) {
        const id = referenceId(line.chargeItemReference, 'ChargeItem');
        if (id) {
          paidCharges.add(id);
        }
      }
    }
    const paidOrders = new Set<string>();
    for (const c of charges) {
      if (c.id && paidCharges.has(c.id) && c.status !== 'entered-in-error') {
        for (const o of ordersOfCharge(c)) {
          paidOrders.add(o);
        }
      }
    }
    for (const o of list) {
      if (!paidOrders.has(o.id as string)) {
        held.add(o.id as string);
      }
    }
  }
  return held;
}

/**
 * The cashier's data: visits found by name, CCCD or queue number; the bill from `Encounter/$charges`; the visit's
 * invoices; and the payment operations as mutations. Query keys start with the resource type, so the live channel's
 * changes (new charges, an invoice paid through the gateway) refresh the screen without reload.
 */
import type { Bundle, Encounter, Invoice, Parameters, Patient, PaymentReconciliation } from '@medplum/fhirtypes';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { entriesOf, type FhirClient } from '../../api/fhir.ts';
import { useSession } from '../../auth/AuthContext.tsx';
import { CCCD_SID, QUEUE_NUMBER_SID, type Route, type VisitQuery } from './cashier.logic.ts';

const params = (parameter: Parameters['parameter'] = []): Parameters => ({ resourceType: 'Parameters', parameter });

function op<T = Parameters>(fhir: FhirClient, path: string, body: Parameters = params()): Promise<T> {
  return fhir.request<T>(path, { method: 'POST', body });
}

/** Today in Vietnam (YYYY-MM-DD). */
export function vietnamToday(now = new Date()): string {
  return now.toLocaleDateString('sv-SE', { timeZone: 'Asia/Ho_Chi_Minh' });
}

async function findVisits(fhir: FhirClient, q: VisitQuery): Promise<Bundle> {
  const base: [string, string][] = [
    ['_sort', '-date'],
    ['_count', '30'],
    ['_include', 'Encounter:subject'],
  ];
  if (q.kind === 'none') {
    return fhir.search('Encounter', [['date', `ge${vietnamToday()}`], ...base]);
  }
  if (q.kind === 'queue') {
    return fhir.search('Encounter', [['identifier', `${QUEUE_NUMBER_SID}|${q.value}`], ...base]);
  }
  const patients = await fhir.search<Patient>(
    'Patient',
    q.kind === 'cccd'
      ? [['identifier', `${CCCD_SID}|${q.value}`]]
      : [
          ['name', q.value],
          ['_count', '20'],
        ],
  );
  const ids = entriesOf<Patient>(patients, 'Patient').map((p) => `Patient/${p.id}`);
  if (ids.length === 0) {
    return { resourceType: 'Bundle', type: 'searchset', entry: [] };
  }
  return fhir.search('Encounter', [['subject', ids.join(',')], ...base]);
}

export function useVisitSearch(q: VisitQuery) {
  const { fhir } = useSession();
  return useQuery({ queryKey: ['Encounter', 'cashier', q], queryFn: () => findVisits(fhir, q) });
}

export function useEncounter(id: string | undefined) {
  const { fhir } = useSession();
  return useQuery({
    queryKey: ['Encounter', id],
    enabled: !!id,
    queryFn: async () => {
      const b = await fhir.search('Encounter', [
        ['_id', id as string],
        ['_include', 'Encounter:subject'],
      ]);
      return { encounter: entriesOf<Encounter>(b, 'Encounter')[0], patient: entriesOf<Patient>(b, 'Patient')[0] };
    },
  });
}

/** The visit's bill: `$charges` brings its ChargeItems up to date (it writes only what changed). */
export function useBill(encounterId: string | undefined) {
  const { fhir } = useSession();
  return useQuery({
    queryKey: ['ChargeItem', 'bill', encounterId],
    enabled: !!encounterId,
    queryFn: () => op(fhir, `Encounter/${encodeURIComponent(encounterId as string)}/$charges`),
  });
}

export function useInvoices(patientId: string | undefined) {
  const { fhir } = useSession();
  return useQuery({
    queryKey: ['Invoice', 'patient', patientId],
    enabled: !!patientId,
    queryFn: async () =>
      entriesOf<Invoice>(
        await fhir.search('Invoice', [
          ['subject', `Patient/${patientId}`],
          ['_count', '50'],
        ]),
        'Invoice',
      ),
  });
}

export function useCashierActions(encounterId: string | undefined) {
  const { fhir } = useSession();
  const client = useQueryClient();
  const refresh = async (): Promise<void> => {
    await Promise.all([
      client.invalidateQueries({ queryKey: ['ChargeItem'] }),
      client.invalidateQueries({ queryKey: ['Invoice'] }),
    ]);
  };
  const enc = encodeURIComponent(encounterId ?? '');
  return {
    setRoute: useMutation({
      mutationFn: (route: Route) =>
        op(fhir, `Encounter/${enc}/$charges`, params([{ name: 'route', valueCode: route }])),
      onSuccess: refresh,
    }),
    issue: useMutation({ mutationFn: () => op(fhir, `Encounter/${enc}/$invoice`), onSuccess: refresh }),
    payCash: useMutation({
      mutationFn: (v: { invoiceId: string; received: number }) =>
        op(
          fhir,
          `Invoice/${encodeURIComponent(v.invoiceId)}/$pay-cash`,
          params([{ name: 'received', valueDecimal: v.received }]),
        ),
      onSuccess: refresh,
    }),
    vietqr: useMutation({
      mutationFn: (invoiceId: string) => op(fhir, `Invoice/${encodeURIComponent(invoiceId)}/$vietqr`),
    }),
    refund: useMutation({
      mutationFn: (v: { invoiceId: string; reason: string }) =>
        op(
          fhir,
          `Invoice/${encodeURIComponent(v.invoiceId)}/$refund`,
          params([{ name: 'reason', valueString: v.reason }]),
        ),
      onSuccess: refresh,
    }),
  };
}

/** The receipt: the invoice, its payment and its patient. */
export function useReceipt(invoiceId: string | undefined) {
  const { fhir } = useSession();
  return useQuery({
    queryKey: ['Invoice', 'receipt', invoiceId],
    enabled: !!invoiceId,
    queryFn: async () => {
      const invoice = await fhir.read<Invoice>('Invoice', invoiceId as string);
      const paymentRef = invoice.extension?.find((e) => e.url.endsWith('/invoice-payment'))?.valueReference?.reference;
      const [payment, patient] = await Promise.all([
        paymentRef ? fhir.request<PaymentReconciliation>(paymentRef) : undefined,
        invoice.subject?.reference ? fhir.request<Patient>(invoice.subject.reference) : undefined,
      ]);
      return { invoice, payment, patient };
    },
  });
}

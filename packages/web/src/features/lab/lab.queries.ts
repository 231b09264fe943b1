/**
 * The lab screens' data. Query keys start with ServiceRequest; the live channel refetches them when an order, a
 * specimen, a result, a report or a payment changes; the mutations are the lab operations.
 */
import type { Bundle, DiagnosticReport, Parameters, Specimen } from '@medplum/fhirtypes';
import { useMutation, useQuery, useQueryClient, type UseQueryResult } from '@tanstack/react-query';
import { useLive } from '../../api/live.ts';
import { useSession } from '../../auth/AuthContext.tsx';

export const LAB_KEY = ['ServiceRequest', 'lab'] as const;

/** What changes a lab screen: orders, specimens, results, reports and payments (a paid order is released). */
export function useLabLive(): void {
  const client = useQueryClient();
  const refresh = (): void => void client.invalidateQueries({ queryKey: [...LAB_KEY] });
  useLive(['ServiceRequest', 'Specimen', 'Observation', 'DiagnosticReport', 'Invoice', 'ChargeItem'], refresh, refresh);
}

export interface WorklistQuery {
  status: string;
  priority: string;
  date: string;
}

export function useLabWorklist(q: WorklistQuery): UseQueryResult<Bundle> {
  const { fhir } = useSession();
  return useQuery({
    queryKey: [...LAB_KEY, 'worklist', q],
    queryFn: () => {
      const params = new URLSearchParams();
      if (q.status) {
        params.set('status', q.status);
      }
      if (q.priority) {
        params.set('priority', q.priority);
      }
      if (q.date) {
        params.set('date', q.date);
      }
      return fhir.request<Bundle>(`ServiceRequest/$lab-worklist?${params.toString()}`);
    },
  });
}

export function useLabForm(orderId: string | undefined): UseQueryResult<Parameters> {
  const { fhir } = useSession();
  return useQuery({
    queryKey: [...LAB_KEY, 'form', orderId],
    enabled: !!orderId,
    queryFn: () => fhir.request<Parameters>(`ServiceRequest/${encodeURIComponent(orderId ?? '')}/$lab-form`),
  });
}

const EMPTY: Parameters = { resourceType: 'Parameters' };

function useLabMutation<TIn, TOut>(
  fn: (input: TIn) => Promise<TOut>,
): ReturnType<typeof useMutation<TOut, Error, TIn>> {
  const client = useQueryClient();
  return useMutation<TOut, Error, TIn>({
    mutationFn: fn,
    onSettled: () => void client.invalidateQueries({ queryKey: [...LAB_KEY] }),
  });
}

export function useLabActions(orderId: string): {
  collect: ReturnType<typeof useMutation<Specimen, Error, void>>;
  enter: ReturnType<typeof useMutation<Bundle, Error, { code: string; value: string }[]>>;
  verify: ReturnType<typeof useMutation<DiagnosticReport, Error, void>>;
  sign: ReturnType<typeof useMutation<DiagnosticReport, Error, void>>;
} {
  const { fhir } = useSession();
  const path = (op: string): string => `ServiceRequest/${encodeURIComponent(orderId)}/$${op}`;
  return {
    collect: useLabMutation<void, Specimen>(() =>
      fhir.request<Specimen>(path('collect-specimen'), { method: 'POST', body: EMPTY }),
    ),
    enter: useLabMutation<{ code: string; value: string }[], Bundle>((results) =>
      fhir.request<Bundle>(path('enter-results'), {
        method: 'POST',
        body: {
          resourceType: 'Parameters',
          parameter: results.map((r) => ({
            name: 'result',
            part: [
              { name: 'code', valueCode: r.code },
              { name: 'value', valueString: r.value },
            ],
          })),
        },
      }),
    ),
    verify: useLabMutation<void, DiagnosticReport>(() =>
      fhir.request<DiagnosticReport>(path('verify-results'), { method: 'POST', body: EMPTY }),
    ),
    sign: useLabMutation<void, DiagnosticReport>(() =>
      fhir.request<DiagnosticReport>(path('sign-results'), { method: 'POST', body: EMPTY }),
    ),
  };
}

export function useReceive(): ReturnType<typeof useMutation<Bundle, Error, string>> {
  const { fhir } = useSession();
  return useLabMutation<string, Bundle>((barcode) =>
    fhir.request<Bundle>('Specimen/$receive', {
      method: 'POST',
      body: { resourceType: 'Parameters', parameter: [{ name: 'barcode', valueString: barcode }] },
    }),
  );
}

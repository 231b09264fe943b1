/**
 * The imaging screens' data: one worklist query (key starts with ServiceRequest) refreshed by the live channel when
 * an order, a study, a report or a payment changes, and the two operations as mutations.
 */
import type { ImagingStudy, Parameters } from '@medplum/fhirtypes';
import { useMutation, useQuery, useQueryClient, type UseQueryResult } from '@tanstack/react-query';
import { useLive } from '../../api/live.ts';
import { useSession } from '../../auth/AuthContext.tsx';

export const WORKLIST_KEY = ['ServiceRequest', 'imaging-worklist'] as const;

/** New orders, a study, a report, or a payment that releases a held order: refetch the worklist. */
export function useImagingLive(): void {
  const client = useQueryClient();
  const refresh = (): void => void client.invalidateQueries({ queryKey: [...WORKLIST_KEY] });
  useLive(['ServiceRequest', 'ImagingStudy', 'DiagnosticReport', 'Invoice', 'ChargeItem'], refresh, refresh);
}

export function useImagingWorklist(): UseQueryResult<Parameters> {
  const { fhir } = useSession();
  return useQuery({
    queryKey: [...WORKLIST_KEY],
    queryFn: () => fhir.request<Parameters>('ServiceRequest/$imaging-worklist?_count=200'),
  });
}

export function useMarkDone(orderId: string): ReturnType<typeof useMutation<ImagingStudy, Error, { note?: string }>> {
  const { fhir } = useSession();
  const client = useQueryClient();
  return useMutation<ImagingStudy, Error, { note?: string }>({
    mutationFn: ({ note }) =>
      fhir.request<ImagingStudy>(`ServiceRequest/${encodeURIComponent(orderId)}/$imaging-done`, {
        method: 'POST',
        body: { resourceType: 'Parameters', parameter: note ? [{ name: 'note', valueString: note }] : [] },
      }),
    onSettled: () => void client.invalidateQueries({ queryKey: [...WORKLIST_KEY] }),
  });
}

export function useSaveReport(
  orderId: string,
): ReturnType<typeof useMutation<Parameters, Error, { findings: string; conclusion: string; sign: boolean }>> {
  const { fhir } = useSession();
  const client = useQueryClient();
  return useMutation<Parameters, Error, { findings: string; conclusion: string; sign: boolean }>({
    mutationFn: ({ findings, conclusion, sign }) =>
      fhir.request<Parameters>(`ServiceRequest/${encodeURIComponent(orderId)}/$imaging-report`, {
        method: 'POST',
        body: {
          resourceType: 'Parameters',
          parameter: [
            { name: 'findings', valueString: findings },
            { name: 'conclusion', valueString: conclusion },
            { name: 'sign', valueBoolean: sign },
          ],
        },
      }),
    onSettled: () => void client.invalidateQueries({ queryKey: [...WORKLIST_KEY] }),
  });
}

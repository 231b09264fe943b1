/**
 * The pharmacy screen's data: the warehouses of my department, the prescription of a code or a patient, the stock
 * report, and the dispense and receipt operations. Query keys start with the resource type the live channel names,
 * so another pharmacist's dispense or a replaced prescription refreshes the screen.
 */
import type { Location, Parameters, Patient } from '@medplum/fhirtypes';
import { useMutation, useQuery, useQueryClient, type UseQueryResult } from '@tanstack/react-query';
import { entriesOf } from '../../api/fhir.ts';
import { useLive } from '../../api/live.ts';
import { useSession } from '../../auth/AuthContext.tsx';

/** A dispense changes the stock and the prescription's state; a replaced prescription changes its state. */
export function usePharmacyLive(): void {
  const client = useQueryClient();
  const refresh = (): void => {
    void client.invalidateQueries({ queryKey: ['MedicationDispense'] });
    void client.invalidateQueries({ queryKey: ['MedicationRequest'] });
  };
  useLive(['MedicationDispense', 'MedicationRequest'], refresh, refresh);
}

/** The rooms of my departments: the pharmacy (Nhà thuốc) first, then the store room (Kho). */
export function useWarehouses(): UseQueryResult<Location[]> {
  const { fhir, staff } = useSession();
  const parents = (staff?.departmentLocations ?? []).map((l) => l.split('/')[1]).join(',');
  return useQuery({
    queryKey: ['Location', 'warehouses', parents],
    enabled: !!staff && parents !== '',
    queryFn: async () => {
      const bundle = await fhir.search<Location>('Location', [
        ['partof', parents],
        ['_count', '100'],
      ]);
      const rank = (l: Location): number => (/^Nhà thuốc/i.test(l.name ?? '') ? 0 : /^Kho/i.test(l.name ?? '') ? 1 : 2);
      return entriesOf<Location>(bundle, 'Location')
        .filter((l) => l.status !== 'inactive')
        .sort((a, b) => rank(a) - rank(b) || (a.name ?? '').localeCompare(b.name ?? '', 'vi'));
    },
  });
}

export function useDispensable(
  lookup: { code?: string; patient?: string } | undefined,
  warehouseId: string | undefined,
): UseQueryResult<Parameters> {
  const { fhir } = useSession();
  return useQuery({
    queryKey: ['MedicationRequest', 'dispensable', lookup?.code, lookup?.patient, warehouseId],
    enabled: !!lookup && !!(lookup.code || lookup.patient) && !!warehouseId,
    retry: false,
    queryFn: () => {
      const qs = new URLSearchParams();
      if (lookup?.code) {
        qs.set('code', lookup.code);
      } else if (lookup?.patient) {
        qs.set('patient', lookup.patient);
      }
      qs.set('warehouse', warehouseId ?? '');
      return fhir.request<Parameters>(`MedicationRequest/$dispensable?${qs.toString()}`);
    },
  });
}

export function usePatientSearch(name: string): UseQueryResult<Patient[]> {
  const { fhir } = useSession();
  return useQuery({
    queryKey: ['Patient', 'pharmacy-search', name],
    enabled: name.trim().length >= 2,
    queryFn: async () =>
      entriesOf<Patient>(
        await fhir.search<Patient>('Patient', [
          ['name', name.trim()],
          ['_count', '20'],
        ]),
        'Patient',
      ),
  });
}

export function useStockReport(warehouseId: string | undefined, nearDays: number): UseQueryResult<Parameters> {
  const { fhir } = useSession();
  return useQuery({
    queryKey: ['MedicationDispense', 'stock-report', warehouseId ?? '', nearDays],
    queryFn: () => {
      const qs = new URLSearchParams({ nearExpiryDays: String(nearDays) });
      if (warehouseId) {
        qs.set('warehouse', warehouseId);
      }
      return fhir.request<Parameters>(`Medication/$stock-report?${qs.toString()}`);
    },
  });
}

export function useDrugSearch(q: string): UseQueryResult<Parameters> {
  const { fhir } = useSession();
  return useQuery({
    queryKey: ['CodeSystem', 'drug-search', q],
    enabled: q.trim().length >= 1,
    queryFn: () =>
      fhir.request<Parameters>(`MedicationRequest/$drug-search?q=${encodeURIComponent(q.trim())}&count=20`),
  });
}

function useOperation(path: string): ReturnType<typeof useMutation<Parameters, Error, Parameters>> {
  const { fhir } = useSession();
  const client = useQueryClient();
  return useMutation<Parameters, Error, Parameters>({
    mutationFn: (body) => fhir.request<Parameters>(path, { method: 'POST', body }),
    onSettled: () => {
      void client.invalidateQueries({ queryKey: ['MedicationDispense'] });
      void client.invalidateQueries({ queryKey: ['MedicationRequest'] });
    },
  });
}

export function useDispense(): ReturnType<typeof useMutation<Parameters, Error, Parameters>> {
  return useOperation('MedicationDispense/$dispense');
}

export function useReceiveStock(): ReturnType<typeof useMutation<Parameters, Error, Parameters>> {
  return useOperation('Medication/$receive-stock');
}

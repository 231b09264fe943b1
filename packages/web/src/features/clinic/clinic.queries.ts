/**
 * The doctor's screens' data: FHIR reads and searches (query keys start with the resource type, so the live
 * channel's changes refresh them) and the clinical operations as mutations.
 */
import type {
  AllergyIntolerance,
  Bundle,
  Condition,
  Coverage,
  Encounter,
  Location,
  MedicationRequest,
  Observation,
  Parameters,
  Patient,
  Resource,
  ServiceRequest,
} from '@medplum/fhirtypes';
import { useMutation, useQuery, useQueryClient, type UseQueryResult } from '@tanstack/react-query';
import { entriesOf, type FhirClient } from '../../api/fhir.ts';
import { type LiveChange, useLive } from '../../api/live.ts';
import { useSession } from '../../auth/AuthContext.tsx';
import { ICD10_SYSTEM, parameters } from './clinic.logic.ts';
import { type ReportView, reportsOf } from './results.logic.ts';

const ROOM_KEY = 'sen.clinic.room';

export function savedRoom(): string | undefined {
  return localStorage.getItem(ROOM_KEY) ?? undefined;
}

export function saveRoom(id: string | undefined): void {
  if (id) {
    localStorage.setItem(ROOM_KEY, id);
  } else {
    localStorage.removeItem(ROOM_KEY);
  }
}

/**
 * Live refresh for the clinic's screens: a change of type T refreshes the queries whose key starts with T; a
 * reconnect refreshes them all. Accepts the change as the server's contract writes it (`type`) or as the web
 * client's type names it (`resourceType`).
 */
export function useClinicLive(types: readonly string[]): void {
  const client = useQueryClient();
  useLive(
    types,
    (c: LiveChange & { type?: string }) => {
      const type = c.resourceType ?? c.type;
      if (type) {
        void client.invalidateQueries({ queryKey: [type] });
      }
    },
    () => void client.invalidateQueries({ predicate: (q) => types.includes(String(q.queryKey[0])) }),
  );
}

/** Rooms of my departments (Location partOf a department's place), examination rooms first. */
export function useRooms(): UseQueryResult<Location[]> {
  const { fhir, staff } = useSession();
  const parents = (staff?.departmentLocations ?? []).map((l) => l.split('/')[1]).join(',');
  return useQuery({
    queryKey: ['Location', 'rooms', parents],
    enabled: !!staff,
    queryFn: async () => {
      const bundle = await fhir.search<Location>('Location', [
        ...(parents ? ([['partof', parents]] as [string, string][]) : []),
        ['_count', '100'],
      ]);
      const rooms = entriesOf<Location>(bundle, 'Location').filter(
        (l) => l.status !== 'inactive' && l.physicalType?.coding?.some((c) => c.code === 'ro') !== false,
      );
      const exam = (l: Location): number => (/^Phòng khám/i.test(l.name ?? '') ? 0 : 1);
      return rooms.sort((a, b) => exam(a) - exam(b) || (a.name ?? '').localeCompare(b.name ?? '', 'vi'));
    },
  });
}

export function useQueue(roomId: string | undefined): UseQueryResult<Bundle> {
  const { fhir } = useSession();
  return useQuery({
    queryKey: ['Encounter', 'queue', roomId],
    enabled: !!roomId,
    queryFn: () => fhir.request<Bundle>(`Encounter/$queue?location=${encodeURIComponent(`Location/${roomId}`)}`),
  });
}

/** POSTs a FHIR operation with a Parameters body. */
export function operation<T = Parameters>(fhir: FhirClient, path: string, body: Parameters): Promise<T> {
  return fhir.request<T>(path, { method: 'POST', body });
}

export function useQueueActions(roomId: string | undefined): {
  callNext: ReturnType<typeof useMutation<Parameters, Error, void>>;
  skip: ReturnType<typeof useMutation<Parameters, Error, string>>;
  recall: ReturnType<typeof useMutation<Parameters, Error, string>>;
} {
  const { fhir } = useSession();
  const client = useQueryClient();
  const refresh = (): void => void client.invalidateQueries({ queryKey: ['Encounter'] });
  const location = parameters([['location', { valueReference: { reference: `Location/${roomId}` } }]]);
  const callNext = useMutation<Parameters, Error, void>({
    mutationFn: () => operation(fhir, 'Encounter/$call-next', location),
    onSettled: refresh,
  });
  const skip = useMutation<Parameters, Error, string>({
    mutationFn: (id) => operation(fhir, `Encounter/${encodeURIComponent(id)}/$skip`, parameters([])),
    onSettled: refresh,
  });
  const recall = useMutation<Parameters, Error, string>({
    mutationFn: (id) => operation(fhir, `Encounter/${encodeURIComponent(id)}/$recall`, parameters([])),
    onSettled: refresh,
  });
  return { callNext, skip, recall };
}

// ---------------------------------------------------------------- the chart

export function useEncounter(id: string | undefined): UseQueryResult<Encounter> {
  const { fhir } = useSession();
  return useQuery({
    queryKey: ['Encounter', id],
    enabled: !!id,
    queryFn: () => fhir.read<Encounter>('Encounter', id ?? ''),
  });
}

function patientIdOf(e: Encounter | undefined): string | undefined {
  const ref = e?.subject?.reference;
  return ref?.startsWith('Patient/') ? ref.split('/')[1] : undefined;
}

export function usePatient(encounter: Encounter | undefined): UseQueryResult<Patient> {
  const { fhir } = useSession();
  const pid = patientIdOf(encounter);
  return useQuery({
    queryKey: ['Patient', pid],
    enabled: !!pid,
    queryFn: () => fhir.read<Patient>('Patient', pid ?? ''),
  });
}

function useSearch<T extends Resource>(
  type: T['resourceType'],
  key: unknown[],
  params: [string, string][] | undefined,
): UseQueryResult<T[]> {
  const { fhir } = useSession();
  return useQuery({
    queryKey: [type, ...key],
    enabled: !!params,
    queryFn: async () => {
      return entriesOf<T>(await fhir.search(type, params ?? []), type);
    },
  });
}

export function useCoverages(pid: string | undefined): UseQueryResult<Coverage[]> {
  return useSearch<Coverage>('Coverage', ['of', pid], pid ? [['beneficiary', `Patient/${pid}`]] : undefined);
}

export function useAllergies(pid: string | undefined): UseQueryResult<AllergyIntolerance[]> {
  return useSearch<AllergyIntolerance>(
    'AllergyIntolerance',
    ['of', pid],
    pid ? [['patient', `Patient/${pid}`]] : undefined,
  );
}

export function useConditions(pid: string | undefined): UseQueryResult<Condition[]> {
  return useSearch<Condition>(
    'Condition',
    ['of', pid],
    pid
      ? [
          ['patient', `Patient/${pid}`],
          ['_count', '100'],
        ]
      : undefined,
  );
}

export function useMedications(pid: string | undefined): UseQueryResult<MedicationRequest[]> {
  return useSearch<MedicationRequest>(
    'MedicationRequest',
    ['of', pid],
    pid
      ? [
          ['subject', `Patient/${pid}`],
          ['_count', '100'],
        ]
      : undefined,
  );
}

export function usePreviousVisits(pid: string | undefined): UseQueryResult<Encounter[]> {
  return useSearch<Encounter>(
    'Encounter',
    ['of', pid],
    pid
      ? [
          ['subject', `Patient/${pid}`],
          ['_sort', '-date'],
          ['_count', '10'],
        ]
      : undefined,
  );
}

export function useObservations(pid: string | undefined): UseQueryResult<Observation[]> {
  return useSearch<Observation>(
    'Observation',
    ['of', pid],
    pid
      ? [
          ['subject', `Patient/${pid}`],
          ['_sort', '-date'],
          ['_count', '200'],
        ]
      : undefined,
  );
}

export function useOrders(encounterId: string | undefined): UseQueryResult<ServiceRequest[]> {
  return useSearch<ServiceRequest>(
    'ServiceRequest',
    ['encounter', encounterId],
    encounterId
      ? [
          ['encounter', `Encounter/${encounterId}`],
          ['_count', '100'],
        ]
      : undefined,
  );
}

/**
 * The visit's results and reports with their values. The key starts with DiagnosticReport; the chart also refreshes
 * it when an Observation changes (a value corrected before sign-off).
 */
export function useEncounterReports(encounterId: string | undefined): UseQueryResult<ReportView[]> {
  const { fhir } = useSession();
  return useQuery({
    queryKey: ['DiagnosticReport', 'encounter', encounterId],
    enabled: !!encounterId,
    queryFn: async () =>
      reportsOf(
        await fhir.search('DiagnosticReport', [
          ['encounter', `Encounter/${encounterId}`],
          ['_include', 'DiagnosticReport:result'],
          ['_count', '100'],
        ]),
      ),
  });
}

export function useEncounterPrescriptions(encounterId: string | undefined): UseQueryResult<MedicationRequest[]> {
  return useSearch<MedicationRequest>(
    'MedicationRequest',
    ['encounter', encounterId],
    encounterId
      ? [
          ['encounter', `Encounter/${encounterId}`],
          ['_count', '100'],
        ]
      : undefined,
  );
}

/** ICD-10 typeahead: ValueSet/$expand on the catalog with a filter (no diacritics needed). */
export function useIcd10Search(filter: string): UseQueryResult<{ code: string; display: string }[]> {
  const { fhir } = useSession();
  const q = filter.trim();
  return useQuery({
    queryKey: ['ValueSet', 'icd10', q],
    enabled: q.length >= 1,
    staleTime: 5 * 60_000,
    queryFn: async () => {
      const vs = await fhir.request<{ expansion?: { contains?: { code?: string; display?: string }[] } }>(
        `ValueSet/$expand?${new URLSearchParams({ url: ICD10_SYSTEM, filter: q, count: '20' }).toString()}`,
      );
      return (vs.expansion?.contains ?? [])
        .filter((c): c is { code: string; display?: string } => !!c.code)
        .map((c) => ({ code: c.code, display: c.display ?? c.code }));
    },
  });
}

export function useOrderable(q: string, category: string): UseQueryResult<Parameters> {
  const { fhir } = useSession();
  return useQuery({
    queryKey: ['ServiceRequest', '$orderable', q.trim(), category],
    staleTime: 5 * 60_000,
    queryFn: () =>
      fhir.request<Parameters>(
        `ServiceRequest/$orderable?${new URLSearchParams([
          ...(q.trim() ? ([['q', q.trim()]] as [string, string][]) : []),
          ...(category ? ([['category', category]] as [string, string][]) : []),
        ]).toString()}`,
      ),
  });
}

export function useDrugSearch(q: string): UseQueryResult<Parameters> {
  const { fhir } = useSession();
  const text = q.trim();
  return useQuery({
    queryKey: ['MedicationRequest', '$drug-search', text],
    enabled: text.length >= 2,
    staleTime: 5 * 60_000,
    queryFn: () =>
      fhir.request<Parameters>(`MedicationRequest/$drug-search?${new URLSearchParams({ q: text }).toString()}`),
  });
}

/** A chart operation on the encounter (`Encounter/{id}/$op`) that refreshes the chart when done. */
export function useEncounterOperation<T = Parameters>(
  encounterId: string | undefined,
  op: string,
  refresh: string[],
): ReturnType<typeof useMutation<T, Error, Parameters>> {
  const { fhir } = useSession();
  const client = useQueryClient();
  return useMutation<T, Error, Parameters>({
    mutationFn: (body) => operation<T>(fhir, `Encounter/${encodeURIComponent(encounterId ?? '')}/$${op}`, body),
    onSuccess: () => {
      for (const type of refresh) {
        void client.invalidateQueries({ queryKey: [type] });
      }
    },
  });
}

/** The prescription with this national code: its MedicationRequests (of the given visit when known). */
export function usePrescription(
  code: string | undefined,
  encounterId: string | undefined,
): UseQueryResult<{ requests: MedicationRequest[]; bundle: Bundle }> {
  const { fhir } = useSession();
  return useQuery({
    queryKey: ['MedicationRequest', 'prescription', code, encounterId],
    enabled: !!code,
    queryFn: async () => {
      const bundle = await fhir.search('MedicationRequest', [
        ...(encounterId
          ? ([['encounter', `Encounter/${encounterId}`]] as [string, string][])
          : ([['identifier', code ?? '']] as [string, string][])),
        ['_include', 'MedicationRequest:subject'],
        ['_include', 'MedicationRequest:requester'],
        ['_include', 'MedicationRequest:encounter'],
        ['_count', '100'],
      ]);
      const requests = entriesOf<MedicationRequest>(bundle, 'MedicationRequest').filter(
        (m) => m.groupIdentifier?.value === code || m.identifier?.some((i) => i.value === code),
      );
      return { requests, bundle };
    },
  });
}

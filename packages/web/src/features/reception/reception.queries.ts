import type { Bundle, Encounter, Location, Parameters, Patient, Resource } from '@medplum/fhirtypes';
import {
  useMutation,
  type UseMutationResult,
  useQuery,
  useQueryClient,
  type UseQueryResult,
} from '@tanstack/react-query';
import { entriesOf, type FhirClient } from '../../api/fhir.ts';
import { useSession } from '../../auth/AuthContext.tsx';
import {
  bhytCheckParameters,
  type BhytResult,
  bhytResultOf,
  candidatesOf,
  type CheckedIn,
  checkedInOf,
  clinicRoomsOf,
  type MatchCandidate,
  matchParameters,
  patientFromCard,
  registeredEncounterId,
  registerVisitParameters,
  type RoomQueue,
  roomOf,
  roomsOf,
  type ScannedCard,
  ticketView,
  type TicketView,
  type VisitType,
} from './reception.model.ts';

/** `Patient/$match` for a scanned card (asked once per card). */
export function useMatch(card: ScannedCard | undefined): UseQueryResult<MatchCandidate[]> {
  const { fhir } = useSession();
  return useQuery({
    queryKey: ['Patient', '$match', card?.idNumber, card?.name, card?.birthDate],
    enabled: !!card,
    staleTime: 0,
    queryFn: async () =>
      candidatesOf(
        await fhir.request<Bundle>('Patient/$match', { method: 'POST', body: matchParameters(card as ScannedCard) }),
      ),
  });
}

/** A new Patient from the card (plain `POST Patient`). */
export function useCreatePatient(): UseMutationResult<Patient, Error, ScannedCard> {
  const { fhir } = useSession();
  return useMutation({
    mutationFn: (card: ScannedCard) =>
      fhir.request<Patient>('Patient', { method: 'POST', body: patientFromCard(card) }),
  });
}

export function useBhytCheck(): UseMutationResult<
  BhytResult,
  Error,
  { cardNumber: string; name?: string; birthDate?: string; patient?: string }
> {
  const { fhir } = useSession();
  return useMutation({
    mutationFn: async (input) =>
      bhytResultOf(
        await fhir.request<Parameters>('Coverage/$bhyt-check', { method: 'POST', body: bhytCheckParameters(input) }),
      ),
  });
}

/**
 * The rooms' queues. The key starts with 'Encounter', so `useLiveInvalidate(['Encounter'])` refreshes it whenever a
 * visit is registered or called; the interval is a fallback while the live channel reconnects.
 */
export function useQueueSummary(department?: string): UseQueryResult<RoomQueue[]> {
  const { fhir } = useSession();
  return useQuery({
    queryKey: ['Encounter', '$queue-summary', department ?? ''],
    // fresh on every mount (the live channel only tells mounted screens), then kept fresh by it
    staleTime: 0,
    refetchInterval: 30_000,
    queryFn: async () =>
      roomsOf(
        await fhir.request<Parameters>(
          `Location/$queue-summary${department ? `?department=${encodeURIComponent(department)}` : ''}`,
        ),
      ),
  });
}

/** The clinic rooms a visit can go to, with today's queues (live through the summary's 'Encounter' key). */
export function useClinicRooms(): { data?: RoomQueue[]; isLoading: boolean; error: unknown; refetch: () => void } {
  const { fhir } = useSession();
  const directory = useQuery({
    queryKey: ['Location', 'rooms'],
    staleTime: 5 * 60_000,
    queryFn: () => fhir.search<Location>('Location', { _count: '500' }),
  });
  const queues = useQueueSummary();
  const data =
    directory.data && queues.data
      ? clinicRoomsOf(entriesOf<Location>(directory.data, 'Location'), queues.data)
      : undefined;
  return {
    data,
    isLoading: directory.isLoading || queues.isLoading,
    error: directory.error ?? queues.error,
    refetch: () => {
      void directory.refetch();
      void queues.refetch();
    },
  };
}

export function useRegisterVisit(): UseMutationResult<
  string,
  Error,
  { patient: string; visitType: VisitType; reason: string; location: string; coverage?: string }
> {
  const { fhir } = useSession();
  const client = useQueryClient();
  return useMutation({
    onSuccess: () => void client.invalidateQueries({ queryKey: ['Encounter'] }),
    mutationFn: async (input) => {
      const out = await fhir.request<Parameters>('Encounter/$register-visit', {
        method: 'POST',
        body: registerVisitParameters(input),
      });
      const id = registeredEncounterId(out);
      if (!id) {
        throw new Error('no encounter in the answer');
      }
      return id;
    },
  });
}

async function readOptional<T extends Resource>(
  fhir: FhirClient,
  reference: string | undefined,
): Promise<T | undefined> {
  const [type, id] = reference?.split('/') ?? [];
  if (!type || !id) {
    return undefined;
  }
  try {
    return await fhir.read<T>(type as T['resourceType'], id);
  } catch {
    return undefined; // the ticket still prints with the names the Encounter carries
  }
}

/** The ticket of one visit: the Encounter, its patient, room and department. */
export function useTicket(encounterId: string): UseQueryResult<TicketView> {
  const { fhir } = useSession();
  return useQuery({
    queryKey: ['Encounter', 'ticket', encounterId],
    queryFn: async () => {
      const encounter = await fhir.read<Encounter>('Encounter', encounterId);
      const [patient, room, department] = await Promise.all([
        readOptional<Patient>(fhir, encounter.subject?.reference),
        readOptional(fhir, roomOf(encounter)?.reference),
        readOptional(fhir, encounter.serviceProvider?.reference),
      ]);
      return ticketView({ encounter, patient, room, department });
    },
  });
}

/**
 * Checks in a patient who booked in the portal (`Appointment/$check-in` with the scanned or typed code) and reads
 * their record, so the visit can be registered in the booked room.
 */
export function useCheckIn(): UseMutationResult<{ checkedIn: CheckedIn; patient: Patient }, Error, string> {
  const { fhir } = useSession();
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (code: string) => {
      const answer = await fhir.request<Parameters>('Appointment/$check-in', {
        method: 'POST',
        body: { resourceType: 'Parameters', parameter: [{ name: 'code', valueString: code }] },
      });
      const checkedIn = checkedInOf(answer);
      if (!checkedIn?.patientId) {
        throw new Error('The check-in answer names no patient');
      }
      const patient = await fhir.request<Patient>(`Patient/${encodeURIComponent(checkedIn.patientId)}`);
      return { checkedIn, patient };
    },
    onSuccess: () => void client.invalidateQueries({ queryKey: ['Appointment'] }),
  });
}

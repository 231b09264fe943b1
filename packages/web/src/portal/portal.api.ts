/** The portal's calls to Sen's API, as react-query hooks (query keys start with the resource type). */
import type {
  AuditEvent,
  Bundle,
  Consent,
  Parameters,
  ParametersParameter,
  Practitioner,
  Schedule,
  Slot,
} from '@medplum/fhirtypes';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useContext } from 'react';
import { entriesOf, type FhirClient } from '../api/fhir.ts';
import { type PortalRecord, splitRecord } from './portal.logic.ts';

export interface PortalPerson {
  id: string;
  name: string;
  kind: 'self' | 'guardian' | 'granted';
}

export interface PortalSession {
  fhir: FhirClient;
  /** The signed-in patient. */
  selfId: string;
  /** Whose record is shown (self, a child, or someone who granted access). */
  activeId: string;
  setActive(id: string): void;
  people: PortalPerson[];
}

export const PortalContext = createContext<PortalSession | undefined>(undefined);

export function usePortal(): PortalSession {
  const s = useContext(PortalContext);
  if (!s) {
    throw new Error('usePortal outside the portal');
  }
  return s;
}

export function operation<T = Parameters>(
  fhir: FhirClient,
  path: string,
  parameter: ParametersParameter[] = [],
): Promise<T> {
  return fhir.request<T>(path, { method: 'POST', body: { resourceType: 'Parameters', parameter } });
}

export function useRecord(patientId: string): ReturnType<typeof useQuery<PortalRecord>> {
  const { fhir } = usePortal();
  return useQuery({
    queryKey: ['Patient', patientId, 'portal-record'],
    queryFn: async () => splitRecord(await fhir.request<Bundle>(`Patient/${patientId}/$portal-record`)),
  });
}

export function useFamily(patientId: string): ReturnType<typeof useQuery<Parameters>> {
  const { fhir } = usePortal();
  return useQuery({
    queryKey: ['RelatedPerson', patientId, 'family'],
    queryFn: () => fhir.request<Parameters>(`Patient/${patientId}/$family`),
  });
}

export interface ScheduleOption {
  schedule: Schedule;
  label: string;
}

export function useSchedules(): ReturnType<typeof useQuery<ScheduleOption[]>> {
  const { fhir } = usePortal();
  return useQuery({
    queryKey: ['Schedule', 'active'],
    queryFn: async () => {
      const b = await fhir.search('Schedule', [
        ['active', 'true'],
        ['_include', 'Schedule:actor'],
        ['_count', '100'],
      ]);
      const named = new Map<string, string>();
      for (const e of b.entry ?? []) {
        const r = e.resource as { resourceType: string; id?: string; name?: unknown } | undefined;
        if (r && r.resourceType !== 'Schedule' && r.id) {
          const n = r.name as { text?: string; family?: string; given?: string[] }[] | string | undefined;
          const text =
            typeof n === 'string' ? n : (n?.[0]?.text ?? [n?.[0]?.family, ...(n?.[0]?.given ?? [])].join(' '));
          named.set(`${r.resourceType}/${r.id}`, text.trim());
        }
      }
      return entriesOf<Schedule>(b, 'Schedule').map((s) => ({
        schedule: s,
        label: [
          s.specialty?.[0]?.text,
          ...(s.actor ?? []).map((a) => a.display ?? named.get(a.reference ?? '')).filter(Boolean),
        ]
          .filter(Boolean)
          .join(' — '),
      }));
    },
  });
}

export function useFreeSlots(scheduleId: string | undefined): ReturnType<typeof useQuery<Slot[]>> {
  const { fhir } = usePortal();
  return useQuery({
    queryKey: ['Slot', scheduleId],
    enabled: !!scheduleId,
    queryFn: async () =>
      entriesOf<Slot>(
        await fhir.search('Slot', [
          ['schedule', `Schedule/${scheduleId}`],
          ['status', 'free'],
          ['start', `ge${new Date().toISOString()}`],
          ['_sort', 'start'],
          ['_count', '60'],
        ]),
        'Slot',
      ),
  });
}

export function useShareLinks(patientId: string): ReturnType<typeof useQuery<Parameters>> {
  const { fhir } = usePortal();
  return useQuery({
    queryKey: ['portal-share', patientId],
    queryFn: () => fhir.request<Parameters>(`Patient/${patientId}/$share-links`),
  });
}

export function useRightsRequests(patientId: string): ReturnType<typeof useQuery<Parameters>> {
  const { fhir } = usePortal();
  return useQuery({
    queryKey: ['portal-rights', patientId],
    queryFn: () => fhir.request<Parameters>(`Patient/${patientId}/$rights-requests`),
  });
}

export interface AccessLogEntry {
  event: AuditEvent;
  who: string;
}

/** "Who looked at my record": the audit trail of the patient, with practitioners' names. */
export function useAccessLog(patientId: string): ReturnType<typeof useQuery<AccessLogEntry[]>> {
  const { fhir } = usePortal();
  return useQuery({
    queryKey: ['AuditEvent', patientId],
    queryFn: async () => {
      const events = entriesOf<AuditEvent>(
        await fhir.search('AuditEvent', [
          ['patient', patientId],
          ['_count', '50'],
        ]),
        'AuditEvent',
      );
      const practitioners = [
        ...new Set(
          events
            .flatMap((e) => e.agent ?? [])
            .map((a) => a.who?.reference ?? '')
            .filter((r) => r.startsWith('Practitioner/'))
            .map((r) => r.slice('Practitioner/'.length)),
        ),
      ];
      const names = new Map<string, string>();
      if (practitioners.length) {
        const b = await fhir.search('Practitioner', [['_id', practitioners.join(',')]]);
        for (const p of entriesOf<Practitioner>(b, 'Practitioner')) {
          names.set(
            `Practitioner/${p.id}`,
            p.name?.[0]?.text ?? [p.name?.[0]?.family, ...(p.name?.[0]?.given ?? [])].join(' '),
          );
        }
      }
      return events.map((event) => {
        const agent = event.agent?.[0];
        const ref = agent?.who?.reference;
        const who = (ref && names.get(ref)) ?? ref ?? agent?.who?.identifier?.value ?? '';
        return { event, who };
      });
    },
  });
}

export function useConsents(patientId: string): ReturnType<typeof useQuery<Consent[]>> {
  const { fhir } = usePortal();
  return useQuery({
    queryKey: ['Consent', patientId],
    queryFn: async () =>
      entriesOf<Consent>(
        await fhir.search('Consent', [
          ['patient', `Patient/${patientId}`],
          ['_count', '100'],
        ]),
        'Consent',
      ),
  });
}

/** A mutation that refreshes the given query keys' families when it succeeds. */
export function usePortalMutation<TIn, TOut>(
  fn: (input: TIn) => Promise<TOut>,
  refresh: string[],
): ReturnType<typeof useMutation<TOut, Error, TIn>> {
  const client = useQueryClient();
  return useMutation<TOut, Error, TIn>({
    mutationFn: fn,
    onSuccess: async () => {
      await Promise.all(refresh.map((k) => client.invalidateQueries({ queryKey: [k] })));
    },
  });
}

/** Saves bytes as a file the browser downloads. */
export function download(data: BlobPart, type: string, name: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

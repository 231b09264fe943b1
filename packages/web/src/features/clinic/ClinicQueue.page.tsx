import type { Bundle, Encounter, Patient } from '@medplum/fhirtypes';
import { Alert, Badge, Button, Card, Group, Kbd, Select, Stack, Table, Text, Title } from '@mantine/core';
import { useHotkeys } from '@mantine/hooks';
import { type ReactElement, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { entriesOf, resolve } from '../../api/fhir.ts';
import { displayName } from '../../app/staff.ts';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states/States.tsx';
import { ageLabel, paramNamed, queueGroups, queueNumber, type QueueStatus } from './clinic.logic.ts';
import { saveRoom, savedRoom, useClinicLive, useQueue, useQueueActions, useRooms } from './clinic.queries.ts';

const STATUS_COLOR: Record<QueueStatus, string> = {
  waiting: 'blue',
  called: 'orange',
  'in-progress': 'green',
  skipped: 'gray',
  done: 'gray',
};

function minutesSince(iso: string | undefined, now: number): number | undefined {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(t) ? undefined : Math.max(0, Math.round((now - t) / 60_000));
}

function QueueTable(props: {
  title: string;
  rows: Encounter[];
  bundle: Bundle | undefined;
  actions?: (e: Encounter) => ReactElement;
}): ReactElement | null {
  const { t, i18n } = useTranslation();
  const { title, rows, bundle, actions } = props;
  const now = Date.now();
  if (rows.length === 0) {
    return null;
  }
  return (
    <Stack gap="xs">
      <Title order={3}>{title}</Title>
      <Table.ScrollContainer minWidth={560}>
        <Table striped aria-label={title}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('clinic.queue.number')}</Table.Th>
              <Table.Th>{t('clinic.queue.patient')}</Table.Th>
              <Table.Th>{t('clinic.queue.age')}</Table.Th>
              <Table.Th>{t('clinic.queue.reason')}</Table.Th>
              <Table.Th>{t('clinic.queue.waited')}</Table.Th>
              {actions && <Table.Th>{t('clinic.queue.actions')}</Table.Th>}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((e) => {
              const p = resolve<Patient>(bundle, e.subject?.reference);
              const waited = minutesSince(e.period?.start ?? e.meta?.lastUpdated, now);
              return (
                <Table.Tr key={e.id}>
                  <Table.Td fw={700} fz="lg">
                    {queueNumber(e)}
                  </Table.Td>
                  <Table.Td fw={600}>{displayName(p)}</Table.Td>
                  <Table.Td>
                    {[ageLabel(p?.birthDate, new Date(), i18n.language), p?.gender ? t(`clinic.sex.${p.gender}`) : '']
                      .filter(Boolean)
                      .join(' · ')}
                  </Table.Td>
                  <Table.Td>{e.reasonCode?.[0]?.text ?? e.reasonCode?.[0]?.coding?.[0]?.display}</Table.Td>
                  <Table.Td>{waited === undefined ? '' : t('clinic.queue.minutes', { count: waited })}</Table.Td>
                  {actions && <Table.Td>{actions(e)}</Table.Td>}
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  );
}

/** The doctor's room queue: choose the room once, call the next number, skip, recall; live from the change feed. */
export function ClinicQueuePage(): ReactElement {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const rooms = useRooms();
  const [roomId, setRoomId] = useState<string | undefined>(savedRoom);
  const queue = useQueue(roomId);
  const { callNext, skip, recall } = useQueueActions(roomId);
  const [notice, setNotice] = useState<string>();
  useClinicLive(['Encounter']);

  const encounters = entriesOf<Encounter>(queue.data, 'Encounter');
  const groups = queueGroups(encounters);
  const current = [...groups['in-progress'], ...groups.called];
  const head = current[0];
  const room = rooms.data?.find((r) => r.id === roomId);

  const doCallNext = (): void => {
    if (!roomId || callNext.isPending) {
      return;
    }
    setNotice(undefined);
    callNext.mutate(undefined, {
      onSuccess: (out) => {
        const called = paramNamed(out, 'encounter')?.resource as Encounter | undefined;
        if (called?.id) {
          void navigate(`/clinic/visit/${called.id}`);
        } else {
          setNotice(t('clinic.queue.noneWaiting'));
        }
      },
    });
  };
  useHotkeys([
    ['n', doCallNext],
    ['s', () => head?.id && skip.mutate(head.id)],
    ['r', () => head?.id && recall.mutate(head.id)],
    ['o', () => head?.id && void navigate(`/clinic/visit/${head.id}`)],
  ]);

  const chooseRoom = (id: string | null): void => {
    saveRoom(id ?? undefined);
    setRoomId(id ?? undefined);
  };
  const actionError = callNext.error ?? skip.error ?? recall.error;

  return (
    <Stack>
      <Group justify="space-between" align="flex-end" wrap="wrap">
        <Title order={2}>{t('clinic.queue.title')}</Title>
        <Select
          label={t('clinic.queue.room')}
          placeholder={t('clinic.queue.chooseRoom')}
          data={(rooms.data ?? []).map((r) => ({ value: r.id ?? '', label: r.name ?? r.id ?? '' }))}
          value={roomId ?? null}
          onChange={chooseRoom}
          w={280}
          allowDeselect={false}
        />
      </Group>
      {rooms.error && <ErrorState error={rooms.error} onRetry={() => void rooms.refetch()} />}
      {!roomId ? (
        <Alert color="blue" role="status">
          {t('clinic.queue.chooseRoomHint')}
        </Alert>
      ) : (
        <>
          <Card withBorder padding="md" aria-label={t('clinic.queue.current')}>
            <Group justify="space-between" wrap="wrap" gap="md">
              <Stack gap={2}>
                <Text size="sm" c="dimmed">
                  {room?.name} · {t('clinic.queue.current')}
                </Text>
                {head ? (
                  <Group gap="sm">
                    <Text fz={32} fw={800} aria-label={t('clinic.queue.currentNumber')}>
                      {queueNumber(head)}
                    </Text>
                    <Text fw={600}>{displayName(resolve<Patient>(queue.data, head.subject?.reference))}</Text>
                    <Badge color={STATUS_COLOR['in-progress']}>{t('clinic.queue.status_in-progress')}</Badge>
                  </Group>
                ) : (
                  <Text fw={600}>{t('clinic.queue.nobodyInRoom')}</Text>
                )}
                <Text size="sm">{t('clinic.queue.waitingCount', { count: groups.waiting.length })}</Text>
              </Stack>
              <Group gap="sm" wrap="wrap">
                {head && (
                  <>
                    <Button variant="light" onClick={() => void navigate(`/clinic/visit/${head.id}`)}>
                      {t('clinic.queue.openChart')} <Kbd ml={6}>O</Kbd>
                    </Button>
                    <Button
                      variant="default"
                      loading={recall.isPending}
                      onClick={() => head.id && recall.mutate(head.id)}
                    >
                      {t('clinic.queue.recall')} <Kbd ml={6}>R</Kbd>
                    </Button>
                    <Button variant="default" loading={skip.isPending} onClick={() => head.id && skip.mutate(head.id)}>
                      {t('clinic.queue.skip')} <Kbd ml={6}>S</Kbd>
                    </Button>
                  </>
                )}
                <Button size="lg" loading={callNext.isPending} onClick={doCallNext}>
                  {t('clinic.queue.callNext')} <Kbd ml={8}>N</Kbd>
                </Button>
              </Group>
            </Group>
          </Card>
          {notice && (
            <Alert color="yellow" role="status">
              {notice}
            </Alert>
          )}
          {actionError && <ErrorState error={actionError} />}
          {queue.isLoading && <LoadingState />}
          {queue.error && <ErrorState error={queue.error} onRetry={() => void queue.refetch()} />}
          {queue.data && encounters.length === 0 && <EmptyState text={t('clinic.queue.empty')} />}
          <QueueTable title={t('clinic.queue.waiting')} rows={groups.waiting} bundle={queue.data} />
          <QueueTable
            title={t('clinic.queue.skipped')}
            rows={groups.skipped}
            bundle={queue.data}
            actions={(e) => (
              <Button size="xs" variant="light" onClick={() => e.id && recall.mutate(e.id)}>
                {t('clinic.queue.recall')}
              </Button>
            )}
          />
          <QueueTable
            title={t('clinic.queue.inRoom')}
            rows={current.slice(1)}
            bundle={queue.data}
            actions={(e) => (
              <Button size="xs" variant="light" onClick={() => void navigate(`/clinic/visit/${e.id}`)}>
                {t('clinic.queue.openChart')}
              </Button>
            )}
          />
          <QueueTable
            title={t('clinic.queue.done')}
            rows={groups.done}
            bundle={queue.data}
            actions={(e) => (
              <Button size="xs" variant="subtle" onClick={() => void navigate(`/clinic/visit/${e.id}`)}>
                {t('clinic.queue.openChart')}
              </Button>
            )}
          />
          <Text size="xs" c="dimmed">
            {t('clinic.queue.shortcuts')}
          </Text>
        </>
      )}
    </Stack>
  );
}

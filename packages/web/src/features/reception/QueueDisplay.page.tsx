import { Badge, Box, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { type ReactElement, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { useLiveInvalidate } from '../../api/live.ts';
import { useSession } from '../../auth/AuthContext.tsx';
import { formatDate } from '../../ui/format.ts';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states/States.tsx';
import { formatQueueNumber, type RoomQueue } from './reception.model.ts';
import { useQueueSummary } from './reception.queries.ts';

function Clock(): ReactElement {
  const { i18n } = useTranslation();
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const id = setInterval(() => setNow(new Date()), 15_000);
    return () => clearInterval(id);
  }, []);
  return (
    <Text size="xl" fw={600}>
      {formatDate(now.toISOString(), i18n.language)}
    </Text>
  );
}

function RoomCard({ room }: { room: RoomQueue }): ReactElement {
  const { t } = useTranslation();
  const earlier = room.recentCalled.filter((n) => n !== room.current).slice(0, 3);
  return (
    <Box
      component="section"
      aria-label={room.name}
      p="lg"
      style={{ borderRadius: 16, background: '#0b3d2e', border: '2px solid #1d7a5c' }}
    >
      <Text size="xl" fw={700} c="white">
        {room.name}
      </Text>
      {room.departmentName && (
        <Text size="md" c="#a8d5c5">
          {room.departmentName}
        </Text>
      )}
      <Text size="lg" c="#a8d5c5" mt="sm">
        {t('reception.display.now')}
      </Text>
      <Text
        data-testid="now-serving"
        aria-live="polite"
        c={room.current === undefined ? '#7fa99a' : '#ffd84d'}
        fw={800}
        style={{
          fontSize: room.current === undefined ? 40 : 110,
          lineHeight: 1.05,
          fontVariantNumeric: 'tabular-nums',
        }}
      >
        {room.current === undefined ? t('reception.display.none') : formatQueueNumber(room.current)}
      </Text>
      <Group justify="space-between" mt="sm">
        <Text size="lg" c="white" data-testid="waiting">
          {t('reception.display.waiting', { count: room.waiting })}
        </Text>
        {earlier.length > 0 && (
          <Group gap={6}>
            <Text size="sm" c="#a8d5c5">
              {t('reception.display.recent')}
            </Text>
            {earlier.map((n) => (
              <Badge key={n} size="lg" variant="outline" color="gray.3">
                {formatQueueNumber(n)}
              </Badge>
            ))}
          </Group>
        )}
      </Group>
    </Box>
  );
}

/**
 * The waiting-room screen: per room the number being served, the numbers called just before and how many wait.
 * Numbers only, never names. `?department=` limits it to one department's rooms. Refreshed by the live channel.
 */
export function QueueDisplayPage(): ReactElement {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const department = params.get('department') ?? undefined;
  const { staff } = useSession();
  useLiveInvalidate(['Encounter']);
  const rooms = useQueueSummary(department);
  const list = rooms.data ?? [];
  return (
    <Box mih="100vh" p="xl" style={{ background: '#062219', color: 'white' }}>
      <Stack>
        <Group justify="space-between">
          <Stack gap={0}>
            <Text size="lg" c="#a8d5c5">
              {staff?.facility?.name}
            </Text>
            <Title order={1} c="white" style={{ fontSize: 44 }}>
              {t('reception.display.title')}
            </Title>
          </Stack>
          <Stack gap={0} align="flex-end">
            <Clock />
            <Badge color="teal" variant="dot" size="lg">
              {t('reception.display.live')}
            </Badge>
          </Stack>
        </Group>
        {rooms.isLoading && <LoadingState />}
        {rooms.error && <ErrorState error={rooms.error} onRetry={() => void rooms.refetch()} />}
        {rooms.data && list.length === 0 && <EmptyState text={t('reception.display.empty')} />}
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="lg">
          {list.map((r) => (
            <RoomCard key={r.location} room={r} />
          ))}
        </SimpleGrid>
      </Stack>
    </Box>
  );
}

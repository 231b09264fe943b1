import {
  Alert,
  Badge,
  Button,
  Card,
  CopyButton,
  Group,
  SegmentedControl,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { type ReactElement, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { QrCode } from '../features/clinic/QrCode.tsx';
import { EmptyState, ErrorState, LoadingState } from '../ui/states/States.tsx';
import { operation, usePortal, usePortalMutation, useShareLinks } from './portal.api.ts';
import { param, part, viDate, viTime } from './portal.logic.ts';

const DURATIONS = ['24', '72', '168'] as const;

export function SharingPage(): ReactElement {
  const { t } = useTranslation();
  const { selfId, fhir } = usePortal();
  const links = useShareLinks(selfId);
  const [hours, setHours] = useState<string>('72');
  const [label, setLabel] = useState('');
  const [made, setMade] = useState<{ url: string; expiresAt: string }>();
  const create = usePortalMutation(async () => {
    const p = await operation(fhir, `Patient/${selfId}/$share-link`, [
      { name: 'hours', valueInteger: Number(hours) },
      ...(label.trim() ? [{ name: 'label', valueString: label.trim() }] : []),
    ]);
    return {
      url: param(p, 'url')?.valueUrl ?? '',
      expiresAt: part(param(p, 'link'), 'expiresAt')?.valueDateTime ?? '',
    };
  }, ['portal-share', 'AuditEvent']);
  const revoke = usePortalMutation(
    (id: string) => operation(fhir, `Patient/${selfId}/$revoke-share`, [{ name: 'link', valueString: id }]),
    ['portal-share'],
  );
  return (
    <Stack gap="sm">
      <Title order={2} size="h4">
        {t('portal.sharing.title')}
      </Title>
      <Text size="sm">{t('portal.sharing.intro')}</Text>
      <Card withBorder p="sm">
        <Stack gap="xs">
          <Text size="sm" fw={600}>
            {t('portal.sharing.validFor')}
          </Text>
          <SegmentedControl
            value={hours}
            onChange={setHours}
            data={DURATIONS.map((h) => ({ value: h, label: t(`portal.sharing.hours.${h}`) }))}
            aria-label={t('portal.sharing.validFor')}
          />
          <TextInput
            label={t('portal.sharing.label')}
            placeholder={t('portal.sharing.labelHint')}
            value={label}
            onChange={(e) => setLabel(e.currentTarget.value)}
            maxLength={200}
          />
          {create.error && (
            <Alert color="red" role="alert">
              {create.error.message}
            </Alert>
          )}
          <Button loading={create.isPending} onClick={() => create.mutate(undefined, { onSuccess: (r) => setMade(r) })}>
            {t('portal.sharing.create')}
          </Button>
        </Stack>
      </Card>
      {made && (
        <Card withBorder p="md" bg="#f3faf7" role="status" aria-label={t('portal.sharing.ready')}>
          <Stack align="center" gap="xs">
            <Text fw={700} c="#0f6b4f">
              {t('portal.sharing.ready')}
            </Text>
            <QrCode value={made.url} size={200} label={t('portal.sharing.qr')} />
            <Text size="xs" style={{ wordBreak: 'break-all' }} data-testid="share-url">
              {made.url}
            </Text>
            <Text size="sm">
              {t('portal.sharing.until', { date: viDate(made.expiresAt), time: viTime(made.expiresAt) })}
            </Text>
            <CopyButton value={made.url}>
              {({ copied, copy }) => (
                <Button size="xs" variant="light" onClick={copy}>
                  {copied ? t('portal.sharing.copied') : t('portal.sharing.copy')}
                </Button>
              )}
            </CopyButton>
          </Stack>
        </Card>
      )}
      <Title order={3} size="h5">
        {t('portal.sharing.mine')}
      </Title>
      {links.isLoading ? (
        <LoadingState />
      ) : links.error ? (
        <ErrorState error={links.error} />
      ) : (links.data?.parameter ?? []).length === 0 ? (
        <EmptyState text={t('portal.sharing.none')} />
      ) : (
        <Stack gap="xs" aria-label={t('portal.sharing.mine')}>
          {(links.data?.parameter ?? []).map((l) => {
            const id = part(l, 'id')?.valueString as string;
            const status = part(l, 'status')?.valueCode ?? 'active';
            const expires = part(l, 'expiresAt')?.valueDateTime;
            return (
              <Card key={id} withBorder p="xs">
                <Group justify="space-between" wrap="nowrap" align="flex-start">
                  <Stack gap={2}>
                    <Text size="sm" fw={600}>
                      {part(l, 'label')?.valueString ?? t('portal.sharing.unnamed')}
                    </Text>
                    <Text size="xs" c="dimmed">
                      {t('portal.sharing.until', { date: viDate(expires), time: viTime(expires) })} ·{' '}
                      {t('portal.sharing.uses', { count: part(l, 'uses')?.valueInteger ?? 0 })}
                    </Text>
                    <Badge color={status === 'active' ? 'teal' : 'gray'} variant="light" size="sm">
                      {t(`portal.sharing.status.${status}`)}
                    </Badge>
                  </Stack>
                  {status === 'active' && (
                    <Button size="xs" color="red" variant="light" onClick={() => revoke.mutate(id)}>
                      {t('portal.sharing.revoke')}
                    </Button>
                  )}
                </Group>
              </Card>
            );
          })}
        </Stack>
      )}
    </Stack>
  );
}

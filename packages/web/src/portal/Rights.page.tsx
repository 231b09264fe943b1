import { Alert, Badge, Button, Card, Group, Select, Stack, Switch, Text, Textarea, Title } from '@mantine/core';
import type { Binary, Bundle, Consent } from '@medplum/fhirtypes';
import { type ReactElement, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { EmptyState, ErrorState, LoadingState } from '../ui/states/States.tsx';
import {
  download,
  operation,
  useAccessLog,
  useConsents,
  usePortal,
  usePortalMutation,
  useRightsRequests,
} from './portal.api.ts';
import { part, textOf, viDate, viTime } from './portal.logic.ts';

const KINDS = ['correction', 'access', 'restriction', 'deletion'] as const;

function Downloads(): ReactElement {
  const { t } = useTranslation();
  const { selfId, fhir } = usePortal();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState<string>();
  const run = async (what: 'json' | 'pdf'): Promise<void> => {
    setBusy(what);
    setError(undefined);
    try {
      if (what === 'json') {
        const doc = await fhir.request<Bundle>(`Patient/${selfId}/$summary`);
        download(JSON.stringify(doc, null, 2), 'application/fhir+json', 'ho-so-suc-khoe-ips.json');
      } else {
        const bin = await fhir.request<Binary>(`Patient/${selfId}/$summary-pdf`);
        const bytes = Uint8Array.from(atob(bin.data ?? ''), (c) => c.charCodeAt(0));
        download(bytes, 'application/pdf', 'ho-so-suc-khoe.pdf');
      }
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <Card withBorder p="sm" component="section" aria-label={t('portal.rights.download')}>
      <Title order={3} size="h5" mb="xs">
        {t('portal.rights.download')}
      </Title>
      <Text size="xs" c="dimmed" mb="xs">
        {t('portal.rights.downloadHint')}
      </Text>
      {error && (
        <Alert color="red" role="alert">
          {error}
        </Alert>
      )}
      <Group gap="xs">
        <Button size="sm" variant="light" loading={busy === 'pdf'} onClick={() => void run('pdf')}>
          {t('portal.rights.pdf')}
        </Button>
        <Button size="sm" variant="light" loading={busy === 'json'} onClick={() => void run('json')}>
          {t('portal.rights.json')}
        </Button>
      </Group>
    </Card>
  );
}

function Requests(): ReactElement {
  const { t } = useTranslation();
  const { selfId, fhir } = usePortal();
  const list = useRightsRequests(selfId);
  const [kind, setKind] = useState<string | null>('correction');
  const [detail, setDetail] = useState('');
  const send = usePortalMutation(
    () =>
      operation(fhir, `Patient/${selfId}/$rights-request`, [
        { name: 'kind', valueCode: kind ?? 'correction' },
        { name: 'detail', valueString: detail.trim() },
      ]),
    ['portal-rights'],
  );
  return (
    <Card withBorder p="sm" component="section" aria-label={t('portal.rights.requests')}>
      <Title order={3} size="h5" mb="xs">
        {t('portal.rights.requests')}
      </Title>
      <Stack gap="xs">
        <Select
          label={t('portal.rights.kind')}
          data={KINDS.map((k) => ({ value: k, label: t(`portal.rights.kinds.${k}`) }))}
          value={kind}
          onChange={setKind}
          comboboxProps={{ withinPortal: true }}
        />
        <Textarea
          label={t('portal.rights.detail')}
          placeholder={t('portal.rights.detailHint')}
          autosize
          minRows={2}
          value={detail}
          onChange={(e) => setDetail(e.currentTarget.value)}
          maxLength={4000}
        />
        {send.error && (
          <Alert color="red" role="alert">
            {send.error.message}
          </Alert>
        )}
        <Button
          disabled={detail.trim().length < 5}
          loading={send.isPending}
          onClick={() => send.mutate(undefined, { onSuccess: () => setDetail('') })}
        >
          {t('portal.rights.send')}
        </Button>
        {list.isLoading ? (
          <LoadingState />
        ) : (
          (list.data?.parameter ?? []).map((r) => {
            const id = part(r, 'id')?.valueString as string;
            const status = part(r, 'status')?.valueCode ?? 'received';
            const overdue = part(r, 'overdue')?.valueBoolean;
            return (
              <Card key={id} withBorder p="xs">
                <Stack gap={2}>
                  <Text size="sm" fw={600}>
                    {t(`portal.rights.kinds.${part(r, 'kind')?.valueCode ?? 'correction'}`)} ·{' '}
                    {viDate(part(r, 'receivedAt')?.valueDateTime)}
                  </Text>
                  <Text size="xs">{part(r, 'detail')?.valueString}</Text>
                  <Text size="xs" c="dimmed">
                    {t('portal.rights.ackBy', { date: viDate(part(r, 'acknowledgeBy')?.valueDateTime) })} ·{' '}
                    {t('portal.rights.dueBy', { date: viDate(part(r, 'due')?.valueDateTime) })}
                  </Text>
                  {part(r, 'answer') && <Text size="xs">{part(r, 'answer')?.valueString}</Text>}
                  <Badge color={overdue ? 'red' : status === 'completed' ? 'teal' : 'blue'} variant="light" size="sm">
                    {overdue ? t('portal.rights.overdue') : t(`portal.rights.status.${status}`)}
                  </Badge>
                </Stack>
              </Card>
            );
          })
        )}
      </Stack>
    </Card>
  );
}

const ACTIONS = [
  'read',
  'vread',
  'history',
  'search',
  'create',
  'update',
  'patch',
  'delete',
  'operation',
  'export',
  'print',
  'login',
  'break-glass',
];

function AccessLog(): ReactElement {
  const { t } = useTranslation();
  const { selfId } = usePortal();
  const log = useAccessLog(selfId);
  const [mine, setMine] = useState(false);
  const rows = (log.data ?? []).filter((x) => mine || x.who !== `Patient/${selfId}`);
  return (
    <Card withBorder p="sm" component="section" aria-label={t('portal.rights.whoLooked')}>
      <Title order={3} size="h5" mb="xs">
        {t('portal.rights.whoLooked')}
      </Title>
      <Switch
        size="xs"
        mb="xs"
        label={t('portal.rights.showMine')}
        checked={mine}
        onChange={(e) => setMine(e.currentTarget.checked)}
      />
      {log.isLoading ? (
        <LoadingState />
      ) : log.error ? (
        <ErrorState error={log.error} />
      ) : rows.length === 0 ? (
        <EmptyState text={t('portal.rights.nobodyLooked')} />
      ) : (
        <Stack gap={4}>
          {rows.map(({ event, who }) => {
            const role = event.agent?.[0]?.role?.[0]?.coding?.[0]?.code ?? event.agent?.[0]?.type?.coding?.[0]?.code;
            const action = (event.subtype ?? []).map((c) => c.code ?? '').find((c) => ACTIONS.includes(c));
            const shared = who.startsWith('share-link:');
            const self = who === `Patient/${selfId}`;
            return (
              <Text key={event.id} size="xs">
                <b>
                  {viDate(event.recorded)} {viTime(event.recorded)}
                </b>{' '}
                — {shared ? t('portal.rights.viaShareLink') : self ? t('portal.rights.you') : who}
                {role && !shared && !self ? ` (${t(`roles.${role}`, { defaultValue: role })})` : ''} ·{' '}
                {action ? t(`portal.rights.actions.${action}`) : (event.type?.display ?? '')}
                {event.outcome && event.outcome !== '0' ? ` · ${t('portal.rights.refused')}` : ''}
              </Text>
            );
          })}
        </Stack>
      )}
    </Card>
  );
}

function Consents(): ReactElement {
  const { t } = useTranslation();
  const { selfId, fhir } = usePortal();
  const consents = useConsents(selfId);
  const withdraw = usePortalMutation(
    (c: Consent) => fhir.request(`Consent/${c.id}`, { method: 'PUT', body: { ...c, status: 'inactive' } }),
    ['Consent', 'RelatedPerson'],
  );
  return (
    <Card withBorder p="sm" component="section" aria-label={t('portal.rights.consents')}>
      <Title order={3} size="h5" mb="xs">
        {t('portal.rights.consents')}
      </Title>
      {withdraw.error && (
        <Alert color="red" role="alert">
          {withdraw.error.message}
        </Alert>
      )}
      {consents.isLoading ? (
        <LoadingState />
      ) : (consents.data ?? []).length === 0 ? (
        <EmptyState text={t('portal.rights.noConsents')} />
      ) : (
        <Stack gap="xs">
          {(consents.data ?? []).map((c) => {
            const purpose = c.category?.[0]?.coding?.[0]?.code ?? '';
            const family = purpose === 'family-sharing';
            return (
              <Group key={c.id} justify="space-between" wrap="nowrap">
                <div>
                  <Text size="sm" fw={600}>
                    {t(`portal.rights.purpose.${purpose}`, { defaultValue: textOf(c.category?.[0]) || purpose })}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {c.provision?.type === 'deny' ? t('portal.rights.denied') : t('portal.rights.permitted')} ·{' '}
                    {viDate(c.dateTime)}
                  </Text>
                </div>
                <Group gap={6} wrap="nowrap">
                  <Badge color={c.status === 'active' ? 'teal' : 'gray'} variant="light">
                    {t(`portal.rights.consentStatus.${c.status}`, { defaultValue: c.status })}
                  </Badge>
                  {c.status === 'active' && !family && (
                    <Button size="xs" variant="light" color="red" onClick={() => withdraw.mutate(c)}>
                      {t('portal.rights.withdraw')}
                    </Button>
                  )}
                </Group>
              </Group>
            );
          })}
          <Text size="xs" c="dimmed">
            {t('portal.rights.familyHint')}
          </Text>
        </Stack>
      )}
    </Card>
  );
}

export function RightsPage(): ReactElement {
  const { t } = useTranslation();
  return (
    <Stack gap="sm">
      <Title order={2} size="h4">
        {t('portal.rights.title')}
      </Title>
      <Text size="xs" c="dimmed">
        {t('portal.rights.law')}
      </Text>
      <Downloads />
      <Requests />
      <AccessLog />
      <Consents />
    </Stack>
  );
}

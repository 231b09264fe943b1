import { Alert, Badge, Button, Card, Group, NumberInput, Select, Stack, Text, TextInput, Title } from '@mantine/core';
import type { Patient, RelatedPerson } from '@medplum/fhirtypes';
import { type ReactElement, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { EmptyState, ErrorState, LoadingState } from '../ui/states/States.tsx';
import { operation, useFamily, usePortal, usePortalMutation } from './portal.api.ts';
import { maskId, nameOf, part, viDate } from './portal.logic.ts';

const ROLES = ['SPS', 'CHILD', 'SON', 'DAU', 'SIB', 'GRPRN', 'GRNDCHILD', 'FAMMEMB'] as const;

export function FamilyPage(): ReactElement {
  const { t } = useTranslation();
  const { selfId, fhir, setActive } = usePortal();
  const family = useFamily(selfId);
  const [name, setName] = useState('');
  const [nationalId, setNationalId] = useState('');
  const [relationship, setRelationship] = useState<string | null>('FAMMEMB');
  const [days, setDays] = useState<number | string>('');
  const grant = usePortalMutation(
    () =>
      operation(fhir, `Patient/${selfId}/$grant-access`, [
        { name: 'name', valueString: name.trim() },
        { name: 'nationalId', valueString: nationalId.trim() },
        { name: 'relationship', valueCode: relationship ?? 'FAMMEMB' },
        ...(typeof days === 'number' && days > 0 ? [{ name: 'days', valueInteger: days }] : []),
      ]),
    ['RelatedPerson', 'Consent'],
  );
  const revoke = usePortalMutation(
    (id: string) =>
      operation(fhir, `Patient/${selfId}/$revoke-access`, [
        { name: 'relatedPerson', valueReference: { reference: `RelatedPerson/${id}` } },
      ]),
    ['RelatedPerson', 'Consent'],
  );
  if (family.isLoading) {
    return <LoadingState />;
  }
  if (family.error) {
    return <ErrorState error={family.error} onRetry={() => void family.refetch()} />;
  }
  const params = family.data?.parameter ?? [];
  const people = params.filter((p) => p.name === 'person');
  const grants = params.filter((p) => p.name === 'grant');
  return (
    <Stack gap="sm">
      <Title order={2} size="h4">
        {t('portal.family.title')}
      </Title>
      <Card withBorder p="sm" component="section" aria-label={t('portal.family.canSee')}>
        <Title order={3} size="h5" mb="xs">
          {t('portal.family.canSee')}
        </Title>
        {people.length === 0 ? (
          <EmptyState text={t('portal.family.nobody')} />
        ) : (
          <Stack gap="xs">
            {people.map((p) => {
              const patient = part(p, 'patient')?.resource as Patient;
              const kind = part(p, 'kind')?.valueCode;
              return (
                <Group key={patient.id} justify="space-between">
                  <div>
                    <Text fw={600}>{nameOf(patient)}</Text>
                    <Badge size="sm" variant="light">
                      {t(`portal.family.kind.${kind ?? 'granted'}`)}
                    </Badge>
                  </div>
                  <Button size="xs" variant="light" onClick={() => setActive(patient.id as string)}>
                    {t('portal.family.view')}
                  </Button>
                </Group>
              );
            })}
          </Stack>
        )}
      </Card>

      <Card withBorder p="sm" component="section" aria-label={t('portal.family.granted')}>
        <Title order={3} size="h5" mb="xs">
          {t('portal.family.granted')}
        </Title>
        {revoke.error && (
          <Alert color="red" role="alert">
            {revoke.error.message}
          </Alert>
        )}
        {grants.length === 0 ? (
          <EmptyState text={t('portal.family.noGrants')} />
        ) : (
          <Stack gap="xs">
            {grants.map((g) => {
              const rp = part(g, 'relatedPerson')?.resource as RelatedPerson;
              const active = part(g, 'active')?.valueBoolean;
              return (
                <Group key={rp.id} justify="space-between" wrap="nowrap">
                  <div>
                    <Text fw={600}>{rp.name?.[0]?.text}</Text>
                    <Text size="xs" c="dimmed">
                      {rp.relationship?.[0]?.text} · {maskId(rp.identifier?.[0]?.value)} ·{' '}
                      {active
                        ? t('portal.family.since', { date: viDate(rp.period?.start) })
                        : t('portal.family.ended', { date: viDate(rp.period?.end) })}
                    </Text>
                  </div>
                  {active && (
                    <Button
                      size="xs"
                      color="red"
                      variant="light"
                      loading={revoke.isPending}
                      onClick={() => revoke.mutate(rp.id as string)}
                    >
                      {t('portal.family.revoke')}
                    </Button>
                  )}
                </Group>
              );
            })}
          </Stack>
        )}
      </Card>

      <Card withBorder p="sm" component="section" aria-label={t('portal.family.grant')}>
        <Title order={3} size="h5" mb="xs">
          {t('portal.family.grant')}
        </Title>
        <Stack gap="xs">
          <Text size="xs" c="dimmed">
            {t('portal.family.notice')}
          </Text>
          <TextInput label={t('portal.family.name')} value={name} onChange={(e) => setName(e.currentTarget.value)} />
          <TextInput
            label={t('portal.family.nationalId')}
            inputMode="numeric"
            value={nationalId}
            onChange={(e) => setNationalId(e.currentTarget.value)}
            maxLength={14}
          />
          <Select
            label={t('portal.family.relationship')}
            data={ROLES.map((r) => ({ value: r, label: t(`portal.family.roles.${r}`) }))}
            value={relationship}
            onChange={setRelationship}
            comboboxProps={{ withinPortal: true }}
          />
          <NumberInput label={t('portal.family.days')} min={1} max={3650} value={days} onChange={setDays} />
          {grant.error && (
            <Alert color="red" role="alert">
              {grant.error.message}
            </Alert>
          )}
          {grant.isSuccess && (
            <Alert color="teal" role="status">
              {t('portal.family.grantedOk')}
            </Alert>
          )}
          <Button
            disabled={name.trim().length < 2 || nationalId.trim().length < 12}
            loading={grant.isPending}
            onClick={() =>
              grant.mutate(undefined, {
                onSuccess: () => {
                  setName('');
                  setNationalId('');
                },
              })
            }
          >
            {t('portal.family.grantButton')}
          </Button>
        </Stack>
      </Card>
    </Stack>
  );
}

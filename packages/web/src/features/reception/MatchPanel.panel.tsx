import type { Patient } from '@medplum/fhirtypes';
import { Alert, Badge, Button, Group, Stack, Table, Text, Title } from '@mantine/core';
import { VN_CORE_SID } from '@sen/vn/identifiers.ts';
import { type ReactElement, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { displayName } from '../../app/staff.ts';
import { formatBirthDate } from '../../ui/format.ts';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states/States.tsx';
import { exactMatchOf, type ScannedCard, scorePercent } from './reception.model.ts';
import { useCreatePatient, useMatch } from './reception.queries.ts';

/** How the record was found: exact ID match, chosen among candidates, created, or from a portal booking's check-in. */
export type SelectedHow = 'exact' | 'chosen' | 'created' | 'appointment';

const GRADE_COLOR: Record<string, string> = { certain: 'green', probable: 'blue', possible: 'gray' };

/**
 * The records that may be this card's person (`Patient/$match`). A single certain match (same ID number) is selected
 * at once; otherwise the receptionist picks one or confirms a new record.
 */
export function MatchPanel(props: {
  card: ScannedCard;
  onSelect: (p: Patient, how: SelectedHow) => void;
  /** False when the receptionist came back to choose another record: the certain match is not taken again. */
  autoSelect?: boolean;
}): ReactElement {
  const { card, onSelect, autoSelect = true } = props;
  const { t } = useTranslation();
  const match = useMatch(card);
  const create = useCreatePatient();
  const [confirming, setConfirming] = useState(false);
  const firstAction = useRef<HTMLButtonElement>(null);
  const confirmButton = useRef<HTMLButtonElement>(null);
  const select = useRef(onSelect);
  select.current = onSelect;

  const candidates = match.data ?? [];
  const exact = autoSelect ? exactMatchOf(candidates) : undefined;
  useEffect(() => {
    if (exact) {
      select.current(exact.patient, 'exact');
    } else if (match.data) {
      firstAction.current?.focus();
    }
  }, [exact, match.data]);
  useEffect(() => {
    if (confirming) {
      confirmButton.current?.focus();
    }
  }, [confirming]);

  if (match.isLoading) {
    return <LoadingState />;
  }
  if (match.error) {
    return <ErrorState error={match.error} onRetry={() => void match.refetch()} />;
  }
  const gender = (g: string | undefined): string => (g === 'male' || g === 'female' ? t(`reception.card.${g}`) : '');
  const cccd = (p: Patient): string | undefined => p.identifier?.find((i) => i.system === VN_CORE_SID.cccd)?.value;
  const title = t('reception.match.title');
  return (
    <Stack gap="sm">
      <Title order={3}>{title}</Title>
      {candidates.length === 0 ? (
        <EmptyState text={t('reception.match.none')} />
      ) : (
        <Table striped highlightOnHover aria-label={title}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('reception.card.name')}</Table.Th>
              <Table.Th>{t('reception.card.birthDate')}</Table.Th>
              <Table.Th>{t('reception.card.sex')}</Table.Th>
              <Table.Th>{t('reception.card.idNumber')}</Table.Th>
              <Table.Th>{t('reception.card.address')}</Table.Th>
              <Table.Th>{t('reception.match.score')}</Table.Th>
              <Table.Th>{t('reception.match.grade')}</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {candidates.map((c, i) => (
              <Table.Tr key={c.patient.id ?? i}>
                <Table.Td fw={600}>{displayName(c.patient)}</Table.Td>
                <Table.Td>{formatBirthDate(c.patient.birthDate)}</Table.Td>
                <Table.Td>{gender(c.patient.gender)}</Table.Td>
                <Table.Td>{cccd(c.patient)}</Table.Td>
                <Table.Td>{c.patient.address?.[0]?.text}</Table.Td>
                <Table.Td>{scorePercent(c.score)}</Table.Td>
                <Table.Td>
                  {c.grade && (
                    <Badge variant="light" color={GRADE_COLOR[c.grade] ?? 'gray'}>
                      {t(`reception.match.grade_${c.grade}`)}
                    </Badge>
                  )}
                </Table.Td>
                <Table.Td>
                  <Button
                    size="xs"
                    ref={i === 0 ? firstAction : undefined}
                    aria-label={t('reception.match.selectNamed', { name: displayName(c.patient) })}
                    onClick={() => onSelect(c.patient, 'chosen')}
                  >
                    {t('reception.match.select')}
                  </Button>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {!confirming ? (
        <Group>
          <Button
            variant={candidates.length === 0 ? 'filled' : 'light'}
            ref={candidates.length === 0 ? firstAction : undefined}
            onClick={() => setConfirming(true)}
          >
            {t('reception.match.create')}
          </Button>
        </Group>
      ) : (
        <Alert color="yellow" role="alertdialog" aria-label={t('reception.match.create')}>
          <Stack gap="sm">
            <Text size="sm">{t('reception.match.confirmCreate', { name: card.name, id: card.idNumber })}</Text>
            {create.error && <ErrorState error={create.error} />}
            <Group>
              <Button
                ref={confirmButton}
                loading={create.isPending}
                onClick={() =>
                  create.mutate(card, {
                    onSuccess: (p) => onSelect(p, 'created'),
                  })
                }
              >
                {t('reception.match.confirm')}
              </Button>
              <Button variant="default" onClick={() => setConfirming(false)} disabled={create.isPending}>
                {t('reception.match.cancel')}
              </Button>
            </Group>
          </Stack>
        </Alert>
      )}
    </Stack>
  );
}

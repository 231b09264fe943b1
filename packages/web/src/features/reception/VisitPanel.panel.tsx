import type { Patient } from '@medplum/fhirtypes';
import { Alert, Badge, Button, Group, Radio, Select, Stack, Table, TextInput, Title } from '@mantine/core';
import { type FormEvent, type ReactElement, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { useLiveInvalidate } from '../../api/live.ts';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states/States.tsx';
import { type BhytResult, bhytUsable, VISIT_TYPES, type VisitType } from './reception.model.ts';
import { useClinicRooms, useRegisterVisit } from './reception.queries.ts';

/** Visit type, reason and clinic room (with live queue lengths); submitting registers the visit and opens the ticket. */
export function VisitPanel(props: {
  patient: Patient;
  bhyt: BhytResult | undefined;
  /** From a portal booking: the booked room (`Location/<id>`) and the reason the patient gave. */
  booked?: { room?: string; reason?: string };
}): ReactElement {
  const { patient, bhyt, booked } = props;
  const reasonInput = useRef<HTMLInputElement>(null);
  const { t } = useTranslation();
  const navigate = useNavigate();
  useLiveInvalidate(['Encounter']);
  const rooms = useClinicRooms();
  const register = useRegisterVisit();
  const usable = bhytUsable(bhyt);
  const [visitType, setVisitType] = useState<VisitType>(usable ? 'bhyt' : 'fee');
  const [reason, setReason] = useState(booked?.reason ?? '');
  const [room, setRoom] = useState<string | null>(booked?.room ?? null);
  useEffect(() => {
    // a card checked (or re-checked) decides the default: BHYT when usable
    setVisitType((v) => (v === 'emergency' ? v : usable ? 'bhyt' : 'fee'));
  }, [usable]);
  useEffect(() => {
    // keyboard first: once the card is checked, the reason is next
    if (bhyt) {
      reasonInput.current?.focus();
    }
  }, [bhyt]);

  const blockedByCard = visitType === 'bhyt' && !usable;
  const onSubmit = (e: FormEvent): void => {
    e.preventDefault();
    if (!room || blockedByCard || !patient.id) {
      return;
    }
    register.mutate(
      { patient: `Patient/${patient.id}`, visitType, reason, location: room, coverage: bhyt?.coverage },
      { onSuccess: (id) => void navigate(`/reception/ticket/${encodeURIComponent(id)}`) },
    );
  };
  const list = rooms.data ?? [];
  const roomsTitle = t('reception.visit.rooms');
  return (
    <Stack gap="sm">
      <Title order={3}>{t('reception.visit.title')}</Title>
      <form onSubmit={onSubmit}>
        <Stack gap="sm">
          <Radio.Group
            label={t('reception.visit.type')}
            value={visitType}
            onChange={(v) => setVisitType(v as VisitType)}
            name="visitType"
          >
            <Group mt={4}>
              {VISIT_TYPES.map((v) => (
                <Radio key={v} value={v} label={t(`reception.visit.type_${v}`)} />
              ))}
            </Group>
          </Radio.Group>
          {blockedByCard && (
            <Alert color="yellow" role="alert">
              {t('reception.visit.needBhyt')}
            </Alert>
          )}
          <TextInput
            ref={reasonInput}
            label={t('reception.visit.reason')}
            placeholder={t('reception.visit.reasonHint')}
            value={reason}
            onChange={(e) => setReason(e.currentTarget.value)}
            name="reason"
            autoComplete="off"
          />
          <Select
            label={t('reception.visit.room')}
            description={t('reception.visit.roomHint')}
            searchable
            value={room}
            onChange={setRoom}
            nothingFoundMessage={t('reception.visit.noRooms')}
            data={list.map((r) => ({
              value: r.location,
              label: t('reception.visit.roomOption', {
                name: r.name,
                department: r.departmentName ?? '',
                waiting: r.waiting,
              }),
            }))}
          />
          {register.error && (
            <Alert color="red" role="alert">
              {t('reception.visit.failed', { message: register.error.message })}
            </Alert>
          )}
          <Group>
            <Button type="submit" size="md" loading={register.isPending} disabled={!room || blockedByCard}>
              {t('reception.visit.submit')}
            </Button>
          </Group>
        </Stack>
      </form>
      {rooms.isLoading && <LoadingState />}
      {!!rooms.error && <ErrorState error={rooms.error} onRetry={rooms.refetch} />}
      {rooms.data && list.length === 0 && <EmptyState text={t('reception.visit.noRooms')} />}
      {list.length > 0 && (
        <Table aria-label={roomsTitle} striped>
          <Table.Caption>{roomsTitle}</Table.Caption>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('reception.ticket.room')}</Table.Th>
              <Table.Th>{t('reception.ticket.department')}</Table.Th>
              <Table.Th>{t('reception.display.now')}</Table.Th>
              <Table.Th>{t('reception.visit.waitingHeader')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {list.map((r) => (
              <Table.Tr
                key={r.location}
                onClick={() => setRoom(r.location)}
                style={{ cursor: 'pointer' }}
                bg={r.location === room ? 'var(--mantine-color-teal-light)' : undefined}
              >
                <Table.Td fw={600}>{r.name}</Table.Td>
                <Table.Td>{r.departmentName}</Table.Td>
                <Table.Td>{r.current ?? '—'}</Table.Td>
                <Table.Td>
                  <Badge variant="light" color={r.waiting > 10 ? 'orange' : 'teal'}>
                    {r.waiting}
                  </Badge>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}

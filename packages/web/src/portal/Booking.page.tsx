import { Alert, Button, Card, Chip, Group, Select, Stack, Text, TextInput, Title } from '@mantine/core';
import type { Appointment, Parameters, Slot } from '@medplum/fhirtypes';
import { useQuery } from '@tanstack/react-query';
import { type ReactElement, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { QrCode } from '../features/clinic/QrCode.tsx';
import { EmptyState, ErrorState, LoadingState } from '../ui/states/States.tsx';
import { operation, useFreeSlots, usePortal, usePortalMutation, useRecord, useSchedules } from './portal.api.ts';
import { bookingCodeOf, CHECKIN_QR_PREFIX, param, viDate, viTime, vnDay } from './portal.logic.ts';

interface Booked {
  appointment: Appointment;
  code: string;
  qr: string;
}

function bookedOf(p: Parameters): Booked {
  return {
    appointment: param(p, 'appointment')?.resource as Appointment,
    code: param(p, 'code')?.valueString ?? '',
    qr: param(p, 'checkinQr')?.valueString ?? '',
  };
}

function SlotPicker({
  scheduleId,
  value,
  onChange,
}: {
  scheduleId: string;
  value?: string;
  onChange: (id: string) => void;
}): ReactElement {
  const { t } = useTranslation();
  const slots = useFreeSlots(scheduleId);
  if (slots.isLoading) {
    return <LoadingState />;
  }
  if (slots.error) {
    return <ErrorState error={slots.error} />;
  }
  const byDay = new Map<string, Slot[]>();
  for (const s of slots.data ?? []) {
    const d = vnDay(new Date(s.start));
    byDay.set(d, [...(byDay.get(d) ?? []), s]);
  }
  if (byDay.size === 0) {
    return <EmptyState text={t('portal.booking.noSlots')} />;
  }
  return (
    <Stack gap="xs" aria-label={t('portal.booking.slots')}>
      {[...byDay].map(([day, list]) => (
        <div key={day}>
          <Text size="sm" fw={600}>
            {viDate(day)}
          </Text>
          <Chip.Group multiple={false} value={value ?? null} onChange={(v) => v && onChange(v as string)}>
            <Group gap={6}>
              {list.map((s) => (
                <Chip key={s.id} value={s.id} size="sm" radius="sm">
                  {viTime(s.start)}
                </Chip>
              ))}
            </Group>
          </Chip.Group>
        </div>
      ))}
    </Stack>
  );
}

function MyAppointments(): ReactElement {
  const { t } = useTranslation();
  const { activeId, fhir } = usePortal();
  const record = useRecord(activeId);
  const [moving, setMoving] = useState<string>();
  const [target, setTarget] = useState<string>();
  const cancel = usePortalMutation((id: string) => operation(fhir, `Appointment/${id}/$cancel`), ['Patient', 'Slot']);
  const move = usePortalMutation(
    ({ id, slot }: { id: string; slot: string }) =>
      operation(fhir, `Appointment/${id}/$move`, [{ name: 'slot', valueReference: { reference: `Slot/${slot}` } }]),
    ['Patient', 'Slot'],
  );
  const now = new Date().toISOString();
  const mine = (record.data?.appointments ?? []).filter((a) => a.status === 'booked' && (a.start ?? '') >= now);
  if (mine.length === 0) {
    return <EmptyState text={t('portal.booking.none')} />;
  }
  return (
    <Stack gap="sm">
      {(cancel.error || move.error) && (
        <Alert color="red" role="alert">
          {(cancel.error ?? move.error)?.message}
        </Alert>
      )}
      {mine.map((a) => {
        const code = bookingCodeOf(a);
        const scheduleSlot = a.slot?.[0]?.reference;
        return (
          <Card key={a.id} withBorder p="sm" aria-label={t('portal.booking.appointment')}>
            <Group justify="space-between" wrap="nowrap" align="flex-start">
              <div>
                <Text fw={600}>
                  {viDate(a.start)} {viTime(a.start)}
                </Text>
                <Text size="sm">{a.specialty?.[0]?.text}</Text>
                {code && (
                  <Text size="sm">
                    {t('portal.booking.code')}: <b>{code}</b>
                  </Text>
                )}
              </div>
              {code && <QrCode value={`${CHECKIN_QR_PREFIX}${code}`} size={88} label={t('portal.booking.checkinQr')} />}
            </Group>
            <Group gap="xs" mt="xs">
              <Button
                size="xs"
                variant="light"
                color="red"
                loading={cancel.isPending}
                onClick={() => cancel.mutate(a.id as string)}
              >
                {t('portal.booking.cancel')}
              </Button>
              <Button size="xs" variant="light" onClick={() => setMoving(moving === a.id ? undefined : a.id)}>
                {t('portal.booking.move')}
              </Button>
            </Group>
            {moving === a.id && scheduleSlot && (
              <MovePicker
                appointment={a}
                target={target}
                setTarget={setTarget}
                onConfirm={() => target && move.mutate({ id: a.id as string, slot: target })}
                pending={move.isPending}
              />
            )}
          </Card>
        );
      })}
    </Stack>
  );
}

function MovePicker({
  appointment,
  target,
  setTarget,
  onConfirm,
  pending,
}: {
  appointment: Appointment;
  target?: string;
  setTarget: (s: string) => void;
  onConfirm: () => void;
  pending: boolean;
}): ReactElement {
  const { t } = useTranslation();
  const { fhir } = usePortal();
  const slotId = appointment.slot?.[0]?.reference?.split('/').pop();
  const current = useQuery({
    queryKey: ['Slot', slotId, 'current'],
    enabled: !!slotId,
    queryFn: () => fhir.read<Slot>('Slot', slotId as string),
  });
  const scheduleId = current.data?.schedule.reference?.split('/').pop();
  return (
    <Stack gap="xs" mt="sm">
      {scheduleId ? <SlotPicker scheduleId={scheduleId} value={target} onChange={setTarget} /> : <LoadingState />}
      <Button size="sm" disabled={!target} loading={pending} onClick={onConfirm}>
        {t('portal.booking.confirmMove')}
      </Button>
    </Stack>
  );
}

export function BookingPage(): ReactElement {
  const { t } = useTranslation();
  const { activeId, fhir } = usePortal();
  const schedules = useSchedules();
  const [scheduleId, setScheduleId] = useState<string | null>(null);
  const [slotId, setSlotId] = useState<string>();
  const [reason, setReason] = useState('');
  const [booked, setBooked] = useState<Booked>();
  const book = usePortalMutation(
    async (slot: string) =>
      bookedOf(
        await operation(fhir, `Slot/${slot}/$book`, [
          { name: 'patient', valueReference: { reference: `Patient/${activeId}` } },
          ...(reason.trim() ? [{ name: 'reason', valueString: reason.trim() }] : []),
        ]),
      ),
    ['Patient', 'Slot'],
  );
  return (
    <Stack gap="sm">
      <Title order={2} size="h4">
        {t('portal.booking.title')}
      </Title>
      {booked && (
        <Card withBorder p="md" bg="#f3faf7" role="status" aria-label={t('portal.booking.done')}>
          <Stack align="center" gap={4}>
            <Text fw={700} c="#0f6b4f">
              {t('portal.booking.done')}
            </Text>
            <Text>
              {viDate(booked.appointment.start)} {viTime(booked.appointment.start)}
            </Text>
            <Text size="sm">{t('portal.booking.code')}</Text>
            <Text fw={800} size="xl" ff="monospace" data-testid="booking-code">
              {booked.code}
            </Text>
            <QrCode value={booked.qr} size={180} label={t('portal.booking.checkinQr')} />
            <Text size="xs" c="dimmed" ta="center">
              {t('portal.booking.showAtReception')}
            </Text>
          </Stack>
        </Card>
      )}
      <Card withBorder p="sm">
        <Stack gap="sm">
          {schedules.isLoading ? (
            <LoadingState />
          ) : schedules.error ? (
            <ErrorState error={schedules.error} />
          ) : (
            <Select
              label={t('portal.booking.clinic')}
              placeholder={t('portal.booking.chooseClinic')}
              data={(schedules.data ?? []).map((s) => ({ value: s.schedule.id as string, label: s.label }))}
              value={scheduleId}
              onChange={(v) => {
                setScheduleId(v);
                setSlotId(undefined);
              }}
              comboboxProps={{ withinPortal: true }}
            />
          )}
          {scheduleId && <SlotPicker scheduleId={scheduleId} value={slotId} onChange={setSlotId} />}
          <TextInput
            label={t('portal.booking.reason')}
            value={reason}
            onChange={(e) => setReason(e.currentTarget.value)}
            maxLength={500}
          />
          {book.error && (
            <Alert color="red" role="alert">
              {book.error.message}
            </Alert>
          )}
          <Button
            size="md"
            disabled={!slotId}
            loading={book.isPending}
            onClick={() =>
              slotId &&
              book.mutate(slotId, {
                onSuccess: (b) => {
                  setBooked(b);
                  setSlotId(undefined);
                  window.scrollTo({ top: 0 });
                },
              })
            }
          >
            {t('portal.booking.book')}
          </Button>
        </Stack>
      </Card>
      <Title order={3} size="h5">
        {t('portal.booking.mine')}
      </Title>
      <MyAppointments />
    </Stack>
  );
}

import type { Patient } from '@medplum/fhirtypes';
import { Alert, Button, Group, Paper, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import { parseCccdQr } from '@sen/vn/cccd-qr.ts';
import { VN_CORE_SID } from '@sen/vn/identifiers.ts';
import { useHotkeys } from '@mantine/hooks';
import { type FormEvent, type ReactElement, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { displayName } from '../../app/staff.ts';
import { formatBirthDate, formatDate } from '../../ui/format.ts';
import { OutcomeAlert } from '../clinic/OutcomeAlert.tsx';
import { BhytPanel } from './BhytPanel.panel.tsx';
import { CameraScanDialog } from './CameraScan.dialog.tsx';
import { MatchPanel, type SelectedHow } from './MatchPanel.panel.tsx';
import { type BhytResult, type CheckedIn, checkInCodeOf, type ScannedCard } from './reception.model.ts';
import { useCheckIn } from './reception.queries.ts';
import { VisitPanel } from './VisitPanel.panel.tsx';

function Field({ label, value }: { label: string; value: string | undefined }): ReactElement {
  return (
    <div>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text fw={500}>{value || '—'}</Text>
    </div>
  );
}

/** What the card says (the data printed on it; no picture of the card is kept). */
function CardView({ card }: { card: ScannedCard }): ReactElement {
  const { t } = useTranslation();
  return (
    <Paper withBorder p="md" component="section" aria-label={t('reception.card.title')}>
      <Title order={3} mb="sm">
        {t('reception.card.title')}
      </Title>
      <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="sm">
        <Field label={t('reception.card.name')} value={card.name} />
        <Field label={t('reception.card.idNumber')} value={card.idNumber} />
        <Field label={t('reception.card.birthDate')} value={formatBirthDate(card.birthDate)} />
        <Field label={t('reception.card.sex')} value={t(`reception.card.${card.sex}`)} />
        {card.oldIdNumber && <Field label={t('reception.card.oldIdNumber')} value={card.oldIdNumber} />}
        {card.issueDate && <Field label={t('reception.card.issueDate')} value={formatBirthDate(card.issueDate)} />}
      </SimpleGrid>
      <Field label={t('reception.card.address')} value={card.address} />
    </Paper>
  );
}

function PatientView(props: { patient: Patient; how: SelectedHow; onChange: () => void }): ReactElement {
  const { patient, how, onChange } = props;
  const { t } = useTranslation();
  const cccd = patient.identifier?.find((i) => i.system === VN_CORE_SID.cccd)?.value;
  return (
    <Stack gap="xs">
      <Title order={3}>{t('reception.patient.title')}</Title>
      {how === 'exact' && (
        <Alert color="green" role="status">
          {t('reception.match.exact')}
        </Alert>
      )}
      {how === 'created' && (
        <Alert color="green" role="status">
          {t('reception.match.created')}
        </Alert>
      )}
      <Group justify="space-between" align="end">
        <SimpleGrid cols={{ base: 1, sm: 4 }} spacing="sm" style={{ flex: 1 }}>
          <Field label={t('reception.card.name')} value={displayName(patient)} />
          <Field label={t('reception.card.birthDate')} value={formatBirthDate(patient.birthDate)} />
          <Field label={t('reception.card.idNumber')} value={cccd} />
          <Field label={t('reception.card.address')} value={patient.address?.[0]?.text} />
        </SimpleGrid>
        <Button variant="subtle" size="xs" onClick={onChange}>
          {t('reception.patient.change')}
        </Button>
      </Group>
    </Stack>
  );
}

/**
 * The receptionist's screen, keyboard first: the card's QR code from a keyboard-wedge scanner (Enter ends it) or the
 * camera → the matching records → the BHYT card → the visit and its queue ticket.
 */
export function ReceptionPage(): ReactElement {
  const { t, i18n } = useTranslation();
  const [raw, setRaw] = useState('');
  const [scanError, setScanError] = useState<string>();
  const [card, setCard] = useState<ScannedCard>();
  const [scanCount, setScanCount] = useState(0);
  const [selected, setSelected] = useState<{ patient: Patient; how: SelectedHow }>();
  const [bhyt, setBhyt] = useState<BhytResult>();
  const [camera, setCamera] = useState(false);
  const [autoSelect, setAutoSelect] = useState(true);
  const [booking, setBooking] = useState<CheckedIn>();
  const scanInput = useRef<HTMLInputElement>(null);
  const bhytInput = useRef<HTMLInputElement>(null);
  const checkIn = useCheckIn();

  const read = (text: string): void => {
    // a portal booking's check-in QR (or its code typed): the record is the booking's, the room the booked one
    const code = checkInCodeOf(text);
    if (code) {
      setScanError(undefined);
      checkIn.mutate(code, {
        onSuccess: ({ checkedIn, patient }) => {
          setRaw('');
          setCard(undefined);
          setBhyt(undefined);
          setBooking(checkedIn);
          setSelected({ patient, how: 'appointment' });
        },
      });
      return;
    }
    const parsed = parseCccdQr(text);
    if (!parsed.ok) {
      setScanError(parsed.message[i18n.language === 'en' ? 'en' : 'vi']);
      return;
    }
    setScanError(undefined);
    setRaw('');
    setCard(parsed.card);
    setScanCount((n) => n + 1);
    setSelected(undefined);
    setBooking(undefined);
    setBhyt(undefined);
    setAutoSelect(true);
  };
  const onScan = (e: FormEvent): void => {
    e.preventDefault();
    read(raw);
  };
  const startOver = (): void => {
    setCard(undefined);
    setBooking(undefined);
    checkIn.reset();
    setSelected(undefined);
    setBhyt(undefined);
    setRaw('');
    setScanError(undefined);
    scanInput.current?.focus();
  };
  // F2 anywhere: ready for the next card (a wedge scanner types into the focused field)
  useHotkeys([['F2', startOver]], []);
  useEffect(() => {
    if (selected) {
      bhytInput.current?.focus();
    }
  }, [selected]);

  return (
    <Stack maw={1100}>
      <Group justify="space-between">
        <Title order={2}>{t('reception.title')}</Title>
        {(card || selected) && (
          <Button variant="default" onClick={startOver}>
            {t('reception.startOver')}
          </Button>
        )}
      </Group>
      <form onSubmit={onScan}>
        <Group align="start">
          <TextInput
            ref={scanInput}
            label={t('reception.scan.label')}
            description={t('reception.scan.hint')}
            value={raw}
            onChange={(e) => {
              setRaw(e.currentTarget.value);
              setScanError(undefined);
            }}
            error={scanError ? t('reception.scan.invalid', { message: scanError }) : undefined}
            autoFocus
            autoComplete="off"
            spellCheck={false}
            name="qr"
            style={{ flex: 1 }}
          />
          <Button type="submit" mt={42} disabled={raw.trim().length === 0}>
            {t('reception.scan.read')}
          </Button>
          <Button type="button" mt={42} variant="light" onClick={() => setCamera(true)}>
            {t('reception.scan.camera')}
          </Button>
        </Group>
        <Text size="xs" c="dimmed" mt={4}>
          {t('reception.scan.noPhoto')} {t('reception.scan.hotkey')}
        </Text>
      </form>
      <CameraScanDialog
        opened={camera}
        onClose={() => setCamera(false)}
        onText={(text) => {
          setCamera(false);
          read(text);
        }}
      />
      <OutcomeAlert error={checkIn.error} title={t('reception.checkIn.failed')} />
      {booking && (
        <Alert color="green" role="status" title={t('reception.checkIn.done', { code: booking.code })}>
          {t('reception.checkIn.when', { time: formatDate(booking.start, i18n.language) })}
        </Alert>
      )}
      {card && <CardView card={card} />}
      {card && !selected && (
        <Paper withBorder p="md">
          <MatchPanel
            key={scanCount}
            card={card}
            autoSelect={autoSelect}
            onSelect={(patient, how) => setSelected({ patient, how })}
          />
        </Paper>
      )}
      {selected && (
        <>
          <Paper withBorder p="md">
            <PatientView
              patient={selected.patient}
              how={selected.how}
              onChange={() => {
                setAutoSelect(false);
                setSelected(undefined);
              }}
            />
          </Paper>
          <Paper withBorder p="md">
            <BhytPanel
              key={selected.patient.id}
              patient={selected.patient}
              result={bhyt}
              onResult={setBhyt}
              inputRef={bhytInput}
            />
          </Paper>
          <Paper withBorder p="md">
            <VisitPanel
              key={booking?.appointmentId ?? selected.patient.id}
              patient={selected.patient}
              bhyt={bhyt}
              booked={booking}
            />
          </Paper>
        </>
      )}
    </Stack>
  );
}

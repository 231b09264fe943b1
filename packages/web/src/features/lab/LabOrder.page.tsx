import type { Patient } from '@medplum/fhirtypes';
import { Alert, Anchor, Badge, Button, Card, Group, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { type ReactElement, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { displayName } from '../../app/staff.ts';
import { useSession } from '../../auth/AuthContext.tsx';
import { formatBirthDate, formatDate } from '../../ui/format.ts';
import { ErrorState, LoadingState } from '../../ui/states/States.tsx';
import { OutcomeAlert } from '../clinic/OutcomeAlert.tsx';
import { Barcode } from './Barcode.tsx';
import {
  barcodeOf,
  changedResults,
  type Flag,
  flagFor,
  type FormRow,
  formOf,
  labelLines,
  labStatusOf,
  orderName,
  parseValue,
  rangeLabel,
  storedValue,
} from './lab.logic.ts';
import { useLabActions, useLabForm, useLabLive, useReceive } from './lab.queries.ts';
import { StatusBadge } from './LabWorklist.page.tsx';

const FLAG_COLOR: Record<Flag, string> = { LL: 'red', L: 'blue', N: 'gray', H: 'orange', HH: 'red' };

function FlagBadge({ flag }: { flag: Flag | undefined }): ReactElement | null {
  const { t } = useTranslation();
  if (!flag) {
    return null;
  }
  return (
    <Badge color={FLAG_COLOR[flag]} variant={flag === 'LL' || flag === 'HH' ? 'filled' : 'light'} data-flag={flag}>
      {t(`lab.flags.${flag}`)}
    </Badge>
  );
}

const storedFlag = (row: FormRow): Flag | undefined =>
  row.observation?.interpretation?.[0]?.coding?.[0]?.code as Flag | undefined;

/** When printing, only the label shows (at the top left, the size of a tube label printer's page). */
const PRINT_LABEL_ONLY = `@media print {
  body * { visibility: hidden; }
  .sen-print-label, .sen-print-label * { visibility: visible; }
  .sen-print-label { position: absolute; left: 0; top: 0; border: none; }
  .sen-no-print { display: none; }
}`;

/** The tube label: barcode and patient lines, printed from the browser (Ctrl+P prints the label region). */
function SpecimenLabel({
  patient,
  lines,
  barcode,
}: {
  patient?: Patient;
  lines: string[];
  barcode: string;
}): ReactElement {
  const { t } = useTranslation();
  return (
    <Card withBorder padding="sm" aria-label={t('lab.label.title')} className="sen-print-label" w={360}>
      <style>{PRINT_LABEL_ONLY}</style>
      <Stack gap={2} align="center">
        <Barcode value={barcode} />
        {lines.map((l) => (
          <Text key={l} size="sm" fw={l === lines[0] ? 700 : 400} ta="center">
            {l}
          </Text>
        ))}
        {patient?.id && (
          <Button size="xs" variant="light" onClick={() => window.print()} className="sen-no-print">
            {t('lab.label.print')}
          </Button>
        )}
      </Stack>
    </Card>
  );
}

function ResultsForm({
  rows,
  editable,
  onSave,
  saving,
}: {
  rows: FormRow[];
  editable: boolean;
  onSave: (r: { code: string; value: string }[]) => void;
  saving: boolean;
}): ReactElement {
  const { t, i18n } = useTranslation();
  const [typed, setTyped] = useState<Record<string, string>>({});
  const changed = changedResults(rows, typed);
  return (
    <Card withBorder padding="md">
      <Stack gap="sm">
        <Title order={4}>{t('lab.results.title')}</Title>
        <Table aria-label={t('lab.results.title')}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('lab.results.indicator')}</Table.Th>
              <Table.Th>{t('lab.results.value')}</Table.Th>
              <Table.Th>{t('lab.results.unit')}</Table.Th>
              <Table.Th>{t('lab.results.range')}</Table.Th>
              <Table.Th>{t('lab.results.flag')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((r) => {
              const text = typed[r.code] ?? storedValue(r.observation);
              const n = parseValue(text);
              const flag =
                text === storedValue(r.observation) ? storedFlag(r) : n === undefined ? undefined : flagFor(n, r);
              const name = i18n.language === 'en' && r.displayEn ? r.displayEn : r.display;
              return (
                <Table.Tr key={r.code} data-indicator={r.code}>
                  <Table.Td>{name}</Table.Td>
                  <Table.Td>
                    {editable ? (
                      <TextInput
                        aria-label={r.display}
                        value={text}
                        onChange={(e) => {
                          const v = e.currentTarget.value;
                          setTyped((x) => ({ ...x, [r.code]: v }));
                        }}
                        inputMode="decimal"
                        w={120}
                      />
                    ) : (
                      <Text fw={600}>{text}</Text>
                    )}
                  </Table.Td>
                  <Table.Td>{r.unit ?? ''}</Table.Td>
                  <Table.Td>{rangeLabel(r)}</Table.Td>
                  <Table.Td>
                    <FlagBadge flag={flag} />
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
        {editable && (
          <Group justify="flex-end">
            <Button onClick={() => onSave(changed)} disabled={changed.length === 0} loading={saving}>
              {t('lab.results.save')}
            </Button>
          </Group>
        )}
      </Stack>
    </Card>
  );
}

/** One lab order: collect (label), receive, enter results, verify (technician), sign off (doctor). */
export function LabOrderPage(): ReactElement {
  const { t, i18n } = useTranslation();
  const { orderId = '' } = useParams();
  const { fhir, staff } = useSession();
  useLabLive();
  const form = useLabForm(orderId);
  const f = formOf(form.data);
  const patientId = f.order?.subject?.reference?.split('/')[1];
  const patient = useQuery({
    queryKey: ['Patient', patientId],
    enabled: !!patientId,
    queryFn: () => fhir.read<Patient>('Patient', patientId ?? ''),
  });
  const actions = useLabActions(orderId);
  const receive = useReceive();
  const [alerted, setAlerted] = useState(0);
  if (form.isLoading) {
    return <LoadingState />;
  }
  if (form.error || !f.order) {
    return <ErrorState error={form.error} onRetry={() => void form.refetch()} />;
  }
  const status = labStatusOf(f.order);
  const roles = staff?.roles ?? [];
  const mayVerify = roles.includes('lab-technician') || roles.includes('department-head');
  const maySign = roles.includes('doctor') || roles.includes('department-head');
  const barcode = barcodeOf(f.specimen);
  const error =
    actions.collect.error ?? receive.error ?? actions.enter.error ?? actions.verify.error ?? actions.sign.error;
  return (
    <Stack>
      <Anchor component={Link} to="/worklist/laboratory">
        {t('lab.back')}
      </Anchor>
      <Card withBorder padding="md">
        <Group justify="space-between" align="flex-start">
          <Stack gap={2}>
            <Title order={3}>{orderName(f.order)}</Title>
            <Text fw={600}>
              {displayName(patient.data)}
              {patient.data?.birthDate ? ` · ${formatBirthDate(patient.data.birthDate)}` : ''}
              {patient.data?.gender ? ` · ${t(`lab.sex.${patient.data.gender}`)}` : ''}
            </Text>
            <Text size="sm" c="dimmed">
              {t('lab.orderedAt', { date: formatDate(f.order.authoredOn, i18n.language) })}
            </Text>
          </Stack>
          <Stack gap={4} align="flex-end">
            <StatusBadge item={{ status, held: false }} />
            {f.order.priority && f.order.priority !== 'routine' && (
              <Badge color="red">{t(`lab.priorities.${f.order.priority}`)}</Badge>
            )}
          </Stack>
        </Group>
      </Card>
      <OutcomeAlert error={error} />
      {alerted > 0 && (
        <Alert color="red" role="alert" title={t('lab.critical.title')}>
          {t('lab.critical.sent', { n: alerted })}
        </Alert>
      )}
      {status === 'ordered' && (
        <Group>
          <Button onClick={() => actions.collect.mutate()} loading={actions.collect.isPending}>
            {t('lab.collect')}
          </Button>
        </Group>
      )}
      {barcode && (
        <SpecimenLabel
          patient={patient.data}
          barcode={barcode}
          lines={labelLines({ patient: patient.data, order: f.order, specimen: f.specimen })}
        />
      )}
      {status === 'collected' && barcode && (
        <Group>
          <Button onClick={() => receive.mutate(barcode)} loading={receive.isPending}>
            {t('lab.receive.button')}
          </Button>
        </Group>
      )}
      {status !== 'ordered' && status !== 'collected' && (
        <ResultsForm
          key={f.report?.meta?.versionId ?? 'new'}
          rows={f.rows}
          editable={status === 'received' || status === 'in-progress' || status === 'resulted'}
          saving={actions.enter.isPending}
          onSave={(r) =>
            actions.enter.mutate(r, {
              onSuccess: (b) =>
                setAlerted((b.entry ?? []).filter((e) => e.resource?.resourceType === 'Communication').length),
            })
          }
        />
      )}
      <Group justify="flex-end">
        {status === 'resulted' && mayVerify && (
          <Button color="indigo" onClick={() => actions.verify.mutate()} loading={actions.verify.isPending}>
            {t('lab.verify')}
          </Button>
        )}
        {status === 'verified' && maySign && (
          <Button color="green" onClick={() => actions.sign.mutate()} loading={actions.sign.isPending}>
            {t('lab.sign')}
          </Button>
        )}
        {status === 'verified' && !maySign && <Text c="dimmed">{t('lab.waitingSign')}</Text>}
        {status === 'signed' && (
          <Text c="green" fw={600} role="status">
            {t('lab.signedAt', { date: formatDate(f.report?.issued, i18n.language) })}
          </Text>
        )}
      </Group>
    </Stack>
  );
}

import { Alert, Anchor, Badge, Button, Card, Group, Stack, Text, Textarea, Title } from '@mantine/core';
import { type ReactElement, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { displayName } from '../../app/staff.ts';
import { useSession } from '../../auth/AuthContext.tsx';
import { formatBirthDate, formatDate } from '../../ui/format.ts';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states/States.tsx';
import { OutcomeAlert } from '../clinic/OutcomeAlert.tsx';
import { actionsFor, orderName, reportTexts, type WorklistItem, worklistOf } from './imaging.logic.ts';
import { useImagingLive, useImagingWorklist, useMarkDone, useSaveReport } from './imaging.queries.ts';
import { PRIORITY_COLOR, STATE_COLOR } from './ImagingWorklist.page.tsx';

function ReportEditor({ item }: { item: WorklistItem }): ReactElement {
  const { t } = useTranslation();
  const id = item.order.id ?? '';
  const stored = reportTexts(item.report);
  const [findings, setFindings] = useState(stored.findings);
  const [conclusion, setConclusion] = useState(stored.conclusion);
  const [saved, setSaved] = useState<'draft' | 'signed'>();
  const save = useSaveReport(id);
  const version = item.report?.meta?.versionId;
  useEffect(() => {
    // another version of the report arrived (saved here or elsewhere): show what is stored
    setFindings(stored.findings);
    setConclusion(stored.conclusion);
  }, [version, stored.findings, stored.conclusion]);
  const submit = (sign: boolean): void => {
    setSaved(undefined);
    save.mutate({ findings, conclusion, sign }, { onSuccess: () => setSaved(sign ? 'signed' : 'draft') });
  };
  return (
    <Card withBorder padding="md">
      <Stack gap="sm">
        <Title order={4}>{t('imaging.report.title')}</Title>
        <Textarea
          label={t('imaging.report.findings')}
          autosize
          minRows={5}
          value={findings}
          onChange={(e) => setFindings(e.currentTarget.value)}
        />
        <Textarea
          label={t('imaging.report.conclusion')}
          autosize
          minRows={2}
          value={conclusion}
          onChange={(e) => setConclusion(e.currentTarget.value)}
        />
        <OutcomeAlert error={save.error} />
        {saved === 'draft' && (
          <Alert color="blue" role="status">
            {t('imaging.report.draftSaved')}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button
            variant="light"
            onClick={() => submit(false)}
            loading={save.isPending}
            disabled={!findings && !conclusion}
          >
            {t('imaging.report.saveDraft')}
          </Button>
          <Button
            onClick={() => submit(true)}
            loading={save.isPending}
            disabled={!findings.trim() || !conclusion.trim()}
          >
            {t('imaging.report.sign')}
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}

function SignedReport({ item }: { item: WorklistItem }): ReactElement {
  const { t, i18n } = useTranslation();
  const texts = reportTexts(item.report);
  return (
    <Card withBorder padding="md" aria-label={t('imaging.report.signed')}>
      <Stack gap="xs">
        <Group justify="space-between">
          <Title order={4}>{t('imaging.report.signed')}</Title>
          <Text size="sm" c="dimmed">
            {t('imaging.report.signedAt', { date: formatDate(item.report?.issued, i18n.language) })}
          </Text>
        </Group>
        <Text fw={600}>{t('imaging.report.findings')}</Text>
        <Text style={{ whiteSpace: 'pre-wrap' }}>{texts.findings}</Text>
        <Text fw={600}>{t('imaging.report.conclusion')}</Text>
        <Text style={{ whiteSpace: 'pre-wrap' }} data-testid="imaging-conclusion">
          {texts.conclusion}
        </Text>
      </Stack>
    </Card>
  );
}

/** One imaging order: who and what, mark the exam done (technician), write and sign the report (radiologist). */
export function ImagingOrderPage(): ReactElement {
  const { t, i18n } = useTranslation();
  const { orderId } = useParams();
  const { staff } = useSession();
  const worklist = useImagingWorklist();
  useImagingLive();
  const [note, setNote] = useState('');
  const markDone = useMarkDone(orderId ?? '');
  const item = worklistOf(worklist.data).find((i) => i.order.id === orderId);
  if (worklist.isLoading) {
    return <LoadingState />;
  }
  if (worklist.error) {
    return <ErrorState error={worklist.error} onRetry={() => void worklist.refetch()} />;
  }
  if (!item) {
    return <EmptyState text={t('imaging.notFound')} />;
  }
  const can = actionsFor(item, staff?.roles ?? []);
  return (
    <Stack>
      <Anchor component={Link} to="/worklist/imaging">
        {t('imaging.back')}
      </Anchor>
      <Card withBorder padding="md">
        <Group justify="space-between" align="flex-start">
          <Stack gap={2}>
            <Title order={3}>{orderName(item.order)}</Title>
            <Text fw={600}>
              {displayName(item.patient)}
              {item.patient?.birthDate ? ` · ${formatBirthDate(item.patient.birthDate)}` : ''}
            </Text>
            <Text size="sm" c="dimmed">
              {t('imaging.orderedAt', { date: formatDate(item.order.authoredOn, i18n.language) })}
            </Text>
          </Stack>
          <Stack gap={4} align="flex-end">
            <Badge color={STATE_COLOR[item.state]} aria-label={t('imaging.stateLabel')}>
              {t(`imaging.state.${item.state}`)}
            </Badge>
            <Badge color={PRIORITY_COLOR[item.order.priority ?? 'routine']} variant="light">
              {t(`imaging.priorities.${item.order.priority ?? 'routine'}`)}
            </Badge>
          </Stack>
        </Group>
      </Card>
      {item.state === 'awaiting-payment' && (
        <Alert color="yellow" role="alert" title={t('imaging.awaitingPayment')}>
          {t('imaging.awaitingPaymentHint')}
        </Alert>
      )}
      {can.markDone && (
        <Card withBorder padding="md">
          <Stack gap="sm">
            <Textarea
              label={t('imaging.note')}
              value={note}
              onChange={(e) => setNote(e.currentTarget.value)}
              autosize
              minRows={2}
            />
            <OutcomeAlert error={markDone.error} />
            <Group justify="flex-end">
              <Button onClick={() => markDone.mutate({ note: note.trim() || undefined })} loading={markDone.isPending}>
                {t('imaging.markDone')}
              </Button>
            </Group>
          </Stack>
        </Card>
      )}
      {item.study && (
        <Text size="sm" c="dimmed">
          {t('imaging.doneAt', {
            date: formatDate(item.study.started, i18n.language),
            modality: item.study.modality?.[0]?.code ?? '',
          })}
        </Text>
      )}
      {can.writeReport && <ReportEditor item={item} />}
      {item.state === 'final' && <SignedReport item={item} />}
      {item.state === 'preliminary' && !can.writeReport && (
        <Alert color="orange">{t('imaging.report.draftOnly')}</Alert>
      )}
    </Stack>
  );
}

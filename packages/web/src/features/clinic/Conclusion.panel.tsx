import type { Encounter } from '@medplum/fhirtypes';
import { Alert, Button, Group, Select, Stack, Textarea, TextInput } from '@mantine/core';
import { type FormEvent, type ReactElement, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { localDay, parameters } from './clinic.logic.ts';
import { useEncounterOperation } from './clinic.queries.ts';
import { OutcomeAlert } from './OutcomeAlert.tsx';

export const OUTCOMES = ['recovered', 'improved', 'referred', 'admitted', 'other'] as const;

/** Closing the visit ($conclude): outcome, follow-up date, advice; the chart is read-only afterwards. */
export function ConclusionPanel(props: { encounter: Encounter; readOnly: boolean }): ReactElement {
  const { t } = useTranslation();
  const { encounter, readOnly } = props;
  const [outcome, setOutcome] = useState<string | null>(null);
  const [followUp, setFollowUp] = useState('');
  const [advice, setAdvice] = useState('');
  const conclude = useEncounterOperation(encounter.id, 'conclude', [
    'Encounter',
    'Condition',
    'MedicationRequest',
    'ServiceRequest',
  ]);
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (!outcome || !window.confirm(t('clinic.conclude.confirm'))) {
      return;
    }
    conclude.mutate(
      parameters([
        ['outcome', { valueCode: outcome }],
        ['followUp', followUp ? { valueDate: followUp } : undefined],
        ['advice', advice.trim() ? { valueString: advice.trim() } : undefined],
      ]),
    );
  };
  if (readOnly) {
    return (
      <Alert color="gray" role="status" title={t('clinic.conclude.closed')}>
        {t('clinic.conclude.closedHint', { status: t(`visits.status_${encounter.status}`) })}
      </Alert>
    );
  }
  return (
    <form onSubmit={submit} aria-label={t('clinic.conclude.form')}>
      <Stack>
        <Group grow wrap="wrap" align="flex-start">
          <Select
            label={t('clinic.conclude.outcome')}
            required
            value={outcome}
            onChange={setOutcome}
            data={OUTCOMES.map((o) => ({ value: o, label: t(`clinic.conclude.outcome_${o}`) }))}
          />
          <TextInput
            type="date"
            label={t('clinic.conclude.followUp')}
            value={followUp}
            min={localDay(new Date())}
            onChange={(e) => setFollowUp(e.currentTarget.value)}
          />
        </Group>
        <Textarea
          label={t('clinic.conclude.advice')}
          autosize
          minRows={3}
          value={advice}
          onChange={(e) => setAdvice(e.currentTarget.value)}
        />
        <Group justify="flex-end">
          <Button type="submit" color="red" loading={conclude.isPending} disabled={!outcome}>
            {t('clinic.conclude.submit')}
          </Button>
        </Group>
        {conclude.isSuccess && (
          <Alert color="green" role="status">
            {t('clinic.conclude.done')}
          </Alert>
        )}
        <OutcomeAlert error={conclude.error} />
      </Stack>
    </form>
  );
}

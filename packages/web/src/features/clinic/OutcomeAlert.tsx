import { Alert, List } from '@mantine/core';
import type { ReactElement } from 'react';
import { useTranslation } from 'react-i18next';
import { FhirError } from '../../api/fhir.ts';
import { outcomeMessages } from './clinic.logic.ts';

/** A refused operation in readable words: each issue of the OperationOutcome on its own line. */
export function OutcomeAlert({ error, title }: { error: unknown; title?: string }): ReactElement | null {
  const { t } = useTranslation();
  if (!error) {
    return null;
  }
  const messages =
    error instanceof FhirError && error.outcome
      ? outcomeMessages(error.outcome)
      : [error instanceof Error ? error.message : String(error)];
  const status = error instanceof FhirError ? error.status : undefined;
  const heading =
    title ??
    (status === 422
      ? t('clinic.error.rule')
      : status === 409
        ? t('clinic.error.conflict')
        : status === 403
          ? t('clinic.error.forbidden')
          : status === 400
            ? t('clinic.error.invalid')
            : t('clinic.error.failed'));
  return (
    <Alert color="red" role="alert" title={heading}>
      {messages.length === 1 ? (
        messages[0]
      ) : (
        <List size="sm">
          {messages.map((m, i) => (
            <List.Item key={i}>{m}</List.Item>
          ))}
        </List>
      )}
    </Alert>
  );
}

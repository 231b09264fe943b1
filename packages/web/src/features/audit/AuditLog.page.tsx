import type { AuditEvent } from '@medplum/fhirtypes';
import { Badge } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { ReactElement } from 'react';
import { useTranslation } from 'react-i18next';
import { entriesOf } from '../../api/fhir.ts';
import { useSession } from '../../auth/AuthContext.tsx';
import { formatDate } from '../../ui/format.ts';
import { ResultTable } from '../../ui/ResultTable.tsx';

const OUTCOME: Record<string, { color: string; text: string }> = {
  '0': { color: 'green', text: '✓' },
  '4': { color: 'orange', text: '⛔' },
  '8': { color: 'red', text: '✗' },
};

function requestor(e: AuditEvent): string | undefined {
  const who = (e.agent?.find((a) => a.requestor) ?? e.agent?.[0])?.who;
  return who?.display ?? who?.reference ?? who?.identifier?.value;
}

/** The newest records of the tamper-evident audit trail (administrators and department heads). */
export function AuditLogPage(): ReactElement {
  const { t, i18n } = useTranslation();
  const { fhir } = useSession();
  const result = useQuery({
    queryKey: ['audit'],
    queryFn: () => fhir.search('AuditEvent', [['_count', '30']]),
  });
  return (
    <ResultTable<AuditEvent>
      title={t('audit.title')}
      query={result}
      rows={entriesOf<AuditEvent>(result.data, 'AuditEvent')}
      empty={t('audit.none')}
      columns={[
        { header: t('audit.time'), cell: (e) => formatDate(e.recorded, i18n.language) },
        { header: t('audit.who'), cell: requestor },
        { header: t('audit.action'), cell: (e) => e.subtype?.map((s) => s.code).join(' ') },
        {
          header: t('audit.patient'),
          cell: (e) => e.entity?.find((x) => x.what?.reference?.startsWith('Patient/'))?.what?.reference,
        },
        {
          header: t('audit.outcome'),
          cell: (e) => {
            const o = OUTCOME[e.outcome ?? '0'] ?? OUTCOME['8'];
            return (
              <Badge color={o.color} variant="light">
                {o.text}
              </Badge>
            );
          },
        },
      ]}
    />
  );
}

import type { Patient, ServiceRequest } from '@medplum/fhirtypes';
import { Badge } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { ReactElement } from 'react';
import { useTranslation } from 'react-i18next';
import { entriesOf, resolve } from '../../api/fhir.ts';
import { displayName } from '../../app/staff.ts';
import { useSession } from '../../auth/AuthContext.tsx';
import { formatDate } from '../../ui/format.ts';
import { ResultTable } from '../../ui/ResultTable.tsx';

/** SNOMED CT categories of ServiceRequest (the R4 example value set): laboratory and imaging. */
export const CATEGORY = { laboratory: '108252007', imaging: '363679005' } as const;
export type WorklistKind = keyof typeof CATEGORY;

const PRIORITY_COLOR: Record<string, string> = { stat: 'red', asap: 'orange', urgent: 'orange', routine: 'gray' };

/** Active orders of one kind, oldest first so nobody waits at the bottom; urgent ones are marked. */
export function WorklistPage({ kind }: { kind: WorklistKind }): ReactElement {
  const { t, i18n } = useTranslation();
  const { fhir } = useSession();
  const result = useQuery({
    queryKey: ['worklist', kind],
    queryFn: () =>
      fhir.search('ServiceRequest', [
        ['status', 'active'],
        ['category', `http://snomed.info/sct|${CATEGORY[kind]}`],
        ['_sort', 'authored'],
        ['_count', '50'],
        ['_include', 'ServiceRequest:subject'],
      ]),
  });
  return (
    <ResultTable<ServiceRequest>
      title={t('worklist.title')}
      query={result}
      rows={entriesOf<ServiceRequest>(result.data, 'ServiceRequest')}
      empty={t('worklist.none')}
      columns={[
        { header: t('worklist.authored'), cell: (o) => formatDate(o.authoredOn, i18n.language) },
        {
          header: t('worklist.patient'),
          strong: true,
          cell: (o) => displayName(resolve<Patient>(result.data, o.subject?.reference)),
        },
        { header: t('worklist.service'), cell: (o) => o.code?.text ?? o.code?.coding?.[0]?.display },
        {
          header: t('worklist.priority'),
          cell: (o) => (
            <Badge color={PRIORITY_COLOR[o.priority ?? 'routine']} variant="light">
              {t(`worklist.priority_${o.priority ?? 'routine'}`)}
            </Badge>
          ),
        },
      ]}
    />
  );
}

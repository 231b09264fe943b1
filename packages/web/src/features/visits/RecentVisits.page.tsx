import type { Encounter, Patient } from '@medplum/fhirtypes';
import { Badge } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { ReactElement } from 'react';
import { useTranslation } from 'react-i18next';
import { entriesOf, resolve } from '../../api/fhir.ts';
import { displayName } from '../../app/staff.ts';
import { useSession } from '../../auth/AuthContext.tsx';
import { formatDate } from '../../ui/format.ts';
import { ResultTable } from '../../ui/ResultTable.tsx';

const STATUS_COLOR: Record<string, string> = {
  'in-progress': 'green',
  arrived: 'blue',
  triaged: 'blue',
  finished: 'gray',
};

/** The department's visits, newest first, with their patients (one query: _include). */
export function RecentVisitsPage(): ReactElement {
  const { t, i18n } = useTranslation();
  const { fhir, staff } = useSession();
  // the visits in the rooms of my departments (rooms are part of the department's place)
  const depts = (staff?.departmentLocations ?? []).join(',');
  const result = useQuery({
    queryKey: ['visits', depts],
    queryFn: () =>
      fhir.search('Encounter', [
        ...(depts ? ([['location:Location.partof', depts]] as [string, string][]) : []),
        ['_sort', '-date'],
        ['_count', '25'],
        ['_include', 'Encounter:subject'],
      ]),
  });
  return (
    <ResultTable<Encounter>
      title={t('visits.title')}
      query={result}
      rows={entriesOf<Encounter>(result.data, 'Encounter')}
      empty={t('visits.none')}
      columns={[
        { header: t('visits.date'), cell: (e) => formatDate(e.period?.start, i18n.language) },
        {
          header: t('visits.patient'),
          strong: true,
          cell: (e) => displayName(resolve<Patient>(result.data, e.subject?.reference)),
        },
        {
          header: t('visits.type'),
          cell: (e) => e.type?.[0]?.text ?? e.type?.[0]?.coding?.[0]?.display ?? e.class?.display ?? e.class?.code,
        },
        { header: t('visits.reason'), cell: (e) => e.reasonCode?.[0]?.text ?? e.reasonCode?.[0]?.coding?.[0]?.display },
        {
          header: t('visits.status'),
          cell: (e) => (
            <Badge color={STATUS_COLOR[e.status] ?? 'gray'} variant="light">
              {t(`visits.status_${e.status}`)}
            </Badge>
          ),
        },
      ]}
    />
  );
}

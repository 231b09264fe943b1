import { Stack, Table, Title } from '@mantine/core';
import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactElement, ReactNode } from 'react';
import { EmptyState, ErrorState, LoadingState } from './states/States.tsx';

export interface Column<T> {
  header: string;
  cell(row: T): ReactNode;
  /** Bold: the column that names the row (the patient, usually). */
  strong?: boolean;
}

/**
 * A screen that lists the rows of one FHIR query: its title, then the loading, error (with retry), empty or table
 * state. The table is labelled by the title, so tests and screen readers find it by name.
 */
export function ResultTable<T extends { id?: string }>(props: {
  title: string;
  query: UseQueryResult<unknown>;
  rows: T[];
  empty: string;
  columns: Column<T>[];
  /** Above the table (a search form, a count). */
  children?: ReactNode;
  /** Whether the query has been asked at all (a search form not yet submitted shows nothing). */
  asked?: boolean;
}): ReactElement {
  const { title, query, rows, empty, columns, children, asked = true } = props;
  return (
    <Stack>
      <Title order={2}>{title}</Title>
      {children}
      {asked && query.isLoading && <LoadingState />}
      {query.error && <ErrorState error={query.error} onRetry={() => void query.refetch()} />}
      {query.data !== undefined && rows.length === 0 && <EmptyState text={empty} />}
      {rows.length > 0 && (
        <Table striped highlightOnHover aria-label={title}>
          <Table.Thead>
            <Table.Tr>
              {columns.map((c) => (
                <Table.Th key={c.header}>{c.header}</Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((row, i) => (
              <Table.Tr key={row.id ?? i}>
                {columns.map((c) => (
                  <Table.Td key={c.header} fw={c.strong ? 600 : undefined}>
                    {c.cell(row)}
                  </Table.Td>
                ))}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}

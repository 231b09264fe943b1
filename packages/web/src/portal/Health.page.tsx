import { Badge, Card, Group, Stack, Table, Text, Timeline, Title } from '@mantine/core';
import type { ReactElement, ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { QrCode } from '../features/clinic/QrCode.tsx';
import { EmptyState, ErrorState, LoadingState } from '../ui/states/States.tsx';
import { usePortal, useRecord } from './portal.api.ts';
import {
  CHECKIN_QR_PREFIX,
  currentCare,
  imagingReports,
  labReports,
  maskId,
  nameOf,
  prescriptionGroups,
  repeatedTrends,
  reportResults,
  textOf,
  upcoming,
  viDate,
  visitTimeline,
  viTime,
  vnDay,
} from './portal.logic.ts';
import { TrendChart } from './TrendChart.tsx';

function Section({ title, children }: { title: string; children: ReactNode }): ReactElement {
  return (
    <Card withBorder radius="md" p="sm" component="section" aria-label={title}>
      <Title order={3} size="h5" mb="xs" c="#0f6b4f">
        {title}
      </Title>
      {children}
    </Card>
  );
}

function value(o: {
  valueQuantity?: { value?: number; unit?: string };
  valueString?: string;
  component?: { valueQuantity?: { value?: number; unit?: string } }[];
}): string {
  if (o.valueQuantity?.value !== undefined) {
    return `${o.valueQuantity.value} ${o.valueQuantity.unit ?? ''}`.trim();
  }
  if (o.component?.length) {
    return `${o.component.map((c) => c.valueQuantity?.value).join('/')} ${o.component[0]?.valueQuantity?.unit ?? ''}`.trim();
  }
  return o.valueString ?? '';
}

export function HealthPage(): ReactElement {
  const { t } = useTranslation();
  const { activeId } = usePortal();
  const record = useRecord(activeId);
  if (record.isLoading) {
    return <LoadingState />;
  }
  if (record.error || !record.data) {
    return <ErrorState error={record.error} onRetry={() => void record.refetch()} />;
  }
  const r = record.data;
  const p = r.patient;
  const cccd = p?.identifier?.find((i) => i.system?.includes('cccd'))?.value;
  const bhyt = p?.identifier?.find((i) => i.system?.includes('bhyt'))?.value;
  const visits = visitTimeline(r);
  const trends = repeatedTrends(r);
  const labs = labReports(r);
  const imaging = imagingReports(r);
  const rx = prescriptionGroups(r);
  const today = vnDay(new Date());
  const next = upcoming(r, today);
  const care = currentCare(r, today);
  return (
    <Stack gap="sm">
      <Title order={2} size="h4">
        {t('portal.health.title')}
      </Title>
      <Section title={t('portal.health.profile')}>
        <Text fw={600} size="lg">
          {nameOf(p)}
        </Text>
        <Text size="sm">
          {t('portal.health.born')}: {viDate(p?.birthDate)} · {t(`portal.gender.${p?.gender ?? 'unknown'}`)}
        </Text>
        {cccd && (
          <Text size="sm">
            {t('portal.health.cccd')}: {maskId(cccd)}
          </Text>
        )}
        {bhyt && (
          <Text size="sm">
            {t('portal.health.bhyt')}: {bhyt}
          </Text>
        )}
      </Section>

      {care && (
        <Section title={care.inpatient ? t('portal.health.inpatient') : t('portal.health.currentVisit')}>
          <Text size="sm" c="dimmed" mb={4}>
            {t('portal.health.since', { date: viDate(care.encounter.period?.start) })}
            {care.encounter.location?.[0]?.location?.display ? ` · ${care.encounter.location[0].location.display}` : ''}
          </Text>
          {care.plans.map((plan) => (
            <div key={plan.title}>
              <Text size="sm" fw={600}>
                {plan.title}
              </Text>
              {plan.activities.map((a) => (
                <Text key={a} size="sm">
                  • {a}
                </Text>
              ))}
            </div>
          ))}
          <Text size="sm" fw={600} mt="xs">
            {t('portal.health.todayOrders')}
          </Text>
          {care.orders.length === 0 ? (
            <Text size="sm">{t('portal.health.noOrders')}</Text>
          ) : (
            care.orders.map((o) => (
              <Text key={o.id} size="sm">
                • {textOf(o.code)}
                {o.status === 'completed' ? ` — ${t('portal.health.done')}` : ''}
              </Text>
            ))
          )}
          {care.medications.length > 0 && (
            <>
              <Text size="sm" fw={600} mt="xs">
                {t('portal.health.medicines')}
              </Text>
              {care.medications.map((m) => (
                <Text key={m.id} size="sm">
                  • <b>{textOf(m.medicationCodeableConcept)}</b> —{' '}
                  {(m.dosageInstruction ?? []).map((d) => d.text).join('; ')}
                </Text>
              ))}
            </>
          )}
        </Section>
      )}

      <Section title={t('portal.health.upcoming')}>
        {next.length === 0 ? (
          <EmptyState text={t('portal.health.noUpcoming')} />
        ) : (
          <Stack gap="xs">
            {next.map((n) => (
              <Group key={`${n.kind}${n.date}`} justify="space-between" wrap="nowrap">
                <div>
                  <Text fw={600}>
                    {n.kind === 'follow-up'
                      ? t('portal.health.followUp', { date: viDate(n.date) })
                      : t('portal.health.appointment', { date: viDate(n.date), time: viTime(n.date) })}
                  </Text>
                  {n.code && (
                    <Text size="sm">
                      {t('portal.booking.code')}: <b>{n.code}</b>
                    </Text>
                  )}
                </div>
                {n.code && (
                  <QrCode value={`${CHECKIN_QR_PREFIX}${n.code}`} size={84} label={t('portal.booking.checkinQr')} />
                )}
              </Group>
            ))}
          </Stack>
        )}
      </Section>

      <Section title={t('portal.health.allergies')}>
        {r.allergies.length === 0 ? (
          <Text size="sm">{t('portal.health.noAllergies')}</Text>
        ) : (
          <Group gap="xs">
            {r.allergies.map((a) => (
              <Badge key={a.id} color="red" variant="light">
                {textOf(a.code)}
              </Badge>
            ))}
          </Group>
        )}
      </Section>

      <Section title={t('portal.health.conditions')}>
        {r.conditions.length === 0 ? (
          <Text size="sm">{t('portal.health.noConditions')}</Text>
        ) : (
          <Stack gap={2}>
            {[...new Map(r.conditions.map((c) => [c.code?.coding?.[0]?.code ?? c.id, c])).values()].map((c) => (
              <Text key={c.id} size="sm">
                {c.code?.coding?.[0]?.code ? <b>{c.code.coding[0].code} </b> : null}
                {textOf(c.code)}
              </Text>
            ))}
          </Stack>
        )}
      </Section>

      <Section title={t('portal.health.results')}>
        {trends.length > 0 && (
          <Stack gap="sm" mb="sm" aria-label={t('portal.health.trends')}>
            {trends.map((tr) => (
              <div key={tr.code}>
                <Text size="sm" fw={600}>
                  {tr.label} {tr.unit ? `(${tr.unit})` : ''}
                </Text>
                <TrendChart trend={tr} label={t('portal.health.trendOf', { name: tr.label })} />
              </div>
            ))}
          </Stack>
        )}
        {labs.length === 0 ? (
          <EmptyState text={t('portal.health.noResults')} />
        ) : (
          <Stack gap="sm">
            {labs.map((rep) => (
              <div key={rep.id}>
                <Text size="sm" fw={600}>
                  {textOf(rep.code)} · {viDate(rep.issued ?? rep.effectiveDateTime)}
                </Text>
                <Table fz="sm" withRowBorders={false} aria-label={textOf(rep.code)}>
                  <Table.Tbody>
                    {reportResults(r, rep).map((o) => (
                      <Table.Tr key={o.id}>
                        <Table.Td>{textOf(o.code)}</Table.Td>
                        <Table.Td
                          fw={o.interpretation?.length ? 700 : 400}
                          c={o.interpretation?.length ? 'red' : undefined}
                        >
                          {value(o)}
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
                {rep.conclusion && <Text size="sm">{rep.conclusion}</Text>}
              </div>
            ))}
          </Stack>
        )}
      </Section>

      <Section title={t('portal.health.prescriptions')}>
        {rx.length === 0 ? (
          <EmptyState text={t('portal.health.noPrescriptions')} />
        ) : (
          <Stack gap="md">
            {rx.map((g) => (
              <Stack key={g.code ?? g.items[0]?.name} gap={4}>
                <Group justify="space-between" align="flex-start" wrap="nowrap">
                  <div>
                    <Text size="sm" fw={600}>
                      {viDate(g.date)}
                    </Text>
                    {g.code && (
                      <Text size="sm">
                        {t('portal.health.erxCode')}: <b>{g.code}</b>
                      </Text>
                    )}
                  </div>
                  {g.code && <QrCode value={g.code} size={96} label={t('portal.health.erxQr')} />}
                </Group>
                {g.items.map((i) => (
                  <Text key={i.name} size="sm">
                    • <b>{i.name}</b>
                    {i.quantity ? ` × ${i.quantity}` : ''} — {i.instruction}
                  </Text>
                ))}
              </Stack>
            ))}
          </Stack>
        )}
      </Section>

      <Section title={t('portal.health.imaging')}>
        {imaging.length === 0 ? (
          <EmptyState text={t('portal.health.noImaging')} />
        ) : (
          imaging.map((rep) => (
            <div key={rep.id}>
              <Text size="sm" fw={600}>
                {textOf(rep.code)} · {viDate(rep.issued ?? rep.effectiveDateTime)}
              </Text>
              <Text size="sm">{rep.conclusion ?? rep.presentedForm?.[0]?.title}</Text>
            </div>
          ))
        )}
      </Section>

      <Section title={t('portal.health.vaccinations')}>
        {r.immunizations.length === 0 ? (
          <EmptyState text={t('portal.health.noVaccinations')} />
        ) : (
          r.immunizations.map((i) => (
            <Text key={i.id} size="sm">
              {viDate(i.occurrenceDateTime)} — {textOf(i.vaccineCode)}
            </Text>
          ))
        )}
      </Section>

      <Section title={t('portal.health.visits')}>
        {visits.length === 0 ? (
          <EmptyState text={t('portal.health.noVisits')} />
        ) : (
          <Timeline bulletSize={14} lineWidth={2} aria-label={t('portal.health.visits')}>
            {visits.slice(0, 30).map((v) => (
              <Timeline.Item key={v.encounter.id} title={`${viDate(v.date)}${v.place ? ` · ${v.place}` : ''}`}>
                {v.diagnoses.map((d) => (
                  <Text key={`${d.code}${d.text}`} size="sm" fw={d.main ? 600 : 400}>
                    {d.code ? `${d.code} ` : ''}
                    {d.text}
                  </Text>
                ))}
                {v.followUp && (
                  <Text size="xs" c="dimmed">
                    {t('portal.health.followUp', { date: viDate(v.followUp) })}
                  </Text>
                )}
              </Timeline.Item>
            ))}
          </Timeline>
        )}
      </Section>
    </Stack>
  );
}

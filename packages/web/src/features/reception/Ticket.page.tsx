import { Badge, Button, Group, SegmentedControl, Stack, Title } from '@mantine/core';
import { type ReactElement, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate, useParams } from 'react-router';
import { useSession } from '../../auth/AuthContext.tsx';
import { formatDate } from '../../ui/format.ts';
import { ErrorState, LoadingState } from '../../ui/states/States.tsx';
import { formatQueueNumber, pageRule, type PaperSize } from './reception.model.ts';
import { useTicket } from './reception.queries.ts';

const PAPER_KEY = 'sen.ticketPaper';

function savedPaper(): PaperSize {
  return typeof localStorage !== 'undefined' && localStorage.getItem(PAPER_KEY) === 'a5' ? 'a5' : '80mm';
}

/** Printing shows the ticket alone, on the chosen paper; the screen shows it at its printed width. */
function printCss(size: PaperSize): string {
  return `${pageRule(size)}
@media print {
  body * { visibility: hidden !important; }
  .sen-ticket, .sen-ticket * { visibility: visible !important; }
  .sen-ticket { position: absolute; left: 0; top: 0; margin: 0 !important; border: none !important; box-shadow: none !important; }
}`;
}

const SIZES: Record<PaperSize, { width: string; number: string; text: string; title: string }> = {
  '80mm': { width: '74mm', number: '26mm', text: '3.6mm', title: '4.4mm' },
  a5: { width: '128mm', number: '48mm', text: '5mm', title: '6.5mm' },
};

/** The queue ticket of one visit, printable on an 80 mm thermal roll or an A5 sheet. */
export function TicketPage(): ReactElement {
  const { t, i18n } = useTranslation();
  const { encounterId = '' } = useParams();
  const navigate = useNavigate();
  const { staff } = useSession();
  const ticket = useTicket(encounterId);
  const [paper, setPaper] = useState<PaperSize>(savedPaper);
  const choose = (v: string): void => {
    const size: PaperSize = v === 'a5' ? 'a5' : '80mm';
    localStorage.setItem(PAPER_KEY, size);
    setPaper(size);
  };
  const s = SIZES[paper];
  const v = ticket.data;
  return (
    <Stack>
      <style>{printCss(paper)}</style>
      <Group justify="space-between">
        <Title order={2}>{t('reception.ticket.title')}</Title>
        <Group>
          <SegmentedControl
            aria-label={t('reception.ticket.paper')}
            value={paper}
            onChange={choose}
            data={(['80mm', 'a5'] as const).map((p) => ({ value: p, label: t(`reception.ticket.paper_${p}`) }))}
          />
          <Button onClick={() => window.print()} disabled={!v} autoFocus>
            {t('reception.ticket.print')}
          </Button>
          <Button variant="default" onClick={() => void navigate('/reception')}>
            {t('reception.ticket.next')}
          </Button>
        </Group>
      </Group>
      {ticket.isLoading && <LoadingState />}
      {ticket.error && <ErrorState error={ticket.error} onRetry={() => void ticket.refetch()} />}
      {v && (
        <article
          className="sen-ticket"
          aria-label={t('reception.ticket.title')}
          data-paper={paper}
          style={{
            width: s.width,
            padding: paper === 'a5' ? '8mm' : '3mm',
            border: '1px dashed #999',
            background: 'white',
            color: 'black',
            textAlign: 'center',
            fontSize: s.text,
            lineHeight: 1.35,
            fontFamily: 'system-ui, sans-serif',
          }}
        >
          <div style={{ fontWeight: 700, fontSize: s.title, textTransform: 'uppercase' }}>{staff?.facility?.name}</div>
          {v.departmentName && <div>{v.departmentName}</div>}
          <div style={{ borderTop: '1px solid #000', margin: '2mm 0' }} />
          <div style={{ fontWeight: 600 }}>{t('reception.ticket.number').toUpperCase()}</div>
          <div
            data-testid="queue-number"
            aria-label={t('reception.ticket.number')}
            style={{ fontSize: s.number, fontWeight: 800, lineHeight: 1, margin: '1mm 0 2mm' }}
          >
            {formatQueueNumber(v.number)}
          </div>
          {v.emergency && (
            <Badge color="red" size="lg" radius="sm" mb="xs">
              {t('reception.ticket.emergency')}
            </Badge>
          )}
          <div style={{ fontSize: s.title, fontWeight: 700 }} aria-label={t('reception.ticket.room')}>
            {v.roomName}
          </div>
          <div style={{ borderTop: '1px solid #000', margin: '2mm 0' }} />
          <div>
            {t('reception.ticket.patient')}: <strong>{v.patientName}</strong>
          </div>
          {v.birthYear && <div>{t('reception.ticket.birthYear', { year: v.birthYear })}</div>}
          <div>
            {t('reception.ticket.time')}: {formatDate(v.start, i18n.language)}
          </div>
          <div style={{ marginTop: '2mm', fontStyle: 'italic' }}>{t('reception.ticket.keep')}</div>
        </article>
      )}
    </Stack>
  );
}

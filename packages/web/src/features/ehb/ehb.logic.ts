/**
 * The hospital IT screen of the e-health-book feed: the server's `$ehb-submissions` answer (a Parameters resource)
 * as plain rows. Pure functions, tested in ehb.logic.test.ts.
 */
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';

export type SubmissionStatus = 'queued' | 'accepted' | 'failed';

export interface Attempt {
  number: number;
  startedAt?: string;
  outcome: 'accepted' | 'rejected' | 'transient' | string;
  httpStatus?: number;
  responseCode?: string;
  response?: string;
  error?: string;
}

export interface Submission {
  id: string;
  encounter: string;
  maLk: string;
  kind: 'new' | 'resend' | string;
  status: SubmissionStatus | string;
  attempts: number;
  nextAttemptAt?: string;
  lastError?: string;
  transactionCode?: string;
  createdAt?: string;
  sentAt?: string;
  attemptList: Attempt[];
}

export interface SubmissionList {
  counts: Record<SubmissionStatus, number>;
  rows: Submission[];
}

function valueOf(p: ParametersParameter | undefined): string | number | undefined {
  if (!p) {
    return undefined;
  }
  for (const [k, v] of Object.entries(p)) {
    if (k.startsWith('value') && (typeof v === 'string' || typeof v === 'number')) {
      return v;
    }
  }
  return undefined;
}

function parts(p: ParametersParameter): Map<string, ParametersParameter> {
  return new Map((p.part ?? []).filter((x) => x.name !== 'attempt').map((x) => [x.name, x]));
}

const str = (m: Map<string, ParametersParameter>, k: string): string | undefined => {
  const v = valueOf(m.get(k));
  return v === undefined ? undefined : String(v);
};

export function parseSubmission(p: ParametersParameter): Submission {
  const m = parts(p);
  return {
    id: str(m, 'id') ?? '',
    encounter: m.get('encounter')?.valueReference?.reference ?? '',
    maLk: str(m, 'maLk') ?? '',
    kind: str(m, 'kind') ?? 'new',
    status: str(m, 'status') ?? '',
    attempts: Number(valueOf(m.get('attempts')) ?? 0),
    nextAttemptAt: str(m, 'nextAttemptAt'),
    lastError: str(m, 'lastError'),
    transactionCode: str(m, 'transactionCode'),
    createdAt: str(m, 'createdAt'),
    sentAt: str(m, 'sentAt'),
    attemptList: (p.part ?? [])
      .filter((x) => x.name === 'attempt')
      .map((a) => {
        const am = parts(a);
        const http = valueOf(am.get('httpStatus'));
        return {
          number: Number(valueOf(am.get('number')) ?? 0),
          startedAt: str(am, 'startedAt'),
          outcome: str(am, 'outcome') ?? '',
          httpStatus: http === undefined ? undefined : Number(http),
          responseCode: str(am, 'responseCode'),
          response: str(am, 'response'),
          error: str(am, 'error'),
        };
      }),
  };
}

export function parseSubmissionList(body: Parameters | undefined): SubmissionList {
  const params = body?.parameter ?? [];
  const count = (s: SubmissionStatus): number => Number(valueOf(params.find((p) => p.name === s)) ?? 0);
  return {
    counts: { queued: count('queued'), accepted: count('accepted'), failed: count('failed') },
    rows: params.filter((p) => p.name === 'submission').map(parseSubmission),
  };
}

/** Badge colour of a status. */
export function statusColor(status: string): string {
  return status === 'accepted' ? 'green' : status === 'failed' ? 'red' : 'yellow';
}

/** Whether "send now" makes sense: an accepted submission is never sent again. */
export function canRetry(s: Pick<Submission, 'status'>): boolean {
  return s.status === 'queued' || s.status === 'failed';
}

const ERROR_KINDS = ['timeout', 'unreachable', 'bad-response', 'server-error'] as const;

/**
 * The last error split for display: a transport failure's kind (translated on screen) and the rest (HTTP status,
 * "gave up after…"), or a gateway's rejection as it came.
 */
export function describeError(lastError: string | undefined): { kind?: string; rest: string } {
  if (!lastError) {
    return { rest: '' };
  }
  const gaveUp = /^gave up after (\d+) attempts: (.*)$/.exec(lastError);
  const text = gaveUp ? gaveUp[2] : lastError;
  const kind = ERROR_KINDS.find((k) => text === k || text.startsWith(`${k} `));
  if (!kind) {
    return { rest: lastError };
  }
  const tail = text.slice(kind.length).trim();
  return { kind, rest: [tail, gaveUp ? `×${gaveUp[1]}` : ''].filter(Boolean).join(' ') };
}

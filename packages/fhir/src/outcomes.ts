import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

/** An error that carries its OperationOutcome and its HTTP status; thrown anywhere, rendered once. */
export class OutcomeError extends Error {
  readonly status: number;
  readonly outcome: OperationOutcome;
  constructor(status: number, outcome: OperationOutcome) {
    super(outcome.issue?.[0]?.diagnostics ?? outcome.issue?.[0]?.details?.text ?? `HTTP ${status}`);
    this.status = status;
    this.outcome = outcome;
  }
}

type IssueType = OperationOutcomeIssue['code'];

export function outcome(
  severity: OperationOutcomeIssue['severity'],
  code: IssueType,
  text: string,
  expression?: string[],
): OperationOutcome {
  const issue: OperationOutcomeIssue = { severity, code, details: { text }, diagnostics: text };
  if (expression && expression.length > 0) {
    issue.expression = expression;
  }
  return { resourceType: 'OperationOutcome', issue: [issue] };
}

export function issuesOutcome(issues: OperationOutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues };
}

export const outcomes = {
  ok: (text = 'All OK'): OperationOutcome => outcome('information', 'informational', text),
  badRequest: (text: string, expression?: string[]): OutcomeError =>
    new OutcomeError(400, outcome('error', 'invalid', text, expression)),
  notSupported: (text: string): OutcomeError => new OutcomeError(400, outcome('error', 'not-supported', text)),
  unauthorized: (text = 'Authentication required'): OutcomeError =>
    new OutcomeError(401, outcome('error', 'login', text)),
  forbidden: (text = 'Forbidden'): OutcomeError => new OutcomeError(403, outcome('error', 'forbidden', text)),
  notFound: (text: string): OutcomeError => new OutcomeError(404, outcome('error', 'not-found', text)),
  methodNotAllowed: (text: string): OutcomeError => new OutcomeError(405, outcome('error', 'not-supported', text)),
  notAcceptable: (text: string): OutcomeError => new OutcomeError(406, outcome('error', 'not-supported', text)),
  conflict: (text: string): OutcomeError => new OutcomeError(409, outcome('error', 'conflict', text)),
  gone: (text: string): OutcomeError => new OutcomeError(410, outcome('error', 'deleted', text)),
  preconditionFailed: (text: string): OutcomeError => new OutcomeError(412, outcome('error', 'conflict', text)),
  tooLarge: (text: string): OutcomeError => new OutcomeError(413, outcome('error', 'too-costly', text)),
  unsupportedMediaType: (text: string): OutcomeError => new OutcomeError(415, outcome('error', 'not-supported', text)),
  invalid: (issues: OperationOutcomeIssue[]): OutcomeError => new OutcomeError(422, issuesOutcome(issues)),
  unprocessable: (text: string, expression?: string[]): OutcomeError =>
    new OutcomeError(422, outcome('error', 'processing', text, expression)),
  multipleMatches: (text: string): OutcomeError => new OutcomeError(412, outcome('error', 'multiple-matches', text)),
  tooManyRequests: (text: string): OutcomeError => new OutcomeError(429, outcome('error', 'throttled', text)),
  serverError: (text = 'Internal server error'): OutcomeError =>
    new OutcomeError(500, outcome('fatal', 'exception', text)),
  unavailable: (text: string): OutcomeError => new OutcomeError(503, outcome('error', 'transient', text)),
  timeout: (text: string): OutcomeError => new OutcomeError(504, outcome('error', 'timeout', text)),
} as const;

export function isOutcomeError(err: unknown): err is OutcomeError {
  return err instanceof OutcomeError;
}

export { AuditLog, type AuditLogOptions, type AuditWriteOptions, type SealResult } from './audit-log.ts';
export { CANONICAL_FORMAT, canonicalContent, canonicalRow, chainHash, contentHash, GENESIS_HASH } from './canonical.ts';
export {
  AUDIT_EVENT_TYPE_SYSTEM,
  type FhirAuditEventOptions,
  RESTFUL_INTERACTION_SYSTEM,
  SEN_AUDIT_ACTION_SYSTEM,
  toFhirAuditEvent,
} from './fhir-audit-event.ts';
export { auditGrantStatements } from './grants.ts';
export {
  AUDIT_ACTIONS,
  AUDIT_OUTCOMES,
  type AuditAction,
  type AuditEntry,
  type AuditHead,
  type AuditOutcome,
  type AuditPage,
  type AuditProblem,
  type AuditProblemKind,
  type AuditRow,
  type AuditSearch,
  type AuditVerifyResult,
} from './types.ts';
export { type AuditVerifyOptions, verifyAuditChain } from './verify.ts';

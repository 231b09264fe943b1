// Staff sign-in (issue 3): accounts, passwords, TOTP, sessions. HTTP-free; see accounts.ts for the flow.
export {
  AccountError,
  type AccountErrorCode,
  type AuthenticateInput,
  type AuthFailureReason,
  type AuthPolicy,
  type AuthResult,
  type CompleteMfaInput,
  type ConfirmMfaInput,
  type ConfirmMfaResult,
  type CreateAccountInput,
  DEFAULT_AUTH_POLICY,
  type MfaEnrolment,
  type MfaSubject,
  type StaffAccount,
  StaffAccounts,
  type StaffAccountsOptions,
} from './accounts.ts';
export {
  ARGON2_PARAMS,
  type Argon2Params,
  checkPasswordPolicy,
  COMMON_PASSWORDS,
  hashPassword,
  needsRehash,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  type PasswordPolicyResult,
  type PasswordProblem,
  type PasswordProblemCode,
  verifyPassword,
} from './passwords.ts';
export { isStaffRole, MFA_REQUIRED_ROLES, rolesRequireMfa, STAFF_ROLES, type StaffRole } from './roles.ts';
export { parseEncryptionKey, SecretBox } from './secret-box.ts';
export type { StaffSession } from './sessions.ts';
export { generateTotpSecret, totpCode, totpStep, totpUri, type TotpCheck, verifyTotp } from './totp.ts';

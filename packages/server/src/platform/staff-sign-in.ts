/**
 * The second sign-in step of staff accounts for the authorization server's pages (oauth/enrolment.ts): the TOTP code
 * after the password, and MFA enrolment for roles that require it. Each outcome is audited like the password step.
 */
import type { AuditLog } from '@sen/store';
import type { AuthFailureReason, StaffAccounts } from './auth/index.ts';
import type { SecondFactor } from './oauth/enrolment.ts';
import type { AuthenticateResult } from './oauth/index.ts';

const SECOND_STEP_MESSAGES: Partial<Record<AuthFailureReason, string>> = {
  invalid:
    'Mã không hợp lệ hoặc bước đăng nhập đã hết hạn; hãy đăng nhập lại. / The code is not valid or this step has expired: sign in again.',
  locked: 'Tài khoản tạm khoá do nhập sai nhiều lần; thử lại sau 15 phút. / Account locked for 15 minutes.',
  disabled: 'Tài khoản đã bị vô hiệu hoá. / This account is disabled.',
  'rate-limited': 'Quá nhiều lần thử; vui lòng đợi. / Too many attempts; please wait.',
  'mfa-invalid': 'Mã xác thực không đúng. / The code is not valid.',
};

export function staffSecondFactor(accounts: StaffAccounts, audit: AuditLog): SecondFactor {
  const outcome = async (
    r: Awaited<ReturnType<StaffAccounts['completeMfa']>> | Awaited<ReturnType<StaffAccounts['confirmMfa']>>,
    ctx: { ip: string; clientId: string },
  ): Promise<AuthenticateResult> => {
    const ok = r.ok && 'session' in r && r.session;
    await audit.record({
      action: ok ? 'login' : 'login-failed',
      outcome: ok ? 'success' : 'failure',
      who: r.ok ? `Practitioner/${r.account.practitionerId}` : undefined,
      client: ctx.clientId,
      sourceIp: ctx.ip,
      detail: r.ok ? { mfa: 'totp' } : { reason: r.reason },
    });
    if (r.ok && r.session) {
      return { accountId: r.account.id, amr: ['pwd', 'otp'], sessionId: r.session.id };
    }
    const reason = r.ok ? 'invalid' : r.reason;
    return { error: SECOND_STEP_MESSAGES[reason] ?? (SECOND_STEP_MESSAGES.invalid as string) };
  };
  return {
    async completeMfa(token, code, ctx) {
      return outcome(
        await accounts.completeMfa({ mfaToken: token, totp: code, ip: ctx.ip, userAgent: ctx.userAgent }),
        ctx,
      );
    },
    async startEnrolment(token, again) {
      const e = await accounts.enrolMfa({ enrolmentToken: token }, { reusePending: again });
      return e ? { secret: e.secret, uri: e.uri } : undefined;
    },
    async confirmEnrolment(token, code, ctx) {
      return outcome(
        await accounts.confirmMfa({ enrolmentToken: token, code, ip: ctx.ip, userAgent: ctx.userAgent }),
        ctx,
      );
    },
  };
}

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, test } from 'node:test';
import { eachEngine } from '@sen/db/testing';
import { Secret, TOTP } from 'otpauth';
import { type AccountError, type AuthResult, type StaffAccount, StaffAccounts, type StaffRole } from './accounts.ts';
import { verifyPassword } from './passwords.ts';

const PASSWORD = 'Hoa sen nở giữa hồ 2026';
const START = Date.parse('2026-03-02T08:00:10Z');

/** A code from the library itself for the given instant (what the user's authenticator app shows). */
function appCode(secret: string, at: Date): string {
  return new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate({
    timestamp: at.getTime(),
  });
}

function ok(result: AuthResult | { ok: boolean }): asserts result is Extract<AuthResult, { ok: true }> {
  assert.equal(result.ok, true, `expected success, got ${JSON.stringify(result)}`);
}

eachEngine('staff accounts', (h) => {
  const key = randomBytes(32);
  let now = START;
  const clock = () => new Date(now);
  const advance = (ms: number) => {
    now += ms;
  };
  let accounts: StaffAccounts;
  let n = 0;
  /** A fresh username and client IP per test: the suite shares one database and one clock. */
  const fresh = () => {
    n += 1;
    return { username: `user${n}.${h.engine}`, ip: `10.${n}.0.1` };
  };
  const create = (username: string, roles: StaffRole[] = ['receptionist'], password: string = PASSWORD) =>
    accounts.create({
      username,
      practitionerId: `prac-${username}`,
      facilityId: 'benh-vien-sen',
      departmentIds: ['khoa-noi'],
      roles,
      password,
    });

  /** Signs a doctor in through enrolment; returns the account and its TOTP secret. */
  const enrolledDoctor = async (username: string, ip: string): Promise<{ account: StaffAccount; secret: string }> => {
    const account = await create(username, ['doctor']);
    const first = await accounts.authenticate({ username, password: PASSWORD, ip });
    assert.equal(first.ok, false);
    assert.ok(!first.ok && first.reason === 'mfa-enrolment-required');
    const enrolment = await accounts.enrolMfa({ enrolmentToken: first.enrolmentToken });
    assert.ok(enrolment);
    ok(
      await accounts.confirmMfa({ enrolmentToken: first.enrolmentToken, code: appCode(enrolment.secret, clock()), ip }),
    );
    advance(30_000); // the next sign-in needs a code of a later step
    return { account, secret: enrolment.secret };
  };

  before(() => {
    accounts = new StaffAccounts({ db: h.db(), encryptionKey: key, clock });
  });

  test('create, then sign in with the password (receptionist, no MFA required)', async () => {
    const { username, ip } = fresh();
    const account = await create(username);
    assert.equal(account.username, username);
    assert.equal(account.practitionerId, `prac-${username}`);
    assert.equal(account.facilityId, 'benh-vien-sen');
    assert.deepEqual(account.departmentIds, ['khoa-noi']);
    assert.deepEqual(account.roles, ['receptionist']);
    assert.equal(account.mfaRequired, false);
    assert.equal(account.mfaEnabled, false);
    assert.equal(account.createdAt, new Date(now).toISOString());
    assert.equal(account.passwordChangedAt, new Date(now).toISOString());

    const result = await accounts.authenticate({
      username: username.toUpperCase(),
      password: PASSWORD,
      ip,
      userAgent: 'Firefox',
    });
    ok(result);
    assert.equal(result.account.id, account.id);
    assert.equal(result.session.accountId, account.id);
    assert.equal(result.session.ip, ip);
    assert.equal(result.session.userAgent, 'Firefox');
    assert.match(result.session.id, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(result.session.expiresAt, new Date(now + 12 * 3600_000).toISOString());
    const text = JSON.stringify(result);
    assert.ok(!text.includes('argon2') && !text.includes(PASSWORD), 'no hash or password in the result');

    assert.deepEqual(await accounts.findAccount(account.id), account);
    assert.deepEqual(await accounts.findAccountByUsername(username.toUpperCase()), account);
    assert.equal(await accounts.findAccount('nobody'), undefined);
  });

  test('create refuses duplicate usernames (any case), shared practitioners, unknown roles, weak passwords', async () => {
    const { username } = fresh();
    await create(username);
    await assert.rejects(create(username.toUpperCase()), (e: AccountError) => e.code === 'username-taken');
    await assert.rejects(
      accounts.create({
        username: `${username}x`,
        practitionerId: `prac-${username}`,
        facilityId: 'benh-vien-sen',
        roles: ['nurse'],
      }),
      (e: AccountError) => e.code === 'practitioner-taken',
    );
    await assert.rejects(
      create(`${username}y`, ['surgeon' as StaffRole]),
      (e: AccountError) => e.code === 'invalid-role',
    );
    await assert.rejects(create(`${username}z`, []), (e: AccountError) => e.code === 'invalid-role');
    await assert.rejects(create('a b', ['nurse']), (e: AccountError) => e.code === 'invalid-username');
    await assert.rejects(create(`${username}w`, ['nurse'], 'matkhau123'), (e: AccountError) => {
      assert.equal(e.code, 'password-policy');
      assert.deepEqual(
        e.problems?.map((p) => p.code),
        ['common'],
      );
      return true;
    });
  });

  test('wrong password and unknown username give the same answer, after the same work', async () => {
    const { username, ip } = fresh();
    await create(username);
    const wrong = await accounts.authenticate({ username, password: 'not the password', ip });
    const unknown = await accounts.authenticate({ username: `${username}-nobody`, password: PASSWORD, ip });
    assert.deepEqual(wrong, { ok: false, reason: 'invalid' });
    assert.deepEqual(unknown, { ok: false, reason: 'invalid' });

    // An unknown username costs an argon2 verification too, with the same parameters as a real account's hash (no
    // early return that a stopwatch could see); counted here rather than timed
    const checks: string[] = [];
    const counting = new StaffAccounts({
      db: h.db(),
      encryptionKey: key,
      clock,
      verifyPassword: (hash, password) => {
        checks.push(hash.split('$').slice(0, 4).join('$'));
        return verifyPassword(hash, password);
      },
    });
    await counting.authenticate({ username, password: 'not the password', ip: `${ip}9` });
    await counting.authenticate({ username: `${username}-nobody`, password: 'not the password', ip: `${ip}9` });
    assert.equal(checks.length, 2, 'one verification each');
    assert.equal(checks[0], checks[1], 'the same argon2 parameters for the unknown name as for the real account');
    assert.match(checks[0], /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+$/);
  });

  test('5 consecutive failures lock the account for 15 minutes; unknown usernames lock alike', async () => {
    const { username, ip } = fresh();
    const account = await create(username);
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(await accounts.authenticate({ username, password: `wrong ${i}`, ip }), {
        ok: false,
        reason: 'invalid',
      });
      advance(1000);
    }
    assert.deepEqual(await accounts.authenticate({ username, password: PASSWORD, ip }), {
      ok: false,
      reason: 'locked',
    });
    assert.ok((await accounts.findAccount(account.id))?.lockedUntil);

    const ghost = `${username}-ghost`;
    for (let i = 0; i < 5; i++) {
      assert.equal((await accounts.authenticate({ username: ghost, password: `wrong ${i}`, ip })).ok, false);
    }
    assert.deepEqual(await accounts.authenticate({ username: ghost, password: PASSWORD, ip }), {
      ok: false,
      reason: 'locked',
    });

    advance(14 * 60_000);
    assert.deepEqual(await accounts.authenticate({ username, password: PASSWORD, ip }), {
      ok: false,
      reason: 'locked',
    });
    advance(60_000);
    ok(await accounts.authenticate({ username, password: PASSWORD, ip }));
    assert.equal((await accounts.findAccount(account.id))?.lockedUntil, undefined);

    // A success resets the count: 4 failures, a success, 4 failures do not lock.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 4; i++) {
        await accounts.authenticate({ username, password: 'wrong', ip });
      }
      ok(await accounts.authenticate({ username, password: PASSWORD, ip }));
    }
  });

  test('parallel guesses cannot overrun the lockout', async () => {
    const { username, ip } = fresh();
    await create(username);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => accounts.authenticate({ username, password: `wrong ${i}`, ip })),
    );
    const checked = results.filter((r) => !r.ok && r.reason === 'invalid').length;
    assert.equal(checked, 5, JSON.stringify(results));
    assert.equal(results.filter((r) => !r.ok && r.reason === 'locked').length, 7);
    advance(15 * 60_000);
  });

  test('an administrator can unlock', async () => {
    const { username, ip } = fresh();
    const account = await create(username);
    for (let i = 0; i < 5; i++) {
      await accounts.authenticate({ username, password: 'wrong', ip });
    }
    assert.equal((await accounts.authenticate({ username, password: PASSWORD, ip })).ok, false);
    await accounts.unlock(account.id);
    ok(await accounts.authenticate({ username, password: PASSWORD, ip }));
  });

  test('20 failures from one IP within 10 minutes rate-limit that IP, not others', async () => {
    const { username, ip } = fresh();
    await create(username);
    for (let i = 0; i < 20; i++) {
      const r = await accounts.authenticate({ username: `scan-${n}-${i}`, password: 'password123', ip });
      assert.deepEqual(r, { ok: false, reason: 'invalid' });
    }
    assert.deepEqual(await accounts.authenticate({ username, password: PASSWORD, ip }), {
      ok: false,
      reason: 'rate-limited',
    });
    ok(await accounts.authenticate({ username, password: PASSWORD, ip: `${ip}0` }));
    advance(10 * 60_000 + 1000);
    ok(await accounts.authenticate({ username, password: PASSWORD, ip }));
  });

  test('failures on one username from many IPs rate-limit that username', async () => {
    const { username, ip } = fresh();
    const account = await create(username);
    // Failures spread over time so that the lockout ends between bursts, from a new IP each time.
    for (let burst = 0; burst < 2; burst++) {
      for (let i = 0; i < 5; i++) {
        await accounts.authenticate({ username, password: 'wrong', ip: `${ip}.${burst}.${i}` });
      }
      await accounts.unlock(account.id);
    }
    assert.deepEqual(await accounts.authenticate({ username, password: PASSWORD, ip: `${ip}.9` }), {
      ok: false,
      reason: 'rate-limited',
    });
    advance(10 * 60_000 + 1000);
    ok(await accounts.authenticate({ username, password: PASSWORD, ip: `${ip}.9` }));
  });

  test('a doctor must enrol MFA, then needs password and TOTP; codes are single-use', async () => {
    const { username, ip } = fresh();
    const doctor = await create(username, ['doctor']);
    assert.equal(doctor.mfaRequired, true);

    const first = await accounts.authenticate({ username, password: PASSWORD, ip });
    assert.ok(!first.ok && first.reason === 'mfa-enrolment-required', JSON.stringify(first));
    assert.match(first.enrolmentToken, /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(await accounts.listSessions(doctor.id), [], 'no session before MFA');

    assert.equal(await accounts.enrolMfa({ enrolmentToken: 'made-up' }), undefined);
    const enrolment = await accounts.enrolMfa({ enrolmentToken: first.enrolmentToken });
    assert.ok(enrolment);
    assert.equal(enrolment.accountId, doctor.id);
    assert.match(enrolment.uri, new RegExp(`^otpauth://totp/Sen:${username.replace('.', '\\.')}\\?`));
    assert.ok(enrolment.uri.includes(`secret=${enrolment.secret}`));
    assert.ok(enrolment.uri.includes('issuer=Sen'));

    // Password alone still does not sign in while enrolment is pending.
    const again = await accounts.authenticate({ username, password: PASSWORD, ip });
    assert.ok(!again.ok && again.reason === 'mfa-enrolment-required');

    const wrongCode = appCode(enrolment.secret, clock()) === '000000' ? '000001' : '000000';
    assert.deepEqual(await accounts.confirmMfa({ enrolmentToken: first.enrolmentToken, code: wrongCode, ip }), {
      ok: false,
      reason: 'mfa-invalid',
    });
    const confirmCode = appCode(enrolment.secret, clock());
    const confirmed = await accounts.confirmMfa({
      enrolmentToken: first.enrolmentToken,
      code: confirmCode,
      ip,
      userAgent: 'Chrome',
    });
    ok(confirmed);
    assert.ok(confirmed.session, 'enrolment completes the sign-in');
    assert.equal(confirmed.account.mfaEnabled, true);
    assert.deepEqual(
      await accounts.confirmMfa({ enrolmentToken: first.enrolmentToken, code: confirmCode, ip }),
      { ok: false, reason: 'invalid' },
      'the enrolment token is used up',
    );

    // Password alone → a code is required.
    const pwOnly = await accounts.authenticate({ username, password: PASSWORD, ip });
    assert.ok(!pwOnly.ok && pwOnly.reason === 'mfa-required', JSON.stringify(pwOnly));
    assert.match(pwOnly.mfaToken, /^[A-Za-z0-9_-]{43}$/);
    // Wrong password with a code → still just 'invalid' (the code is not even looked at).
    assert.deepEqual(await accounts.authenticate({ username, password: 'wrong', totp: '123456', ip }), {
      ok: false,
      reason: 'invalid',
    });
    // The code already used for the enrolment is refused (replay), even inside its window.
    assert.deepEqual(await accounts.authenticate({ username, password: PASSWORD, totp: confirmCode, ip }), {
      ok: false,
      reason: 'mfa-invalid',
    });
    // A code of the next step signs in, once.
    advance(30_000);
    const code = appCode(enrolment.secret, clock());
    const signedIn = await accounts.authenticate({ username, password: PASSWORD, totp: code, ip });
    ok(signedIn);
    assert.equal(signedIn.account.id, doctor.id);
    assert.deepEqual(await accounts.authenticate({ username, password: PASSWORD, totp: code, ip }), {
      ok: false,
      reason: 'mfa-invalid',
    });
    // A code one step old (clock drift) is accepted if not used before: the window is ±1 step.
    advance(30_000);
    const pw = await accounts.authenticate({ username, password: PASSWORD, ip });
    assert.ok(!pw.ok && pw.reason === 'mfa-required');
    advance(30_000);
    const late = appCode(enrolment.secret, new Date(now - 30_000));
    ok(await accounts.completeMfa({ mfaToken: pw.mfaToken, totp: late, ip }));
    assert.deepEqual(
      await accounts.completeMfa({ mfaToken: pw.mfaToken, totp: appCode(enrolment.secret, clock()), ip }),
      { ok: false, reason: 'invalid' },
      'the MFA token is used up',
    );
    advance(30_000);
  });

  test('two-step sign-in: the MFA token and a code complete it; the token expires', async () => {
    const { username, ip } = fresh();
    const { account, secret } = await enrolledDoctor(username, ip);
    const step1 = await accounts.authenticate({ username, password: PASSWORD, ip });
    assert.ok(!step1.ok && step1.reason === 'mfa-required');
    assert.deepEqual(await accounts.completeMfa({ mfaToken: step1.mfaToken, totp: '12345', ip }), {
      ok: false,
      reason: 'mfa-invalid',
    });
    const done = await accounts.completeMfa({
      mfaToken: step1.mfaToken,
      totp: appCode(secret, clock()),
      ip,
      userAgent: 'Edge',
    });
    ok(done);
    assert.equal(done.account.id, account.id);
    assert.equal(done.session.userAgent, 'Edge');
    assert.deepEqual(await accounts.completeMfa({ mfaToken: 'made-up', totp: '123456', ip }), {
      ok: false,
      reason: 'invalid',
    });

    advance(30_000);
    const step1b = await accounts.authenticate({ username, password: PASSWORD, ip });
    assert.ok(!step1b.ok && step1b.reason === 'mfa-required');
    advance(5 * 60_000 + 1000);
    assert.deepEqual(await accounts.completeMfa({ mfaToken: step1b.mfaToken, totp: appCode(secret, clock()), ip }), {
      ok: false,
      reason: 'invalid',
    });
  });

  test('wrong TOTP codes count towards the lockout', async () => {
    const { username, ip } = fresh();
    const { secret } = await enrolledDoctor(username, ip);
    const step1 = await accounts.authenticate({ username, password: PASSWORD, ip });
    assert.ok(!step1.ok && step1.reason === 'mfa-required');
    const good = appCode(secret, clock());
    const wrong = good === '111111' ? '222222' : '111111';
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(await accounts.completeMfa({ mfaToken: step1.mfaToken, totp: wrong, ip }), {
        ok: false,
        reason: 'mfa-invalid',
      });
    }
    assert.deepEqual(await accounts.completeMfa({ mfaToken: step1.mfaToken, totp: good, ip }), {
      ok: false,
      reason: 'locked',
    });
    assert.deepEqual(await accounts.authenticate({ username, password: PASSWORD, totp: good, ip }), {
      ok: false,
      reason: 'locked',
    });
    advance(15 * 60_000);
  });

  test('a receptionist may opt in to MFA from a signed-in session', async () => {
    const { username, ip } = fresh();
    const account = await create(username, ['receptionist']);
    ok(await accounts.authenticate({ username, password: PASSWORD, ip }));
    const enrolment = await accounts.enrolMfa({ accountId: account.id });
    assert.ok(enrolment);
    // Until confirmed, the password alone still works.
    ok(await accounts.authenticate({ username, password: PASSWORD, ip }));
    const confirmed = await accounts.confirmMfa({
      accountId: account.id,
      code: appCode(enrolment.secret, clock()),
      ip,
    });
    ok(confirmed);
    assert.equal(confirmed.session, undefined, 'no new session when already signed in');
    assert.equal(confirmed.account.mfaEnabled, true);
    assert.equal(confirmed.account.mfaRequired, false);
    const pw = await accounts.authenticate({ username, password: PASSWORD, ip });
    assert.ok(!pw.ok && pw.reason === 'mfa-required');

    // Lost phone: an administrator resets MFA; a receptionist then signs in with the password again.
    await accounts.resetMfa(account.id);
    ok(await accounts.authenticate({ username, password: PASSWORD, ip }));
  });

  test('sessions: list, revoke one, sign out everywhere', async () => {
    const { username, ip } = fresh();
    const account = await create(username);
    const other = await create(`${username}-b`);
    const sessions = [];
    for (const ua of ['PC khoa khám', 'Laptop', 'Điện thoại']) {
      const r = await accounts.authenticate({ username, password: PASSWORD, ip, userAgent: ua });
      ok(r);
      sessions.push(r.session);
      advance(1000);
    }
    const listed = await accounts.listSessions(account.id);
    assert.deepEqual(
      listed.map((s) => s.userAgent),
      ['Điện thoại', 'Laptop', 'PC khoa khám'],
    );
    assert.deepEqual(await accounts.getSession(sessions[0].id), sessions[0]);

    assert.equal(await accounts.revokeSession(sessions[0].id, { accountId: other.id }), false, 'not theirs');
    assert.equal(await accounts.revokeSession(sessions[0].id, { accountId: account.id }), true);
    assert.equal(await accounts.revokeSession(sessions[0].id), false, 'already revoked');
    assert.equal(await accounts.getSession(sessions[0].id), undefined);
    assert.equal(await accounts.touchSession(sessions[0].id), undefined);
    assert.equal((await accounts.listSessions(account.id)).length, 2);

    const otherSession = await accounts.authenticate({ username: `${username}-b`, password: PASSWORD, ip });
    ok(otherSession);
    assert.equal(await accounts.revokeAllSessions(account.id), 2);
    assert.deepEqual(await accounts.listSessions(account.id), []);
    for (const s of sessions) {
      assert.equal(await accounts.getSession(s.id), undefined);
    }
    assert.ok(await accounts.getSession(otherSession.session.id), "another account's session is untouched");
    assert.equal(await accounts.getSession(''), undefined);
    assert.equal(await accounts.getSession('made-up'), undefined);
  });

  test('sessions end when idle for 30 minutes or after 12 hours; touching keeps them alive', async () => {
    const { username, ip } = fresh();
    await create(username);
    const a = await accounts.authenticate({ username, password: PASSWORD, ip });
    const b = await accounts.authenticate({ username, password: PASSWORD, ip });
    ok(a);
    ok(b);
    for (let i = 0; i < 24; i++) {
      advance(29 * 60_000);
      const touched = await accounts.touchSession(a.session.id);
      assert.ok(touched, `touch ${i}`);
      assert.equal(touched.lastSeenAt, new Date(now).toISOString());
    }
    assert.equal(await accounts.getSession(b.session.id), undefined, 'idle');
    advance(29 * 60_000); // 12 h 5 min after sign-in
    assert.equal(await accounts.touchSession(a.session.id), undefined, 'past its absolute end');
    assert.deepEqual(await accounts.listSessions(a.account.id), []);
  });

  test('a disabled account cannot sign in and its sessions end', async () => {
    const { username, ip } = fresh();
    const account = await create(username);
    const s = await accounts.authenticate({ username, password: PASSWORD, ip });
    ok(s);
    const disabled = await accounts.setDisabled(account.id, true);
    assert.equal(disabled.disabled, true);
    assert.equal(await accounts.getSession(s.session.id), undefined);
    assert.deepEqual(await accounts.authenticate({ username, password: PASSWORD, ip }), {
      ok: false,
      reason: 'disabled',
    });
    assert.deepEqual(
      await accounts.authenticate({ username, password: 'wrong password', ip }),
      { ok: false, reason: 'invalid' },
      'the state shows only with the right password',
    );
    await accounts.setDisabled(account.id, false);
    ok(await accounts.authenticate({ username, password: PASSWORD, ip }));
  });

  test('setPassword checks the policy, replaces the password and signs out other sessions', async () => {
    const { username, ip } = fresh();
    const account = await create(username);
    const keep = await accounts.authenticate({ username, password: PASSWORD, ip });
    const drop = await accounts.authenticate({ username, password: PASSWORD, ip });
    ok(keep);
    ok(drop);
    const weak = await accounts.setPassword(account.id, `${username}-2026-abc`);
    assert.ok(!weak.ok);
    assert.deepEqual(
      weak.problems.map((p) => p.code),
      ['contains-username'],
    );
    advance(1000);
    assert.deepEqual(
      await accounts.setPassword(account.id, 'Một mật khẩu mới dài', { keepSessionId: keep.session.id }),
      {
        ok: true,
      },
    );
    assert.equal((await accounts.findAccount(account.id))?.passwordChangedAt, new Date(now).toISOString());
    assert.ok(await accounts.getSession(keep.session.id));
    assert.equal(await accounts.getSession(drop.session.id), undefined);
    assert.deepEqual(await accounts.authenticate({ username, password: PASSWORD, ip }), {
      ok: false,
      reason: 'invalid',
    });
    ok(await accounts.authenticate({ username, password: 'Một mật khẩu mới dài', ip }));
    await assert.rejects(accounts.setPassword('nobody', 'Một mật khẩu mới dài'), (e: AccountError) => {
      return e.code === 'not-found';
    });
  });

  test('hashes made with weaker parameters are upgraded at the next sign-in', async () => {
    const { username, ip } = fresh();
    const weak = new StaffAccounts({
      db: h.db(),
      encryptionKey: key,
      clock,
      passwordParams: { memoryCost: 8192, timeCost: 1, parallelism: 1 },
    });
    const account = await weak.create({
      username,
      practitionerId: `prac-${username}`,
      facilityId: 'benh-vien-sen',
      roles: ['cashier'],
      password: PASSWORD,
    });
    const hashOf = async () =>
      (
        await h
          .db()
          .query<{ password_hash: string }>('SELECT password_hash FROM staff_account WHERE id = $1', [account.id])
      ).rows[0].password_hash;
    assert.match(await hashOf(), /m=8192,t=1,p=1/);
    ok(await accounts.authenticate({ username, password: PASSWORD, ip }));
    assert.match(await hashOf(), /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    ok(await accounts.authenticate({ username, password: PASSWORD, ip }));
  });

  test('a role change to a clinical role makes MFA enrolment necessary at the next sign-in', async () => {
    const { username, ip } = fresh();
    const account = await create(username, ['receptionist']);
    ok(await accounts.authenticate({ username, password: PASSWORD, ip }));
    const updated = await accounts.update(account.id, { roles: ['nurse'], departmentIds: ['khoa-ngoai', 'khoa-noi'] });
    assert.deepEqual(updated.roles, ['nurse']);
    assert.deepEqual(updated.departmentIds, ['khoa-ngoai', 'khoa-noi']);
    assert.equal(updated.mfaRequired, true);
    const r = await accounts.authenticate({ username, password: PASSWORD, ip });
    assert.ok(!r.ok && r.reason === 'mfa-enrolment-required');
    await assert.rejects(accounts.update(account.id, { roles: ['janitor' as StaffRole] }), (e: AccountError) => {
      return e.code === 'invalid-role';
    });
  });

  test('secrets at rest: argon2id hash, encrypted TOTP secret, no usernames or passwords in login attempts', async () => {
    const { username, ip } = fresh();
    const { account, secret } = await enrolledDoctor(username, ip);
    await accounts.authenticate({ username, password: 'a wrong password typed', ip });
    const { rows } = await h
      .db()
      .query<Record<string, unknown>>('SELECT * FROM staff_account WHERE id = $1', [account.id]);
    const row = rows[0];
    assert.match(String(row.password_hash), /^\$argon2id\$/);
    assert.ok(row.mfa_secret, 'a secret is stored');
    assert.notEqual(row.mfa_secret, secret);
    assert.ok(!String(row.mfa_secret).includes(secret));
    assert.ok(!String(row.mfa_secret).includes(Buffer.from(Secret.fromBase32(secret).bytes).toString('base64')));
    assert.match(String(row.mfa_secret), /^v1\./);
    assert.equal(row.mfa_pending_secret, null);

    // Another key cannot use the stored secret: sign-in with a valid code fails closed.
    const wrongKey = new StaffAccounts({ db: h.db(), encryptionKey: randomBytes(32), clock });
    await assert.rejects(
      wrongKey.authenticate({ username, password: PASSWORD, totp: appCode(secret, clock()), ip }),
      /not configured/,
    );

    const attempts = await h.db().query('SELECT * FROM login_attempt');
    const dump = JSON.stringify(attempts.rows);
    assert.ok(attempts.rows.length > 0);
    assert.ok(!dump.includes(username), 'usernames are stored as keyed digests');
    assert.ok(!dump.includes('a wrong password typed'));
    assert.ok(!dump.includes(PASSWORD));
    const challenges = JSON.stringify((await h.db().query('SELECT * FROM staff_login_challenge')).rows);
    assert.ok(!/"token_hash":"[A-Za-z0-9_-]{43}"/.test(challenges), 'tokens are stored hashed');
  });
  test('purge deletes old login attempts, used or expired tokens and long-ended sessions, keeps the rest', async () => {
    const { username, ip } = fresh();
    await create(username);
    const old = await accounts.authenticate({ username, password: PASSWORD, ip });
    ok(old);
    await accounts.revokeSession(old.session.id);
    advance(2 * 24 * 3600_000);
    const current = await accounts.authenticate({ username, password: PASSWORD, ip });
    ok(current);
    const count = async (table: string) =>
      Number((await h.db().query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n);
    await accounts.purge({ sessionsOlderThanMs: 24 * 3600_000 });
    assert.equal(await count('login_attempt'), 1, 'only the attempt of the last day');
    assert.equal(await count('staff_login_challenge'), 0, 'every token in this suite is used or expired');
    const left = (await h.db().query<{ id: string }>('SELECT id FROM staff_session')).rows.map((r) => r.id);
    assert.ok(left.includes(current.session.id));
    assert.ok(!left.includes(old.session.id));
    assert.ok(await accounts.getSession(current.session.id));
  });
});

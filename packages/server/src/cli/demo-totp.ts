// npm run demo:totp -- <username> — the current TOTP code of a demo staff account (demo mode only).
import { readConfig } from '../config.ts';
import { totpCode, totpUri } from '../platform/auth/totp.ts';
import { demoTotpSecret, demoUsernames } from '../seed/demo-accounts.ts';

const config = readConfig();
const username = (process.argv[2] ?? '').trim().toLowerCase();
if (config.mode !== 'demo') {
  process.stderr.write('demo:totp works in demo mode only\n');
  process.exit(2);
}
const known = demoUsernames().map((u) => u.username);
if (!known.includes(username)) {
  process.stderr.write(`usage: npm run demo:totp -- <username>\ndemo usernames: ${known.join(', ')}\n`);
  process.exit(2);
}
const secret = demoTotpSecret(config.demoTotpSecret, username);
const now = new Date();
const left = 30 - (Math.floor(now.getTime() / 1000) % 30);
process.stdout.write(
  `Mã xác thực / code: ${totpCode(secret, now)}  (còn ${left} giây / ${left} s left)\n` +
    `Thêm vào ứng dụng xác thực / add to an authenticator app: ${totpUri(secret, username)}\n`,
);

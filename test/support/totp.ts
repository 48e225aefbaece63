/** What an authenticator app shows: the code of a secret at a time, for tests to type in. */
import { generateSync } from 'otplib';
import { TOTP_PERIOD_SECONDS } from '../../src/auth/totp.js';

/** The 6-digit code of base32 `secret` at `nowMs`. */
export function totpCodeAt(secret: string, nowMs: number): string {
  return generateSync({ secret, epoch: Math.floor(nowMs / 1000), period: TOTP_PERIOD_SECONDS });
}

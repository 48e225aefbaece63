/**
 * The optional Have I Been Pwned check of new passwords, by k-anonymity: only the first five hex
 * digits of the password's SHA-1 leave the service, and the answer lists every known suffix for
 * that prefix (padded, so its size tells nothing either). If the service cannot be reached in
 * time the check lets the password through and logs a line: a third party's outage must not stop
 * sign-ups and resets.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';

/** How long to wait for the range API before letting the password through. */
export const BREACH_CHECK_TIMEOUT_MS = 2000;

export function pwnedPasswordsCheck(options: {
  baseUrl: string;
  logger: Logger;
}): (password: string) => Promise<boolean> {
  return async (password) => {
    const digest = createHash('sha1').update(password, 'utf8').digest('hex').toUpperCase();
    const prefix = digest.slice(0, 5);
    const suffix = digest.slice(5);
    try {
      const response = await fetch(`${options.baseUrl}/range/${prefix}`, {
        headers: { 'add-padding': 'true', 'user-agent': 'bienvenue' },
        signal: AbortSignal.timeout(BREACH_CHECK_TIMEOUT_MS),
      });
      if (!response.ok) throw new Error(`answered ${response.status}`);
      const body = await response.text();
      return body.split('\n').some((line) => {
        const [candidate, count] = line.trim().split(':');
        return candidate === suffix && Number(count) > 0;
      });
    } catch (error) {
      options.logger.warn(
        { err: error },
        'Have I Been Pwned could not be checked; the password was accepted without it',
      );
      return false;
    }
  };
}

/**
 * A session's device, in words a person recognizes ("Firefox on Windows"), read from the user
 * agent the session began with by the `bowser` library. A user agent is whatever the client
 * claims: the name is a hint for the account holder, never a security decision.
 */
import Bowser from 'bowser';

/** What to call a device whose user agent is missing or unreadable. */
export const UNKNOWN_DEVICE = 'Unknown device';

/** "Browser on system" for `userAgent`, either part alone when the other is unknown. */
export function describeDevice(userAgent: string | null): string {
  if (userAgent === null || userAgent.trim() === '') return UNKNOWN_DEVICE;
  let browser = '';
  let system = '';
  try {
    const parser = Bowser.getParser(userAgent);
    browser = parser.getBrowserName();
    system = parser.getOSName();
  } catch {
    return UNKNOWN_DEVICE;
  }
  if (browser !== '' && system !== '') return `${browser} on ${system}`;
  return browser || system || UNKNOWN_DEVICE;
}

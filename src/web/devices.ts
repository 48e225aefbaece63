/**
 * The "Your devices" section of the account page: every live session of the account, named by
 * its browser and system, with its address and when it was last seen, the caller's own marked
 * "this device". Each other one has its own form and button to end it, and one more ends all of
 * them: plain form posts, no script. Each button's accessible name says which device it ends.
 */
import { describeDevice } from '../auth/devices.js';
import type { SessionView } from '../auth/sessions.js';
import { html, type Html } from './html.js';

const UNITS: readonly [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];

// Made at the first use: building it loads locale data, which a start does not need.
let relative: Intl.RelativeTimeFormat | undefined;
const relativeTime = () => (relative ??= new Intl.RelativeTimeFormat('en', { numeric: 'auto' }));

/** "5 minutes ago", "yesterday", "now": how long before `now` `then` was. */
export function timeAgo(then: Date, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - then.getTime()) / 1000));
  for (const [unit, length] of UNITS) {
    if (seconds >= length) return relativeTime().format(-Math.floor(seconds / length), unit);
  }
  return relativeTime().format(0, 'second');
}

/** The section, for `sessions` (most recently seen first) as seen at `now`. */
export function devicesSection(options: { sessions: readonly SessionView[]; now: Date }): Html {
  const { sessions, now } = options;
  const others = sessions.filter((session) => !session.current);
  const items = sessions.map((session) => {
    const device = describeDevice(session.userAgent);
    const where = session.ip ?? 'unknown address';
    const seen = timeAgo(session.lastSeenAt, now);
    const end = session.current
      ? html`<span class="this-device">This device</span>`
      : html`<form method="post" action="/account/sessions/end">
          <input type="hidden" name="id" value="${session.id}" />
          <button type="submit" class="quiet">
            End session<span class="visually-hidden">
              on ${device}, ${where}, last seen ${seen}</span
            >
          </button>
        </form>`;
    return html`<li class="device">
      <div>
        <strong>${device}</strong>
        <span class="device-details"
          >${where} · last seen
          <time datetime="${session.lastSeenAt.toISOString()}">${seen}</time></span
        >
      </div>
      ${end}
    </li>`;
  });
  return html`<section class="card" aria-labelledby="devices-heading">
    <h2 id="devices-heading">Your devices</h2>
    <p class="lead">Where your account is logged in. End any session you do not recognize.</p>
    <ul class="devices">
      ${items}
    </ul>
    ${
      others.length > 0 &&
      html`<form method="post" action="/account/sessions/end-others">
        <button type="submit">Log out everywhere else</button>
      </form>`
    }
  </section>`;
}

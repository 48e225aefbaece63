/** The emails passkeys send the account holder: one was added, one (or every one) was removed. */
import type { MailMessage } from './mailer.js';

/** What every passkey notice says besides its news. */
export interface PasskeyNotice {
  readonly to: string;
  readonly at: Date;
  /** The passkey's name, as its holder gave it; none when the operator removed them all. */
  readonly name?: string;
  readonly resetLink: string;
  readonly accountLink: string;
}

function notYou(notice: PasskeyNotice): string[] {
  return [
    'If you did not, someone else may be logged in to your account: check its passkeys and',
    `devices here, and remove what you do not know: ${notice.accountLink}`,
    '',
    `Then choose a new password: ${notice.resetLink}`,
    '',
  ];
}

/** Tells the account holder a passkey was added. */
export function passkeyAddedMessage(notice: PasskeyNotice): MailMessage {
  return {
    to: notice.to,
    subject: 'A passkey was added to your account',
    text: [
      `A passkey named "${notice.name ?? ''}" was added to the account registered with this address on ${notice.at.toUTCString()}.`,
      'It can now log in to the account without the password.',
      '',
      'If you did this, there is nothing more to do.',
      '',
      ...notYou(notice),
    ].join('\n'),
  };
}

/** Tells the account holder a passkey was removed, by them or (no name) every one by an operator. */
export function passkeyRemovedMessage(notice: PasskeyNotice): MailMessage {
  const what =
    notice.name === undefined
      ? 'Every passkey of the account registered with this address was removed by an administrator of the service'
      : `The passkey named "${notice.name}" was removed from the account registered with this address`;
  return {
    to: notice.to,
    subject: 'A passkey was removed from your account',
    text: [
      `${what} on ${notice.at.toUTCString()}.`,
      'It can no longer log in to the account.',
      '',
      'If you did this, there is nothing more to do.',
      '',
      ...notYou(notice),
    ].join('\n'),
  };
}

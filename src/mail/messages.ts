/** The texts of the emails the service sends. Plain text: nothing to render, nothing to track. */
import type { MailMessage } from './mailer.js';

export function passwordResetMessage(options: {
  to: string;
  link: string;
  validMinutes: number;
}): MailMessage {
  const { to, link, validMinutes } = options;
  return {
    to,
    subject: 'Reset your password',
    text: [
      'Someone asked to reset the password of the account registered with this address.',
      '',
      `To choose a new password, open this link within ${validMinutes} minutes:`,
      '',
      link,
      '',
      'The link works once. If you did not ask for this, ignore this email: your password stays as it is.',
      '',
    ].join('\n'),
  };
}

/** Tells the account holder their password was changed, and what to do if it was not them. */
export function passwordChangedMessage(options: {
  to: string;
  at: Date;
  resetLink: string;
}): MailMessage {
  const { to, at, resetLink } = options;
  return {
    to,
    subject: 'Your password was changed',
    text: [
      `The password of the account registered with this address was changed on ${at.toUTCString()}.`,
      '',
      'If you did this, there is nothing more to do.',
      '',
      'If you did not, someone else knows your password: choose a new one at once here, which also',
      'ends their session:',
      '',
      resetLink,
      '',
    ].join('\n'),
  };
}

/** Invites the holder of `to` to the account made for them: set a password to start. */
export function invitationMessage(options: {
  to: string;
  link: string;
  validSeconds: number;
}): MailMessage {
  const { to, link, validSeconds } = options;
  return {
    to,
    subject: 'You are invited: set your password',
    text: [
      'You are invited to an account registered with this address. It has no password yet.',
      '',
      `To choose your password and start using it, open this link within ${duration(validSeconds)}:`,
      '',
      link,
      '',
      'The link works once. If you did not expect this invitation, ignore this email: nobody can log',
      'in to the account until a password is chosen through this link.',
      '',
    ].join('\n'),
  };
}

/** `seconds` in words, never longer than it is: "7 days", "36 hours", "90 minutes". */
export function duration(seconds: number): string {
  const plural = (count: number, unit: string) => `${count} ${unit}${count === 1 ? '' : 's'}`;
  if (seconds >= 86_400 && seconds % 86_400 === 0) return plural(seconds / 86_400, 'day');
  if (seconds >= 3600 && seconds % 3600 === 0) return plural(seconds / 3600, 'hour');
  return plural(Math.max(1, Math.floor(seconds / 60)), 'minute');
}

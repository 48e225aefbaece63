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

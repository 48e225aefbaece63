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

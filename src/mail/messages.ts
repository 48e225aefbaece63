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

/** What to do when a change to the account's security was not the holder's. */
function notYou(links: { resetLink: string; accountLink: string }): string[] {
  return [
    'If you did not, someone else knows your password: choose a new one at once here, which also',
    'ends their sessions:',
    '',
    links.resetLink,
    '',
    `Then check your account and its devices: ${links.accountLink}`,
    '',
  ];
}

/** The links every two-factor notice carries. */
interface SecurityNotice {
  readonly to: string;
  readonly at: Date;
  readonly resetLink: string;
  readonly accountLink: string;
}

/** Tells the account holder two-factor authentication was turned on. */
export function twoFactorEnabledMessage(options: SecurityNotice): MailMessage {
  return {
    to: options.to,
    subject: 'Two-factor authentication is on',
    text: [
      `Two-factor authentication was turned on for the account registered with this address on ${options.at.toUTCString()}.`,
      'From now on, logging in asks for a code from your authenticator app after the password.',
      'Keep your recovery codes somewhere safe: each lets you in once if you lose the app.',
      '',
      'If you did this, there is nothing more to do.',
      '',
      ...notYou(options),
    ].join('\n'),
  };
}

/** Tells the account holder two-factor authentication was turned off, by them or by an operator. */
export function twoFactorDisabledMessage(
  options: SecurityNotice & { byOperator: boolean },
): MailMessage {
  const { at, byOperator } = options;
  const intro = byOperator
    ? [
        `Two-factor authentication was turned off by an administrator of the service for the account registered with this address on ${at.toUTCString()},`,
        'and every session of the account was ended.',
      ]
    : [
        `Two-factor authentication was turned off for the account registered with this address on ${at.toUTCString()}.`,
      ];
  return {
    to: options.to,
    subject: 'Two-factor authentication is off',
    text: [
      ...intro,
      `Logging in now asks for the password alone. You can turn it on again on your account page.`,
      '',
      byOperator
        ? 'If you asked for this, there is nothing more to do.'
        : 'If you did this, there is nothing more to do.',
      '',
      ...notYou(options),
    ].join('\n'),
  };
}

/** Tells the account holder their recovery codes were replaced. */
export function recoveryCodesRegeneratedMessage(options: SecurityNotice): MailMessage {
  return {
    to: options.to,
    subject: 'Your recovery codes were replaced',
    text: [
      `New recovery codes were made for the account registered with this address on ${options.at.toUTCString()}.`,
      'The old ones no longer work.',
      '',
      'If you did this, there is nothing more to do.',
      '',
      ...notYou(options),
    ].join('\n'),
  };
}

/** Tells the account holder a recovery code was used to log in, and how many are left. */
export function recoveryCodeUsedMessage(options: SecurityNotice & { left: number }): MailMessage {
  const left = options.left === 1 ? '1 recovery code is' : `${options.left} recovery codes are`;
  return {
    to: options.to,
    subject: 'A recovery code was used',
    text: [
      `A recovery code of the account registered with this address was used on ${options.at.toUTCString()}.`,
      `It works no more: ${left} left. New ones can be made on your account page.`,
      '',
      'If you did this, there is nothing more to do.',
      '',
      ...notYou(options),
    ].join('\n'),
  };
}

/**
 * The emails about an account's address: the link that proves it, the link that confirms a new
 * one, the notice to the old address, and the word to a new address that has an account already.
 * Plain text. Only the first two carry a link that does anything; opening it only shows a page,
 * whose button does the work (mail scanners open links, they do not press buttons).
 */
import type { MailMessage } from './mailer.js';
import { duration } from './messages.js';

/** The link that proves the address of a new account (or one that asked again). */
export function verificationMessage(options: {
  to: string;
  link: string;
  validSeconds: number;
}): MailMessage {
  return {
    to: options.to,
    subject: 'Confirm your email address',
    text: [
      'An account was registered with this address. To confirm that the address is yours, open',
      `this link within ${duration(options.validSeconds)} and press "Confirm my address":`,
      '',
      options.link,
      '',
      'The link works once. If you did not create this account, ignore this email.',
      '',
    ].join('\n'),
  };
}

/** The link that moves an account to the new address `to`. */
export function emailChangeLinkMessage(options: {
  to: string;
  link: string;
  validSeconds: number;
}): MailMessage {
  return {
    to: options.to,
    subject: 'Confirm your new email address',
    text: [
      'Someone asked to move an account to this address. To confirm that the address is yours and',
      `make it the account's, open this link within ${duration(options.validSeconds)} and press "Confirm":`,
      '',
      options.link,
      '',
      'The link works once. If you did not ask for this, ignore this email: nothing changes.',
      '',
    ].join('\n'),
  };
}

/** Tells the current address that a change away from it was asked for; no link acts on it. */
export function emailChangeNoticeMessage(options: { to: string; at: Date }): MailMessage {
  return {
    to: options.to,
    subject: 'A change of your account’s email address was asked for',
    text: [
      `On ${options.at.toUTCString()}, someone asked to change the email address of the account`,
      'registered with this address. The change happens only once the new address confirms it.',
      '',
      'If it was you, there is nothing more to do.',
      '',
      'If it was not you, someone else knows your password: reset your password at once with',
      '"Forgot your password?" on the login page, which also ends their sessions.',
      '',
    ].join('\n'),
  };
}

/** Tells a new address that it has an account already, so no account can move to it. */
export function emailInUseMessage(options: { to: string }): MailMessage {
  return {
    to: options.to,
    subject: 'This address already has an account',
    text: [
      'Someone asked to move an account to this address, but an account is already registered with',
      'it, so nothing changes. An address belongs to one account only.',
      '',
      'If it was not you, you can ignore this email.',
      '',
    ].join('\n'),
  };
}

/**
 * Invitations: the operator creates an account that has no password yet and emails its holder a
 * link to set one. It is the way in while sign-up is closed, and the sign-up policy does not bind
 * it; the address rules do.
 *
 * Guarantees:
 * - The account is stored with no password (`NO_PASSWORD`, passwords.ts): until one is set, a
 *   login with it is refused like a wrong password, at the same cost.
 * - The link carries a reset token (password-reset.ts: sent once, stored as its digest, stored in
 *   the same statement as the account) valid for `inviteTtl`, not RESET_TOKEN_TTL; the reset page
 *   completes it like any reset.
 * - An address that already has an account is refused with {@link UserAlreadyExistsError}, and
 *   nothing is sent. If the email cannot be sent, the account is removed again and the failure
 *   thrown, so the invitation can simply be repeated.
 * - A sent invitation is audited as `account_invited`.
 */
import type { Clock } from '../clock.js';
import type { DB } from '../db/db.js';
import { UniqueViolationError } from '../db/errors.js';
import type { User } from '../db/schema.js';
import type { Mailer } from '../mail/mailer.js';
import { invitationMessage } from '../mail/messages.js';
import { accountOf, type Account } from './accounts.js';
import type { AuditLog, RequestContext } from './audit.js';
import { UserAlreadyExistsError } from './errors.js';
import { newResetToken, resetLink } from './password-reset.js';
import { NO_PASSWORD } from './passwords.js';
import { requireNewAddress } from './registration.js';

export interface InvitationDependencies {
  readonly db: DB;
  readonly clock: Clock;
  readonly mailer: Mailer;
  readonly audit: AuditLog;
  readonly settings: {
    /** Seconds an invitation's link works (INVITE_TTL). */
    readonly inviteTtl: number;
    /** Base of the links put in emails; never taken from a request. */
    readonly publicUrl: string;
  };
}

/** The invitation email could not be sent; the account made for it was removed again. */
export class InvitationNotSentError extends Error {
  constructor(
    readonly email: string,
    cause: unknown,
  ) {
    super(`The invitation email to ${email} could not be sent, so no account was kept`, { cause });
    this.name = 'InvitationNotSentError';
  }
}

export class Invitations {
  constructor(private readonly deps: InvitationDependencies) {}

  /**
   * Creates the account of `email` without a password and emails it the link to set one. Throws
   * {@link InvalidEmailError}, {@link UserAlreadyExistsError}, or {@link InvitationNotSentError} (its cause the mailer's).
   */
  async invite(email: string, context?: RequestContext): Promise<Account> {
    const { db, clock, mailer, audit, settings } = this.deps;
    const parsed = requireNewAddress(email);
    if ((await db.findUserByEmail(parsed)) !== undefined) {
      throw new UserAlreadyExistsError(parsed.address);
    }
    const { token, digest, expiresAt } = newResetToken(clock, settings.inviteTtl);
    let user: User;
    try {
      user = await db.addUser(parsed.address, NO_PASSWORD, {
        emailKey: parsed.key,
        resetToken: { digest, expiresAt },
        // The operator vouches for the address; the invitation's link proves it besides.
        emailVerified: true,
      });
    } catch (error) {
      if (error instanceof UniqueViolationError) throw new UserAlreadyExistsError(parsed.address);
      throw error;
    }
    try {
      await mailer.send(
        invitationMessage({
          to: user.email,
          link: resetLink(settings.publicUrl, token),
          validSeconds: settings.inviteTtl,
        }),
      );
    } catch (error) {
      // Nobody has the link: the account is of no use, and a repeated invitation must not find it.
      await db.deleteUser(user.id);
      throw new InvitationNotSentError(user.email, error);
    }
    audit.record({ type: 'account_invited', user, context });
    return accountOf(user);
  }
}

/**
 * Changing an account's address: asked for with a live session and the password, done only once
 * a link mailed to the new address is used.
 *
 * Guarantees:
 * - The password is checked like a login's (the same guarded check and per-address count; a
 *   wrong one is audited as a failed login). An account without one (passkey-only) asks from a
 *   session opened within the last ten minutes instead.
 * - The request answers at once and the same whether or not the new address has an account: the
 *   lookup and the mails happen in the background. The current address gets a notice without any
 *   link; the new address gets the confirmation link, or, when an account has it already, word
 *   that nothing can change (and no link exists for it).
 * - Until the link is used nothing changes. A newer request replaces the older link.
 * - Confirming makes the new address the account's, verified, in one statement that the unique
 *   indexes guard: of two accounts confirming one address, exactly one wins, the other is refused
 *   with {@link EmailUnavailableError}. The old address is then free for a new account. Every
 *   session of the account ends but the one that asked; its pending links and reset token go.
 */
import { UniqueViolationError } from '../../db/errors.js';
import {
  emailChangeLinkMessage,
  emailChangeNoticeMessage,
  emailInUseMessage,
} from '../../mail/address-messages.js';
import { accountOf, type Account } from '../accounts.js';
import type { RequestContext } from '../audit.js';
import { emailKey, type EmailAddress } from '../email.js';
import { EmailUnavailableError, EmailUnchangedError, InvalidEmailTokenError } from '../errors.js';
import { confirmOwner, type OwnerRefusal } from '../password-confirmation.js';
import { requireNewAddress } from '../registration.js';
import { digestToken, isUuid } from '../tokens.js';
import { issueLink, mayMail, type AddressDependencies } from './shared.js';

export class EmailChange {
  constructor(private readonly deps: AddressDependencies) {}

  /**
   * Asks to move the account of live session `sessionId` to `newEmail`, given its password (for
   * an account without one, passkey-only, from a session opened within the last ten minutes:
   * {@link confirmOwner}).
   * Returns the account (still at its current address), or why it was refused. Throws
   * {@link InvalidEmailError} for an address no new account could have,
   * {@link EmailUnchangedError} for the account's own, and {@link TooManyAttemptsError}.
   */
  async request(
    sessionId: string | undefined,
    change: { readonly password: string | undefined; readonly newEmail: string },
    context?: RequestContext,
  ): Promise<Account | OwnerRefusal> {
    const address = requireNewAddress(change.newEmail);
    const confirmed = await confirmOwner(this.deps, sessionId, change.password, context);
    if (typeof confirmed === 'string') return confirmed;
    const { user, session } = confirmed;
    if (emailKey(user.email) === address.key) throw new EmailUnchangedError();
    this.deps.audit.record({
      type: 'email_change_requested',
      user,
      context,
      newEmail: address.address,
    });
    const { background, mailer, clock } = this.deps;
    const notice = emailChangeNoticeMessage({ to: user.email, at: new Date(clock.now()) });
    // The notice always goes (a limit shared with other mails could be spent first to hide it);
    // the password check and the account budget bound how often.
    background.run(() => mailer.send(notice), 'address change notice email failed');
    background.run(
      () => this.mailNewAddress(user.id, address, session.id),
      'address change email failed',
    );
    return accountOf(user);
  }

  /**
   * Completes the change the link of `token` was sent for. Returns the account at its new
   * address. Throws {@link InvalidEmailTokenError} (malformed, unknown, used or expired) and
   * {@link EmailUnavailableError} (another account has the address now).
   */
  async confirm(token: string, context?: RequestContext): Promise<Account> {
    const { db, tokens, clock, sessions, audit } = this.deps;
    if (!isUuid(token)) throw new InvalidEmailTokenError();
    const now = clock.now();
    const used = await tokens.use(digestToken(token), 'change', now);
    if (used === undefined) throw new InvalidEmailTokenError();
    const user = await db.findUser({ id: used.user_id });
    if (user === undefined) throw new InvalidEmailTokenError();
    // Only while the session that asked lives: a password reset or change (what the notice to
    // the old address tells its owner to do) ends it, and with it the change someone else began.
    const asking = used.session_id;
    if (asking === null || !(await sessions.liveOf(user.id)).some((one) => one.id === asking)) {
      throw new InvalidEmailTokenError();
    }
    let changed: boolean;
    try {
      // Over the address the account had when it asked: a change done meanwhile wins.
      changed = await db.compareAndUpdateUser(
        user.id,
        { email: user.email },
        {
          email: used.email,
          email_key: emailKey(used.email),
          email_verified_at: now,
          reset_token: null,
          reset_token_expires_at: null,
        },
      );
    } catch (error) {
      if (error instanceof UniqueViolationError) throw new EmailUnavailableError();
      throw error;
    }
    if (!changed) throw new InvalidEmailTokenError();
    await tokens.deleteAllOf(user.id);
    await sessions.endAllBut(user, asking, 'email_changed', context);
    audit.record({ type: 'email_changed', user, context, newEmail: used.email });
    return accountOf({ ...user, email: used.email, email_verified_at: now });
  }

  /** The link to `address`, or word that it has an account already (then no link exists). */
  private async mailNewAddress(
    userId: number,
    address: EmailAddress,
    sessionId: string,
  ): Promise<void> {
    const { db, tokens, mailer, settings } = this.deps;
    // The new address gets these mails under the reset emails' limit (one a minute,
    // RESET_EMAIL_LIMIT a window): repeated requests cannot flood someone else's inbox.
    if (!(await mayMail(this.deps, address.address))) return;
    if ((await db.findUserByEmail(address)) !== undefined) {
      await mailer.send(emailInUseMessage({ to: address.address }));
      return;
    }
    // One pending change at a time: the newest.
    await tokens.deleteAllOf(userId, 'change');
    const link = await issueLink(this.deps, {
      userId,
      purpose: 'change',
      email: address.address,
      sessionId,
    });
    await mailer.send(
      emailChangeLinkMessage({
        to: address.address,
        link,
        validSeconds: settings.emailVerificationTtl,
      }),
    );
  }
}

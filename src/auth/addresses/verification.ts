/**
 * Email verification: proving that an account's holder receives the mail of its address.
 *
 * Guarantees:
 * - With EMAIL_VERIFICATION `optional` or `required`, every sign-up mails its address a link,
 *   in the background (the sign-up answers at once). With `off`, nothing is ever sent.
 * - A link's token works once, until EMAIL_VERIFICATION_TTL has passed, and only while the
 *   account still has the address it was sent to; only its SHA-256 digest is stored.
 * - Opening the link (GET) changes nothing: only {@link EmailVerification.verify}, which the
 *   page's button or an API POST reaches, spends the token. A mail scanner's GET spends nothing.
 * - Asking again ({@link EmailVerification.resend}) answers the same for any well-formed address,
 *   and mails only an account that exists and is not verified, at most once a minute and
 *   RESET_EMAIL_LIMIT per window with abuse protection on.
 * - With `required`, {@link EmailVerification.blocksLogin} says which accounts may not log in.
 */
import type { User } from '../../db/schema.js';
import { verificationMessage } from '../../mail/address-messages.js';
import { accountOf, type Account } from '../accounts.js';
import type { RequestContext } from '../audit.js';
import { InvalidEmailTokenError } from '../errors.js';
import { requireValidEmail } from '../registration.js';
import { digestToken, isUuid } from '../tokens.js';
import {
  issueLink,
  mayMail,
  type AddressDependencies,
  type EmailVerificationMode,
} from './shared.js';

export class EmailVerification {
  constructor(private readonly deps: AddressDependencies) {}

  /** EMAIL_VERIFICATION. */
  get mode(): EmailVerificationMode {
    return this.deps.settings.emailVerification;
  }

  /** Whether a new account gets a link (and the sign-up page says to check the inbox). */
  get sendsLinks(): boolean {
    return this.mode !== 'off';
  }

  /**
   * Whether `user` must prove its address before it may add a lasting way in (a passkey): any
   * mode but `off`, and its address not proven. Otherwise whoever signed up with someone else's
   * address could add a passkey that outlives the owner's password reset.
   */
  mustProveFirst(user: Pick<User, 'email_verified_at'>): boolean {
    return this.mode !== 'off' && user.email_verified_at === null;
  }

  /** Whether `user` may not log in yet: `required`, and its address not proven. */
  blocksLogin(user: Pick<User, 'email_verified_at'>): boolean {
    return this.mode === 'required' && user.email_verified_at === null;
  }

  /** Mails a new account its link, in the background (nothing with EMAIL_VERIFICATION=off). */
  welcome(account: Account, context?: RequestContext): void {
    if (!this.sendsLinks || account.emailVerified) return;
    this.deps.background.run(
      () => this.sendLink({ id: account.id, email: account.email }, context),
      'verification email failed',
    );
  }

  /**
   * Asks for a new link for `email`: the same (immediate) answer for every well-formed address;
   * the lookup and the mail happen in the background. Throws {@link InvalidEmailError} for a
   * malformed address.
   */
  resend(email: string, context?: RequestContext): void {
    const address = requireValidEmail(email);
    if (!this.sendsLinks) return;
    this.deps.background.run(async () => {
      const user = await this.deps.db.findUserByEmail(address);
      if (user === undefined || user.email_verified_at !== null) return;
      await this.sendLink(user, context);
    }, 'verification email failed');
  }

  /**
   * Proves the address the link of `token` was sent to, if the token is live and unused and the
   * account still has that address; the account's other links stop working. Returns the
   * account. Throws {@link InvalidEmailTokenError}.
   */
  async verify(token: string, context?: RequestContext): Promise<Account> {
    const { db, tokens, clock, audit } = this.deps;
    if (!isUuid(token)) throw new InvalidEmailTokenError();
    const now = clock.now();
    const used = await tokens.use(digestToken(token), 'verify', now);
    if (used === undefined) throw new InvalidEmailTokenError();
    const user = await db.findUser({ id: used.user_id });
    if (user?.email !== used.email) throw new InvalidEmailTokenError();
    if (user.email_verified_at === null) {
      // Only over the address the link was sent to: a change done meanwhile wins.
      const verified = await db.compareAndUpdateUser(
        user.id,
        { email: used.email, email_verified_at: null },
        { email_verified_at: now },
      );
      if (!verified) throw new InvalidEmailTokenError();
      audit.record({ type: 'email_verified', user, context });
    }
    await tokens.deleteAllOf(user.id, 'verify');
    return accountOf({ ...user, email_verified_at: user.email_verified_at ?? now });
  }

  private async sendLink(
    user: { readonly id: number; readonly email: string },
    context?: RequestContext,
  ): Promise<void> {
    const { mailer, logger, audit, settings } = this.deps;
    if (!(await mayMail(this.deps, user.email))) {
      logger.info({ userId: user.id }, 'verification email skipped: limit reached');
      return;
    }
    const link = await issueLink(this.deps, {
      userId: user.id,
      purpose: 'verify',
      email: user.email,
    });
    await mailer.send(
      verificationMessage({ to: user.email, link, validSeconds: settings.emailVerificationTtl }),
    );
    audit.record({ type: 'email_verification_sent', user, context });
  }
}

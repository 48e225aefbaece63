/**
 * Password reset by emailed token.
 *
 * Guarantees:
 * - A reset token is a random UUID sent once; only its SHA-256 digest is stored. It works once,
 *   for its own account, until `resetTokenTtl` has passed; of concurrent uses exactly one wins.
 * - A request answers at once, the same whether or not the address has an account: the lookup,
 *   the token and the email happen in the background after a random delay.
 * - With abuse protection on, an account gets at most one reset email per
 *   {@link RESET_EMAIL_COOLDOWN_MS} and `resetEmails.max` per window; at most
 *   {@link MAX_PENDING_RESET_EMAILS} wait at once.
 * - An invitation's token (invitations.ts) is one of these, with its own lifetime: completing it
 *   sets the invited account's first password.
 * - A completed reset ends every session of the account, and every login of it waiting for its
 *   second factor, and lifts its login throttling (the factor stays on).
 */
import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { DB } from '../db/db.js';
import type { LoginChallenges } from '../db/login-challenges.js';
import type { Throttles } from '../db/throttles.js';
import type { Mailer } from '../mail/mailer.js';
import { passwordResetMessage } from '../mail/messages.js';
import type { AuditLog, RequestContext } from './audit.js';
import type { BackgroundWork } from './background.js';
import type { Credentials, ThrottlingSettings } from './credentials.js';
import { emailKey, parseEmail, type EmailAddress } from './email.js';
import { InvalidResetTokenError, UnknownEmailError } from './errors.js';
import type { PasswordHasher, PasswordRules } from './passwords.js';
import { requireValidEmail } from './registration.js';
import { RESET_EMAIL, RESET_EMAIL_COOLDOWN } from './rules.js';
import type { SessionManager } from './sessions.js';
import { digestToken, generateUuid, isUuid } from './tokens.js';

/** Reset emails waiting to be sent at once; beyond this, requests are dropped (and logged). */
export const MAX_PENDING_RESET_EMAILS = 100;
/** With abuse protection on, an account gets at most one reset email in this time. */
export const RESET_EMAIL_COOLDOWN_MS = 60 * 1000;
/** The background work of a reset request starts after a random delay up to this long. */
const MAX_RESET_DELAY_MS = 1000;

/** A new reset token (sent once), its digest (stored) and when it stops working. */
export interface NewResetToken {
  readonly token: string;
  readonly digest: string;
  readonly expiresAt: number;
}

/**
 * A fresh reset token valid `ttlSeconds` from now: password resets use RESET_TOKEN_TTL,
 * invitations INVITE_TTL; both are completed by {@link PasswordReset.complete}.
 */
export function newResetToken(clock: Clock, ttlSeconds: number): NewResetToken {
  const token = generateUuid();
  return { token, digest: digestToken(token), expiresAt: clock.now() + ttlSeconds * 1000 };
}

/** The link an email carries to the page that takes a reset token. */
export function resetLink(publicUrl: string, token: string, returnTo?: string): string {
  const link = `${publicUrl}/reset_password?token=${token}`;
  return returnTo === undefined ? link : `${link}&rd=${encodeURIComponent(returnTo)}`;
}

export interface PasswordResetDependencies {
  readonly db: DB;
  readonly hasher: PasswordHasher;
  readonly clock: Clock;
  readonly mailer: Mailer;
  readonly logger: Logger;
  readonly throttles: Throttles;
  readonly passwordRules: PasswordRules;
  readonly audit: AuditLog;
  readonly sessions: SessionManager;
  /** Logins waiting for their second factor: a completed reset ends the account's. */
  readonly challenges: LoginChallenges;
  readonly credentials: Credentials;
  readonly background: BackgroundWork;
  readonly settings: {
    readonly resetTokenTtl: number;
    /** Base of the links put in emails; never taken from a request. */
    readonly publicUrl: string;
    readonly throttling?: ThrottlingSettings | undefined;
  };
  /** Delay before a reset request's background work; random by default. */
  readonly backgroundDelayMs?: (() => number) | undefined;
}

export class PasswordReset {
  private readonly backgroundDelayMs: () => number;

  constructor(private readonly deps: PasswordResetDependencies) {
    this.backgroundDelayMs = deps.backgroundDelayMs ?? (() => randomInt(MAX_RESET_DELAY_MS + 1));
  }

  /**
   * Issues a new reset token for the account of `email` (replacing any earlier one) and returns it.
   * Throws {@link UnknownEmailError} when there is no such account.
   */
  async issueToken(email: string, context?: RequestContext): Promise<string> {
    const parsed = parseEmail(email);
    const user = parsed === null ? undefined : await this.deps.db.findUserByEmail(parsed);
    this.deps.audit.record({ type: 'password_reset_requested', user, context });
    if (user === undefined) throw new UnknownEmailError();
    return this.newToken(user.id, { emailed: false });
  }

  /**
   * Emails a reset link to `email` if it has an account; does nothing otherwise, after a random
   * delay, in the background. `returnTo` (a URL the page layer checked as safe, where the login
   * after the reset should lead) rides along in the link as `rd`. Throws {@link InvalidEmailError} for a malformed address; delivery
   * failures are logged, never thrown.
   */
  request(email: string, context?: RequestContext, options: { returnTo?: string } = {}): void {
    const address = requireValidEmail(email);
    if (this.deps.background.pending >= MAX_PENDING_RESET_EMAILS) {
      this.deps.logger.warn('too many password reset emails waiting; this request was dropped');
      return;
    }
    this.deps.background.run(async () => {
      await new Promise((resolve) => setTimeout(resolve, this.backgroundDelayMs()));
      await this.sendEmail(address, context, options.returnTo);
    }, 'password reset email failed');
  }

  /**
   * Sets a new password with a reset token, then forgets the token and ends every session of the
   * account (also one being opened with the old password meanwhile). With `email`, the token must
   * also belong to that address. Throws {@link PasswordPolicyError} or
   * {@link InvalidResetTokenError}.
   */
  async complete(
    resetToken: string,
    password: string,
    options: { email?: string; context?: RequestContext } = {},
  ): Promise<void> {
    const { db, clock, hasher, sessions } = this.deps;
    const acceptedPassword = await this.deps.passwordRules.accept(password);
    if (!isUuid(resetToken)) throw new InvalidResetTokenError();
    const tokenDigest = digestToken(resetToken);
    // Check before hashing, so a guessed token costs no bcrypt work; the update below re-checks.
    const user = await db.findUser({ reset_token: tokenDigest });
    const now = clock.now();
    if (
      user?.reset_token_expires_at == null ||
      user.reset_token_expires_at <= now ||
      (options.email !== undefined && parseEmail(options.email)?.key !== emailKey(user.email))
    ) {
      throw new InvalidResetTokenError();
    }
    const hashedPassword = await hasher.hash(acceptedPassword);
    const consumed = await db.consumeResetToken({
      userId: user.id,
      tokenDigest,
      hashedPassword,
      now: clock.now(),
    });
    if (!consumed) throw new InvalidResetTokenError();
    // After the new hash is in: a login that verified the old one can no longer open a session,
    // nor a challenge; the challenges first, so that none opens a session after the sessions end.
    await this.deps.challenges.deleteAllOf(user.id);
    await sessions.endAll(user, 'password_reset', options.context);
    await this.deps.credentials.check.clear(emailKey(user.email));
    this.deps.audit.record({ type: 'password_reset_completed', user, context: options.context });
  }

  /** A new reset token for account `userId`; `emailed` when it goes out by email only. */
  private async newToken(userId: number, options: { emailed: boolean }): Promise<string> {
    const { token, digest, expiresAt } = newResetToken(
      this.deps.clock,
      this.deps.settings.resetTokenTtl,
    );
    await this.deps.db.updateUser(userId, {
      reset_token: digest,
      reset_token_expires_at: expiresAt,
      reset_token_emailed: options.emailed ? 1 : 0,
    });
    return token;
  }

  private async sendEmail(
    address: EmailAddress,
    context?: RequestContext,
    returnTo?: string,
  ): Promise<void> {
    const { db, logger, settings } = this.deps;
    const user = await db.findUserByEmail(address);
    this.deps.audit.record({ type: 'password_reset_requested', user, context });
    if (user === undefined) return;
    const limit = settings.throttling?.resetEmails;
    if (limit !== undefined) {
      const now = this.deps.clock.now();
      // Each counter is one atomic upsert: of requests in parallel, exactly one is first. The
      // minute's is counted first, so requests it refuses do not use up the longer limit.
      const { throttles } = this.deps;
      const recent = await throttles.hit(
        RESET_EMAIL_COOLDOWN,
        user.email,
        now,
        RESET_EMAIL_COOLDOWN_MS,
      );
      if (recent.count > 1) {
        logger.info({ userId: user.id }, 'password reset email skipped: one sent a minute ago');
        return;
      }
      const counter = await throttles.hit(RESET_EMAIL, user.email, now, limit.windowSeconds * 1000);
      if (counter.count > limit.max) {
        logger.info({ userId: user.id }, 'password reset email skipped: limit reached');
        return;
      }
    }
    const token = await this.newToken(user.id, { emailed: true });
    await this.deps.mailer.send(
      passwordResetMessage({
        to: user.email,
        link: resetLink(settings.publicUrl, token, returnTo),
        validMinutes: Math.round(settings.resetTokenTtl / 60),
      }),
    );
  }
}

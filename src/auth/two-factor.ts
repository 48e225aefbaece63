/**
 * Two-factor authentication with an authenticator app (TOTP, totp.ts) and recovery codes
 * (recovery-codes.ts), for the Auth service: enrolling, confirming, turning it off, new recovery
 * codes, the second step of a login, and the operator's reset.
 *
 * Guarantees:
 * - The secret is stored sealed under the service's key (secret-box.ts), recovery codes as keyed
 *   hashes; neither is ever stored, logged nor audited in the clear. Without a key nothing can be
 *   enrolled, nor checked: {@link TwoFactorUnavailableError}.
 * - An enrolment stays pending (not asked for at login) until a code of its secret confirms it;
 *   beginning again replaces a pending one, never an enabled one.
 * - A TOTP code works once: its time step, and every earlier one, is refused from then on, in the
 *   same statement that accepts it, so of concurrent uses exactly one wins. A recovery code works
 *   once, likewise.
 * - Turning it on ends every other session of the account. Turning it off ends the account's
 *   logins waiting for their second factor; the operator's reset ends those and every session.
 *   Turning it off, and new recovery codes,
 *   need the current password (checked like a login); turning it off needs a code as well, and
 *   both are checked in one counted attempt, so wrong codes are throttled with the password.
 * - The second step of a login ({@link TwoFactor.verifySecondStep}) is not counted here: the
 *   login flow counts it under the login throttle.
 * - The account holder is emailed, off the caller's path, when the factor is turned on or off
 *   (by them or by the operator), when the recovery codes are replaced, and when one is used to
 *   log in (by {@link TwoFactor.verifySecondStep}, so every second step that takes one tells).
 */
import type { Clock } from '../clock.js';
import type { DB } from '../db/db.js';
import type { LoginChallenges } from '../db/login-challenges.js';
import type { User } from '../db/schema.js';
import type { TwoFactorStore } from '../db/two-factor.js';
import type { AuditLog, RequestContext } from './audit.js';
import type { Credentials } from './credentials.js';
import { emailKey } from './email.js';
import { TwoFactorUnavailableError } from './errors.js';
import { confirmPassword, type ConfirmationRefusal } from './password-confirmation.js';
import {
  generateRecoveryCodes,
  normalizeRecoveryCode,
  recoveryCodeHash,
} from './recovery-codes.js';
import type { SecretBox } from './secret-box.js';
import type { SessionManager } from './sessions.js';
import { TwoFactorNotices, type TwoFactorNoticeDependencies } from './two-factor-notices.js';
import { generateTotpSecret, matchingStep, otpauthUrl, parseTotpCode } from './totp.js';

/** What the service's key gives two-factor authentication: the box, and the codes' HMAC key. */
export interface TwoFactorKeys {
  readonly box: SecretBox;
  /** A subkey for recovery codes only (`deriveKey(key, 'recovery-codes')`). */
  readonly recoveryCodeKey: Buffer;
}

export interface TwoFactorDependencies extends TwoFactorNoticeDependencies {
  readonly store: TwoFactorStore;
  /** None when no key is configured: two-factor authentication is then unavailable. */
  readonly keys: TwoFactorKeys | undefined;
  readonly db: DB;
  readonly clock: Clock;
  readonly audit: AuditLog;
  readonly sessions: SessionManager;
  /** Logins waiting for their second factor: turning it off or resetting it ends the account's. */
  readonly challenges: LoginChallenges;
  readonly credentials: Credentials;
  /** The issuer authenticator apps show beside the account. */
  readonly issuer: string;
}

/** A pending enrolment: the secret, for the user's authenticator app (as text or a QR code). */
export interface PendingEnrolment {
  /** Base32, as authenticator apps take it typed in. */
  readonly secret: string;
  readonly otpauthUrl: string;
}

/** How a second step was made. */
export type SecondFactorMethod = 'totp' | 'recovery_code';

/** What a user sees of their factor. */
export interface TwoFactorStatus {
  readonly enabled: boolean;
  /** Unused recovery codes (0 while not enabled). */
  readonly recoveryCodesLeft: number;
}

/** Refusals of the account holder's requests, besides {@link ConfirmationRefusal}. */
export type TwoFactorRefusal =
  | ConfirmationRefusal
  /** Enrolling while it is on already. */
  | 'already_enabled'
  /** Confirming with no pending enrolment (none begun, or confirmed meanwhile). */
  | 'not_pending'
  /** Turning off, or new codes, while it is not on. */
  | 'not_enabled'
  /** A code that is malformed, wrong, or used already. */
  | 'invalid_code';

export class TwoFactor {
  private readonly notices: TwoFactorNotices;

  constructor(private readonly deps: TwoFactorDependencies) {
    this.notices = new TwoFactorNotices(deps);
  }

  /** Whether a key is configured, so that factors can be enrolled and checked. */
  get available(): boolean {
    return this.deps.keys !== undefined;
  }

  /**
   * Begins an enrolment for the account of live session `sessionId`, given its password: a new
   * secret, pending, replacing a pending one. Throws {@link TwoFactorUnavailableError} without a
   * key (before the password is checked) and {@link TooManyAttemptsError}.
   */
  async beginEnrolment(
    sessionId: string | undefined,
    password: string,
    context?: RequestContext,
  ): Promise<PendingEnrolment | ConfirmationRefusal | 'already_enabled'> {
    const { box } = this.requireKeys();
    const confirmed = await confirmPassword(this.deps, sessionId, password, context);
    if (typeof confirmed === 'string') return confirmed;
    const { user } = confirmed;
    const secret = generateTotpSecret();
    // Refused in the same statement when the factor is on (or the account gone meanwhile).
    if (!(await this.deps.store.begin(user.id, box.seal(secret), this.deps.clock.now()))) {
      return 'already_enabled';
    }
    return {
      secret,
      otpauthUrl: otpauthUrl({ secret, issuer: this.deps.issuer, label: user.email }),
    };
  }

  /**
   * Turns the pending factor of the account of live session `sessionId` on, given a code of its
   * secret, and returns its recovery codes: in the clear this once, never again. Every other
   * session of the account ends; session `sessionId` stays.
   */
  async confirmEnrolment(
    sessionId: string | undefined,
    code: string,
    context?: RequestContext,
  ): Promise<{ recoveryCodes: string[] } | 'not_logged_in' | 'not_pending' | 'invalid_code'> {
    const keys = this.requireKeys();
    const { store, clock, audit, sessions } = this.deps;
    const found = await sessions.validate(sessionId);
    if (found === null) return 'not_logged_in';
    const { user, session } = found;
    const factor = await store.find(user.id);
    if (factor === undefined || factor.enabled_at !== null) return 'not_pending';
    const now = clock.now();
    const step = matchingStep(this.open(factor.secret_sealed), code, now);
    if (step === null) {
      audit.record({ type: 'second_factor_failed', user, context });
      return 'invalid_code';
    }
    const recoveryCodes = generateRecoveryCodes();
    const enabled = await store.enable({
      userId: user.id,
      secretSealed: factor.secret_sealed,
      step,
      codeHashes: recoveryCodes.map((shown) => this.hashOf(shown, keys)),
      now,
    });
    if (!enabled) return 'not_pending';
    audit.record({ type: 'totp_enabled', user, context });
    await sessions.endAllBut(user, session.id, 'two_factor_enabled', context);
    this.notices.enabled(user.email);
    return { recoveryCodes };
  }

  /**
   * Turns the factor of the account of live session `sessionId` off, given its password and a
   * code (TOTP or recovery), both checked in one counted attempt. Throws
   * {@link TooManyAttemptsError}.
   */
  async disable(
    sessionId: string | undefined,
    secrets: { readonly password: string; readonly code: string },
    context?: RequestContext,
  ): Promise<true | Exclude<TwoFactorRefusal, 'already_enabled' | 'not_pending'>> {
    this.requireKeys();
    const { store, sessions, credentials, audit } = this.deps;
    const found = await sessions.validate(sessionId);
    if (found === null) return 'not_logged_in';
    const { user } = found;
    if ((await store.find(user.id))?.enabled_at == null) return 'not_enabled';
    // Which secret failed, told by the check below (a closure TypeScript does not follow).
    const failed: { secret: 'wrong_password' | 'invalid_code' } = { secret: 'wrong_password' };
    const verified = await credentials.check.attempt(
      emailKey(user.email),
      async () => {
        const holder = await credentials.verify(user.email, secrets.password, context);
        if (holder === undefined) return undefined;
        failed.secret = 'invalid_code';
        return (await this.useCode(user.id, secrets.code, { user, context })) ? holder : undefined;
      },
      context,
    );
    if (verified === undefined) {
      if (failed.secret === 'wrong_password') audit.record({ type: 'login_failed', user, context });
      return failed.secret;
    }
    if (!(await store.disable(user.id))) return 'not_enabled';
    await this.deps.challenges.deleteAllOf(user.id);
    audit.record({ type: 'totp_disabled', user, context });
    this.notices.disabled(user.email, { byOperator: false });
    return true;
  }

  /**
   * Replaces every recovery code of the account of live session `sessionId`, given its password,
   * and returns the new ones (in the clear this once). Throws {@link TooManyAttemptsError}.
   */
  async regenerateCodes(
    sessionId: string | undefined,
    password: string,
    context?: RequestContext,
  ): Promise<{ recoveryCodes: string[] } | ConfirmationRefusal | 'not_enabled'> {
    const keys = this.requireKeys();
    const { store, clock, audit } = this.deps;
    const confirmed = await confirmPassword(this.deps, sessionId, password, context);
    if (typeof confirmed === 'string') return confirmed;
    const { user } = confirmed;
    const recoveryCodes = generateRecoveryCodes();
    const hashes = recoveryCodes.map((shown) => this.hashOf(shown, keys));
    if (!(await store.replaceCodes(user.id, hashes, clock.now()))) return 'not_enabled';
    audit.record({ type: 'recovery_codes_regenerated', user, context });
    this.notices.codesReplaced(user.email);
    return { recoveryCodes };
  }

  /** Whether account `userId` has the factor on, and how many recovery codes it has left. */
  async status(userId: number): Promise<TwoFactorStatus> {
    const factor = await this.deps.store.find(userId);
    if (factor?.enabled_at == null) return { enabled: false, recoveryCodesLeft: 0 };
    return { enabled: true, recoveryCodesLeft: await this.deps.store.countUnusedCodes(userId) };
  }

  /**
   * Checks `code` as the second step for account `userId`: a TOTP code (six digits) of a step
   * not used yet, or an unused recovery code (any case, spaces and dashes ignored). It is used up
   * in the same statement that accepts it. Returns how it was made, or null (malformed, wrong,
   * used, or no factor on); a failure is audited as `second_factor_failed`, a recovery code used
   * as `recovery_code_used`. Not counted: see the module's guarantees. Throws
   * {@link TwoFactorUnavailableError} when the factor is on but cannot be checked (no key, or
   * not the key it was sealed with).
   */
  async verifySecondStep(
    userId: number,
    code: string,
    options: { user?: Pick<User, 'id' | 'email'>; context?: RequestContext } = {},
  ): Promise<SecondFactorMethod | null> {
    const method = await this.useCode(userId, code, options);
    if (method === 'recovery_code') this.notices.recoveryCodeUsed(userId, options.user?.email);
    return method;
  }

  /** {@link verifySecondStep} without its email: for turning off, which sends its own. */
  private async useCode(
    userId: number,
    code: string,
    options: { user?: Pick<User, 'id' | 'email'>; context?: RequestContext },
  ): Promise<SecondFactorMethod | null> {
    const { store, clock, audit } = this.deps;
    const user = options.user ?? { id: userId };
    const { context } = options;
    const factor = await store.find(userId);
    if (factor?.enabled_at == null) return null;
    const keys = this.requireKeys();
    const now = clock.now();
    let method: SecondFactorMethod | null = null;
    if (parseTotpCode(code) !== null) {
      const step = matchingStep(this.open(factor.secret_sealed), code, now);
      if (step !== null && (await store.useStep(userId, step))) method = 'totp';
    } else {
      const normalized = normalizeRecoveryCode(code);
      if (
        normalized !== null &&
        (await store.useRecoveryCode(
          userId,
          recoveryCodeHash(normalized, keys.recoveryCodeKey),
          now,
        ))
      ) {
        method = 'recovery_code';
        audit.record({ type: 'recovery_code_used', user, context });
      }
    }
    if (method === null) audit.record({ type: 'second_factor_failed', user, context });
    return method;
  }

  /**
   * The operator's reset of account `userId` (its holder lost both the app and the codes): the
   * factor goes, pending or on, with its codes, and every session of the account ends. Returns
   * whether there was a factor (nothing is done otherwise). Needs no key.
   */
  async resetByOperator(userId: number, context?: RequestContext): Promise<boolean> {
    const { store, db, sessions, audit } = this.deps;
    if ((await store.find(userId)) === undefined) return false;
    const enabled = await store.disable(userId);
    const user = (await db.findUser({ id: userId })) ?? { id: userId };
    await this.deps.challenges.deleteAllOf(userId);
    await sessions.endAll(user, 'two_factor_reset', context);
    if (enabled) {
      audit.record({ type: 'totp_disabled', user, context });
      if ('email' in user) this.notices.disabled(user.email, { byOperator: true });
    }
    return true;
  }

  private requireKeys(): TwoFactorKeys {
    if (this.deps.keys === undefined) throw new TwoFactorUnavailableError();
    return this.deps.keys;
  }

  /** The secret sealed in `sealed`; a key that does not open it makes the factor unavailable. */
  private open(sealed: string): string {
    try {
      return this.requireKeys().box.open(sealed);
    } catch (error) {
      throw new TwoFactorUnavailableError({ cause: error });
    }
  }

  private hashOf(shown: string, keys: TwoFactorKeys): string {
    const normalized = normalizeRecoveryCode(shown);
    if (normalized === null) throw new Error('A generated recovery code did not normalize');
    return recoveryCodeHash(normalized, keys.recoveryCodeKey);
  }
}

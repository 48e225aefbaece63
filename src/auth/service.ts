/**
 * The Auth service: the one entry that front ends (the HTTP API, the pages, the CLI) talk to,
 * never to the database. It is a thin facade over one module per concept: sign-up
 * (registration.ts), invitations (invitations.ts), the login flow (login.ts) over password checks (credentials.ts), sessions
 * (sessions.ts), password reset (password-reset.ts), account self-service (self-service.ts),
 * two-factor authentication (two-factor.ts), passkeys (passkeys/), proven addresses (addresses/:
 * verification and address change) and background work (background.ts). It hands out views
 * ({@link Account}), never table rows.
 *
 * Guarantees:
 * - Secrets at rest: passwords as bcrypt or argon2id hashes; session ids and reset tokens as SHA-256 digests;
 *   TOTP secrets sealed (AES-256-GCM) and recovery codes as HMAC-SHA256, under the service's key.
 * - Login costs one password comparison whether or not the account exists, and whether or not the
 *   email is well formed; a malformed one is never queried nor stored.
 * - Addresses are compared by their key (auth/email.ts): look-alikes are one account.
 * - An account has up to `sessionsPerUser` sessions (auth/sessions.ts): each login opens one more
 *   and leaves the others alone, but for the least recently seen beyond the cap. Logout ends the
 *   caller's own session; a password reset or the account's deletion ends all of them.
 * - A reset token works once, for its own account, until `resetTokenTtl` has passed (an
 *   invitation's, until `inviteTtl`).
 * - Sign-up follows the policy (SIGNUP, SIGNUP_EMAIL_DOMAINS, see registration.ts); accounts the
 *   operator adds or invites do not.
 * - An invited account has no password until its holder sets one through the emailed link; until
 *   then a login with it is refused like a wrong password, at the same cost.
 * - Account self-service (changing the password, deleting the account) needs a live session and
 *   the current password, which is checked and throttled like a login.
 * - Links that prove an address (verification, address change) are stored as digests and spent
 *   only by a POST, never by opening them; EMAIL_VERIFICATION=required refuses an unverified
 *   account's login only after its password proved right (see addresses/).
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { DB } from '../db/db.js';
import type { AuthMethod } from '../db/schema.js';
import type { Throttles } from '../db/throttles.js';
import type { Mailer } from '../mail/mailer.js';
import { accountOf, type Account } from './accounts.js';
import type { AccessDecision, AccessRules } from './access-rules.js';
import type { AuditLog, RequestContext } from './audit.js';
import { BackgroundWork } from './background.js';
import { Credentials, type ThrottlingSettings } from './credentials.js';
import { emailKey, parseEmail } from './email.js';
import { LoginFlow, type LoginOutcome } from './login.js';
import { PasswordReset } from './password-reset.js';
import { normalizePassword, type PasswordHasher, type PasswordRules } from './passwords.js';
import { Invitations } from './invitations.js';
import { Registration, type SignUpPolicy } from './registration.js';
import { AccountSelfService } from './self-service.js';
import type { SessionManager } from './sessions.js';
import type { TwoFactorStore } from '../db/two-factor.js';
import type { LoginChallenges } from '../db/login-challenges.js';
import { SecondStepLogin, type SecondStepOutcome } from './second-step.js';
import { totpIssuer } from './totp.js';
import { TwoFactor, type TwoFactorKeys } from './two-factor.js';
import { Addresses, type AddressSettings } from './addresses/index.js';
import type { EmailTokens } from '../db/email-tokens.js';
import { Passkeys, relyingPartyOf } from './passkeys/index.js';
import type { PasskeyStore } from '../db/passkeys.js';
import { MULTI_FACTOR_METHODS } from '../db/schema.js';

export type { Account } from './accounts.js';
export type { AuthMethod } from '../db/schema.js';
export type { ThrottlingSettings } from './credentials.js';
export type { LoginOutcome } from './login.js';
export type { SecondStepOutcome } from './second-step.js';
export { MAX_PENDING_RESET_EMAILS, RESET_EMAIL_COOLDOWN_MS } from './password-reset.js';

/** Durations in seconds. */
export interface AuthSettings extends SignUpPolicy, AddressSettings {
  readonly sessionTtl: number;
  readonly sessionIdleTtl: number;
  /** Most sessions one account holds at once. */
  readonly sessionsPerUser: number;
  readonly resetTokenTtl: number;
  /** How long an invitation's link works. */
  readonly inviteTtl: number;
  /** Base of the links put in emails; never taken from a request. */
  readonly publicUrl: string;
  /** COOKIE_DOMAIN: when set, the passkeys' RP ID (else PUBLIC_URL's host). */
  readonly cookieDomain?: string | undefined;
  /** Abuse protection; none when undefined. */
  readonly throttling?: ThrottlingSettings;
}

export interface AuthDependencies {
  readonly db: DB;
  /** Starts, validates and ends sessions (shared with account administration). */
  readonly sessions: SessionManager;
  readonly hasher: PasswordHasher;
  readonly clock: Clock;
  readonly mailer: Mailer;
  readonly logger: Logger;
  readonly settings: AuthSettings;
  readonly throttles: Throttles;
  readonly passwordRules: PasswordRules;
  readonly audit: AuditLog;
  /** Delay before a reset request's background work; random by default. */
  readonly backgroundDelayMs?: () => number;
  /** Where second factors are stored. */
  readonly twoFactorStore: TwoFactorStore;
  /** From the service's key; two-factor authentication is unavailable without it. */
  readonly twoFactorKeys?: TwoFactorKeys | undefined;
  /** Where logins waiting for their second factor are kept. */
  readonly loginChallenges: LoginChallenges;
  /** Where the links that prove addresses are kept (as digests). */
  readonly emailTokens: EmailTokens;
  /** Where passkeys and their ceremonies' challenges are stored. */
  readonly passkeyStore: PasskeyStore;
}

export class Auth {
  private readonly db: DB;
  private readonly hasher: PasswordHasher;
  private readonly sessions: SessionManager;
  private readonly audit: AuditLog;
  private readonly background: BackgroundWork;
  private readonly credentials: Credentials;
  private readonly registration: Registration;
  private readonly invitations: Invitations;
  private readonly loginFlow: LoginFlow;
  private readonly reset: PasswordReset;
  private readonly selfService: AccountSelfService;
  private readonly secondStep: SecondStepLogin;
  /**
   * Two-factor authentication: turning it on and off, recovery codes, its status, and the
   * operator's reset (see {@link TwoFactor}).
   */
  readonly twoFactor: TwoFactor;
  /**
   * Proven addresses: the verification links, asking for one again, and changing the account's
   * address (see {@link Addresses}).
   */
  readonly addresses: Addresses;
  /**
   * Passkeys: adding, listing and removing them, logging in with one, passkey-only accounts,
   * and the operator's removal (see {@link Passkeys}).
   */
  readonly passkeys: Passkeys;

  constructor(dependencies: AuthDependencies) {
    const { settings } = dependencies;
    ({
      db: this.db,
      hasher: this.hasher,
      sessions: this.sessions,
      audit: this.audit,
    } = dependencies);
    this.background = new BackgroundWork(dependencies.logger);
    this.credentials = new Credentials({ ...dependencies, throttling: settings.throttling });
    const shared = {
      ...dependencies,
      credentials: this.credentials,
      background: this.background,
      challenges: dependencies.loginChallenges,
    };
    this.registration = new Registration({ ...dependencies, policy: settings });
    this.invitations = new Invitations({ ...dependencies, settings });
    this.reset = new PasswordReset({ ...shared, settings });
    this.selfService = new AccountSelfService({ ...shared, publicUrl: settings.publicUrl });
    this.twoFactor = new TwoFactor({
      ...shared,
      store: dependencies.twoFactorStore,
      keys: dependencies.twoFactorKeys,
      issuer: totpIssuer(settings.publicUrl),
      publicUrl: settings.publicUrl,
    });
    this.addresses = new Addresses({ ...shared, tokens: dependencies.emailTokens, settings });
    this.secondStep = new SecondStepLogin({ ...shared, twoFactor: this.twoFactor });
    this.loginFlow = new LoginFlow({
      ...shared,
      secondStep: this.secondStep,
      verification: this.addresses.verification,
    });
    this.passkeys = new Passkeys({
      ...shared,
      store: dependencies.passkeyStore,
      relyingParty: relyingPartyOf(settings.publicUrl, settings.cookieDomain),
      secondStep: this.secondStep,
      verification: this.addresses.verification,
      publicUrl: settings.publicUrl,
    });
  }

  /** A salted hash of `password` (bcrypt or argon2id; the course's `_hash_password`). */
  hashPassword(password: string): Promise<string> {
    return this.hasher.hash(normalizePassword(password));
  }

  /**
   * See {@link Registration.register}: a sign-up, under the sign-up policy. Unless
   * EMAIL_VERIFICATION=off, the new account is mailed a link that proves its address.
   */
  async registerUser(email: string, password: string, context?: RequestContext): Promise<Account> {
    const account = await this.registration.register(email, password, context);
    this.addresses.verification.welcome(account, context);
    return account;
  }

  /** Whether anyone may sign up (SIGNUP=open); the pages hide their sign-up links otherwise. */
  get signUpOpen(): boolean {
    return this.registration.open;
  }

  /** See {@link Registration.add}: an account the operator creates, whatever the policy. */
  addUser(email: string, password: string, context?: RequestContext): Promise<Account> {
    return this.registration.add(email, password, context);
  }

  /** See {@link Invitations.invite}. */
  inviteUser(email: string, context?: RequestContext): Promise<Account> {
    return this.invitations.invite(email, context);
  }

  /**
   * True when the email names an account and the password is its password. Counted like a
   * login's check: while the address is throttled this throws {@link TooManyAttemptsError}
   * without checking the password.
   */
  async validLogin(email: string, password: string): Promise<boolean> {
    const parsed = parseEmail(email);
    if (parsed === null) {
      return (await this.credentials.authenticate(null, password)).verified !== undefined;
    }
    const verified = await this.credentials.check.attempt(
      parsed.key,
      async () => (await this.credentials.authenticate(parsed, password)).verified,
    );
    return verified !== undefined;
  }

  /** Logs in: see {@link LoginFlow.logIn} for its outcomes. */
  login(email: string, password: string, context?: RequestContext): Promise<LoginOutcome> {
    return this.loginFlow.logIn(email, password, context);
  }

  /** The second step of a login: see {@link SecondStepLogin.complete} for its outcomes. */
  completeSecondFactor(
    challengeToken: string | null | undefined,
    code: string,
    context?: RequestContext,
  ): Promise<SecondStepOutcome> {
    return this.secondStep.complete(challengeToken, code, context);
  }

  /**
   * Opens a new session for the account of `email` (no password asked) and returns its id; null
   * for no account.
   */
  async createSession(email: string): Promise<string | null> {
    const parsed = parseEmail(email);
    const user = parsed === null ? undefined : await this.db.findUserByEmail(parsed);
    return user === undefined
      ? null
      : ((await this.sessions.start(user.id, { account: user }))?.token ?? null);
  }

  /** The account whose live session `sessionId` is; null when absent, unknown or expired. */
  async getUserFromSessionId(sessionId: string | null | undefined): Promise<Account | null> {
    const found = await this.sessions.validate(sessionId);
    return found === null ? null : accountOf(found.user);
  }

  /**
   * What `GET /profile` shows of the account of live session `sessionId`: the account, and
   * whether its two-factor authentication is on; null without a live session. One session check.
   */
  async profileOf(
    sessionId: string | null | undefined,
  ): Promise<{ readonly account: Account; readonly twoFactor: boolean } | null> {
    const found = await this.sessions.validate(sessionId);
    return found === null ? null : { account: accountOf(found.user), twoFactor: found.twoFactorOn };
  }

  /**
   * Whether the request for `host` that comes with session `sessionId` may pass, by `rules`
   * (forward auth), and the session's account and how it was authenticated when it is live. One
   * session check.
   */
  async checkAccess(
    sessionId: string | null | undefined,
    host: string,
    rules: AccessRules,
  ): Promise<{ decision: AccessDecision; account: Account | null; authMethod: AuthMethod | null }> {
    const found = await this.sessions.validate(sessionId);
    // With EMAIL_VERIFICATION=required, an unproven account is treated as logged out.
    if (found === null || this.addresses.verification.blocksLogin(found.user)) {
      return { decision: rules.decide(host, null), account: null, authMethod: null };
    }
    const { user, session } = found;
    const subject = {
      emailKey: user.email_key ?? emailKey(user.email),
      secondFactor: MULTI_FACTOR_METHODS.has(session.auth_method),
      emailVerified: user.email_verified_at !== null,
    };
    return {
      decision: rules.decide(host, subject),
      account: accountOf(user),
      authMethod: session.auth_method,
    };
  }

  /**
   * Logs out: ends live session `sessionId` only, the account's others stay. False when it is
   * not a live session.
   */
  async logout(sessionId: string | null | undefined, context?: RequestContext): Promise<boolean> {
    const found = await this.sessions.validate(sessionId);
    if (found === null) return false;
    await this.sessions.end(found.user, found.session, 'logout', context);
    this.audit.record({ type: 'logout', user: found.user, context });
    return true;
  }

  /** Ends every session of user `userId` (the course's `destroy_session`). */
  async destroySession(userId: number, context?: RequestContext): Promise<void> {
    await this.sessions.endAll({ id: userId }, 'logout', context);
    this.audit.record({ type: 'logout', user: { id: userId }, context });
  }

  /** See {@link SessionManager.listOwn}. */
  listSessions(
    ...args: Parameters<SessionManager['listOwn']>
  ): ReturnType<SessionManager['listOwn']> {
    return this.sessions.listOwn(...args);
  }

  /** See {@link SessionManager.revokeOwn}. */
  revokeSession(
    ...args: Parameters<SessionManager['revokeOwn']>
  ): ReturnType<SessionManager['revokeOwn']> {
    return this.sessions.revokeOwn(...args);
  }

  /** See {@link SessionManager.revokeOthers}. */
  revokeOtherSessions(
    ...args: Parameters<SessionManager['revokeOthers']>
  ): ReturnType<SessionManager['revokeOthers']> {
    return this.sessions.revokeOthers(...args);
  }

  /** See {@link PasswordReset.issueToken} (the course's `get_reset_password_token`). */
  getResetPasswordToken(email: string, context?: RequestContext): Promise<string> {
    return this.reset.issueToken(email, context);
  }

  /** See {@link PasswordReset.request}; {@link drain} awaits its background work. */
  requestPasswordReset(
    email: string,
    context?: RequestContext,
    options: { returnTo?: string } = {},
  ): void {
    this.reset.request(email, context, options);
  }

  /** See {@link PasswordReset.complete} (the course's `update_password`). */
  updatePassword(
    resetToken: string,
    password: string,
    options: { email?: string; context?: RequestContext } = {},
  ): Promise<void> {
    return this.reset.complete(resetToken, password, options);
  }

  /** See {@link AccountSelfService.changePassword}. */
  changePassword(
    ...args: Parameters<AccountSelfService['changePassword']>
  ): ReturnType<AccountSelfService['changePassword']> {
    return this.selfService.changePassword(...args);
  }

  /** See {@link AccountSelfService.deleteAccount}. */
  deleteAccount(
    ...args: Parameters<AccountSelfService['deleteAccount']>
  ): ReturnType<AccountSelfService['deleteAccount']> {
    return this.selfService.deleteAccount(...args);
  }

  /**
   * Waits for background work (reset emails) to finish and writes pending audit events; for a
   * graceful shutdown, and for tests.
   */
  async drain(): Promise<void> {
    await this.background.drain();
    await this.audit.flush();
  }
}

/**
 * Passkeys (WebAuthn credentials), for the Auth service: adding, listing and removing an
 * account's passkeys, logging in with one (discoverable: no account is named first), an account
 * that keeps passkeys only (its password removed), and the operator's removal. The WebAuthn
 * checks themselves are @simplewebauthn/server's.
 *
 * Guarantees:
 * - Every ceremony answers a challenge made here, stored only as its digest, that works once
 *   (taken in the statement that finds it live, before the response is verified, whatever the
 *   verification says) and for {@link WEBAUTHN_CHALLENGE_TTL_MS}. A registration's challenge
 *   names its account and serves no other.
 * - A response must come from the relying party's origin, for its RP ID (relying-party.ts), and
 *   carry a valid signature of a passkey stored here.
 * - The signature counter: a response whose counter does not move past the stored one, when
 *   either is not zero, is refused and logged as a possible cloned passkey. The counter moves
 *   only from the value checked (compare-and-set), so two uses of one response cannot both pass.
 * - A login with user verification is complete (`passkey`: no password, no second factor, and it
 *   counts as more than one factor). Without it, the passkey is one factor
 *   (`passkey_without_uv`): an account with two-factor authentication on still needs its code.
 * - Adding a passkey, and removing the password, need a session younger than
 *   {@link RECENT_LOGIN_MS} or the password typed again (checked like a login). The password can
 *   go only while the account has a passkey; a reset by email sets one again.
 * - The holder is emailed when a passkey is added or removed. Every step is audited:
 *   `passkey_added`, `passkey_removed`, `passkey_login` (with `login_succeeded`),
 *   `passkey_rejected` (with why, in `reason`).
 */
import { createRequire } from 'node:module';
import type * as webauthnModule from '@simplewebauthn/server';
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { DB } from '../../db/db.js';
import type { LoginChallenges } from '../../db/login-challenges.js';
import type { PasskeyStore } from '../../db/passkeys.js';
import { UniqueViolationError } from '../../db/errors.js';
import type { AuthMethod, PasskeyRow, SessionRow, User } from '../../db/schema.js';
import { accountOf, type Account } from '../accounts.js';
import type { AuditLog, PasskeyRejection, RequestContext } from '../audit.js';
import type { BackgroundWork } from '../background.js';
import type { Credentials } from '../credentials.js';
import {
  confirmPassword,
  RECENT_LOGIN_MS,
  type ConfirmationRefusal,
} from '../password-confirmation.js';
import { hasPassword, NO_PASSWORD } from '../passwords.js';
import type { SecondStepLogin } from '../second-step.js';
import type { EmailVerification } from '../addresses/verification.js';
import type { SessionManager } from '../sessions.js';
import { generateSessionPublicId } from '../tokens.js';
import type { Mailer } from '../../mail/mailer.js';
import { PasskeyNotices } from './notices.js';
import type { RelyingParty } from './relying-party.js';
import {
  authenticationResponseOf,
  challengeDigest,
  challengeOf,
  registrationResponseOf,
  userHandleOf,
} from './responses.js';

// The WebAuthn library takes about half a second to load: it is loaded at the first ceremony, so
// a service starts without it. Required, not imported: the bundle npm start runs is a script
// compiled from a code cache, where Node 20 cannot import (scripts/bundle.ts).
const require = createRequire(import.meta.url);
let loaded: typeof webauthnModule | undefined;
const webauthn = () =>
  Promise.resolve((loaded ??= require('@simplewebauthn/server') as typeof webauthnModule));

export { relyingPartyOf, type RelyingParty } from './relying-party.js';

/** How long a ceremony's challenge can be answered. */
export const WEBAUTHN_CHALLENGE_TTL_MS = 5 * 60 * 1000;
// A session younger than RECENT_LOGIN_MS may add a passkey (or remove the password) without the
// password.
export { RECENT_LOGIN_MS };
/** The longest name a passkey may have. */
export const PASSKEY_NAME_MAX_LENGTH = 64;

export interface PasskeyDependencies {
  readonly store: PasskeyStore;
  readonly relyingParty: RelyingParty;
  readonly db: DB;
  readonly clock: Clock;
  readonly audit: AuditLog;
  readonly logger: Logger;
  readonly sessions: SessionManager;
  readonly credentials: Credentials;
  readonly challenges: LoginChallenges;
  readonly secondStep: SecondStepLogin;
  /** With EMAIL_VERIFICATION=required, which accounts may not log in yet. */
  readonly verification: Pick<EmailVerification, 'blocksLogin' | 'mustProveFirst'>;
  readonly mailer: Mailer;
  readonly background: BackgroundWork;
  readonly publicUrl: string;
}

/** What its holder (or an operator) sees of a passkey: never its key. */
export interface PasskeyView {
  readonly id: string;
  readonly name: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
  /** Whether it is backed up (synced between the holder's devices). */
  readonly backedUp: boolean;
  readonly aaguid: string;
}

/** Why adding a passkey, or removing the password, was refused before any ceremony. */
export type FreshnessRefusal = ConfirmationRefusal | 'recent_login_required';

/** How a passkey login ended. */
export type PasskeyLoginOutcome =
  | {
      readonly outcome: 'logged_in';
      readonly account: Account;
      readonly sessionId: string;
      readonly authMethod: AuthMethod;
    }
  | { readonly outcome: 'second_factor_required'; readonly challengeToken: string }
  | { readonly outcome: 'email_not_verified' }
  | { readonly outcome: 'rejected' };

const REJECTED = { outcome: 'rejected' } as const;

export class Passkeys {
  private readonly notices: PasskeyNotices;

  constructor(private readonly deps: PasskeyDependencies) {
    this.notices = new PasskeyNotices(deps);
  }

  /** The relying party passkeys are made for. */
  get relyingParty(): RelyingParty {
    return this.deps.relyingParty;
  }

  /**
   * Creation options for a new passkey of the account of live session `sessionId`: a fresh
   * challenge, a discoverable credential required, user verification preferred, the account's
   * passkeys excluded. Needs a recent login or `password` (see the module's guarantees), and a
   * proven address unless EMAIL_VERIFICATION=off; throws
   * {@link TooManyAttemptsError} while the address is throttled.
   */
  async registrationOptions(
    sessionId: string | undefined,
    password: string | undefined,
    context?: RequestContext,
  ): Promise<PublicKeyCredentialCreationOptionsJSON | FreshnessRefusal | 'email_not_verified'> {
    const confirmed = await this.confirmFresh(sessionId, password, context);
    if (typeof confirmed === 'string') return confirmed;
    const { user } = confirmed;
    if (this.deps.verification.mustProveFirst(user)) return 'email_not_verified';
    const { store, relyingParty } = this.deps;
    const existing = await store.listOf(user.id);
    const options = await (
      await webauthn()
    ).generateRegistrationOptions({
      rpName: relyingParty.name,
      rpID: relyingParty.id,
      userName: user.email,
      userDisplayName: user.email,
      userID: userHandleOf(user.id, relyingParty.id),
      timeout: WEBAUTHN_CHALLENGE_TTL_MS,
      attestationType: 'none',
      excludeCredentials: existing.map((passkey) => ({
        id: passkey.credential_id,
        ...(passkey.transports !== '' && { transports: passkey.transports.split(',') }),
      })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
    });
    await this.storeChallenge(options.challenge, 'register', user.id);
    return options;
  }

  /**
   * Adds the passkey of `response` (the browser's answer to {@link registrationOptions}) to the
   * account of live session `sessionId`, named `name`. `rejected` when the response does not
   * verify, answers no live challenge of this account, or names a passkey stored already.
   */
  async register(
    sessionId: string | undefined,
    input: { readonly name: string; readonly response: unknown },
    context?: RequestContext,
  ): Promise<PasskeyView | 'not_logged_in' | 'rejected'> {
    const { store, sessions, clock, audit, relyingParty } = this.deps;
    const found = await sessions.validate(sessionId);
    if (found === null) return 'not_logged_in';
    const { user } = found;
    const reject = (reason: PasskeyRejection): 'rejected' => {
      audit.record({ type: 'passkey_rejected', user, context, reason });
      return 'rejected';
    };
    const response = registrationResponseOf(input.response);
    if (response === null) return reject('malformed');
    const challenge = challengeOf(response.response.clientDataJSON);
    const taken =
      challenge === null
        ? undefined
        : await store.takeChallenge(challengeDigest(challenge), 'register', clock.now());
    if (challenge === null || taken?.userId !== user.id) return reject('challenge');
    let verification;
    try {
      verification = await (
        await webauthn()
      ).verifyRegistrationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: relyingParty.origin,
        expectedRPID: relyingParty.id,
        requireUserVerification: false,
      });
    } catch (error) {
      this.deps.logger.info({ err: error }, 'passkey registration refused');
      return reject('verification');
    }
    if (!verification.verified) return reject('verification');
    const info = verification.registrationInfo;
    if ((await store.findByCredentialId(info.credential.id)) !== undefined) {
      return reject('known_credential');
    }
    const now = clock.now();
    const row: PasskeyRow = {
      id: generateSessionPublicId(),
      user_id: user.id,
      credential_id: info.credential.id,
      public_key: Buffer.from(info.credential.publicKey).toString('base64url'),
      counter: info.credential.counter,
      transports: (response.response.transports ?? []).join(','),
      device_type: info.credentialDeviceType,
      backed_up: info.credentialBackedUp ? 1 : 0,
      aaguid: info.aaguid,
      name: input.name.trim().slice(0, PASSKEY_NAME_MAX_LENGTH),
      created_at: now,
      last_used_at: null,
    };
    try {
      await store.add(row);
    } catch (error) {
      // The same credential registered twice at once: the unique index lets one in.
      if (error instanceof UniqueViolationError) return reject('known_credential');
      throw error;
    }
    audit.record({ type: 'passkey_added', user, context });
    this.notices.added(user.email, row.name);
    return viewOf(row);
  }

  /** The passkeys of the account of live session `sessionId`, oldest first. */
  async listOwn(sessionId: string | undefined): Promise<PasskeyView[] | 'not_logged_in'> {
    const found = await this.deps.sessions.validate(sessionId);
    if (found === null) return 'not_logged_in';
    return this.listOf(found.user.id);
  }

  /** The passkeys of account `userId`, oldest first. */
  async listOf(userId: number): Promise<PasskeyView[]> {
    return (await this.deps.store.listOf(userId)).map(viewOf);
  }

  /**
   * Removes passkey `id` of the account of live session `sessionId`. `not_found` for any id that
   * is not one of the account's: another account's passkey is never removed, nor told apart.
   */
  async removeOwn(
    sessionId: string | undefined,
    id: string,
    context?: RequestContext,
  ): Promise<true | 'not_logged_in' | 'not_found'> {
    const { store, sessions, audit } = this.deps;
    const found = await sessions.validate(sessionId);
    if (found === null) return 'not_logged_in';
    const { user } = found;
    const removed = await store.deleteOneOf(user.id, id);
    if (removed === undefined) return 'not_found';
    audit.record({ type: 'passkey_removed', user, context });
    this.notices.removed(user.email, removed.name);
    return true;
  }

  /**
   * The operator's removal of every passkey of account `userId`; returns how many there were
   * (the holder is emailed when there were any).
   */
  async removeAllByOperator(userId: number, context?: RequestContext): Promise<number> {
    const { store, db, audit } = this.deps;
    const removed = await store.deleteAllOf(userId);
    if (removed === 0) return 0;
    const user = (await db.findUser({ id: userId })) ?? { id: userId };
    audit.record({ type: 'passkey_removed', user, context });
    if ('email' in user) this.notices.removed(user.email);
    return removed;
  }

  /** Request options for a passkey login: a fresh challenge, no account named (discoverable). */
  async loginOptions(): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const options = await (
      await webauthn()
    ).generateAuthenticationOptions({
      rpID: this.deps.relyingParty.id,
      userVerification: 'preferred',
      timeout: WEBAUTHN_CHALLENGE_TTL_MS,
    });
    await this.storeChallenge(options.challenge, 'login', null);
    return options;
  }

  /** Logs in with `response`, the browser's answer to {@link loginOptions}. */
  async logIn(response: unknown, context?: RequestContext): Promise<PasskeyLoginOutcome> {
    const { store, clock, audit, relyingParty, sessions, db, secondStep, logger } = this.deps;
    // The account concerned, once the passkey names one.
    const concerned: { user?: Pick<User, 'id' | 'email'> } = {};
    const reject = (reason: PasskeyRejection): PasskeyLoginOutcome => {
      audit.record({ type: 'passkey_rejected', user: concerned.user, context, reason });
      return REJECTED;
    };
    const parsed = authenticationResponseOf(response);
    if (parsed === null) return reject('malformed');
    const challenge = challengeOf(parsed.response.clientDataJSON);
    if (
      challenge === null ||
      (await store.takeChallenge(challengeDigest(challenge), 'login', clock.now())) === undefined
    ) {
      return reject('challenge');
    }
    const passkey = await store.findByCredentialId(parsed.id);
    if (passkey === undefined) return reject('unknown_credential');
    const user = await db.findUser({ id: passkey.user_id });
    if (user === undefined) return reject('unknown_credential');
    concerned.user = user;
    const { userHandle } = parsed.response;
    if (
      userHandle !== undefined &&
      userHandle !== Buffer.from(userHandleOf(user.id, relyingParty.id)).toString('base64url')
    ) {
      return reject('verification');
    }
    let verification;
    try {
      verification = await (
        await webauthn()
      ).verifyAuthenticationResponse({
        response: parsed,
        expectedChallenge: challenge,
        expectedOrigin: relyingParty.origin,
        expectedRPID: relyingParty.id,
        // The counter is checked below, after the signature, so that a refused counter is one a
        // real holder of the key signed: the sign of a cloned authenticator.
        credential: {
          id: passkey.credential_id,
          publicKey: new Uint8Array(Buffer.from(passkey.public_key, 'base64url')),
          counter: 0,
        },
        requireUserVerification: false,
      });
    } catch (error) {
      logger.info({ err: error }, 'passkey login refused');
      return reject('verification');
    }
    if (!verification.verified) return reject('verification');
    const { newCounter, userVerified } = verification.authenticationInfo;
    const stored = passkey.counter;
    if ((newCounter > 0 || stored > 0) && newCounter <= stored) {
      logger.warn(
        { userId: user.id, passkeyId: passkey.id, counter: newCounter, stored },
        'passkey counter went backwards: possibly a cloned authenticator; login refused',
      );
      return reject('counter_regression');
    }
    if (!(await store.recordUse(passkey.id, { from: stored, to: newCounter }, clock.now()))) {
      return reject('counter_regression');
    }
    // As with a password: the passkey proved right, but the address must be proven first.
    if (this.deps.verification.blocksLogin(user)) {
      audit.record({ type: 'login_failed', user, context });
      return { outcome: 'email_not_verified' };
    }
    if (!userVerified && (await secondStep.needed(user.id))) {
      const challengeToken = await secondStep.challenge(user);
      if (challengeToken === null) return reject('verification');
      return { outcome: 'second_factor_required', challengeToken };
    }
    const authMethod: AuthMethod = userVerified ? 'passkey' : 'passkey_without_uv';
    const started = await sessions.start(user.id, { authMethod, context, account: user });
    if (started === null) return reject('unknown_credential');
    audit.record({ type: 'passkey_login', user, context, authMethod });
    audit.record({ type: 'login_succeeded', user, context, authMethod });
    return { outcome: 'logged_in', account: accountOf(user), sessionId: started.token, authMethod };
  }

  /**
   * Removes the password of the account of live session `sessionId`, which then logs in with its
   * passkeys only (a reset by email sets a password again). Needs a passkey, and a recent login
   * or `password`; the account's other sessions and pending second steps end.
   */
  async removePassword(
    sessionId: string | undefined,
    password: string | undefined,
    context?: RequestContext,
  ): Promise<true | FreshnessRefusal | 'passkey_required' | 'no_password'> {
    const { store, db, sessions, challenges, audit } = this.deps;
    const found = await sessions.validate(sessionId);
    if (found === null) return 'not_logged_in';
    if (!hasPassword(found.user.hashed_password)) return 'no_password';
    if ((await store.countOf(found.user.id)) === 0) return 'passkey_required';
    const confirmed = await this.confirmFresh(sessionId, password, context);
    if (typeof confirmed === 'string') return confirmed;
    const { user, session } = confirmed;
    if (
      !(await db.compareAndUpdateUser(
        user.id,
        { hashed_password: user.hashed_password },
        { hashed_password: NO_PASSWORD },
      ))
    ) {
      return 'no_password';
    }
    await challenges.deleteAllOf(user.id);
    await sessions.endAllBut(user, session.id, 'password_change', context);
    audit.record({ type: 'password_removed', user, context });
    return true;
  }

  /**
   * The passkeys of account `userId`, whether it has a password (a passkey-only account has
   * none), and the time they were read at.
   */
  async overview(
    userId: number,
  ): Promise<{ passkeys: PasskeyView[]; hasPassword: boolean; at: Date }> {
    const user = await this.deps.db.findUser({ id: userId });
    return {
      passkeys: await this.listOf(userId),
      hasPassword: user !== undefined && hasPassword(user.hashed_password),
      at: new Date(this.deps.clock.now()),
    };
  }

  /**
   * The live session `sessionId` and its account, when the session is younger than
   * {@link RECENT_LOGIN_MS} or `password` is the account's.
   */
  private async confirmFresh(
    sessionId: string | undefined,
    password: string | undefined,
    context?: RequestContext,
  ): Promise<{ user: User; session: SessionRow } | FreshnessRefusal> {
    if (password !== undefined && password !== '') {
      return confirmPassword(this.deps, sessionId, password, context);
    }
    const found = await this.deps.sessions.validate(sessionId);
    if (found === null) return 'not_logged_in';
    if (found.session.created_at <= this.deps.clock.now() - RECENT_LOGIN_MS) {
      return 'recent_login_required';
    }
    return found;
  }

  private async storeChallenge(
    challenge: string,
    purpose: 'register' | 'login',
    userId: number | null,
  ): Promise<void> {
    const { store, clock } = this.deps;
    const now = clock.now();
    await store.addChallenge({
      digest: challengeDigest(challenge),
      purpose,
      userId,
      now,
      expiresAt: now + WEBAUTHN_CHALLENGE_TTL_MS,
    });
    // Now and then, forget the challenges nobody answered.
    if (Math.random() < 0.01) await store.purgeChallenges(now);
  }
}

function viewOf(row: PasskeyRow): PasskeyView {
  return {
    id: row.id,
    name: row.name,
    createdAt: new Date(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : new Date(row.last_used_at),
    backedUp: row.backed_up === 1,
    aaguid: row.aaguid,
  };
}

/**
 * Signing up: one account per address key (look-alike addresses are one account), under the
 * sign-up policy (SIGNUP, SIGNUP_EMAIL_DOMAINS).
 *
 * Guarantees:
 * - With sign-up closed, every sign-up is refused with {@link SignUpClosedError} before its
 *   fields are read. Accounts then come only from the operator ({@link Registration.add} and
 *   invitations), which the policy does not bind.
 * - With a list of email domains, an address of another domain is refused with
 *   {@link SignUpDomainNotAllowedError} right after it is parsed: before it is looked up and
 *   before any password work, so the answer and the work are the same whether or not it has an
 *   account.
 * - A malformed address, one that mixes scripts or holds a refused character, or a password
 *   against the policy is refused before anything is stored or hashed.
 * - Of concurrent sign-ups for one address, exactly one succeeds (the unique indexes decide);
 *   the others are refused with {@link UserAlreadyExistsError}.
 */
import type { DB } from '../db/db.js';
import { UniqueViolationError } from '../db/errors.js';
import type { User } from '../db/schema.js';
import { accountOf, type Account } from './accounts.js';
import type { AuditLog, RequestContext } from './audit.js';
import { parseEmail, signUpRefusal, type EmailAddress } from './email.js';
import {
  InvalidEmailError,
  SignUpClosedError,
  SignUpDomainNotAllowedError,
  UserAlreadyExistsError,
} from './errors.js';
import type { PasswordHasher, PasswordRules } from './passwords.js';

/** Who may sign up on their own (config.ts: SIGNUP, SIGNUP_EMAIL_DOMAINS). */
export interface SignUpPolicy {
  readonly signup: 'open' | 'closed';
  /** ASCII lower-case domains (IDNs in punycode) whose addresses may sign up; any when undefined. */
  readonly signupEmailDomains?: readonly string[] | undefined;
}

export interface RegistrationDependencies {
  readonly db: DB;
  readonly hasher: PasswordHasher;
  readonly passwordRules: PasswordRules;
  readonly audit: AuditLog;
  readonly policy: SignUpPolicy;
}

/** `email` parsed; throws {@link InvalidEmailError} when it is not an address. */
export function requireValidEmail(email: string): EmailAddress {
  const parsed = parseEmail(email);
  if (parsed === null) throw new InvalidEmailError('Invalid email address');
  return parsed;
}

/**
 * `email` parsed, as a new account may hold it; throws {@link InvalidEmailError} when it is not
 * an address, mixes scripts or holds a refused character.
 */
export function requireNewAddress(email: string): EmailAddress {
  return refuseForNewAccount(requireValidEmail(email));
}

function refuseForNewAccount(parsed: EmailAddress): EmailAddress {
  const refusal = signUpRefusal(parsed.address);
  if (refusal === 'email_mixed_scripts') {
    throw new InvalidEmailError(
      'The part before @ mixes letters of different scripts (such as Latin and Cyrillic)',
      refusal,
    );
  }
  if (refusal !== null) {
    throw new InvalidEmailError(
      'The email address holds a character that cannot be used (unassigned, private-use, blank or overlaid)',
      refusal,
    );
  }
  return parsed;
}

/**
 * Whether the policy lets `email` (parsed) sign up by its domain: the domain part of its key
 * (ASCII by UTS #46, lower case) must be one of the list, exactly; a subdomain is not its parent.
 */
export function domainAllowed(policy: SignUpPolicy, email: EmailAddress): boolean {
  const domains = policy.signupEmailDomains;
  if (domains === undefined) return true;
  const domain = email.key.slice(email.key.lastIndexOf('@') + 1);
  return domains.includes(domain);
}

export class Registration {
  constructor(private readonly deps: RegistrationDependencies) {}

  /** Whether anyone may sign up at all (the pages show or hide their sign-up links by it). */
  get open(): boolean {
    return this.deps.policy.signup === 'open';
  }

  /**
   * Signs up under the policy. Throws {@link SignUpClosedError},
   * {@link SignUpDomainNotAllowedError}, {@link InvalidEmailError}, {@link PasswordPolicyError},
   * or {@link UserAlreadyExistsError} (also when a concurrent sign-up for the address won).
   */
  async register(email: string, password: string, context?: RequestContext): Promise<Account> {
    if (!this.open) throw new SignUpClosedError();
    const parsed = requireValidEmail(email);
    // Before the lookup and the hashing, so that nothing about the address's account shows.
    if (!domainAllowed(this.deps.policy, parsed)) throw new SignUpDomainNotAllowedError();
    return this.create(refuseForNewAccount(parsed), password, { context });
  }

  /**
   * Creates an account for the operator, whom the sign-up policy does not bind; the address and
   * password rules apply as to a sign-up. Its address counts as verified: the operator vouches for
   * it. Throws like {@link register}, less the policy's refusals.
   */
  add(email: string, password: string, context?: RequestContext): Promise<Account> {
    return this.create(requireNewAddress(email), password, { context, emailVerified: true });
  }

  private async create(
    parsed: EmailAddress,
    password: string,
    options: { context: RequestContext | undefined; emailVerified?: boolean },
  ): Promise<Account> {
    const { context } = options;
    const { db, hasher, passwordRules, audit } = this.deps;
    const acceptedPassword = await passwordRules.accept(password);
    // Spares the bcrypt work for a taken address; the unique indexes still decide races.
    if ((await db.findUserByEmail(parsed)) !== undefined) {
      throw new UserAlreadyExistsError(parsed.address);
    }
    const hashedPassword = await hasher.hash(acceptedPassword, { signal: context?.signal });
    let user: User;
    try {
      user = await db.addUser(parsed.address, hashedPassword, {
        emailKey: parsed.key,
        emailVerified: options.emailVerified === true,
      });
    } catch (error) {
      if (error instanceof UniqueViolationError) throw new UserAlreadyExistsError(parsed.address);
      throw error;
    }
    audit.record({ type: 'user_registered', user, context });
    return accountOf(user);
  }
}

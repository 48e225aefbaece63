/**
 * Signing up: one account per address key (look-alike addresses are one account).
 *
 * Guarantees:
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
import { InvalidEmailError, UserAlreadyExistsError } from './errors.js';
import type { PasswordHasher, PasswordRules } from './passwords.js';

export interface RegistrationDependencies {
  readonly db: DB;
  readonly hasher: PasswordHasher;
  readonly passwordRules: PasswordRules;
  readonly audit: AuditLog;
}

/** `email` parsed; throws {@link InvalidEmailError} when it is not an address. */
export function requireValidEmail(email: string): EmailAddress {
  const parsed = parseEmail(email);
  if (parsed === null) throw new InvalidEmailError('Invalid email address');
  return parsed;
}

export class Registration {
  constructor(private readonly deps: RegistrationDependencies) {}

  /**
   * Creates an account. Throws {@link InvalidEmailError}, {@link PasswordPolicyError}, or
   * {@link UserAlreadyExistsError} (also when a concurrent sign-up for the address won).
   */
  async register(email: string, password: string, context?: RequestContext): Promise<Account> {
    const { db, hasher, passwordRules, audit } = this.deps;
    const parsed = requireValidEmail(email);
    const { address } = parsed;
    const refusal = signUpRefusal(address);
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
    const acceptedPassword = await passwordRules.accept(password);
    // Spares the bcrypt work for a taken address; the unique indexes still decide races.
    if ((await db.findUserByEmail(parsed)) !== undefined) {
      throw new UserAlreadyExistsError(address);
    }
    const hashedPassword = await hasher.hash(acceptedPassword, { signal: context?.signal });
    let user: User;
    try {
      user = await db.addUser(address, hashedPassword, { emailKey: parsed.key });
    } catch (error) {
      if (error instanceof UniqueViolationError) throw new UserAlreadyExistsError(address);
      throw error;
    }
    audit.record({ type: 'user_registered', user, context });
    return accountOf(user);
  }
}

/**
 * The access rules in force: read from ACCESS_RULES_FILE at start, and read again on demand
 * (SIGHUP). A reload that finds a good file replaces the rules at once, for every request that
 * starts after it; one that finds a bad file changes nothing. With no file, every host needs a
 * login, and there is nothing to reload. Beside them, the warnings due when the sign-up policy
 * lets strangers through hosts the rules guard.
 */
import type { Config } from '../config.js';
import { AccessRules, type AccessRulesSource, type Policy } from './access-rules.js';
import { AccessRulesFileError, readAccessRules } from './access-rules-file.js';

/** What a reload did. */
export type ReloadOutcome =
  | { readonly outcome: 'reloaded'; readonly rules: AccessRules }
  | { readonly outcome: 'refused'; readonly error: AccessRulesFileError }
  | { readonly outcome: 'no_file' };

export class ReloadableAccessRules implements AccessRulesSource {
  #rules: AccessRules;

  private constructor(
    /** The rules file, or undefined when none is configured. */
    readonly file: string | undefined,
    rules: AccessRules,
  ) {
    this.#rules = rules;
  }

  /**
   * The rules of `file` (every host `logged_in` when undefined). Throws the file's
   * {@link AccessRulesFileError} if it cannot be read or has a fault.
   */
  static open(file: string | undefined): ReloadableAccessRules {
    return new ReloadableAccessRules(
      file,
      file === undefined ? AccessRules.LOGGED_IN : readAccessRules(file),
    );
  }

  current(): AccessRules {
    return this.#rules;
  }

  /** Reads the file again; only a good file replaces the rules in force. Never throws for it. */
  reload(): ReloadOutcome {
    if (this.file === undefined) return { outcome: 'no_file' };
    try {
      this.#rules = readAccessRules(this.file);
    } catch (error) {
      if (error instanceof AccessRulesFileError) return { outcome: 'refused', error };
      throw error;
    }
    return { outcome: 'reloaded', rules: this.#rules };
  }
}

/**
 * The warning due when forward auth lets any account through some host while anyone may create
 * an account: undefined when there is none. Deployments without forward auth (neither
 * ACCESS_RULES_FILE nor COOKIE_DOMAIN set) get none, since no other host relies on the rules.
 */
export function openSignUpWarning(
  config: Pick<Config, 'signup' | 'signupEmailDomains' | 'accessRulesFile' | 'cookieDomain'>,
  rules: AccessRules,
): { message: string; hosts: string[] } | undefined {
  const forwardAuth = config.accessRulesFile !== undefined || config.cookieDomain !== undefined;
  const anyoneSignsUp = config.signup === 'open' && config.signupEmailDomains === undefined;
  if (!forwardAuth || !anyoneSignsUp || !rules.admitsAnyAccount()) return undefined;
  const hosts = rules.rules.filter((rule) => rule.policy.kind === 'logged_in').map((r) => r.host);
  if (rules.defaultPolicy.kind === 'logged_in') hosts.push('every host no rule names (default)');
  return {
    message:
      'SIGNUP is open and SIGNUP_EMAIL_DOMAINS is not set: anyone on the internet can sign up ' +
      'and pass the hosts whose policy is logged_in. Set SIGNUP=closed or SIGNUP_EMAIL_DOMAINS, ' +
      'or list accounts in the access rules',
    hosts,
  };
}

/**
 * The warning due while anyone may sign up and some host admits accounts by the address they
 * typed: addresses are not verified, so whoever signs up first with an address a host admits
 * passes it as that address's owner. Named: hosts listing an email (with no account yet, it is
 * anyone's to take) or an `@domain` that sign-up accepts, and, when SIGNUP_EMAIL_DOMAINS is set,
 * `logged_in` hosts (with it unset, {@link openSignUpWarning} names those). Undefined when none.
 * Not due with EMAIL_VERIFICATION=required (an unproven address logs in nowhere), nor for a
 * host whose rule says `email_verified: true`.
 */
export function unverifiedAddressWarning(
  config: Pick<Config, 'signup' | 'signupEmailDomains' | 'accessRulesFile' | 'cookieDomain'> &
    Partial<Pick<Config, 'emailVerification'>>,
  rules: AccessRules,
): { message: string; hosts: string[] } | undefined {
  const forwardAuth = config.accessRulesFile !== undefined || config.cookieDomain !== undefined;
  if (!forwardAuth || config.signup !== 'open') return undefined;
  if (config.emailVerification === 'required') return undefined;
  const domains = config.signupEmailDomains;
  const signsUp = (domain: string) => domains === undefined || domains.includes(domain);
  const claimable = (policy: Policy) =>
    policy.kind === 'logged_in'
      ? domains !== undefined
      : policy.kind === 'accounts' &&
        [
          ...policy.emails.map((key) => key.slice(key.lastIndexOf('@') + 1)),
          ...policy.domains,
        ].some(signsUp);
  const hosts = rules.rules
    .filter((rule) => rule.emailVerified !== true && claimable(rule.policy))
    .map((rule) => rule.host);
  if (claimable(rules.defaultPolicy)) hosts.push('every host no rule names (default)');
  if (hosts.length === 0) return undefined;
  return {
    message:
      'SIGNUP is open and email addresses are not verified: whoever signs up first with an ' +
      'address these hosts admit (a listed email that has no account yet, one at a listed ' +
      '@domain, or with SIGNUP_EMAIL_DOMAINS any address there for a logged_in host) passes ' +
      'them. Set EMAIL_VERIFICATION=required, or email_verified: true on those rules, or ' +
      'SIGNUP=closed and invite the accounts (bienvenue users invite)',
    hosts,
  };
}

/** Every warning due for `rules` under the sign-up policy, to be logged at start and on reload. */
export function signUpWarnings(
  config: Pick<Config, 'signup' | 'signupEmailDomains' | 'accessRulesFile' | 'cookieDomain'> &
    Partial<Pick<Config, 'emailVerification'>>,
  rules: AccessRules,
): { message: string; hosts: string[] }[] {
  return [openSignUpWarning(config, rules), unverifiedAddressWarning(config, rules)].filter(
    (warning) => warning !== undefined,
  );
}

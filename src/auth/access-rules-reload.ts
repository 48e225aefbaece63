/**
 * The access rules in force: read from ACCESS_RULES_FILE at start, and read again on demand
 * (SIGHUP). A reload that finds a good file replaces the rules at once, for every request that
 * starts after it; one that finds a bad file changes nothing. With no file, every host needs a
 * login, and there is nothing to reload.
 */
import type { Config } from '../config.js';
import { AccessRules, type AccessRulesSource } from './access-rules.js';
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

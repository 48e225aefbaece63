/**
 * Who may pass forward auth to which host. Rules are tried in order and the first whose host
 * pattern matches the request's host decides; with none matching, the default policy does. A
 * policy admits everyone, any logged-in account, or listed accounts and email domains.
 *
 * Hosts are compared in ASCII lower case without a port; `*.example.com` matches every name under
 * example.com (not example.com itself). Accounts are compared by their email key (auth/email.ts),
 * so a listed address admits its look-alikes exactly as login treats them as one account.
 *
 * A rule may also ask for a second factor (`second_factor: true`): a session made with the
 * password alone is then refused (`second_factor_required`), though its account is admitted, so
 * that its holder can log in again with the factor. Only a policy that needs a login can ask it.
 *
 * A rule may likewise ask for a proven address (`email_verified: true`): an account whose address
 * is not verified is refused (`email_not_verified`) though admitted otherwise.
 */

/** What a rule requires of the request's account. */
export type Policy =
  | { readonly kind: 'everyone' }
  | { readonly kind: 'logged_in' }
  | {
      readonly kind: 'accounts';
      /** Email keys of the accounts admitted. */
      readonly emails: readonly string[];
      /** Email domains (ASCII, lower case) whose accounts are admitted. */
      readonly domains: readonly string[];
    };

export interface AccessRule {
  /** `app.example.com`, or `*.example.com` for every name under example.com. */
  readonly host: string;
  readonly policy: Policy;
  /** Whether an admitted session must have been made with a second factor. */
  readonly secondFactor?: boolean;
  /** Whether an admitted account's address must be verified. */
  readonly emailVerified?: boolean;
}

/**
 * What forward auth does with a request: let it through, ask for a login, ask for a login with
 * the second factor, or refuse it.
 */
export type AccessDecision =
  'pass' | 'login_required' | 'second_factor_required' | 'email_not_verified' | 'denied';

/** The account a request comes with, as the rules compare it. */
export interface RuleSubject {
  /** The account's email key (auth/email.ts `emailKey`). */
  readonly emailKey: string;
  /** Whether its session was made with a second factor (not when left out). */
  readonly secondFactor?: boolean;
  /** Whether its account's address is verified (not when left out). */
  readonly emailVerified?: boolean;
}

export class AccessRules {
  /** No rules: every host needs a login, as with no ACCESS_RULES_FILE. */
  static readonly LOGGED_IN = new AccessRules({ kind: 'logged_in' }, []);

  constructor(
    readonly defaultPolicy: Policy,
    readonly rules: readonly AccessRule[],
  ) {}

  /** The policy for `host` (a host name, any case, with or without a port). */
  policyFor(host: string): Policy {
    return this.ruleFor(host)?.policy ?? this.defaultPolicy;
  }

  /** What to do with a request for `host` coming with `subject` (null: no live session). */
  decide(host: string, subject: RuleSubject | null): AccessDecision {
    const rule = this.ruleFor(host);
    const decision = decide(rule?.policy ?? this.defaultPolicy, subject);
    if (decision !== 'pass') return decision;
    if (rule?.emailVerified === true && subject?.emailVerified !== true) {
      return 'email_not_verified';
    }
    if (rule?.secondFactor === true && subject?.secondFactor !== true) {
      return 'second_factor_required';
    }
    return decision;
  }

  /** The first rule whose pattern matches `host`; undefined when the default policy applies. */
  private ruleFor(host: string): AccessRule | undefined {
    const name = hostName(host);
    return this.rules.find((rule) => hostMatches(rule.host, name));
  }

  /** Whether some host admits any logged-in account (a risk while anyone may sign up). */
  admitsAnyAccount(): boolean {
    return [this.defaultPolicy, ...this.rules.map((rule) => rule.policy)].some(
      (policy) => policy.kind === 'logged_in',
    );
  }
}

export function decide(policy: Policy, subject: RuleSubject | null): AccessDecision {
  if (policy.kind === 'everyone') return 'pass';
  if (subject === null) return 'login_required';
  if (policy.kind === 'logged_in') return 'pass';
  const at = subject.emailKey.lastIndexOf('@');
  const domain = subject.emailKey.slice(at + 1);
  return policy.emails.includes(subject.emailKey) || policy.domains.includes(domain)
    ? 'pass'
    : 'denied';
}

/** `host` in lower case, without a port or the trailing dot of a fully qualified name. */
export function hostName(host: string): string {
  const lower = host.trim().toLowerCase();
  const withoutPort = lower.startsWith('[')
    ? lower.slice(0, lower.indexOf(']') + 1)
    : lower.replace(/:\d*$/, '');
  return withoutPort.replace(/\.$/, '');
}

function hostMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('*.')) return name.endsWith(pattern.slice(1));
  return pattern === name;
}

/** The rules in force: read at start, and replaced by a reload (SIGHUP) that reads a good file. */
export interface AccessRulesSource {
  current(): AccessRules;
}

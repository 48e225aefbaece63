/**
 * The values of an access rule, checked and put in the form the rules compare: host patterns in
 * ASCII lower case, listed accounts as email keys, listed domains in ASCII lower case. Each
 * function returns undefined for a value it refuses, never a guess at what was meant.
 */
import { domainToASCII } from 'node:url';
import type { Policy } from './access-rules.js';
import { isValidEmail, normalizeEmail, parseEmail } from './email.js';

/**
 * Characters no host name holds. Checked before the UTS #46 mapping, which would otherwise make a
 * host of some of them (`a/b` maps to `a`, `%41.com` to `a.com`).
 */
const NOT_IN_HOST = /[\s/\\:%?#@*[\]"'<>^`{|}]/u;
/** One label of a host name in ASCII (underscores allowed, as some internal names have them). */
const ASCII_LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/**
 * `name`, a host name, in ASCII lower case without a trailing dot (`Bücher.Example.` gives
 * `xn--bcher-kva.example`); undefined for anything else: ports, schemes, paths, IP literals in
 * brackets, empty labels, stars.
 */
export function hostNameValue(name: string): string | undefined {
  if (name === '' || NOT_IN_HOST.test(name)) return undefined;
  const ascii = domainToASCII(name).replace(/\.$/, '');
  if (ascii === '' || ascii.length > 253) return undefined;
  return ascii.split('.').every((label) => ASCII_LABEL.test(label)) ? ascii : undefined;
}

/**
 * A rule's host pattern, normalized: a host name, or `*.` and a host name for every name under it
 * (not the name itself). A star anywhere else, or a bare `*`, is refused.
 */
export function hostPattern(text: string): string | undefined {
  const wildcard = text.startsWith('*.');
  const name = hostNameValue(wildcard ? text.slice(2) : text);
  if (name === undefined) return undefined;
  return wildcard ? `*.${name}` : name;
}

/**
 * The policy admitting the accounts and domains of `entries`: email addresses (compared by their
 * key, so `Alice@Example.COM` is alice@example.com) and `@domain` entries (an account whose
 * address is at exactly that domain, not under it). Undefined if any entry is neither, or if
 * there is none.
 */
export function accountsPolicy(entries: readonly string[]): Policy | undefined {
  const emails = new Set<string>();
  const domains = new Set<string>();
  for (const entry of entries) {
    if (entry.startsWith('@')) {
      const domain = normalizeEmail(entry.slice(1));
      // The domain part of an address that could sign up, so that some account can match it.
      if (!isValidEmail(`x@${domain}`)) return undefined;
      domains.add(domainToASCII(domain));
      continue;
    }
    const email = parseEmail(entry);
    if (email === null) return undefined;
    emails.add(email.key);
  }
  if (emails.size + domains.size === 0) return undefined;
  return { kind: 'accounts', emails: [...emails], domains: [...domains] };
}

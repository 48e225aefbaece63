/**
 * The access rules file (ACCESS_RULES_FILE): YAML read into {@link AccessRules}, or refused whole.
 *
 * ```yaml
 * default: logged_in            # optional; logged_in when left out
 * rules:                        # optional; tried in order, the first matching host wins
 *   - host: public.example.com
 *     policy: everyone
 *   - host: "*.internal.example.com"
 *     policy: [alice@example.com, "@example.com"]
 *     second_factor: true       # optional; sessions made with the password alone are refused
 *     email_verified: true      # optional; accounts whose address is not verified are refused
 * ```
 *
 * A file with any fault gives no rules at all: an {@link AccessRulesFileError} lists every fault
 * found, each as `FILE:LINE: what is wrong`. YAML syntax errors are reported alone (the rest of
 * the document cannot be trusted then); otherwise every fault of the content is. Nothing is
 * guessed: unknown keys, duplicate keys, a duplicate host pattern, aliases, tags and a policy
 * written in other words are faults, so that a typo never widens or narrows access silently.
 */
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as yamlModule from 'yaml';
import type { Node } from 'yaml';
import { AccessRules, type AccessRule, type Policy } from './access-rules.js';
import { accountsPolicy, hostPattern } from './access-rules-values.js';

// The YAML parser is loaded when a rules file is first read: a service without one starts faster.
const require = createRequire(import.meta.url);
let yamlLoaded: typeof yamlModule | undefined;
const yaml = () => (yamlLoaded ??= require('yaml') as typeof yamlModule);

/**
 * Why a rules file was refused; `problems` has one `FILE:LINE: fault` line per fault (`FILE:
 * fault` for a file that cannot be read), and the message lists them all.
 */
export class AccessRulesFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid access rules:\n  ${problems.join('\n  ')}`);
    this.name = 'AccessRulesFileError';
  }
}

/** A rules file is a few lines; anything this large is not one. */
const MAX_FILE_BYTES = 1024 * 1024;

/**
 * Reads and checks the rules file at `path` (synchronously: it is small, and read at start and on
 * SIGHUP only). Throws an {@link AccessRulesFileError} naming `path` for a file that cannot be
 * read or has any fault.
 */
export function readAccessRules(path: string): AccessRules {
  let text: string;
  try {
    // Checked first, so that a device or a huge file is refused without reading it.
    const stats = statSync(path);
    if (!stats.isFile()) throw new AccessRulesFileError(path, [`${path}: not a regular file`]);
    if (stats.size > MAX_FILE_BYTES) {
      throw new AccessRulesFileError(path, [`${path}: larger than ${MAX_FILE_BYTES} bytes`]);
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof AccessRulesFileError) throw error;
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new AccessRulesFileError(path, [`${path}: cannot be read (${reason})`]);
  }
  return parseAccessRules(text, path);
}

/** Where faults go: each is written `FILE:LINE: message`, the line found from a node or offset. */
interface Faults {
  add(at: Node | number | null | undefined, message: string): void;
  lineOf(at: Node | number | null | undefined): number;
}

/** The rules in `text`, the content of `file` (which the faults name). */
export function parseAccessRules(text: string, file: string): AccessRules {
  const lines = new (yaml().LineCounter)();
  // Duplicate keys are found below, where the fault can name the key and its first line.
  const document = yaml().parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: false,
  });
  const found: { line: number; message: string }[] = [];
  const faults: Faults = {
    lineOf: (at) => lines.linePos(typeof at === 'number' ? at : (at?.range?.[0] ?? 0)).line,
    add(at, message) {
      found.push({ line: this.lineOf(at), message });
    },
  };
  // In the file's order (a stable sort keeps a line's faults in the order they were found).
  const refuse = () =>
    new AccessRulesFileError(
      file,
      found
        .sort((a, b) => a.line - b.line)
        .map(({ line, message }) => `${file}:${line}: ${message}`),
    );

  for (const error of document.errors) {
    const start = error.pos[0];
    const quoteHint = error.code === 'BAD_SCALAR_START' && text[start] === '@';
    faults.add(
      start,
      quoteHint ? 'quote an entry that starts with @, like "@example.com"' : error.message,
    );
  }
  if (found.length > 0) throw refuse();
  for (const warning of document.warnings) faults.add(warning.pos[0], warning.message);

  const top = document.contents;
  if (top === null) {
    faults.add(0, 'the file is empty: it needs default, rules or both');
    throw refuse();
  }
  if (!yaml().isMap(top)) {
    faults.add(top, 'expected default and rules at the top level');
    throw refuse();
  }
  const keys = keysOf(top, ['default', 'rules'], '', faults);
  const defaultEntry = keys.get('default');
  const defaultPolicy: Policy | undefined = defaultEntry
    ? policyOf(defaultEntry.value ?? defaultEntry.key, 'default', faults)
    : { kind: 'logged_in' };
  const rulesEntry = keys.get('rules');
  const rules = rulesEntry ? rulesOf(rulesEntry.value ?? rulesEntry.key, faults) : [];
  if (found.length > 0 || defaultPolicy === undefined) throw refuse();
  return new AccessRules(defaultPolicy, rules);
}

/** The entries of `map` by key, each key one of `allowed` (faults for the others). */
function keysOf(
  map: Node,
  allowed: readonly string[],
  where: string,
  faults: Faults,
): Map<string, { key: Node; value: Node | null }> {
  const found = new Map<string, { key: Node; value: Node | null }>();
  if (!yaml().isMap(map)) return found;
  for (const pair of map.items) {
    const key = pair.key as Node | null;
    const value = pair.value as Node | null;
    if (yaml().isScalar(key) && typeof key.value === 'string' && allowed.includes(key.value)) {
      const first = found.get(key.value);
      if (first === undefined) found.set(key.value, { key, value });
      else
        faults.add(
          key,
          `${where}${key.value}: duplicate key (first at line ${faults.lineOf(first.key)})`,
        );
      continue;
    }
    const name = yaml().isScalar(key) ? JSON.stringify(key.value) : 'this key';
    faults.add(key ?? map, `${where}unknown key ${name} (expected ${allowed.join(' or ')})`);
  }
  return found;
}

/** The rules of the `rules` list `node`, in order; faults for bad and repeated ones. */
function rulesOf(node: Node, faults: Faults): AccessRule[] {
  if (!yaml().isSeq(node)) {
    faults.add(node, 'rules: expected a list of rules, each with host and policy');
    return [];
  }
  const rules: AccessRule[] = [];
  const lineOfPattern = new Map<string, number>();
  for (const item of node.items as (Node | null)[]) {
    if (!yaml().isMap(item)) {
      faults.add(item ?? node, 'rules: expected a rule, with host and policy');
      continue;
    }
    const keys = keysOf(
      item,
      ['host', 'policy', 'second_factor', 'email_verified'],
      'rules: ',
      faults,
    );
    const host = keys.get('host');
    const policyEntry = keys.get('policy');
    if (host === undefined) faults.add(item, 'rules: this rule has no host');
    if (policyEntry === undefined) faults.add(item, 'rules: this rule has no policy');
    const hostNode = host && (host.value ?? host.key);
    const pattern = hostNode && patternOf(hostNode, faults);
    const policy = policyEntry && policyOf(policyEntry.value ?? policyEntry.key, 'policy', faults);
    const secondFactorEntry = keys.get('second_factor');
    const secondFactor =
      secondFactorEntry &&
      loginFlagOf(
        'second_factor',
        secondFactorEntry.value ?? secondFactorEntry.key,
        policy,
        faults,
      );
    const emailVerifiedEntry = keys.get('email_verified');
    const emailVerified =
      emailVerifiedEntry &&
      loginFlagOf(
        'email_verified',
        emailVerifiedEntry.value ?? emailVerifiedEntry.key,
        policy,
        faults,
      );
    if (pattern === undefined) continue;
    const first = lineOfPattern.get(pattern);
    if (first !== undefined) {
      faults.add(hostNode, `host: ${pattern} is already the host of the rule at line ${first}`);
      continue;
    }
    lineOfPattern.set(pattern, faults.lineOf(hostNode));
    if (
      policy === undefined ||
      (secondFactorEntry !== undefined && secondFactor === undefined) ||
      (emailVerifiedEntry !== undefined && emailVerified === undefined)
    ) {
      continue;
    }
    rules.push({
      host: pattern,
      policy,
      ...(secondFactor === true && { secondFactor }),
      ...(emailVerified === true && { emailVerified }),
    });
  }
  return rules;
}

/**
 * The `second_factor` or `email_verified` (`name`) of a rule: true or false, written as such (not
 * `yes`, `1` or a string), and true only with a policy that needs a login. Undefined (and a
 * fault) otherwise.
 */
function loginFlagOf(
  name: 'second_factor' | 'email_verified',
  node: Node,
  policy: Policy | undefined,
  faults: Faults,
): boolean | undefined {
  if (!yaml().isScalar(node) || typeof node.value !== 'boolean') {
    faults.add(node, `${name}: expected true or false`);
    return undefined;
  }
  if (node.value && policy?.kind === 'everyone') {
    faults.add(node, `${name}: true needs a login, which policy everyone does not ask for`);
    return undefined;
  }
  return node.value;
}

/** The normalized host pattern `node` holds, or undefined (and a fault). */
function patternOf(node: Node, faults: Faults): string | undefined {
  const pattern =
    yaml().isScalar(node) && typeof node.value === 'string' ? hostPattern(node.value) : undefined;
  if (pattern !== undefined) return pattern;
  faults.add(
    node,
    // Unquoted, `*.example.com` is a YAML alias named `.example.com`.
    yaml().isAlias(node)
      ? 'host: quote a pattern that starts with *, like "*.example.com"'
      : 'host: expected a host name, or *. and a host name, like app.example.com or ' +
          '"*.example.com" (no scheme, port or path)',
  );
  return undefined;
}

/** The policy `node` holds (the value of the key `name`), or undefined (and faults). */
function policyOf(node: Node, name: string, faults: Faults): Policy | undefined {
  if (yaml().isScalar(node) && node.value === 'everyone') return { kind: 'everyone' };
  if (yaml().isScalar(node) && node.value === 'logged_in') return { kind: 'logged_in' };
  if (!yaml().isSeq(node)) {
    faults.add(node, `${name}: expected everyone, logged_in or a list of emails and @domains`);
    return undefined;
  }
  if (node.items.length === 0) {
    faults.add(node, `${name}: the list is empty: list emails or @domains, or use everyone`);
    return undefined;
  }
  const entries: string[] = [];
  let valid = true;
  for (const item of node.items as (Node | null)[]) {
    const entry = yaml().isScalar(item) && typeof item.value === 'string' ? item.value : undefined;
    if (entry !== undefined && accountsPolicy([entry]) !== undefined) {
      entries.push(entry);
      continue;
    }
    valid = false;
    const shown = yaml().isScalar(item) ? JSON.stringify(item.value) : 'this entry';
    faults.add(item ?? node, `${name}: ${shown}: expected an email address or @domain`);
  }
  return valid ? accountsPolicy(entries) : undefined;
}

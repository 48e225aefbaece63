/**
 * The rules in force: read at open, replaced only by a good file on reload; and the warnings due
 * when open sign-up lets anyone through a logged_in host, or through a host by an address they
 * typed (addresses are not verified).
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AccessRules } from '../../src/auth/access-rules.js';
import { AccessRulesFileError } from '../../src/auth/access-rules-file.js';
import {
  openSignUpWarning,
  unverifiedAddressWarning,
  ReloadableAccessRules,
} from '../../src/auth/access-rules-reload.js';
import { temporaryDirectory } from '../support/files.js';

const ONE_RULE = 'default: [root@example.com]\nrules:\n  - host: a.test\n    policy: everyone\n';
const TWO_RULES = `${ONE_RULE}  - host: b.test\n    policy: everyone\n`;

describe('ReloadableAccessRules', () => {
  it('with no file, holds logged_in for every host and has nothing to reload', () => {
    const source = ReloadableAccessRules.open(undefined);
    assert.equal(source.current(), AccessRules.LOGGED_IN);
    assert.deepEqual(source.reload(), { outcome: 'no_file' });
    assert.equal(source.current(), AccessRules.LOGGED_IN);
  });

  it('throws the file error at open for a bad or missing file', () => {
    const path = join(temporaryDirectory(), 'rules.yml');
    assert.throws(() => ReloadableAccessRules.open(path), AccessRulesFileError);
    writeFileSync(path, 'default: nobody\n');
    assert.throws(() => ReloadableAccessRules.open(path), { message: /rules\.yml:1: default:/ });
  });

  it('replaces the rules with a good file, and keeps them through a bad or missing one', () => {
    const path = join(temporaryDirectory(), 'rules.yml');
    writeFileSync(path, ONE_RULE);
    const source = ReloadableAccessRules.open(path);
    assert.equal(source.file, path);
    assert.equal(source.current().decide('b.test', null), 'login_required');

    writeFileSync(path, TWO_RULES);
    const reloaded = source.reload();
    assert.equal(reloaded.outcome, 'reloaded');
    assert.equal(reloaded.rules, source.current());
    assert.equal(source.current().rules.length, 2);
    assert.equal(source.current().decide('b.test', null), 'pass');

    const inForce = source.current();
    writeFileSync(path, `${TWO_RULES}  - host: c.test\n    policy: nobody\n`);
    const refused = source.reload();
    assert.equal(refused.outcome, 'refused');
    assert.deepEqual(refused.error.problems, [
      `${path}:8: policy: expected everyone, logged_in or a list of emails and @domains`,
    ]);
    assert.equal(source.current(), inForce);

    rmSync(path);
    assert.equal(source.reload().outcome, 'refused');
    assert.equal(source.current(), inForce);
  });
});

describe('openSignUpWarning', () => {
  const open = {
    signup: 'open',
    signupEmailDomains: undefined,
    accessRulesFile: 'rules.yml',
    cookieDomain: undefined,
  } as const;
  const admitsAny = new AccessRules({ kind: 'everyone' }, [
    { host: '*.example.com', policy: { kind: 'logged_in' } },
  ]);
  const listsAccounts = new AccessRules(
    { kind: 'accounts', emails: ['root@example.com'], domains: [] },
    [{ host: 'public.example.com', policy: { kind: 'everyone' } }],
  );

  it('warns, naming the hosts, when open sign-up meets a logged_in policy', () => {
    const warning = openSignUpWarning(open, admitsAny);
    assert.match(warning?.message ?? '', /anyone on the internet can sign up/);
    assert.match(warning?.message ?? '', /SIGNUP\b.*SIGNUP_EMAIL_DOMAINS/);
    assert.deepEqual(warning?.hosts, ['*.example.com']);
    assert.deepEqual(openSignUpWarning(open, AccessRules.LOGGED_IN)?.hosts, [
      'every host no rule names (default)',
    ]);
  });

  it('warns with COOKIE_DOMAIN alone, as forward auth then uses the default', () => {
    const cookieOnly = { ...open, accessRulesFile: undefined, cookieDomain: 'example.com' };
    assert.notEqual(openSignUpWarning(cookieOnly, AccessRules.LOGGED_IN), undefined);
  });

  it('stays silent without forward auth, with sign-up limited, or with no logged_in policy', () => {
    const plain = { ...open, accessRulesFile: undefined };
    assert.equal(openSignUpWarning(plain, AccessRules.LOGGED_IN), undefined);
    assert.equal(openSignUpWarning({ ...open, signup: 'closed' }, admitsAny), undefined);
    const domains = { ...open, signupEmailDomains: ['example.com'] };
    assert.equal(openSignUpWarning(domains, admitsAny), undefined);
    assert.equal(openSignUpWarning(open, listsAccounts), undefined);
  });
});

describe('unverifiedAddressWarning', () => {
  const open = {
    signup: 'open',
    signupEmailDomains: undefined,
    accessRulesFile: 'rules.yml',
    cookieDomain: undefined,
  } as const;
  const rules = new AccessRules({ kind: 'everyone' }, [
    { host: 'wiki.example.com', policy: { kind: 'logged_in' } },
    {
      host: 'admin.example.com',
      policy: { kind: 'accounts', emails: ['root@example.com'], domains: [] },
    },
    {
      host: 'staff.example.com',
      policy: { kind: 'accounts', emails: [], domains: ['example.org'] },
    },
    { host: 'public.example.com', policy: { kind: 'everyone' } },
  ]);

  it('names the hosts whose listed addresses anyone may sign up with, as they are not verified', () => {
    const warning = unverifiedAddressWarning(open, rules);
    assert.match(warning?.message ?? '', /not verified/);
    // wiki's logged_in is the open sign-up warning's; both listing hosts are claimable.
    assert.deepEqual(warning?.hosts, ['admin.example.com', 'staff.example.com']);
  });

  it('with SIGNUP_EMAIL_DOMAINS, names logged_in hosts and the listings at those domains', () => {
    const limited = { ...open, signupEmailDomains: ['example.com'] };
    assert.deepEqual(unverifiedAddressWarning(limited, rules)?.hosts, [
      'wiki.example.com',
      'admin.example.com',
    ]);
    const elsewhere = { ...open, signupEmailDomains: ['example.net'] };
    assert.deepEqual(unverifiedAddressWarning(elsewhere, rules)?.hosts, ['wiki.example.com']);
    const defaultOnly = new AccessRules({ kind: 'logged_in' }, []);
    assert.deepEqual(unverifiedAddressWarning(limited, defaultOnly)?.hosts, [
      'every host no rule names (default)',
    ]);
  });

  it('stays silent with sign-up closed, without forward auth, or with nothing to claim', () => {
    assert.equal(unverifiedAddressWarning({ ...open, signup: 'closed' }, rules), undefined);
    assert.equal(
      unverifiedAddressWarning({ ...open, accessRulesFile: undefined }, rules),
      undefined,
    );
    const elsewhere = { ...open, signupEmailDomains: ['example.net'] };
    const listed = new AccessRules({ kind: 'everyone' }, rules.rules.slice(1, 3));
    assert.equal(unverifiedAddressWarning(elsewhere, listed), undefined);
    assert.equal(unverifiedAddressWarning(open, AccessRules.LOGGED_IN), undefined);
  });

  it('is not due with EMAIL_VERIFICATION=required, nor for a rule asking email_verified', () => {
    assert.equal(
      unverifiedAddressWarning({ ...open, emailVerification: 'required' }, rules),
      undefined,
    );
    assert.ok(unverifiedAddressWarning({ ...open, emailVerification: 'optional' }, rules));
    const proven = new AccessRules(
      { kind: 'everyone' },
      rules.rules.map((rule) =>
        rule.host === 'admin.example.com' ? { ...rule, emailVerified: true } : rule,
      ),
    );
    assert.deepEqual(unverifiedAddressWarning(open, proven)?.hosts, ['staff.example.com']);
  });
});

/**
 * Access rules as values: what each policy decides for no session and for accounts, which rule a
 * host gets, and which rule sets admit any account.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccessRules, decide, hostName, type Policy } from '../../src/auth/access-rules.js';

const everyone: Policy = { kind: 'everyone' };
const loggedIn: Policy = { kind: 'logged_in' };
const accounts = (emails: string[], domains: string[] = []): Policy => ({
  kind: 'accounts',
  emails,
  domains,
});
const subject = (emailKey: string) => ({ emailKey });

describe('decide', () => {
  it('lets everyone through an everyone policy, with or without a session', () => {
    assert.equal(decide(everyone, null), 'pass');
    assert.equal(decide(everyone, subject('bob@example.com')), 'pass');
  });

  it('asks for a login without a session, whatever else the policy says', () => {
    assert.equal(decide(loggedIn, null), 'login_required');
    assert.equal(decide(accounts(['bob@example.com']), null), 'login_required');
  });

  it('lets any account through logged_in', () => {
    assert.equal(decide(loggedIn, subject('anyone@anywhere.test')), 'pass');
  });

  it('lets listed accounts and domains through a list, and refuses the rest', () => {
    const policy = accounts(['bob@example.com'], ['staff.example.org']);
    assert.equal(decide(policy, subject('bob@example.com')), 'pass');
    assert.equal(decide(policy, subject('carol@staff.example.org')), 'pass');
    assert.equal(decide(policy, subject('carol@example.com')), 'denied');
    assert.equal(decide(policy, subject('bob@example.com.evil.test')), 'denied');
    assert.equal(decide(policy, subject('carol@example.org')), 'denied');
    assert.equal(decide(policy, subject('carol@evil.staff.example.org')), 'denied');
  });

  it('reads the domain after the last @ of the key', () => {
    const policy = accounts([], ['example.com']);
    assert.equal(decide(policy, subject('a@evil.test@example.com')), 'pass');
    assert.equal(decide(policy, subject('a@example.com@evil.test')), 'denied');
  });
});

describe('AccessRules', () => {
  const rules = new AccessRules(accounts(['root@example.com']), [
    { host: 'public.example.com', policy: everyone },
    { host: '*.example.com', policy: loggedIn },
    { host: 'shadowed.example.com', policy: everyone },
  ]);

  it('gives a host the policy of the first rule that matches it', () => {
    assert.deepEqual(rules.policyFor('public.example.com'), everyone);
    assert.deepEqual(rules.policyFor('shadowed.example.com'), loggedIn);
    assert.deepEqual(rules.policyFor('a.b.example.com'), loggedIn);
  });

  it('gives the apex of a wildcard, and look-alike hosts, the default', () => {
    for (const host of ['example.com', 'notexample.com', 'example.com.evil.test', 'other.test']) {
      assert.deepEqual(rules.policyFor(host), accounts(['root@example.com']), host);
    }
  });

  it('ignores case, port and a trailing dot of the request host', () => {
    assert.deepEqual(rules.policyFor('PUBLIC.example.COM:443'), everyone);
    assert.deepEqual(rules.policyFor('public.example.com.'), everyone);
    assert.deepEqual(rules.policyFor('public.example.com.:80'), everyone);
  });

  it('decides through the matching policy', () => {
    assert.equal(rules.decide('public.example.com', null), 'pass');
    assert.equal(rules.decide('app.example.com', null), 'login_required');
    assert.equal(rules.decide('example.com', subject('bob@example.com')), 'denied');
    assert.equal(rules.decide('example.com', subject('root@example.com')), 'pass');
  });

  it('admits any account when the default or some rule is logged_in', () => {
    assert.equal(rules.admitsAnyAccount(), true);
    assert.equal(AccessRules.LOGGED_IN.admitsAnyAccount(), true);
    assert.equal(new AccessRules(loggedIn, []).admitsAnyAccount(), true);
    const closed = new AccessRules(accounts(['root@example.com']), [
      { host: 'public.example.com', policy: everyone },
    ]);
    assert.equal(closed.admitsAnyAccount(), false);
  });

  it('with no rules, asks every host for a login and lets any account through', () => {
    assert.equal(AccessRules.LOGGED_IN.decide('anything.test', null), 'login_required');
    assert.equal(AccessRules.LOGGED_IN.decide('anything.test', subject('x@y.test')), 'pass');
  });
});

describe('hostName', () => {
  const cases: [string, string][] = [
    ['App.Example.COM', 'app.example.com'],
    ['app.example.com:8080', 'app.example.com'],
    ['app.example.com.', 'app.example.com'],
    [' app.example.com ', 'app.example.com'],
    ['[::1]:8080', '[::1]'],
    ['[::1]', '[::1]'],
    ['localhost:', 'localhost'],
  ];
  for (const [host, name] of cases) {
    it(`reads ${JSON.stringify(host)} as ${name}`, () => assert.equal(hostName(host), name));
  }
});

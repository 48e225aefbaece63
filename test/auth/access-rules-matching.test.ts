/**
 * Rules read from a file decide as written: the first matching rule wins, a wildcard leaves its
 * apex out, listed emails are compared by key and an @domain admits exactly that domain.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AccessRules } from '../../src/auth/access-rules.js';
import { parseAccessRules } from '../../src/auth/access-rules-file.js';
import { emailKey } from '../../src/auth/email.js';

const FILE = 'rules.yml';

/** The decision for `host` and an account with `email` (null: no session). */
function decision(rules: AccessRules, host: string, email: string | null) {
  return rules.decide(host, email === null ? null : { emailKey: emailKey(email) });
}

describe('the rules read decide as written', () => {
  const rules = parseAccessRules(
    `default: [admin@example.com]
rules:
  - host: open.example.com
    policy: everyone
  - host: "*.example.com"
    policy: [Alice@Example.COM, "@staff.example.com"]
  - host: late.example.com
    policy: everyone
  - host: example.com
    policy: logged_in
`,
    FILE,
  );

  it('lets the first matching rule win, before a later, wider one', () => {
    assert.equal(decision(rules, 'open.example.com', null), 'pass');
    // late.example.com is also under *.example.com, which comes first.
    assert.equal(decision(rules, 'late.example.com', null), 'login_required');
    assert.equal(decision(rules, 'late.example.com', 'bob@other.test'), 'denied');
  });

  it('keeps the apex out of its wildcard', () => {
    assert.equal(decision(rules, 'example.com', 'bob@other.test'), 'pass');
    assert.equal(decision(rules, 'app.example.com', 'bob@other.test'), 'denied');
    assert.equal(decision(rules, 'deep.app.example.com', 'alice@example.com'), 'pass');
    assert.equal(decision(rules, 'notexample.com', 'alice@example.com'), 'denied', 'the default');
  });

  it('compares listed emails by key', () => {
    for (const email of ['alice@example.com', 'ALICE@EXAMPLE.COM', 'ａｌｉｃｅ@example.com']) {
      assert.equal(decision(rules, 'app.example.com', email), 'pass', email);
    }
    assert.equal(decision(rules, 'app.example.com', 'alice2@example.com'), 'denied');
  });

  it('admits an @domain exactly, not its parent or its subdomains', () => {
    assert.equal(decision(rules, 'app.example.com', 'dan@staff.example.com'), 'pass');
    assert.equal(decision(rules, 'app.example.com', 'dan@Staff.Example.com'), 'pass');
    assert.equal(decision(rules, 'app.example.com', 'dan@example.com'), 'denied');
    assert.equal(decision(rules, 'app.example.com', 'dan@eu.staff.example.com'), 'denied');
    assert.equal(decision(rules, 'app.example.com', 'dan@evilstaff.example.com'), 'denied');
  });

  it('applies the default to hosts no rule names', () => {
    assert.equal(decision(rules, 'elsewhere.test', null), 'login_required');
    assert.equal(decision(rules, 'elsewhere.test', 'admin@example.com'), 'pass');
    assert.equal(decision(rules, 'elsewhere.test', 'alice@example.com'), 'denied');
  });

  it('matches a request host in any case, with a port or a trailing dot', () => {
    assert.equal(decision(rules, 'OPEN.Example.com:8443', null), 'pass');
    assert.equal(decision(rules, 'open.example.com.', null), 'pass');
  });

  it('matches an IDN pattern against the ASCII host a request carries', () => {
    const idn = parseAccessRules(
      'rules:\n  - host: "*.bücher.example"\n    policy: everyone\n',
      FILE,
    );
    assert.equal(decision(idn, 'shop.xn--bcher-kva.example', null), 'pass');
    assert.equal(decision(idn, 'shop.bucher.example', null), 'login_required');
  });
});

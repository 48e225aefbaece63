import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseEmail } from '../../src/auth/email.js';
import { hasPassword, NO_PASSWORD } from '../../src/auth/passwords.js';
import { domainAllowed, type SignUpPolicy } from '../../src/auth/registration.js';
import { duration } from '../../src/mail/messages.js';

describe('domainAllowed', () => {
  const policy: SignUpPolicy = {
    signup: 'open',
    signupEmailDomains: ['example.com', 'xn--bcher-kva.de'],
  };
  const allowed = (email: string, rules = policy) => {
    const parsed = parseEmail(email);
    assert.ok(parsed, email);
    return domainAllowed(rules, parsed);
  };

  it('admits every domain when no list is set', () => {
    assert.equal(allowed('bob@anything.test', { signup: 'open' }), true);
  });

  it('admits the listed domains exactly, compared on the key (lower case, ASCII)', () => {
    for (const email of ['bob@example.com', 'Bob@EXAMPLE.com', 'eva@bücher.de', 'eva@BÜCHER.DE']) {
      assert.equal(allowed(email), true, email);
    }
  });

  it('refuses subdomains, parents, look-alikes and lookalike suffixes', () => {
    for (const email of [
      'bob@sub.example.com',
      'bob@com.example',
      'bob@example.co',
      'bob@evilexample.com',
      'bob@example.com.evil.test',
      'bob@exаmple.com', // Cyrillic а: another domain altogether
      'example.com@evil.test',
    ]) {
      assert.equal(allowed(email), false, email);
    }
  });
});

describe('hasPassword', () => {
  it('is false for the no-password marker, true for a bcrypt hash', () => {
    assert.equal(hasPassword(NO_PASSWORD), false);
    assert.equal(hasPassword('$2b$04$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY'), true);
  });
});

describe('duration', () => {
  it('says a time in the largest whole unit, never more than it is', () => {
    assert.equal(duration(7 * 86_400), '7 days');
    assert.equal(duration(86_400), '1 day');
    assert.equal(duration(36 * 3600), '36 hours');
    assert.equal(duration(3600), '1 hour');
    assert.equal(duration(5400), '90 minutes');
    assert.equal(duration(119), '1 minute');
    assert.equal(duration(60), '1 minute');
  });
});

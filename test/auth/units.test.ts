import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidEmail, normalizeEmail } from '../../src/auth/email.js';
import {
  BCRYPT_MAX_BYTES,
  bcryptHasher,
  normalizePassword,
  passwordProblem,
} from '../../src/auth/passwords.js';
import { digestToken, generateUuid, isUuid } from '../../src/auth/tokens.js';

describe('isValidEmail', () => {
  const valid = [
    'bob@example.com',
    'bob.smith@example.com',
    'bob+newsletter@example.com',
    'bob_smith-1@example.co.uk',
    'alice@mail.eu.example.org',
    'x@a.io',
    '1234@example.com',
    'bob@my-host.example.com',
    'bob@xn--80ak6aa92e.com',
  ];
  for (const address of valid) {
    it(`accepts ${address}`, () => {
      assert.equal(isValidEmail(address), true);
    });
  }

  const invalid: [string, string][] = [
    ['', 'the empty string'],
    ['bob.example.com', 'no @'],
    ['@example.com', 'an empty local part'],
    ['bob@', 'an empty domain'],
    ['bob@localhost', 'a domain without a dot'],
    ['bob@example.', 'an empty top-level label'],
    ['bob@.example.com', 'an empty first label'],
    ['bob@example..com', 'an empty middle label'],
    ['bob smith@example.com', 'a space in the local part'],
    ['bob@exa mple.com', 'a space in the domain'],
    [' bob@example.com', 'a leading space'],
    ['bob@example.com ', 'a trailing space'],
    ['bob\t@example.com', 'a tab'],
    ['bob\n@example.com', 'a newline'],
    ['bob\u0000@example.com', 'a NUL character'],
    ['bob\u007f@example.com', 'a DEL character'],
    ['bob@example.com\r\nBcc: eve@example.com', 'a header injection'],
    ['bob@1.2.3.4', 'a numeric top-level domain (an IP address)'],
    ['bob@example.123', 'an all-digit top-level label'],
    ['bob@-example.com', 'a label with a leading hyphen'],
    ['bob@example-.com', 'a label with a trailing hyphen'],
    ['bob@example.com-', 'a top-level label with a trailing hyphen'],
    ['bob@[127.0.0.1]', 'an IP-literal domain'],
    ['"bob"@example.com', 'a quoted local part'],
    ['bob@exam_ple.com', 'an underscore in the domain'],
    ['bob@@example.com', 'a second @'],
    ['bob<x>@example.com', 'angle brackets'],
    [`${'a'.repeat(65)}@example.com`, 'a local part over 64 characters'],
    [`bob@${'a'.repeat(64)}.com`, 'a domain label over 63 characters'],
    ['jos\u00e9\u034f@example.com', 'a combining grapheme joiner'],
    ['a\ud800@example.com', 'an unpaired surrogate'],
    ['bob@exa\u3164mple.com', 'a Hangul filler in the domain'],
    ['bob\u200b@example.com', 'a zero-width space'],
    ['bob\u202e@example.com', 'a right-to-left override'],
    ['.bob@example.com', 'a leading dot in the local part'],
    ['bob.@example.com', 'a trailing dot in the local part'],
    ['a..b@example.com', 'consecutive dots in the local part'],
    ['bob@example.\u0661\u0662', 'a top-level label of non-ASCII digits'],
  ];
  for (const [address, what] of invalid) {
    it(`rejects ${what}`, () => {
      assert.equal(isValidEmail(address), false, JSON.stringify(address));
    });
  }

  it('accepts 254 characters and rejects 255', () => {
    // 64 + 1 + 63 + 1 + 63 + 1 + 57 + 4 = 254
    const address = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.com`;
    assert.equal(address.length, 254);
    assert.equal(isValidEmail(address), true);
    const tooLong = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(58)}.com`;
    assert.equal(tooLong.length, 255);
    assert.equal(isValidEmail(tooLong), false);
  });

  it('accepts a local part of exactly 64 characters and a label of exactly 63', () => {
    assert.equal(isValidEmail(`${'a'.repeat(64)}@example.com`), true);
    assert.equal(isValidEmail(`bob@${'a'.repeat(63)}.com`), true);
  });
});

describe('normalizeEmail', () => {
  it('gives composed and decomposed spellings of an address the same form', () => {
    assert.equal(
      normalizeEmail('Jos\u0065\u0301@example.com'),
      normalizeEmail('jos\u00e9@example.com'),
    );
  });

  it('trims surrounding whitespace and lower-cases', () => {
    assert.equal(normalizeEmail('  Bob.Smith+Tag@Example.COM \n'), 'bob.smith+tag@example.com');
  });

  it('leaves an already normal address unchanged', () => {
    assert.equal(normalizeEmail('bob@example.com'), 'bob@example.com');
  });

  it('maps differently written forms of one address to the same string', () => {
    assert.equal(normalizeEmail('BOB@EXAMPLE.COM'), normalizeEmail(' bob@example.com'));
  });

  it('produces an address that isValidEmail accepts from a padded, upper-case one', () => {
    const raw = '  Alice@Example.org  ';
    assert.equal(isValidEmail(raw), false);
    assert.equal(isValidEmail(normalizeEmail(raw)), true);
  });
});

describe('passwordProblem', () => {
  it('accepts a password of exactly the minimum length', () => {
    assert.equal(passwordProblem('abcdefgh', 8), null);
  });

  it('refuses a password one character short of the minimum', () => {
    assert.equal(passwordProblem('abcdefg', 8), 'Password must be at least 8 characters long');
  });

  it('counts the minimum length in characters, not bytes', () => {
    // 7 "€" are 21 UTF-8 bytes but only 7 characters.
    assert.equal(Buffer.byteLength('€'.repeat(7)), 21);
    assert.equal(passwordProblem('€'.repeat(7), 8), 'Password must be at least 8 characters long');
    assert.equal(passwordProblem('€'.repeat(8), 8), null);
  });

  it('counts an astral character (two UTF-16 units) as one character', () => {
    // 7 emoji are 14 UTF-16 code units, but 7 characters.
    assert.equal('😀'.repeat(7).length, 14);
    assert.equal(passwordProblem('😀'.repeat(7), 8), 'Password must be at least 8 characters long');
    assert.equal(passwordProblem('😀'.repeat(8), 8), null);
  });

  it('accepts 72 ASCII characters and refuses 73', () => {
    assert.equal(BCRYPT_MAX_BYTES, 72);
    assert.equal(passwordProblem('a'.repeat(72), 8), null);
    assert.match(passwordProblem('a'.repeat(73), 8) ?? '', /at most 72 bytes/);
  });

  it('counts the 72-byte limit in UTF-8 bytes: 24 "€" (72 bytes) pass, 25 (75 bytes) do not', () => {
    assert.equal(Buffer.byteLength('€'.repeat(25)), 75);
    assert.equal(passwordProblem('€'.repeat(24), 8), null);
    assert.match(passwordProblem('€'.repeat(25), 8) ?? '', /at most 72 bytes/);
  });

  it('refuses 19 emoji (76 bytes) though they are only 38 UTF-16 units', () => {
    assert.equal(passwordProblem('😀'.repeat(18), 8), null);
    assert.match(passwordProblem('😀'.repeat(19), 8) ?? '', /at most 72 bytes/);
  });

  it('refuses a NUL character anywhere', () => {
    for (const password of ['\0abcdefgh', 'abcd\0efgh', 'abcdefgh\0']) {
      assert.equal(
        passwordProblem(password, 8),
        'Password must not contain NUL characters',
        JSON.stringify(password),
      );
    }
  });

  it('refuses a lone surrogate', () => {
    for (const password of ['abcdefgh\ud800', '\udc00abcdefgh', 'abcd\ud83dxefgh']) {
      assert.equal(
        passwordProblem(password, 8),
        'Password must be valid Unicode text',
        JSON.stringify(password),
      );
    }
  });

  it('accepts spaces and non-Latin text', () => {
    assert.equal(passwordProblem('correct horse battery', 8), null);
    assert.equal(passwordProblem('пароль-пароль', 8), null);
  });
});

describe('normalizePassword', () => {
  it('composes a decomposed accent (NFC), so both spellings are one password', () => {
    const decomposed = 'cafe\u0301';
    assert.equal(decomposed.length, 5);
    assert.equal(normalizePassword(decomposed), 'caf\u00e9');
    assert.equal(normalizePassword('caf\u00e9'), 'caf\u00e9');
  });
});

describe('bcryptHasher(4)', () => {
  const hasher = bcryptHasher(4);

  it('verifies the password it hashed', async () => {
    const hash = await hasher.hash('correct horse');
    assert.match(hash, /^\$2[aby]\$04\$[./A-Za-z0-9]{53}$/);
    assert.equal(await hasher.verify('correct horse', hash), true);
  });

  it('does not verify a wrong password', async () => {
    const hash = await hasher.hash('correct horse');
    assert.equal(await hasher.verify('correct horsf', hash), false);
    assert.equal(await hasher.verify('', hash), false);
  });

  it('salts: the same password hashes differently each time, both verifying', async () => {
    const [first, second] = await Promise.all([hasher.hash('same'), hasher.hash('same')]);
    assert.notEqual(first, second);
    assert.equal(await hasher.verify('same', second), true);
  });

  it('verifies a multi-byte password of exactly 72 bytes', async () => {
    const password = '€'.repeat(24);
    const hash = await hasher.hash(password);
    assert.equal(await hasher.verify(password, hash), true);
    assert.equal(await hasher.verify('€'.repeat(23), hash), false);
  });

  it('needs no rehash for a hash of its own cost', async () => {
    assert.equal(hasher.needsRehash(await hasher.hash('pw')), false);
  });

  it('needs a rehash for a hash of a lower cost, not of a higher one', async () => {
    const other = await bcryptHasher(5).hash('pw');
    assert.match(other, /^\$2[aby]\$05\$/);
    assert.equal(hasher.needsRehash(other), false, 'a stronger hash is kept');
    assert.equal(bcryptHasher(6).needsRehash(other), true);
    assert.equal(bcryptHasher(5).needsRehash(other), false);
    // The other cost's hash still verifies: a rehash is an upgrade, not a lock-out.
    assert.equal(await hasher.verify('pw', other), true);
  });
});

describe('digestToken', () => {
  it('is the SHA-256 hex digest of the token', () => {
    assert.equal(
      digestToken('abc'),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('gives 64 lower-case hex characters', () => {
    assert.match(digestToken(generateUuid()), /^[0-9a-f]{64}$/);
    assert.match(digestToken(''), /^[0-9a-f]{64}$/);
  });

  it('is deterministic', () => {
    const token = generateUuid();
    assert.equal(digestToken(token), digestToken(token));
  });

  it('differs for different tokens', () => {
    assert.notEqual(digestToken('token-a'), digestToken('token-b'));
  });

  it('does not return the token itself', () => {
    const token = generateUuid();
    assert.ok(!digestToken(token).includes(token));
  });
});

describe('isUuid', () => {
  it('accepts a lower-case UUID', () => {
    assert.equal(isUuid('123e4567-e89b-42d3-a456-426614174000'), true);
  });

  const rejected: [unknown, string][] = [
    ['123E4567-E89B-42D3-A456-426614174000', 'upper-case hex'],
    ['123e4567e89b42d3a456426614174000', 'no hyphens'],
    ['123e4567-e89b-42d3-a456-42661417400', 'one digit short'],
    ['123e4567-e89b-42d3-a456-4266141740000', 'one digit too many'],
    ['123e4567-e89b-42d3-a456-42661417400g', 'a non-hex digit'],
    [' 123e4567-e89b-42d3-a456-426614174000', 'a leading space'],
    ['123e4567-e89b-42d3-a456-426614174000\n', 'a trailing newline'],
    ['{123e4567-e89b-42d3-a456-426614174000}', 'braces'],
    ['', 'the empty string'],
    [undefined, 'undefined'],
    [null, 'null'],
    [123, 'a number'],
    [['123e4567-e89b-42d3-a456-426614174000'], 'an array holding a UUID'],
  ];
  for (const [value, what] of rejected) {
    it(`rejects ${what}`, () => {
      assert.equal(isUuid(value), false);
    });
  }
});

describe('generateUuid', () => {
  it('returns a version 4, RFC 4122 variant UUID', () => {
    for (let i = 0; i < 20; i += 1) {
      const uuid = generateUuid();
      assert.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(isUuid(uuid), true);
    }
  });

  it('returns a different value every call', () => {
    const uuids = new Set(Array.from({ length: 1000 }, () => generateUuid()));
    assert.equal(uuids.size, 1000);
  });
});

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createSecretBox, deriveKey, SecretBoxError } from '../../src/auth/secret-box.js';

const PLAIN = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/** The text is refused with a SecretBoxError. */
function assertRefused(open: () => string, what: string): void {
  assert.throws(open, SecretBoxError, what);
}

describe('the secret box', () => {
  const key = randomBytes(32);
  const box = createSecretBox(key);

  it('opens what it sealed, for any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (plain) => {
        assert.equal(box.open(box.seal(plain)), plain);
      }),
    );
    assert.equal(box.open(box.seal('')), '');
  });

  it('opens with another box over the same key (another process, a restart)', () => {
    assert.equal(createSecretBox(Buffer.from(key)).open(box.seal(PLAIN)), PLAIN);
  });

  it('writes a versioned base64url text of IV, tag and ciphertext', () => {
    const sealed = box.seal(PLAIN);
    assert.match(sealed, /^v1\.[A-Za-z0-9_-]+$/);
    const payload = Buffer.from(sealed.slice(3), 'base64url');
    assert.equal(payload.length, 12 + 16 + Buffer.byteLength(PLAIN));
  });

  it('refuses a text sealed under another key', () => {
    const other = createSecretBox(randomBytes(32));
    assertRefused(() => other.open(box.seal(PLAIN)), 'another key');
    // One bit of difference in the key is enough.
    const nearly = Buffer.from(key);
    nearly[0] = (nearly[0] ?? 0) ^ 1;
    assertRefused(() => createSecretBox(nearly).open(box.seal(PLAIN)), 'a key one bit off');
  });

  it('refuses the text with any byte of IV, tag or ciphertext altered', () => {
    const sealed = box.seal(PLAIN);
    const payload = Buffer.from(sealed.slice(3), 'base64url');
    for (let index = 0; index < payload.length; index += 1) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const altered = Buffer.from(payload);
        altered[index] = (altered[index] ?? 0) ^ flip;
        assertRefused(
          () => box.open(`v1.${altered.toString('base64url')}`),
          `byte ${index} ^ ${flip}`,
        );
      }
    }
  });

  it('refuses the text with any character replaced, removed or added', () => {
    const sealed = box.seal(PLAIN);
    for (let index = 0; index < sealed.length; index += 1) {
      const character = sealed[index];
      for (const replacement of ['A', 'B', '_', '-', '=', '+', '/', ' ', '.']) {
        if (replacement === character) continue;
        const altered = sealed.slice(0, index) + replacement + sealed.slice(index + 1);
        assertRefused(() => box.open(altered), `character ${index} as ${replacement}`);
      }
      assertRefused(
        () => box.open(sealed.slice(0, index) + sealed.slice(index + 1)),
        `character ${index} removed`,
      );
    }
    for (const suffix of ['A', 'AA', 'AAAA', '=', '\n']) {
      assertRefused(() => box.open(sealed + suffix), `${JSON.stringify(suffix)} added`);
    }
  });

  it('refuses texts that are not sealed texts', () => {
    for (const text of ['', 'v1.', 'v1', PLAIN, `v2.${box.seal(PLAIN).slice(3)}`, 'v1.AAAA']) {
      assertRefused(() => box.open(text), JSON.stringify(text));
    }
  });

  it('seals one text differently every time', () => {
    const seals = new Set(Array.from({ length: 50 }, () => box.seal(PLAIN)));
    assert.equal(seals.size, 50);
    const ivs = new Set([...seals].map((sealed) => sealed.slice(3, 19)));
    assert.equal(ivs.size, 50);
  });

  it('never shows the plain text, in any encoding', () => {
    const sealed = box.seal(PLAIN);
    const plain = Buffer.from(PLAIN);
    for (const encoding of ['utf8', 'base64', 'base64url', 'hex'] as const) {
      assert.ok(!sealed.includes(plain.toString(encoding)), encoding);
    }
    assert.ok(!Buffer.from(sealed.slice(3), 'base64url').includes(plain));
  });

  it('does not encrypt with the key itself', () => {
    // A box keyed directly with the given key could open the text; the box's subkey is another.
    const sealed = box.seal(PLAIN);
    const direct = createSecretBox(deriveKey(key, 'secret-box v1'));
    assertRefused(() => direct.open(sealed), 'the derived key of a derived key');
  });

  it('refuses a key that is not 32 bytes', () => {
    for (const length of [0, 16, 31, 33, 64]) {
      assert.throws(() => createSecretBox(randomBytes(length)), RangeError, String(length));
    }
  });
});

describe('deriveKey', () => {
  const key = randomBytes(32);

  it('gives 32 bytes, the same for one purpose and different for another', () => {
    const codes = deriveKey(key, 'recovery-codes');
    assert.equal(codes.length, 32);
    assert.deepEqual(deriveKey(Buffer.from(key), 'recovery-codes'), codes);
    assert.notDeepEqual(deriveKey(key, 'recovery-codes 2'), codes);
    assert.notDeepEqual(deriveKey(randomBytes(32), 'recovery-codes'), codes);
    assert.ok(!codes.equals(key));
  });

  it('is HKDF-SHA256 with the purpose in its info', async () => {
    const { hkdfSync } = await import('node:crypto');
    const expected = Buffer.from(hkdfSync('sha256', key, '', 'bienvenue recovery-codes', 32));
    assert.deepEqual(deriveKey(key, 'recovery-codes'), expected);
  });

  it('refuses an empty purpose and a key of the wrong size', () => {
    assert.throws(() => deriveKey(key, ''), RangeError);
    assert.throws(() => deriveKey(randomBytes(16), 'x'), RangeError);
  });
});

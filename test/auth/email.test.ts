/**
 * Email normalization and comparison keys as functions: idempotence as a property over generated
 * strings, case folding and width mapping on known look-alikes, and the refusals of sign-up.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  emailKey,
  isHighlyRestrictive,
  isValidEmail,
  normalizeEmail,
  parseEmail,
  signUpRefusal,
} from '../../src/auth/email.js';

/** Pieces that trip case mapping, normalization and trimming up, alone or side by side. */
const TRICKY = [
  'T',
  't',
  '\u0308',
  '\u1e97',
  'A',
  'a',
  'I',
  'i',
  '\u0130',
  '\u0131',
  '\u0307',
  'S',
  's',
  '\u017f',
  '\u00df',
  '\u1e9e',
  'SS',
  '\u03a3',
  '\u03c3',
  '\u03c2',
  '\u0391',
  '\u0345',
  '\u0399',
  '\u1fb3',
  '\u1fbc',
  '\u0390',
  '\u01c4',
  '\u01c5',
  '\u01c6',
  '\u01f0',
  'J',
  '\u030c',
  '\u0301',
  '\u0327',
  '\u0323',
  '\u0338',
  '\u212a',
  '\u212b',
  '\u00c5',
  '\u2126',
  '\u00b5',
  '\ufb00',
  '\ufb03',
  '\ufb06',
  '\uff41',
  '\uff21',
  '\u{1d41a}',
  '\u{1d400}',
  '\u2460',
  '\u216b',
  '\ufdfa',
  '\u0149',
  '\u13a0',
  '\uab70',
  '\u13f8',
  '\u10a0',
  '\u2d00',
  '\u1e9b',
  '\u0340',
  '\u0344',
  '\u0f73',
  '\u3131',
  '\u1100',
  '\u1161',
  '\uac00',
  '\u3099',
  '\u304b',
  ' ',
  '\u00a0',
  '\u3000',
  '\ufeff',
  '\t',
  '\n',
  '\u200b',
  '\u00ad',
  '@',
  '.',
  '\uff20',
  '\u2800',
  '\ue000',
  '\u0378',
  '\ud800',
  'x',
  '-',
  '+',
];
const trickyString = fc
  .array(fc.constantFrom(...TRICKY), { maxLength: 12 })
  .map((parts) => parts.join(''));
const anyString = fc.string({ unit: 'binary', maxLength: 40 });
const strings = fc.oneof(anyString, trickyString);
/** Addresses made of tricky pieces around an @ and a domain that may need UTS #46. */
const addresses = fc
  .tuple(
    fc.oneof(trickyString, anyString),
    fc.constantFrom(
      'example.com',
      'B\u00fccher.de',
      'xn--bcher-kva.de',
      '\uff45x.com',
      'EXAMPLE.COM',
    ),
  )
  .map(([local, domain]) => `${local}@${domain}`);

/** Fails with the counterexample spelled as code points (most of them are invisible). */
function codePointReporter(details: fc.RunDetails<[string]>): void {
  if (!details.failed) return;
  const [text = ''] = details.counterexample ?? [];
  const points = Array.from(text, (c) => `U+${(c.codePointAt(0) ?? 0).toString(16)}`).join(' ');
  throw new Error(`counterexample: ${points}`);
}

describe('normalizeEmail', () => {
  it('is idempotent: normalizing a normalized string changes nothing', () => {
    fc.assert(
      fc.property(strings, (text) => normalizeEmail(normalizeEmail(text)) === normalizeEmail(text)),
      { numRuns: 5000 },
    );
  });

  it('gives a letter and its combining diaeresis the composed form, whatever the case', () => {
    // Lower-casing after NFC left "t" + U+0308, which NFC composes: stored so, it never matched.
    assert.equal(normalizeEmail('T\u0308om@example.com'), '\u1e97om@example.com');
    assert.equal(normalizeEmail('\u1e97om@example.com'), '\u1e97om@example.com');
  });

  it('gives composed and decomposed spellings of an address the same form', () => {
    assert.equal(
      normalizeEmail('Jos\u0065\u0301@example.com'),
      normalizeEmail('jos\u00e9@example.com'),
    );
  });

  it('trims surrounding whitespace and lower-cases', () => {
    assert.equal(normalizeEmail('  Bob.Smith+Tag@Example.COM \n'), 'bob.smith+tag@example.com');
  });
});

describe('emailKey', () => {
  it('is idempotent: the key of a key is itself', () => {
    fc.assert(
      fc.property(addresses, (address) => emailKey(emailKey(address)) === emailKey(address)),
      { numRuns: 5000, reporter: codePointReporter },
    );
  });

  // But for the Greek iota subscript (U+0345, alone or in ᾳ, ᾼ…), the one combining mark whose
  // upper case is a letter (Ι): canonical reordering moves the mark, not the letter, past other
  // marks, so accents change places, as in Unicode's own caseless matching.
  const withoutYpogegrammeni = addresses.filter(
    (address) => !address.normalize('NFD').includes('\u0345'),
  );

  it('is the same for an address and its normal form', () => {
    fc.assert(
      fc.property(
        withoutYpogegrammeni,
        (address) => emailKey(normalizeEmail(address)) === emailKey(address.trim()),
      ),
      { numRuns: 5000, reporter: codePointReporter },
    );
  });

  it('does not change when an address is written in upper or lower case', () => {
    fc.assert(
      fc.property(withoutYpogegrammeni, (address) => {
        const key = emailKey(address);
        return emailKey(address.toUpperCase()) === key && emailKey(address.toLowerCase()) === key;
      }),
      { numRuns: 5000, reporter: codePointReporter },
    );
  });

  const sameKey: [string, string, string][] = [
    ['\uff41\uff4c\uff49\uff43\uff45@example.com', 'alice@example.com', 'fullwidth letters'],
    [
      '\u{1d41a}\u{1d425}\u{1d422}\u{1d41c}\u{1d41e}@example.com',
      'alice@example.com',
      'mathematical bold',
    ],
    ['al\u0131ce@example.com', 'alice@example.com', 'a dotless \u0131'],
    ['al\u0130ce@example.com', 'alice@example.com', 'a dotted \u0130'],
    ['\u017fam@example.com', 'sam@example.com', 'a long s'],
    ['\u03b1\u03c2@example.com', '\u03b1\u03c3@example.com', 'a final sigma'],
    ['stra\u00dfe@example.com', 'strasse@example.com', 'a sharp s'],
    ['stra\u1e9ee@example.com', 'strasse@example.com', 'a capital sharp s'],
    ['\ufb03x@example.com', 'ffix@example.com', 'a ligature'],
    ['\u212aelvin@example.com', 'kelvin@example.com', 'the Kelvin sign'],
    ['\uab70@example.com', '\u13a0@example.com', 'Cherokee small and capital letters'],
    ['bob@b\u00fccher.de', 'bob@xn--bcher-kva.de', 'a domain and its ASCII form'],
    ['bob@B\u00dcCHER.DE', 'bob@xn--bcher-kva.de', 'an upper-case international domain'],
    ['bob@\uff45xample.com', 'bob@example.com', 'a fullwidth letter in the domain'],
  ];
  for (const [lookAlike, plain, what] of sameKey) {
    it(`compares ${what} as the plain address`, () => {
      assert.equal(emailKey(normalizeEmail(lookAlike)), emailKey(normalizeEmail(plain)));
    });
  }

  it('keeps letters of different scripts apart (a Cyrillic \u0430 is not a Latin a)', () => {
    assert.notEqual(emailKey('\u0430lice@example.com'), emailKey('alice@example.com'));
  });

  it('folds an ASCII local part as the general folding does', () => {
    // An ASCII local part takes a shorter way; one non-ASCII letter that folds to itself (é)
    // sends the same text the general way, and the two keys must agree but for that letter.
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 40 }), (local) => {
        const ascii = emailKey(`${local}@example.com`);
        const general = emailKey(`${local}\u00e9@example.com`);
        assert.equal(general, `${ascii.slice(0, -'@example.com'.length)}\u00e9@example.com`);
      }),
      { numRuns: 2000 },
    );
    for (let code = 0; code < 128; code += 1) {
      const character = String.fromCharCode(code);
      assert.equal(
        emailKey(`${character}\u00e9@example.com`),
        `${character.toLowerCase()}\u00e9@example.com`,
      );
    }
  });

  it('never throws, whatever the string', () => {
    fc.assert(fc.property(strings, (text) => typeof emailKey(text) === 'string'));
  });
});

describe('parseEmail', () => {
  it('refuses what isValidEmail refuses, before any folding, and keeps the typed form', () => {
    assert.equal(parseEmail('bob\u0000@example.com'), null);
    assert.equal(parseEmail(`${'a'.repeat(8000)}@example.com`), null);
    assert.deepEqual(parseEmail(' \u017fam@Example.com '), {
      address: '\u017fam@example.com',
      key: 'sam@example.com',
    });
  });

  it('refuses a domain that UTS #46 cannot map to ASCII', () => {
    assert.equal(isValidEmail('bob@xn--abc.com'), false);
    assert.equal(parseEmail('bob@xn--abc.com'), null);
  });

  it('refuses an xn-- label that is not the ASCII form of a Unicode label, on every Node line', () => {
    // Node 24's URL parser passes these through unchanged; Node 20's refused them.
    for (const domain of ['xn--abc.com', 'xn--a.com', 'xn--.com', 'xn--abc-.com', 'a.xn--zz']) {
      assert.equal(isValidEmail(`bob@${domain}`), false, domain);
    }
    assert.equal(parseEmail('bob@XN--Bcher-kva.de')?.key, parseEmail('bob@bücher.de')?.key);
    assert.equal(isValidEmail('bob@xn--bcher-kva.xn--ls8h.de'), true);
  });
});

describe('signUpRefusal', () => {
  const refused: [string, string, string][] = [
    ['\u0430lice@example.com', 'email_mixed_scripts', 'a Cyrillic \u0430 in a Latin local part'],
    ['\u03b1lice@example.com', 'email_mixed_scripts', 'a Greek \u03b1 in a Latin local part'],
    ['\u{1d41a}\u{1d6c2}@example.com', 'email_mixed_scripts', 'mathematical Latin and Greek'],
    ['\uae40\u305f\u306a\u304b@example.com', 'email_mixed_scripts', 'Hangul with Hiragana'],
    ['alice\u2800@example.com', 'email_disallowed_character', 'a braille blank'],
    ['ali\u3164ce@example.com', 'email_disallowed_character', 'a Hangul filler'],
    ['a\u0338lice@example.com', 'email_disallowed_character', 'a combining overlay'],
    ['bjo\u0338rn@example.com', 'email_disallowed_character', 'an overlay making an \u00f8'],
    ['al\u20e0ice@example.com', 'email_disallowed_character', 'an enclosing prohibition mark'],
    ['a\u20ddlice@example.com', 'email_disallowed_character', 'an enclosing circle'],
    ['a\u0332lice@example.com', 'email_disallowed_character', 'a combining low line'],
    ['a\u0305lice@example.com', 'email_disallowed_character', 'a combining overline'],
    ['alice\ue000@example.com', 'email_disallowed_character', 'a private-use character'],
    ['alice\u{f0000}@example.com', 'email_disallowed_character', 'a supplementary private-use one'],
    ['alice\u0378@example.com', 'email_disallowed_character', 'an unassigned code point'],
    ['alice\u{5ffff}@example.com', 'email_disallowed_character', 'an unassigned plane'],
    ['bob\uff20evil@example.com', 'email_disallowed_character', 'a fullwidth @'],
  ];
  for (const [address, code, what] of refused) {
    it(`refuses ${what}`, () => {
      assert.equal(signUpRefusal(normalizeEmail(address)), code);
    });
  }

  const accepted: [string, string][] = [
    ['alice@example.com', 'plain ASCII'],
    ['jos\u00e9.garc\u00eda@example.com', 'Latin with accents'],
    ['\u0438\u0432\u0430\u043d@example.ru', 'Cyrillic alone'],
    ['\u03b1\u03bb\u03ad\u03be\u03b7\u03c2@example.gr', 'Greek alone'],
    ['tanaka\u6771\u4eac\u305f\u306a\u304b\u30ab@example.jp', 'Latin, Han, Hiragana and Katakana'],
    ['kim\u91d1\uae40@example.kr', 'Latin, Han and Hangul'],
    ['\u5f20\u4f1f\u3105@example.tw', 'Han and Bopomofo'],
    ['\u0905\u0928\u093f\u0932-42@example.in', 'Devanagari with a digit and a hyphen'],
    ['\uff41\uff4c\uff49\uff43\uff45@example.com', 'fullwidth Latin letters'],
    ['bob@b\u00fccher.de', 'an international domain'],
  ];
  for (const [address, what] of accepted) {
    it(`accepts ${what}`, () => {
      assert.equal(signUpRefusal(normalizeEmail(address)), null);
    });
  }

  it('refuses every combining overlay this runtime knows (canonical combining class 1)', () => {
    // A mark of class 1 is moved before U+0301 (class 230) by NFD, and not after U+0334 (class 1).
    const overlays: string[] = [];
    for (let codePoint = 0; codePoint <= 0x10ffff; codePoint += 1) {
      if (codePoint >= 0xd800 && codePoint <= 0xdfff) continue;
      const mark = String.fromCodePoint(codePoint);
      if (!/\p{M}/u.test(mark) || mark.normalize('NFD') !== mark) continue;
      const beforeAcute = `\u0301${mark}`.normalize('NFD') === `${mark}\u0301`;
      const staysAfterOverlay = `${mark}\u0334`.normalize('NFD') === `${mark}\u0334`;
      if (beforeAcute && staysAfterOverlay) overlays.push(mark);
    }
    assert.ok(overlays.length >= 30, String(overlays.length));
    for (const mark of overlays) {
      assert.equal(signUpRefusal(`a${mark}b@example.com`), 'email_disallowed_character');
    }
  });
});

describe('isHighlyRestrictive', () => {
  it('lets Common and Inherited characters join any script', () => {
    assert.equal(isHighlyRestrictive('bob.smith-42_x+y'), true);
    assert.equal(isHighlyRestrictive('\u0438\u0432\u0430\u043d.42'), true);
    assert.equal(isHighlyRestrictive('42'), true);
  });

  it('refuses Latin with Cyrillic, and Han with Cyrillic', () => {
    assert.equal(isHighlyRestrictive('p\u0430ypal'), false);
    assert.equal(isHighlyRestrictive('\u6771\u0430'), false);
  });
});

/**
 * No two addresses a person would read as the same can both have an account. From a generated
 * address, look-alikes are made the ways people and programs make them: letters in another case,
 * accents composed or decomposed, full-width and mathematical letters, compatibility forms (the
 * Kelvin sign, the long s, ligatures), invisible characters slipped in, surrounding white space,
 * and full-width or ideographic dots in the domain. Every look-alike is either refused as an
 * address or compared as the original: as functions (parseEmail, emailKey), and through the app,
 * where its sign-up is refused and its login opens the original's account.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseEmail, signUpRefusal } from '../../src/auth/email.js';
import { sessionCookie, startTestService, submit } from '../support/service.js';
import { checkProperty } from './settings.js';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const ACCENTED = ['é', 'ü', 'ñ', 'ø', 'ß', 'å', 'ç'];

const localPart = fc
  .array(
    fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...Array.from(LETTERS)) },
      fc.constantFrom(...ACCENTED),
    ),
    {
      minLength: 1,
      maxLength: 10,
    },
  )
  .map((characters) => characters.join(''));
const label = fc.stringMatching(/^[a-z]{2,10}$/);
const tld = fc.constantFrom('com', 'org', 'de', 'fr', 'net');

/** The ways one character may be written so that a reader sees the same. */
function spellings(character: string): string[] {
  const forms = [character, character.toUpperCase(), character.normalize('NFD')];
  const code = character.charCodeAt(0);
  if (character >= 'a' && character <= 'z') {
    forms.push(String.fromCharCode(code - 0x61 + 0xff41)); // full-width
    forms.push(String.fromCodePoint(code - 0x61 + 0x1d41a)); // mathematical bold
  }
  if (character === 's') forms.push('\u017f');
  if (character === 'k') forms.push('\u212a');
  if (character === 'å') forms.push('\u212b');
  return forms;
}

const INVISIBLE = ['\u200b', '\u200c', '\u200d', '\u00ad', '\u2060', '\ufeff'];
const SPACES = ['', ' ', '\t', '\u00a0', '\u3000', '\n'];
const DOTS = ['.', '\uff0e', '\u3002'];

/** A look-alike of `local@domain`, from random choices for each character. */
function lookalike(local: string, domain: string, choices: number[], invisibles: boolean): string {
  let index = 0;
  const next = () => choices[index++ % choices.length] ?? 0;
  const pick = <T>(options: readonly T[]): T => options[next() % options.length] as T;
  const written = (text: string) =>
    Array.from(text, (character) => {
      if (character === '.') return pick(DOTS);
      const form = pick(spellings(character));
      return invisibles && next() % 5 === 0 ? `${form}${pick(INVISIBLE)}` : form;
    }).join('');
  return `${pick(SPACES)}${written(local)}@${written(domain)}${pick(SPACES)}`;
}

const original = fc
  .tuple(localPart, label, tld)
  .map(([local, name, ending]) => ({ local, domain: `${name}.${ending}` }))
  .filter(({ local, domain }) => {
    const parsed = parseEmail(`${local}@${domain}`);
    return parsed !== null && signUpRefusal(parsed.address) === null;
  });
const variant = fc.record({
  choices: fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 30 }),
  invisibles: fc.boolean(),
});

test('a look-alike of an address is refused, or compared as the address itself', async (t) => {
  const property = fc.property(original, variant, ({ local, domain }, { choices, invisibles }) => {
    const address = parseEmail(`${local}@${domain}`);
    const other = lookalike(local, domain, choices, invisibles);
    const parsed = parseEmail(other);
    if (parsed === null) return;
    assert.equal(parsed.key, address?.key, `${JSON.stringify(other)} has another key`);
  });
  await checkProperty(t, property, { runs: 3000 });
});

test('through the app, a look-alike cannot sign up beside the address, and logs in to it', async (t) => {
  const { app } = await startTestService();
  let run = 0;
  const property = fc.asyncProperty(
    original,
    variant,
    async ({ local, domain }, { choices, invisibles }) => {
      run += 1;
      // A domain of each run's own: runs share the service.
      const own = `run${run}.${domain}`;
      const password = 'lookalike pass';
      const email = `${local}@${own}`;
      const first = await submit(app, 'POST', '/users', { email, password });
      assert.equal(first.statusCode, 200, first.body);
      const other = lookalike(local, own, choices, invisibles);
      const second = await submit(app, 'POST', '/users', { email: other, password });
      assert.notEqual(second.statusCode, 200, `${JSON.stringify(other)} signed up beside ${email}`);
      if (parseEmail(other) === null) return;
      const login = await submit(app, 'POST', '/sessions', { email: other, password });
      assert.equal(login.statusCode, 200, `${JSON.stringify(other)} logs in: ${login.body}`);
      assert.ok(sessionCookie(login));
      assert.equal(login.json<{ email: string }>().email, parseEmail(email)?.address);
    },
  );
  await checkProperty(t, property, { runs: 40 });
});

/**
 * Email addresses: how they are written down, checked and compared.
 *
 * - {@link normalizeEmail} gives the form an account keeps and shows (trimmed, lower case, NFC).
 *   It is idempotent: normalizing a normalized address changes nothing.
 * - {@link emailKey} gives the form addresses are compared under, so that look-alikes are one
 *   account: the local part is mapped as by Unicode's NFKC_Casefold (compatibility forms such as
 *   fullwidth or mathematical letters to plain ones, full case folding, default ignorables
 *   removed), the Turkish dotless ı and dotted İ compare as i, and the domain is mapped to ASCII
 *   by UTS #46 (`bücher.de` is `xn--bcher-kva.de`). It is idempotent too, and the same for an
 *   address and its normalized form.
 * - {@link isValidEmail} is the syntax every address must pass, at sign-up, login and reset alike.
 * - {@link signUpRefusal} adds, for new addresses only, the refusal of local parts that mix
 *   scripts beyond UTS #39's "highly restrictive" level and of unassigned, private-use, blank and
 *   overlay characters. Refusing unassigned code points also keeps keys stable: Unicode never
 *   changes the normalization or case folding of an assigned character.
 */
import { domainToASCII, domainToUnicode } from 'node:url';

/** The form under which an address is stored and shown: trimmed, lower case, NFC. Idempotent. */
export function normalizeEmail(email: string): string {
  // NFC after lower-casing: lower-casing can leave a letter and a combining mark that NFC then
  // composes ("T\u0308" → "t\u0308" → "\u1e97"). Repeated until nothing changes (one round in
  // practice), so that the result is a fixed point whatever the input.
  let current = email;
  for (;;) {
    const next = current.trim().toLowerCase().normalize('NFC');
    if (next === current) return next;
    current = next;
  }
}

/** An address as typed, normalized, with the key it is compared under. */
export interface EmailAddress {
  /** What the account keeps and shows: {@link normalizeEmail} of what was typed. */
  readonly address: string;
  /** What is compared: {@link emailKey} of the address. */
  readonly key: string;
}

/** The normalized address and its key, or null for an address that fails {@link isValidEmail}. */
export function parseEmail(email: string): EmailAddress | null {
  // Checked on its length first: nothing long is normalized or folded.
  if (email.length > MAX_INPUT_LENGTH) return null;
  const address = normalizeEmail(email);
  return isValidEmail(address) ? { address, key: emailKey(address) } : null;
}

/** An address read back from the database, with its key; never refused. */
export function storedEmail(address: string): EmailAddress {
  return { address, key: emailKey(address) };
}

/** Longer input is not an address, whatever surrounds it (254, plus room for spaces to trim). */
const MAX_INPUT_LENGTH = 320;

/**
 * The comparison key of an address: NFKC_Casefold of the local part (with ı and İ as i), "@",
 * the domain in ASCII by UTS #46 (or folded like the local part if UTS #46 refuses it, which
 * {@link isValidEmail} does not let through). Total: it never throws, whatever the string.
 */
export function emailKey(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0) return foldIdentifier(address);
  const domain = address.slice(at + 1);
  const asciiDomain = domainToASCII(domain);
  return `${foldIdentifier(address.slice(0, at))}@${asciiDomain === '' ? foldIdentifier(domain) : asciiDomain}`;
}

/**
 * NFKC_Casefold, with the Turkish i's merged: NFKC, full case folding, default ignorables
 * removed, NFKC again, until nothing changes. Full case folding, not lower-casing: `ſ` → `s`,
 * `ß` and `ẞ` → `ss`, final `ς` → `σ`, Cherokee to its capitals, as in CaseFolding.txt.
 */
function foldIdentifier(text: string): string {
  // The common case, ASCII, is its lower case: no ASCII character changes under NFKC or is a
  // default ignorable, and CaseFolding.txt folds only A to Z among them, to a to z.
  if (ASCII.test(text)) return text.toLowerCase();
  let current = text;
  for (;;) {
    const folded = Array.from(current.normalize('NFKC'), foldCodePoint)
      .join('')
      .replace(DEFAULT_IGNORABLE, '')
      .normalize('NFD')
      .replace(DOTLESS_I, 'i')
      .replace(DOT_ABOVE_I, 'i$1')
      .normalize('NFKC');
    if (folded === current) return folded;
    current = folded;
  }
}

/**
 * The full case folding of one code point. Folding is lower case of upper case, one code point at
 * a time (so no context such as final sigma applies), repeated (`ẞ` → `ß` → `ss`), except that
 * Cherokee folds to its capital letters. Checked against CaseFolding.txt (statuses C and F) for
 * every code point: these are the only exceptions.
 */
function foldCodePoint(codePoint: string): string {
  if (CHEROKEE.test(codePoint)) return codePoint.toUpperCase();
  let current = codePoint;
  for (;;) {
    const folded = Array.from(current, (unit) => unit.toUpperCase().toLowerCase()).join('');
    if (folded === current) return folded;
    current = folded;
  }
}

const ASCII = /^[\0-\x7f]*$/;
const CHEROKEE = /\p{Script=Cherokee}/u;
const DEFAULT_IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;
const DOTLESS_I = /\u0131/gu;
/** The i with a dot above that full folding makes of İ (in NFD, other marks may come between). */
const DOT_ABOVE_I = /i(\p{Mn}*?)\u0307/gu;

// No spaces, control, invisible or unpaired-surrogate characters, specials, or misplaced dots.
const LOCAL_PART =
  /^(?!\.)(?!.*\.\.)[^\s\p{Cc}\p{Cf}\p{Cs}\p{Default_Ignorable_Code_Point}@"(),:;<>[\\\]]{1,64}(?<!\.)$/u;
const DOMAIN_LABEL =
  /^(?!.*\p{Default_Ignorable_Code_Point})[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;

/**
 * A plain check for a deliverable-looking address (`local@domain.tld`, at most 254 characters):
 * no quoted local parts, no IP-literal domains, no whitespace or control characters, and a
 * domain that UTS #46 maps to ASCII.
 */
export function isValidEmail(email: string): boolean {
  if (email.length > 254) return false;
  const at = email.lastIndexOf('@');
  if (at < 1) return false;
  const domain = email.slice(at + 1);
  const labels = domain.split('.');
  return (
    LOCAL_PART.test(email.slice(0, at)) &&
    labels.length >= 2 &&
    labels.every((label) => DOMAIN_LABEL.test(label)) &&
    !/^\p{N}+$/u.test(labels.at(-1) ?? '') &&
    asciiDomainIsSound(domainToASCII(domain))
  );
}

/**
 * Whether UTS #46 mapped the domain to ASCII (not `''`) and every `xn--` label of the result is
 * the ASCII form of a Unicode label: it decodes to something that is not plain ASCII and encodes
 * back to itself. Node 20's URL parser refuses other `xn--` labels, Node 24's passes them through
 * unchanged; checked here, so that an address is valid or not whatever the runtime.
 */
function asciiDomainIsSound(asciiDomain: string): boolean {
  if (asciiDomain === '') return false;
  return asciiDomain.split('.').every((label) => {
    if (!label.startsWith('xn--')) return true;
    const unicode = domainToUnicode(label);
    return unicode !== label && NON_ASCII.test(unicode) && domainToASCII(unicode) === label;
  });
}

const NON_ASCII = /[^\p{ASCII}]/u;

/** Why a new address is refused although it is well formed; each is a stable code. */
export type SignUpRefusal = 'email_mixed_scripts' | 'email_disallowed_character';

/**
 * Characters no new address may hold: unassigned (their folding could change with Unicode's next
 * version), private-use (they mean nothing agreed), and blank symbols that show as nothing (the
 * braille blank, the Hangul fillers; other invisible characters fail {@link isValidEmail}).
 */
const DISALLOWED_CHARACTER = /[\p{Cn}\p{Co}\u2800\u3164\uffa0]/u;
/**
 * Combining overlays (canonical combining class 1): strokes and slashes drawn through a letter,
 * as in `o\u0338` beside `ø`, refused too, like {@link LINE_OR_FRAME}.
 */
const OVERLAY =
  /[\u0334-\u0338\u1cd4\u1ce2-\u1ce8\u20d2\u20d3\u20d8-\u20da\u20e5\u20e6\u20ea\u20eb\u{10a39}\u{16af0}-\u{16af4}\u{1bc9e}\u{1d167}-\u{1d169}]/u;
/**
 * Marks that draw a line or a frame over, under or around a letter and so make a look-alike of
 * the letter alone: every enclosing mark (circles, keycaps, prohibition signs), and the combining
 * over- and underlines.
 */
const LINE_OR_FRAME = /[\p{Me}\u0305\u0332\u0333\u033f\u0347\u0359\u035f\u0360\u0362\u20e8]/u;

/**
 * For a new account's normalized, valid address: null, or why it may not have an account. The
 * local part's letters (after the key's mapping, so fullwidth and mathematical letters count as
 * the letters they stand for) must meet UTS #39's "highly restrictive" level: one script, with
 * Common and Inherited characters, or Latin with Han and Hiragana/Katakana, with Han and Hangul,
 * or with Han and Bopomofo.
 */
export function signUpRefusal(address: string): SignUpRefusal | null {
  const key = emailKey(address);
  const marked = (text: string) =>
    DISALLOWED_CHARACTER.test(text) || OVERLAY.test(text) || LINE_OR_FRAME.test(text);
  if (marked(address) || marked(key)) {
    return 'email_disallowed_character';
  }
  // The key must itself be a well-formed address: `＠` or `＂` in a local part fold to specials.
  if (!isValidEmail(key)) return 'email_disallowed_character';
  return isHighlyRestrictive(key.slice(0, key.lastIndexOf('@'))) ? null : 'email_mixed_scripts';
}

/** Scripts (ISO 15924 codes) of Unicode 17; those this runtime does not know are left out. */
const SCRIPT_CODES = `Adlm Aghb Ahom Arab Armi Armn Avst Bali Bamu Bass Batk Beng Berf Bhks Bopo Brah
  Brai Bugi Buhd Cakm Cans Cari Cham Cher Chrs Copt Cpmn Cprt Cyrl Deva Diak Dogr Dsrt Dupl Egyp
  Elba Elym Ethi Gara Geor Glag Gong Gonm Goth Gran Grek Gujr Gukh Guru Hang Hani Hano Hatr Hebr
  Hira Hluw Hmng Hmnp Hung Ital Java Kali Kana Kawi Khar Khmr Khoj Kits Knda Krai Kthi Lana Laoo
  Latn Lepc Limb Lina Linb Lisu Lyci Lydi Mahj Maka Mand Mani Marc Medf Mend Merc Mero Mlym Modi
  Mong Mroo Mtei Mult Mymr Nagm Nand Narb Nbat Newa Nkoo Nshu Ogam Olck Onao Orkh Orya Osge Osma
  Ougr Palm Pauc Perm Phag Phli Phlp Phnx Plrd Prti Rjng Rohg Runr Samr Sarb Saur Sgnw Shaw Shrd
  Sidd Sidt Sind Sinh Sogd Sogo Sora Soyo Sund Sunu Sylo Syrc Tagb Takr Tale Talu Taml Tang Tavt
  Tayo Telu Tfng Tglg Thaa Thai Tibt Tirh Tnsa Todr Tols Toto Tutg Ugar Vaii Vith Wara Wcho Xpeo
  Xsux Yezi Yiii Zanb`;

let compiledScripts: ReadonlyMap<string, RegExp> | undefined;

/** A pattern per script this Node knows; compiled at the first address checked, not at start. */
const scriptPatterns = (): ReadonlyMap<string, RegExp> =>
  (compiledScripts ??= new Map(
    SCRIPT_CODES.split(/\s+/).flatMap((code) => {
      try {
        return [[code, new RegExp(`\\p{Script_Extensions=${code}}`, 'u')] as const];
      } catch {
        return [];
      }
    }),
  ));

/** Common and Inherited characters (digits, punctuation, combining marks) join any script. */
const ANY_SCRIPT = /[\p{Script_Extensions=Common}\p{Script_Extensions=Inherited}]/u;

/** The sets of scripts "highly restrictive" allows together besides a single one. */
const ALLOWED_MIXES: readonly ReadonlySet<string>[] = [
  new Set(['Latn', 'Hani', 'Hira', 'Kana']),
  new Set(['Latn', 'Hani', 'Hang']),
  new Set(['Latn', 'Hani', 'Bopo']),
];

/**
 * UTS #39's "highly restrictive" test: the intersection of the characters' script extensions
 * (ignoring Common and Inherited) is not empty, or every character's extensions meet one of
 * the {@link ALLOWED_MIXES}.
 */
export function isHighlyRestrictive(text: string): boolean {
  const sets: Set<string>[] = [];
  for (const character of text) {
    if (ANY_SCRIPT.test(character)) continue;
    const scripts = new Set<string>();
    for (const [code, pattern] of scriptPatterns()) if (pattern.test(character)) scripts.add(code);
    // A script this runtime has no name for: nothing to compare it with, so refused.
    if (scripts.size === 0) return false;
    sets.push(scripts);
  }
  if (sets.length === 0) return true;
  const shared = sets.reduce((common, set) => new Set([...common].filter((s) => set.has(s))));
  if (shared.size > 0) return true;
  return ALLOWED_MIXES.some((mix) => sets.every((set) => [...set].some((s) => mix.has(s))));
}

/**
 * Email addresses are compared without regard to case or surrounding spaces: the stored form is
 * trimmed and lower-cased, so the unique index alone decides uniqueness on every engine.
 */

/** The form under which an address is stored and looked up: trimmed, NFC, lower case. */
export function normalizeEmail(email: string): string {
  return email.trim().normalize('NFC').toLowerCase();
}

// No spaces, control, invisible or unpaired-surrogate characters, specials, or misplaced dots.
const LOCAL_PART =
  /^(?!\.)(?!.*\.\.)[^\s\p{Cc}\p{Cf}\p{Cs}\p{Default_Ignorable_Code_Point}@"(),:;<>[\\\]]{1,64}(?<!\.)$/u;
const DOMAIN_LABEL =
  /^(?!.*\p{Default_Ignorable_Code_Point})[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;

/**
 * A plain check for a deliverable-looking address (`local@domain.tld`, at most 254 characters):
 * no quoted local parts, no IP-literal domains, no whitespace or control characters.
 */
export function isValidEmail(email: string): boolean {
  if (email.length > 254) return false;
  const at = email.lastIndexOf('@');
  if (at < 1) return false;
  const labels = email.slice(at + 1).split('.');
  return (
    LOCAL_PART.test(email.slice(0, at)) &&
    labels.length >= 2 &&
    labels.every((label) => DOMAIN_LABEL.test(label)) &&
    !/^\p{N}+$/u.test(labels.at(-1) ?? '')
  );
}

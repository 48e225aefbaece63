/**
 * The secret box: encrypts small secrets (a TOTP seed) before they are stored, so that a copy of
 * the database without the key holds none of them in a usable form.
 *
 * Contract:
 * - AES-256-GCM (node:crypto), a fresh random 12-byte IV at every seal, so two seals of one text
 *   differ; the 16-byte authentication tag is checked at every open.
 * - Sealed text is `v1.` then the base64url (no padding) of IV | tag | ciphertext. The version
 *   names the whole scheme (cipher, layout, subkey), so a later scheme can open older texts.
 * - The box never encrypts with the key it is given: it uses a subkey derived from it by HKDF
 *   ({@link deriveKey}), and other uses (an HMAC of recovery codes) derive their own, so one key
 *   serves several purposes without any two sharing key material.
 * - `open` throws a {@link SecretBoxError} for a wrong key, any tampered or truncated text, a
 *   non-canonical encoding or an unknown version: never garbage plaintext.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** Seals secrets for storage and opens them again. */
export interface SecretBox {
  /** The sealed form of `plain`: different at every call, readable only with the same key. */
  seal(plain: string): string;
  /** The text `sealed` was made from; throws a {@link SecretBoxError} if it cannot be trusted. */
  open(sealed: string): string;
}

/** A sealed text that cannot be opened: a wrong key, tampering, or not a sealed text at all. */
export class SecretBoxError extends Error {
  constructor(reason: string) {
    super(`Sealed secret refused: ${reason}`);
    this.name = 'SecretBoxError';
  }
}

/** Bytes of a key: what `SECRET_KEY` and the key file hold. */
export const SECRET_KEY_BYTES = 32;

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * A subkey of `key` for one `purpose` (HKDF-SHA256, RFC 5869): 32 bytes, independent of the
 * subkeys of other purposes. The key is already uniformly random, so no salt is needed.
 */
export function deriveKey(key: Buffer, purpose: string): Buffer {
  checkKey(key);
  if (purpose === '') throw new RangeError('A subkey needs a purpose');
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `bienvenue ${purpose}`, 32));
}

/** A box sealing under `key` (32 bytes). */
export function createSecretBox(key: Buffer): SecretBox {
  const boxKey = deriveKey(key, `secret-box ${VERSION}`);
  return {
    seal(plain) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', boxKey, iv, { authTagLength: TAG_BYTES });
      const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      const payload = Buffer.concat([iv, cipher.getAuthTag(), ciphertext]);
      return `${VERSION}.${payload.toString('base64url')}`;
    },
    open(sealed) {
      const dot = sealed.indexOf('.');
      const version = dot < 0 ? '' : sealed.slice(0, dot);
      if (version !== VERSION) throw new SecretBoxError('unknown version');
      const encoded = sealed.slice(dot + 1);
      const payload = Buffer.from(encoded, 'base64url');
      // Node's decoder skips characters it does not know and ignores unused trailing bits; only
      // the one canonical spelling of the bytes is accepted, so no altered text opens.
      if (!BASE64URL.test(encoded) || payload.toString('base64url') !== encoded) {
        throw new SecretBoxError('not base64url');
      }
      if (payload.length < IV_BYTES + TAG_BYTES) throw new SecretBoxError('too short');
      const iv = payload.subarray(0, IV_BYTES);
      const tag = payload.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', boxKey, iv, { authTagLength: TAG_BYTES });
      decipher.setAuthTag(tag);
      try {
        const plain = Buffer.concat([
          decipher.update(payload.subarray(IV_BYTES + TAG_BYTES)),
          decipher.final(),
        ]);
        return plain.toString('utf8');
      } catch {
        throw new SecretBoxError('wrong key or altered text');
      }
    },
  };
}

function checkKey(key: Buffer): void {
  if (key.length !== SECRET_KEY_BYTES) {
    throw new RangeError(`A secret key has ${SECRET_KEY_BYTES} bytes, not ${key.length}`);
  }
}

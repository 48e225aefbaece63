/**
 * Sealing small secrets at rest (TOTP secrets) under the service's key: AES-256-GCM from
 * node:crypto, a fresh 12-byte IV each time. Sealed text is `v1.` then base64url of
 * iv | tag | ciphertext, so a later format can be told apart. `open` throws
 * {@link SecretBoxOpenError} for a wrong key or altered text: nothing is returned unauthenticated.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** Seals and opens text under one key. */
export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

/** Sealed text that this key cannot open: another key's, altered, or not sealed text at all. */
export class SecretBoxOpenError extends Error {
  constructor() {
    super('Sealed text could not be opened with this key');
    this.name = 'SecretBoxOpenError';
  }
}

const VERSION = 'v1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A box over `key`, which must be 32 bytes. */
export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new RangeError('A secret box key is 32 bytes');
  const sealingKey = deriveKey(key, 'secret-box');
  return {
    seal(plain) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', sealingKey, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return VERSION + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
    },
    open(sealed) {
      if (!sealed.startsWith(VERSION)) throw new SecretBoxOpenError();
      const bytes = Buffer.from(sealed.slice(VERSION.length), 'base64url');
      if (bytes.length < IV_BYTES + TAG_BYTES) throw new SecretBoxOpenError();
      try {
        const decipher = createDecipheriv('aes-256-gcm', sealingKey, bytes.subarray(0, IV_BYTES));
        decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
        const body = bytes.subarray(IV_BYTES + TAG_BYTES);
        return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretBoxOpenError();
      }
    },
  };
}

/** A 32-byte subkey of `key` for `purpose` (HKDF-SHA256): one key, never reused across uses. */
export function deriveKey(key: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `bienvenue:${purpose}`, 32));
}

/**
 * Session ids and reset tokens: random UUIDs handed to the client once, stored only as SHA-256
 * digests. A database leak therefore yields no usable session or token, and since a UUID carries
 * 122 random bits, a fast unsalted digest is enough (there is nothing to brute-force).
 */
import { hash, randomBytes, randomUUID } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A new random (version 4) UUID, the course's `_generate_uuid`. */
export function generateUuid(): string {
  return randomUUID();
}

/** True when `value` has the shape of a UUID we issued (lower-case hex); cheap to check first. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** The digest under which a token is stored and looked up. */
export function digestToken(token: string): string {
  return hash('sha256', token, 'hex');
}

/**
 * A new public session id: 128 random bits, base64url (22 characters). It names a session to its
 * owner and to operators; it is not a secret, and is never derived from the session's token.
 */
export function generateSessionPublicId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Reading what a browser sends back from a passkey ceremony, before anything is verified: its
 * shape (every part a base64url string where WebAuthn puts one), and the challenge its client data
 * answers, so that the challenge can be looked up (and used up) by its digest. Nothing here trusts
 * the response: the library's verification does that.
 */
import { createHash } from 'node:crypto';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';

const TRANSPORTS: ReadonlySet<unknown> = new Set<string>([
  'ble',
  'cable',
  'hybrid',
  'internal',
  'nfc',
  'smart-card',
  'usb',
]);
const BASE64URL = /^[A-Za-z0-9_-]+$/u;
/** Far above any real response part; a bound on what is decoded and parsed. */
const PART_MAX_LENGTH = 8192;

function isPart(value: unknown): value is string {
  return typeof value === 'string' && value.length <= PART_MAX_LENGTH && BASE64URL.test(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value` as a registration response, or null when it does not have the shape of one. */
export function registrationResponseOf(value: unknown): RegistrationResponseJSON | null {
  if (!isRecord(value) || !isRecord(value.response)) return null;
  const { response } = value;
  if (!isPart(value.id) || !isPart(value.rawId) || value.type !== 'public-key') return null;
  if (!isPart(response.clientDataJSON) || !isPart(response.attestationObject)) return null;
  const transports: RegistrationResponseJSON['response']['transports'] = Array.isArray(
    response.transports,
  )
    ? response.transports.filter((item): item is string => TRANSPORTS.has(item)).slice(0, 8)
    : [];
  return {
    id: value.id,
    rawId: value.rawId,
    type: 'public-key',
    clientExtensionResults: {},
    response: {
      clientDataJSON: response.clientDataJSON,
      attestationObject: response.attestationObject,
      transports,
    },
  };
}

/** `value` as an authentication response, or null when it does not have the shape of one. */
export function authenticationResponseOf(value: unknown): AuthenticationResponseJSON | null {
  if (!isRecord(value) || !isRecord(value.response)) return null;
  const { response } = value;
  if (!isPart(value.id) || !isPart(value.rawId) || value.type !== 'public-key') return null;
  if (
    !isPart(response.clientDataJSON) ||
    !isPart(response.authenticatorData) ||
    !isPart(response.signature)
  ) {
    return null;
  }
  const { userHandle } = response;
  if (userHandle !== undefined && userHandle !== null && userHandle !== '' && !isPart(userHandle))
    return null;
  return {
    id: value.id,
    rawId: value.rawId,
    type: 'public-key',
    clientExtensionResults: {},
    response: {
      clientDataJSON: response.clientDataJSON,
      authenticatorData: response.authenticatorData,
      signature: response.signature,
      ...(isPart(userHandle) && { userHandle }),
    },
  };
}

/** The challenge a response's client data (base64url JSON) answers, or null if it has none. */
export function challengeOf(clientDataJSON: string): string | null {
  try {
    const data: unknown = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8'));
    return isRecord(data) && isPart(data.challenge) ? data.challenge : null;
  } catch {
    return null;
  }
}

/** What a challenge is stored under: its SHA-256 digest (hex). */
export function challengeDigest(challenge: string): string {
  return createHash('sha256').update(`webauthn-challenge:${challenge}`).digest('hex');
}

/**
 * The WebAuthn user handle of account `userId`: stable, so an authenticator keeps one passkey per
 * account and service, and neither the address nor the id in the clear.
 */
export function userHandleOf(userId: number, rpId: string): Uint8Array<ArrayBuffer> {
  const digest = createHash('sha256').update(`webauthn-user:${rpId}:${userId}`).digest();
  return new Uint8Array(digest.subarray(0, 16));
}

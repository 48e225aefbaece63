/**
 * Time-based one-time passwords (RFC 6238) as authenticator apps make them: HMAC-SHA1, 6 digits,
 * 30-second steps, the codes of the step before and the step after accepted besides the current
 * one (clock drift, a code typed as it changed). The algorithm is otplib's; this module fixes the
 * parameters, reads the time from the caller, and says which step matched, so that the caller can
 * refuse that step, and every earlier one, from then on (no replay).
 */
import { createRequire } from 'node:module';
import type * as otplibModule from 'otplib';

// otplib is loaded at its first use: most starts never need it.
const require = createRequire(import.meta.url);
let otplibLoaded: typeof otplibModule | undefined;
const otplib = () => (otplibLoaded ??= require('otplib') as typeof otplibModule);

/** Seconds per step. */
export const TOTP_PERIOD_SECONDS = 30;
/** Steps accepted on either side of the current one. */
export const TOTP_DRIFT_STEPS = 1;
/** Random bytes in a new secret (160 bits, the length RFC 4226 recommends). */
const SECRET_BYTES = 20;
/** What a code looks like once spaces are taken out: six ASCII digits, nothing else. */
const CODE = /^[0-9]{6}$/;

/** A new random secret, base32 (what authenticator apps are given). */
export function generateTotpSecret(): string {
  return otplib().generateSecret({ length: SECRET_BYTES });
}

/** The `otpauth://` URL an authenticator app reads (from a QR code) to add the account. */
export function otpauthUrl(options: { secret: string; issuer: string; label: string }): string {
  return otplib().generateURI({
    issuer: options.issuer,
    label: options.label,
    secret: options.secret,
    algorithm: 'sha1',
    digits: 6,
    period: TOTP_PERIOD_SECONDS,
  });
}

/** `input` as a code (spaces taken out) if it is one, else null. */
export function parseTotpCode(input: string): string | null {
  const code = input.replace(/ /g, '');
  return CODE.test(code) ? code : null;
}

/** The step that `nowMs` falls in. */
export function totpStepAt(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS);
}

/**
 * The time step among the one of `nowMs` and its neighbours whose code `input` is for `secret`,
 * or null: for malformed input (anything but six digits once spaces are taken out) and wrong
 * codes alike. The comparison is otplib's, in constant time.
 */
export function matchingStep(secret: string, input: string, nowMs: number): number | null {
  const token = parseTotpCode(input);
  if (token === null) return null;
  const result = otplib().verifySync({
    strategy: 'totp',
    secret,
    token,
    epoch: Math.floor(nowMs / 1000),
    period: TOTP_PERIOD_SECONDS,
    epochTolerance: TOTP_DRIFT_STEPS * TOTP_PERIOD_SECONDS,
  });
  // The step matched: the current one moved by the offset otplib found (-1, 0 or +1).
  return result.valid ? totpStepAt(nowMs) + result.delta : null;
}

/**
 * The issuer authenticator apps show: "Bienvenue", with the host of PUBLIC_URL so that the
 * accounts of two deployments are told apart.
 */
export function totpIssuer(publicUrl: string): string {
  const host = URL.canParse(publicUrl) ? new URL(publicUrl).hostname : '';
  return host === '' ? 'Bienvenue' : `Bienvenue (${host})`;
}

/**
 * The login challenge cookie (`bienvenue_2fa`): it carries a login whose password was right to
 * its second step. HttpOnly, SameSite=Lax, Path=/, Secure whenever the service is reached over
 * https (like the session cookie), host-only (only the service reads it, never the apps under
 * COOKIE_DOMAIN), and kept by browsers as long as the challenge lives. Given more than once it
 * is no challenge at all (as the session cookie, see session-cookie.ts).
 */
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { cookieValues } from './session-cookie.js';

export const CHALLENGE_COOKIE_NAME = 'bienvenue_2fa';

/** Reads, sets and clears the challenge cookie of a service. */
export class ChallengeCookie {
  readonly #options: CookieSerializeOptions;

  constructor(settings: { readonly publicUrl: string; readonly maxAgeSeconds: number }) {
    this.#options = {
      httpOnly: true,
      sameSite: 'lax',
      path: '/',
      secure: settings.publicUrl.startsWith('https:'),
      maxAge: settings.maxAgeSeconds,
    };
  }

  /** The challenge token `request` carries; undefined without it, empty, or given twice. */
  read(request: FastifyRequest): string | undefined {
    const values = cookieValues(request.headers.cookie ?? '', CHALLENGE_COOKIE_NAME);
    return values.length === 1 && values[0] !== '' ? values[0] : undefined;
  }

  set(reply: FastifyReply, challengeToken: string): void {
    void reply.setCookie(CHALLENGE_COOKIE_NAME, challengeToken, this.#options);
  }

  clear(reply: FastifyReply): void {
    const { maxAge: _kept, ...options } = this.#options;
    void reply.clearCookie(CHALLENGE_COOKIE_NAME, options);
  }
}

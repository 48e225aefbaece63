/**
 * The `session_id` cookie: HttpOnly (no script can read it), SameSite=Lax (not sent on cross-site
 * sub-requests), Path=/, Secure whenever the service is reached over https.
 */
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply } from 'fastify';

export const SESSION_COOKIE = 'session_id';

export function sessionCookieOptions(publicUrl: string): CookieSerializeOptions {
  return {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    secure: publicUrl.startsWith('https:'),
  };
}

export function setSessionCookie(
  reply: FastifyReply,
  sessionId: string,
  options: { publicUrl: string; maxAgeSeconds: number },
): void {
  void reply.setCookie(SESSION_COOKIE, sessionId, {
    ...sessionCookieOptions(options.publicUrl),
    maxAge: options.maxAgeSeconds,
  });
}

export function clearSessionCookie(reply: FastifyReply, publicUrl: string): void {
  void reply.clearCookie(SESSION_COOKIE, sessionCookieOptions(publicUrl));
}

/**
 * Forward auth through inject(): an access rules file for ACCESS_RULES_FILE, and the question a
 * proxy asks about a GET of a protected host, on /auth/forward as Caddy or Traefik ask it
 * (X-Forwarded-*) and on /auth/request as the documented nginx configuration does (X-Original-*).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { temporaryDirectory } from './files.js';

/** A rules file holding `text`, in a folder of its own removed when the test file ends. */
export function rulesFile(text: string): string {
  const path = join(temporaryDirectory(), 'rules.yml');
  writeFileSync(path, text);
  return path;
}

/**
 * /auth/forward's answer for a GET of https://`host``uri`, with the session cookie `session` if
 * any; `accept` is the client's (JSON, an API call, unless a browser's `text/html` is given).
 */
export function askForward(
  app: FastifyInstance,
  host: string,
  session?: string,
  options: { accept?: string; uri?: string } = {},
) {
  return app.inject({
    method: 'GET',
    url: '/auth/forward',
    headers: {
      'x-forwarded-method': 'GET',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': host,
      'x-forwarded-uri': options.uri ?? '/',
      accept: options.accept ?? 'application/json',
    },
    ...(session !== undefined && { cookies: { session_id: session } }),
  });
}

/** The same question through /auth/request, as the documented nginx configuration asks it. */
export function askRequest(app: FastifyInstance, host: string, session?: string) {
  return app.inject({
    method: 'GET',
    url: '/auth/request',
    headers: { 'x-original-url': `https://${host}/`, 'x-original-method': 'GET' },
    ...(session !== undefined && { cookies: { session_id: session } }),
  });
}

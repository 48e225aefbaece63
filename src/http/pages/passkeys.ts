/**
 * The pages' passkey routes: the two scripts (the library's browser bundle, served from this
 * service so the pages' Content-Security-Policy keeps `script-src 'self'`, and ours), and the
 * account page's form that removes a passkey. Adding one and logging in with one go through the
 * API (passkey-routes.ts), which /passkeys.js calls.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { PASSKEYS_SCRIPT } from '../../web/passkeys-script.js';
import { contextOf } from '../request-context.js';
import { fieldsOf, type PageContext } from './kit.js';

/** The browser bundle of @simplewebauthn/browser (UMD: it defines `SimpleWebAuthnBrowser`). */
function browserBundle(): string {
  const entry = createRequire(import.meta.url).resolve('@simplewebauthn/browser');
  // The package's entry is script/index.js; the bundle sits beside, under dist/bundle/.
  return readFileSync(join(dirname(entry), '..', 'dist', 'bundle', 'index.umd.min.js'), 'utf8');
}

const JAVASCRIPT = 'text/javascript; charset=utf-8';

/** Registers GET /webauthn.js, GET /passkeys.js and POST /account/passkeys/remove. */
export function registerPasskeyPages(pages: FastifyInstance, context: PageContext): void {
  const { hidden, limited, seeOther } = context;
  const { auth, sessionCookie } = context.options;
  const bundle = browserBundle();

  // The pages ask for it with the library's version in the URL, so it may be kept long.
  pages.get('/webauthn.js', hidden, (_request, reply) =>
    reply
      .type(JAVASCRIPT)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .send(bundle),
  );
  pages.get('/passkeys.js', hidden, (_request, reply) =>
    reply.type(JAVASCRIPT).header('cache-control', 'public, max-age=300').send(PASSKEYS_SCRIPT),
  );

  pages.post(
    '/account/passkeys/remove',
    { ...hidden, ...limited('account') },
    async (request, reply) => {
      const removed = await auth.passkeys.removeOwn(
        sessionCookie.read(request),
        fieldsOf(request)('id'),
        contextOf(request),
      );
      if (removed === 'not_logged_in') return seeOther(reply, '/login');
      if (removed === 'not_found') return seeOther(reply, '/account?notice=passkey_gone');
      return seeOther(reply, '/account?notice=passkey_removed');
    },
  );
}

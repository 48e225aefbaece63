/** Passkey steps through the API, with a software authenticator (authenticator.ts). */
import assert from 'node:assert/strict';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import {
  SoftAuthenticator,
  type Bend,
  type CreationOptions,
  type RequestOptions,
} from './authenticator.js';

/** The origin of the tests' PUBLIC_URL (service.ts), which passkeys are made for. */
export const TEST_ORIGIN = 'http://auth.test';

/** A JSON request body. */
export const json = (payload: object) => ({
  headers: { 'content-type': 'application/json' },
  payload: JSON.stringify(payload),
});

/** Creation options for the account of session `session`, with `password` when given. */
export async function creationOptions(
  app: FastifyInstance,
  session: string,
  password?: string,
): Promise<CreationOptions> {
  const answer = await app.inject({
    method: 'POST',
    url: '/profile/passkeys/options',
    cookies: { session_id: session },
    ...json(password === undefined ? {} : { password }),
  });
  assert.equal(answer.statusCode, 200, answer.body);
  return answer.json<CreationOptions>();
}

/** Adds a passkey made by `authenticator` (a new one by default); returns the answer. */
export async function addPasskey(
  app: FastifyInstance,
  session: string,
  options: { authenticator?: SoftAuthenticator; name?: string; bend?: Bend } = {},
): Promise<{ answer: LightMyRequestResponse; authenticator: SoftAuthenticator }> {
  const authenticator = options.authenticator ?? new SoftAuthenticator(TEST_ORIGIN);
  const creation = await creationOptions(app, session);
  const answer = await app.inject({
    method: 'POST',
    url: '/profile/passkeys',
    cookies: { session_id: session },
    ...json({
      name: options.name ?? 'Laptop',
      response: authenticator.create(creation, options.bend),
    }),
  });
  return { answer, authenticator };
}

/** Request options for a passkey login. */
export async function requestOptions(app: FastifyInstance): Promise<RequestOptions> {
  const answer = await app.inject({ method: 'POST', url: '/sessions/passkey/options' });
  assert.equal(answer.statusCode, 200, answer.body);
  return answer.json<RequestOptions>();
}

/** Sends `response` as a passkey login. */
export function sendLogin(app: FastifyInstance, response: object): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/sessions/passkey', ...json({ response }) });
}

/** Logs in with `authenticator`'s last passkey (bent by `bend`) on fresh options. */
export async function logInWithPasskey(
  app: FastifyInstance,
  authenticator: SoftAuthenticator,
  bend: Bend = {},
): Promise<LightMyRequestResponse> {
  return sendLogin(app, authenticator.get(await requestOptions(app), bend));
}

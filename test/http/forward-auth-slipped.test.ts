/**
 * Forward auth against headers a client slips past the proxy: a proxy sets one header of each
 * kind, and lets the client's others through, so wherever a client's header could stand beside
 * the proxy's, the endpoint must refuse the request rather than pick one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rulesFile } from '../support/forward-auth.js';
import { signUpAndLogIn, startTestService } from '../support/service.js';

const RULES = `default: [root@example.test]
rules:
  - host: public.example.test
    policy: everyone
`;

async function serviceWithRules() {
  return startTestService({ ACCESS_RULES_FILE: rulesFile(RULES) });
}

const codeOf = (response: { json(): unknown }) => (response.json() as { code?: string }).code;

test('X-Original-URL beside X-Original-URI naming another URL is refused, whichever the proxy set', async () => {
  const { app } = await serviceWithRules();
  const eve = await signUpAndLogIn(app, 'eve@example.test');
  const admin = 'https://admin.example.test/';
  const open = 'https://public.example.test/';
  // A proxy set up with the alias sets X-Original-URI and passes a client's X-Original-URL on,
  // and the other way round: the client's header would choose the host that the rules judge.
  for (const [set, slipped] of [
    [{ 'x-original-uri': admin }, { 'x-original-url': open }],
    [{ 'x-original-url': admin }, { 'x-original-uri': open }],
  ]) {
    for (const session of [undefined, eve]) {
      const response = await app.inject({
        method: 'GET',
        url: '/auth/request',
        headers: { ...set, ...slipped, accept: 'application/json' },
        ...(session !== undefined && { cookies: { session_id: session } }),
      });
      assert.equal(response.statusCode, 400, JSON.stringify({ set, session }));
      assert.equal(codeOf(response), 'forward_headers_missing');
      assert.equal(response.headers['remote-user'], undefined);
    }
  }
  // The same URL in both is no conflict.
  const same = await app.inject({
    method: 'GET',
    url: '/auth/request',
    headers: { 'x-original-uri': open, 'x-original-url': open, accept: 'application/json' },
  });
  assert.equal(same.statusCode, 200);
  // Either alone is read as before.
  for (const header of ['x-original-url', 'x-original-uri']) {
    const alone = await app.inject({
      method: 'GET',
      url: '/auth/request',
      headers: { [header]: admin, accept: 'application/json' },
      cookies: { session_id: eve },
    });
    assert.equal(alone.statusCode, 403, header);
  }
});

test('a host with an empty label is refused, not judged by the default policy', async () => {
  const path = rulesFile(
    'default: logged_in\nrules:\n  - host: admin.example.test\n    policy: [root@example.test]\n',
  );
  const { app } = await startTestService({ ACCESS_RULES_FILE: path });
  const eve = await signUpAndLogIn(app, 'eve@example.test');
  const ask = (headers: Record<string, string>) =>
    app.inject({
      method: 'GET',
      url: headers['x-original-url'] === undefined ? '/auth/forward' : '/auth/request',
      headers: { ...headers, accept: 'application/json' },
      cookies: { session_id: eve },
    });
  const forwarded = (host: string) => ({
    'x-forwarded-proto': 'https',
    'x-forwarded-host': host,
    'x-forwarded-uri': '/',
  });
  // The rule's own host, written as a DNS name may be (any case, one trailing dot): refused.
  for (const host of ['admin.example.test', 'ADMIN.example.test.', 'admin.example.test.:443']) {
    assert.equal((await ask(forwarded(host))).statusCode, 403, host);
  }
  // Empty labels name no host in DNS; the rules would read them as a host no rule names.
  for (const host of ['admin.example.test..', 'admin..example.test', 'admin.example.test..:443']) {
    const response = await ask(forwarded(host));
    assert.equal(response.statusCode, 400, host);
    assert.equal(codeOf(response), 'forward_headers_missing', host);
    const original = await ask({ 'x-original-url': `https://${host}/` });
    assert.equal(original.statusCode, 400, `X-Original-URL ${host}`);
  }
});

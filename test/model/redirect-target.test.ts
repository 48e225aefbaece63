/**
 * Properties of the `rd` check (safeRedirectTarget) over generated hostile values, built from the
 * pieces open redirects are made of: odd schemes and slashes, backslashes, userinfo, look-alike
 * and trailing-dot hosts, full-width and percent-encoded dots, IP literals, ports, tabs and line
 * breaks, fragments and queries that name the domain. Whatever it accepts must be a URL a browser
 * follows to an allowed host, judged by an oracle written apart from the code: https, no
 * userinfo, the host PUBLIC_URL's (on its port) or COOKIE_DOMAIN or under it, written out as
 * that very host in the raw value. And what is built safely from allowed hosts is taken.
 * Settings: PUBLIC_URL=https://auth.example.com, COOKIE_DOMAIN=example.com.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { safeRedirectTarget } from '../../src/http/redirect-target.js';
import { checkProperty } from './settings.js';

const SETTINGS = { publicUrl: 'https://auth.example.com', cookieDomain: 'example.com' };

/** Whether a browser following `target` lands on a host the session cookie serves anyway. */
function allowedByOracle(target: string): boolean {
  const url = new URL(target);
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '') return false;
  const host = url.hostname;
  if (host === 'example.com' || host.endsWith('.example.com')) return true;
  return host === 'auth.example.com' && url.port === '';
}

const scheme = fc.constantFrom(
  'https:',
  'HTTPS:',
  'http:',
  'javascript:',
  'data:',
  'ftp:',
  'https;',
  '',
  ' https:',
);
const slashes = fc.constantFrom('//', '/', '///', '\\\\', '/\\', '\\/', '', '\t//', '/\n/');
const userinfo = fc.constantFrom(
  '',
  '',
  'user@',
  'user:pass@',
  'auth.example.com@',
  'evil.test@',
  '@',
  'app.example.com:443@',
);
const host = fc.constantFrom(
  'auth.example.com',
  'app.example.com',
  'example.com',
  'evil.test',
  'example.com.evil.test',
  'evilexample.com',
  'example.com.',
  'app.example.com.',
  'auth.example.com%2eevil.test',
  'app%2eexample.com',
  'ａｐｐ.example.com',
  'app。example.com',
  'app.ｅｘａｍｐｌｅ.com',
  'APP.EXAMPLE.COM',
  '127.0.0.1',
  '0x7f.1',
  '2130706433',
  '[::1]',
  'evil.test\\@app.example.com',
  'evil.test#.example.com',
  'evil.test?.example.com',
  'evil.test/.example.com',
  'xn--exmple-cua.com',
  'exаmple.com',
  'app.example.com\u0000',
  'app.example.com:80@evil.test',
);
const port = fc.constantFrom('', '', ':443', ':8443', ':80', ':0', ':99999', ':', ':443x');
const rest = fc.constantFrom(
  '',
  '/',
  '/path',
  '/a/../../b',
  '?next=https://evil.test',
  '#@evil.test',
  '#https://app.example.com',
  '/%0d%0aLocation:%20https://evil.test',
  '\t',
  '\n/x',
  ' ',
  '//evil.test',
  '/\\evil.test',
);

/** A hostile value: pieces in order, now and then with a character thrown in. */
const hostile = fc
  .tuple(
    scheme,
    slashes,
    userinfo,
    host,
    port,
    rest,
    fc.option(fc.tuple(fc.nat(), fc.constantFrom('\\', '@', '.', '%', '\t', '#', '/', ':', '%2e'))),
  )
  .map(([s, sl, u, h, p, r, extra]) => {
    const value = `${s}${sl}${u}${h}${p}${r}`;
    if (extra === null) return value;
    const at = extra[0] % (value.length + 1);
    return `${value.slice(0, at)}${extra[1]}${value.slice(at)}`;
  });

test('whatever rd value is accepted leads a browser to an allowed host, and is normal', async (t) => {
  const property = fc.property(hostile, (rd) => {
    const target = safeRedirectTarget(rd, SETTINGS);
    if (target === undefined) return;
    assert.ok(allowedByOracle(target), `${JSON.stringify(rd)} → ${target}`);
    // What a reviewer reads is where the browser goes: the value is written as `https://`, then
    // exactly the host it leads to (letter case and an explicit :443 aside), then a path.
    const written = /^https:\/\/([^/?#]*)/i.exec(rd)?.[1]?.toLowerCase();
    const { host: landing } = new URL(target);
    assert.ok(
      written === landing || written === `${landing}:443`,
      `${JSON.stringify(rd)} → ${target}`,
    );
    assert.equal(safeRedirectTarget(target, SETTINGS), target, 'accepting is idempotent');
  });
  await checkProperty(t, property, { runs: 3000 });
});

/** A path, query and fragment as browsers send them: printable ASCII, percent-encoded. */
const safeRest = fc
  .tuple(
    fc.array(fc.stringMatching(/^[A-Za-z0-9._~-]{1,8}$/), { maxLength: 4 }),
    fc.option(fc.stringMatching(/^[A-Za-z0-9=&%._-]{0,12}$/)),
  )
  .map(([segments, query]) => `/${segments.join('/')}${query === null ? '' : `?${query}`}`);

test('an https URL of an allowed host with a browser-sent path is accepted', async (t) => {
  const allowedHost = fc.oneof(
    fc.constant('auth.example.com'),
    fc.constant('example.com'),
    fc
      .stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/)
      .map((label) => `${label}.example.com`),
  );
  const property = fc.property(allowedHost, safeRest, (name, path) => {
    const rd = `https://${name}${path}`;
    assert.equal(safeRedirectTarget(rd, SETTINGS), new URL(rd).href, rd);
  });
  await checkProperty(t, property, { runs: 500 });
});

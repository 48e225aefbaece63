/**
 * safeRedirectTarget: the hostile forms an `rd` may take, each of which must be refused, and the
 * good ones, which come back normalized. Unless a table says otherwise, the settings are
 * PUBLIC_URL=https://auth.example.com and COOKIE_DOMAIN=example.com.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MAX_REDIRECT_TARGET_LENGTH,
  safeRedirectTarget,
  type RedirectTargetSettings,
} from '../../src/http/redirect-target.js';

const FORWARD_AUTH: RedirectTargetSettings = {
  publicUrl: 'https://auth.example.com',
  cookieDomain: 'example.com',
};

/** `https://auth.example.com/` followed by `a`s, `length` characters in all. */
const ofLength = (length: number) =>
  `https://auth.example.com/${'a'.repeat(length - 'https://auth.example.com/'.length)}`;

describe('safeRedirectTarget refuses', () => {
  const hostile: [string, unknown][] = [
    ['a host that merely starts with the domain', 'https://example.com.evil.test/'],
    ['a host that merely ends with the domain’s letters', 'https://evilexample.com/'],
    ['the domain as userinfo', 'https://example.com@evil.test/'],
    ['a backslash before the @', 'https://evil.test\\@example.com'],
    ['the domain in the fragment', 'https://evil.test#@example.com'],
    ['the domain in the query', 'https://evil.test/?https://example.com'],
    ['a scheme-relative URL', '//evil.test/'],
    ['a slash and a backslash', '/\\evil.test'],
    ['two backslashes', '\\\\evil.test'],
    ['a scheme without slashes', 'https:evil.test'],
    ['an allowed host without slashes', 'https:auth.example.com/account'],
    ['an allowed host after one slash', 'https:/auth.example.com/'],
    ['an allowed host after three slashes', 'https:///auth.example.com/'],
    ['javascript:', 'javascript:alert(1)'],
    ['javascript: in mixed case', 'JaVaScRiPt:alert(1)'],
    ['javascript: posing as a path', 'javascript://auth.example.com/%0aalert(1)'],
    ['a data: URL', 'data:text/html,<script>alert(1)</script>'],
    ['a base64 data: URL', 'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=='],
    ['vbscript:', 'vbscript:msgbox(1)'],
    ['a blob: URL of an allowed origin', 'blob:https://auth.example.com/0d4e5b56'],
    ['a tab inside the scheme', 'jav\tascript:alert(1)'],
    ['a newline inside the scheme', 'ht\ntps://evil.test/'],
    ['a carriage return inside an allowed host', 'https://auth.exam\rple.com/'],
    ['a tab after an allowed host', 'https://auth.example.com\t/'],
    ['a leading space', ' https://auth.example.com/'],
    ['a trailing newline', 'https://auth.example.com/\n'],
    ['a NUL', 'https://auth.example.com/\0'],
    ['a Unicode line separator', 'https://auth.example.com/\u2028'],
    ['a percent-encoded slash in the userinfo', 'https://evil.test%2f@example.com'],
    ['a percent-encoded dot', 'https://example%2ecom.evil.test/'],
    ['a percent-encoded letter in an allowed host', 'https://ex%61mple.com/'],
    ['a percent-encoded dot making an allowed host', 'https://example%2ecom/'],
    ['a Cyrillic а in the domain', 'https://exаmple.com/'],
    ['a full-width dot', 'https://example。com/'],
    ['a full-width dot making a subdomain', 'https://app。example.com/'],
    ['a punycode look-alike', 'https://xn--exmple-4nf.com/'],
    ['full-width letters', 'https://ｅｘａｍｐｌｅ.com/'],
    ['a relative path', '/account'],
    ['a bare word', 'account'],
    ['a query alone', '?next=https://evil.test'],
    ['an empty string', ''],
    ['ftp:', 'ftp://example.com/'],
    ['ws:', 'wss://app.example.com/'],
    ['file:', 'file:///etc/passwd'],
    ['http: when PUBLIC_URL is https', 'http://app.example.com/'],
    ['a foreign host in capitals', 'HTTPS://EVIL.TEST/'],
    ['a look-alike in mixed case', 'https://Example.com.EVIL.test/'],
    ['a trailing dot on the domain', 'https://example.com./'],
    ['a trailing dot on PUBLIC_URL’s host', 'https://auth.example.com./'],
    ['a percent-encoded trailing dot', 'https://example.com%2e/'],
    ['the parent of the domain', 'https://com/'],
    ['another domain of the same name', 'https://example.org/'],
    ['an IPv4 literal', 'https://93.184.216.34/'],
    ['an IPv4 literal as one number', 'https://2130706433/'],
    ['an IPv4 literal in hexadecimal', 'https://0x7f.0.0.1/'],
    ['an IPv6 literal', 'https://[::1]/'],
    ['userinfo on an allowed host', 'https://user:secret@auth.example.com/'],
    ['an empty userinfo on an allowed host', 'https://@auth.example.com/'],
    ['a password alone on an allowed host', 'https://:secret@auth.example.com/'],
    ['one character too long', ofLength(MAX_REDIRECT_TARGET_LENGTH + 1)],
    ['a very long value', ofLength(100_000)],
    ['an array (a repeated query parameter)', ['https://auth.example.com/']],
    ['a number', 42],
    ['null', null],
    ['undefined', undefined],
    ['an object', { href: 'https://auth.example.com/' }],
    ['a URL object', new URL('https://auth.example.com/')],
  ];
  for (const [name, rd] of hostile) {
    it(`${name}: ${JSON.stringify(typeof rd === 'string' ? rd.slice(0, 60) : rd)}`, () => {
      assert.equal(safeRedirectTarget(rd, FORWARD_AUTH), undefined);
    });
  }
});

describe('safeRedirectTarget accepts, normalized', () => {
  const good: [string, string, string][] = [
    ['PUBLIC_URL’s host', 'https://auth.example.com/', 'https://auth.example.com/'],
    [
      'PUBLIC_URL’s host with a path, a query and a fragment',
      'https://auth.example.com/account?tab=devices&x=%20y#top',
      'https://auth.example.com/account?tab=devices&x=%20y#top',
    ],
    ['a subdomain', 'https://app.example.com/private', 'https://app.example.com/private'],
    ['a deeper subdomain', 'https://a.b.example.com/', 'https://a.b.example.com/'],
    ['the apex', 'https://example.com', 'https://example.com/'],
    [
      'any port under the domain',
      'https://app.example.com:8443/x',
      'https://app.example.com:8443/x',
    ],
    ['the default port written out', 'https://app.example.com:443/x', 'https://app.example.com/x'],
    ['capitals', 'HTTPS://App.Example.COM/Path', 'https://app.example.com/Path'],
    ['dot segments', 'https://app.example.com/a/../b/./c', 'https://app.example.com/b/c'],
    [
      'percent-escapes in the path, kept',
      'https://app.example.com/%0d%0aSet-Cookie:%20x',
      'https://app.example.com/%0d%0aSet-Cookie:%20x',
    ],
    [
      'a quote and angle brackets, escaped',
      'https://app.example.com/"><b>',
      'https://app.example.com/%22%3E%3Cb%3E',
    ],
    [
      'a double slash in the path',
      'https://app.example.com//evil.test',
      'https://app.example.com//evil.test',
    ],
    [
      'the longest value',
      ofLength(MAX_REDIRECT_TARGET_LENGTH),
      ofLength(MAX_REDIRECT_TARGET_LENGTH),
    ],
  ];
  for (const [name, rd, expected] of good) {
    it(name, () => {
      assert.equal(safeRedirectTarget(rd, FORWARD_AUTH), expected);
    });
  }
});

/** One test a case: `rd` is judged to be `expected` (undefined: refused) under `settings`. */
function judgesEach(
  settings: Parameters<typeof safeRedirectTarget>[1],
  cases: readonly [string, string | undefined][],
): void {
  for (const [rd, expected] of cases) {
    it(`${rd} → ${String(expected)}`, () => {
      assert.equal(safeRedirectTarget(rd, settings), expected);
    });
  }
}

describe('safeRedirectTarget without COOKIE_DOMAIN', () => {
  const settings = { publicUrl: 'https://auth.example.com', cookieDomain: undefined };
  const cases: [string, string | undefined][] = [
    ['https://auth.example.com/account', 'https://auth.example.com/account'],
    ['https://auth.example.com:443/account', 'https://auth.example.com/account'],
    // Another port of PUBLIC_URL's host is another service; only COOKIE_DOMAIN's hosts get any.
    ['https://auth.example.com:8443/', undefined],
    ['https://app.example.com/', undefined],
    ['https://example.com/', undefined],
  ];
  judgesEach(settings, cases);
});

describe('safeRedirectTarget with an http PUBLIC_URL', () => {
  const settings = { publicUrl: 'http://localhost:3000', cookieDomain: undefined };
  const cases: [string, string | undefined][] = [
    ['http://localhost:3000/account', 'http://localhost:3000/account'],
    ['http://LOCALHOST:3000/', 'http://localhost:3000/'],
    ['http://localhost:3001/', undefined],
    ['http://localhost/', undefined],
    ['http://127.0.0.1:3000/', undefined],
    ['http://localhost.:3000/', undefined],
  ];
  judgesEach(settings, cases);

  it('takes http under COOKIE_DOMAIN, and https too', () => {
    const lab = { publicUrl: 'http://auth.lab.test', cookieDomain: 'lab.test' };
    assert.equal(safeRedirectTarget('http://app.lab.test/', lab), 'http://app.lab.test/');
    assert.equal(safeRedirectTarget('https://app.lab.test/', lab), 'https://app.lab.test/');
  });

  it('refuses an IP literal written as a number even when PUBLIC_URL is that address', () => {
    const loopback = { publicUrl: 'http://127.0.0.1:3000', cookieDomain: undefined };
    assert.equal(
      safeRedirectTarget('http://127.0.0.1:3000/x', loopback),
      'http://127.0.0.1:3000/x',
    );
    assert.equal(safeRedirectTarget('http://2130706433:3000/x', loopback), undefined);
    assert.equal(safeRedirectTarget('http://0x7f.1:3000/x', loopback), undefined);
  });
});

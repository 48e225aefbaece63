/**
 * The access rules file: good files give the rules they say (normalized, in order), and bad ones
 * are refused whole with one `FILE:LINE: fault` per fault.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  AccessRulesFileError,
  parseAccessRules,
  readAccessRules,
} from '../../src/auth/access-rules-file.js';
import { temporaryDirectory } from '../support/files.js';

const FILE = 'rules.yml';

/** The faults `text` is refused with (failing the test if it is accepted). */
function faultsOf(text: string): readonly string[] {
  try {
    parseAccessRules(text, FILE);
  } catch (error) {
    assert.ok(error instanceof AccessRulesFileError, String(error));
    assert.equal(error.file, FILE);
    assert.match(error.message, /^Invalid access rules:\n {2}rules\.yml:/);
    return error.problems;
  }
  assert.fail(`accepted:\n${text}`);
}

const ISSUE_EXAMPLE = `default: logged_in          # the policy when no rule matches
rules:
  - host: public.example.com
    policy: everyone
  - host: "*.internal.example.com"
    policy: [alice@example.com, "@example.com"]
  - host: admin.example.com
    policy: [admin@example.com]
`;

describe('good files', () => {
  it('reads the documented example into rules in order, normalized', () => {
    const rules = parseAccessRules(ISSUE_EXAMPLE, FILE);
    assert.deepEqual(rules.defaultPolicy, { kind: 'logged_in' });
    assert.deepEqual(rules.rules, [
      { host: 'public.example.com', policy: { kind: 'everyone' } },
      {
        host: '*.internal.example.com',
        policy: { kind: 'accounts', emails: ['alice@example.com'], domains: ['example.com'] },
      },
      {
        host: 'admin.example.com',
        policy: { kind: 'accounts', emails: ['admin@example.com'], domains: [] },
      },
    ]);
  });

  it('leaves default out as logged_in and rules out as none', () => {
    const onlyDefault = parseAccessRules('default: everyone\n', FILE);
    assert.deepEqual(onlyDefault.defaultPolicy, { kind: 'everyone' });
    assert.deepEqual(onlyDefault.rules, []);
    const onlyRules = parseAccessRules('rules:\n  - host: a.test\n    policy: everyone\n', FILE);
    assert.deepEqual(onlyRules.defaultPolicy, { kind: 'logged_in' });
    assert.equal(onlyRules.rules.length, 1);
    assert.deepEqual(parseAccessRules('rules: []\n', FILE).rules, []);
  });

  it('takes a list of accounts as the default, in block or flow style', () => {
    const block = parseAccessRules('default:\n  - bob@example.com\n  - "@example.org"\n', FILE);
    const flow = parseAccessRules('default: [bob@example.com, "@example.org"]\n', FILE);
    assert.deepEqual(block.defaultPolicy, flow.defaultPolicy);
    assert.deepEqual(block.defaultPolicy, {
      kind: 'accounts',
      emails: ['bob@example.com'],
      domains: ['example.org'],
    });
  });

  it('normalizes hosts to ASCII lower case, without a trailing dot', () => {
    const text = `rules:
  - host: App.Example.COM.
    policy: everyone
  - host: "*.Bücher.Example"
    policy: everyone
  - host: internal_name.lan
    policy: everyone
`;
    assert.deepEqual(
      parseAccessRules(text, FILE).rules.map((rule) => rule.host),
      ['app.example.com', '*.xn--bcher-kva.example', 'internal_name.lan'],
    );
  });

  it('keeps listed emails as keys and domains as ASCII lower case', () => {
    const text = 'default: [Alice@Example.COM, "@Bücher.DE", "Ｂｏｂ@example.com"]\n';
    assert.deepEqual(parseAccessRules(text, FILE).defaultPolicy, {
      kind: 'accounts',
      emails: ['alice@example.com', 'bob@example.com'],
      domains: ['xn--bcher-kva.de'],
    });
  });

  it('reads a file from disk, with a byte-order mark and CRLF line ends', () => {
    const path = join(temporaryDirectory(), 'rules.yml');
    writeFileSync(
      path,
      '\ufeffdefault: everyone\r\nrules:\r\n  - host: a.test\r\n    policy: logged_in\r\n',
    );
    const rules = readAccessRules(path);
    assert.deepEqual(rules.defaultPolicy, { kind: 'everyone' });
    assert.deepEqual(rules.rules, [{ host: 'a.test', policy: { kind: 'logged_in' } }]);
  });
});

describe('bad files', () => {
  const cases: [string, string, string[]][] = [
    ['an empty file', '', ['rules.yml:1: the file is empty']],
    ['only comments', '# nothing yet\n\n', ['rules.yml:1: the file is empty']],
    ['a list at the top', '- host: a.test\n', ['rules.yml:1: expected default and rules']],
    ['a string at the top', 'everyone\n', ['rules.yml:1: expected default and rules']],
    [
      'an unknown top-level key',
      'default: everyone\nrule: []\n',
      ['rules.yml:2: unknown key "rule"'],
    ],
    [
      'a duplicate top-level key',
      'default: everyone\nrules: []\ndefault: logged_in\n',
      ['rules.yml:3: default: duplicate key (first at line 1)'],
    ],
    [
      'a policy in other words',
      'default: Everyone\n',
      ['rules.yml:1: default: expected everyone, logged_in or a list'],
    ],
    ['a null policy', 'default:\n', ['rules.yml:1: default: expected everyone']],
    ['a boolean policy', 'default: true\n', ['rules.yml:1: default: expected everyone']],
    ['a map as policy', 'default: {everyone: true}\n', ['rules.yml:1: default: expected everyone']],
    ['an empty list', 'default: []\n', ['rules.yml:1: default: the list is empty']],
    [
      'bad list entries, each named',
      'default:\n  - bob@\n  - 42\n  - "@nodot"\n  - [nested@example.com]\n  - "@*.example.com"\n',
      [
        'rules.yml:2: default: "bob@": expected an email address or @domain',
        'rules.yml:3: default: 42: expected',
        'rules.yml:4: default: "@nodot": expected',
        'rules.yml:5: default: this entry: expected',
        'rules.yml:6: default: "@*.example.com": expected',
      ],
    ],
    [
      'an unquoted @domain',
      'default: [a@b.test, @example.com]\n',
      ['rules.yml:1: quote an entry that starts with @'],
    ],
    [
      'rules as a map',
      'rules:\n  host: a.test\n',
      ['rules.yml:2: rules: expected a list of rules'],
    ],
    ['rules left empty', 'rules:\n', ['rules.yml:1: rules: expected a list of rules']],
    ['a rule that is a string', 'rules:\n  - a.test\n', ['rules.yml:2: rules: expected a rule']],
    [
      'a rule without policy',
      'rules:\n  - host: a.test\n',
      ['rules.yml:2: rules: this rule has no policy'],
    ],
    [
      'a rule without host',
      'rules:\n  - policy: everyone\n',
      ['rules.yml:2: rules: this rule has no host'],
    ],
    [
      'a misspelt rule key',
      'rules:\n  - host: a.test\n    polcy: everyone\n',
      ['rules.yml:2: rules: this rule has no policy', 'rules.yml:3: rules: unknown key "polcy"'],
    ],
    [
      'a duplicate rule key',
      'rules:\n  - host: a.test\n    policy: everyone\n    host: b.test\n',
      ['rules.yml:4: rules: host: duplicate key (first at line 2)'],
    ],
    [
      'a duplicate host pattern, in other case',
      'rules:\n  - host: a.test\n    policy: everyone\n  - host: A.TEST\n    policy: logged_in\n',
      ['rules.yml:4: host: a.test is already the host of the rule at line 2'],
    ],
    [
      'an unquoted wildcard (a YAML alias)',
      'rules:\n  - host: *.example.com\n    policy: everyone\n',
      ['rules.yml:2: host: quote a pattern that starts with *'],
    ],
    ['a tag', 'default: !policy everyone\n', ['rules.yml:1: Unresolved tag: !policy']],
    ['a YAML syntax error', 'default: [everyone\n', ['rules.yml:2: ']],
    ['tabs as indentation', 'rules:\n\t- host: a.test\n', ['rules.yml:2: ']],
    ['two documents', 'default: everyone\n---\ndefault: logged_in\n', ['rules.yml:2: ']],
  ];
  for (const [name, text, expected] of cases) {
    it(`refuses ${name}`, () => {
      const problems = faultsOf(text);
      assert.equal(problems.length, expected.length, problems.join('\n'));
      expected.forEach((start, index) =>
        assert.ok(problems[index]?.startsWith(start), problems[index]),
      );
    });
  }

  const badHosts = [
    'https://app.example.com',
    'app.example.com:443',
    'app.example.com/path',
    'app.example.com?x',
    'app.example.com#x',
    'user@app.example.com',
    '*',
    '*.',
    'app.*.example.com',
    '*example.com',
    '**.example.com',
    'app*.example.com',
    '*.*.example.com',
    '[::1]',
    'a..example.com',
    '.example.com',
    '-app.example.com',
    'app .example.com',
    '%61pp.example.com',
    'app\\.example.com',
    '',
    `${'a'.repeat(64)}.example.com`,
  ];
  for (const host of badHosts) {
    it(`refuses the host pattern ${JSON.stringify(host)}`, () => {
      const problems = faultsOf(
        `rules:\n  - host: ${JSON.stringify(host)}\n    policy: everyone\n`,
      );
      assert.deepEqual(problems.length, 1, problems.join('\n'));
      assert.match(problems[0] ?? '', /^rules\.yml:2: host: expected a host name/);
    });
  }

  it('refuses a number as host', () => {
    assert.match(
      faultsOf('rules:\n  - host: 42\n    policy: everyone\n')[0] ?? '',
      /^rules\.yml:2: host:/,
    );
  });

  it('lists every fault of a file, in line order, and gives no rules', () => {
    const text = `default: nobody
rules:
  - host: a.example.com
    policy: Everyone
  - host: b.example.com:8080
    policy: []
  - host: c.example.com
    policy: [carol@example.com]
  - host: c.example.com
    policy: everyone
`;
    assert.deepEqual(
      faultsOf(text).map((problem) => /^rules\.yml:\d+: \w+/.exec(problem)?.[0]),
      [
        'rules.yml:1: default',
        'rules.yml:4: policy',
        'rules.yml:5: host',
        'rules.yml:6: policy',
        'rules.yml:9: host',
      ],
    );
  });

  it('names the file as configured, and refuses one that is missing, a folder or too large', () => {
    const directory = temporaryDirectory();
    const refusal = (path: string) =>
      assert.throws(
        () => readAccessRules(path),
        (error: unknown) =>
          error instanceof AccessRulesFileError &&
          error.problems[0]?.startsWith(`${path}: `) === true,
      );
    refusal(join(directory, 'missing.yml'));
    mkdirSync(join(directory, 'folder.yml'));
    refusal(join(directory, 'folder.yml'));
    const large = join(directory, 'large.yml');
    writeFileSync(large, `# ${'x'.repeat(1024 * 1024)}\ndefault: everyone\n`);
    refusal(large);
    const bad = join(directory, 'bad.yml');
    writeFileSync(bad, 'default: everyone\nrules:\n  - host: a.test\n    policy: no\n');
    assert.throws(() => readAccessRules(bad), {
      message: `Invalid access rules:\n  ${bad}:4: policy: expected everyone, logged_in or a list of emails and @domains`,
    });
  });

  it('refuses a file it may not read', { skip: process.getuid?.() === 0 }, () => {
    const path = join(temporaryDirectory(), 'secret.yml');
    writeFileSync(path, 'default: everyone\n');
    chmodSync(path, 0o000);
    assert.throws(() => readAccessRules(path), {
      message: /secret\.yml: cannot be read \(EACCES\)/,
    });
  });
});

describe('second_factor on a rule', () => {
  it('is kept when true, left out when false or absent', () => {
    const rules = parseAccessRules(
      `rules:
  - host: a.test
    policy: logged_in
    second_factor: true
  - host: b.test
    policy: [bob@example.com]
    second_factor: false
  - host: c.test
    policy: logged_in
`,
      FILE,
    );
    assert.deepEqual(
      rules.rules.map((rule) => rule.secondFactor),
      [true, undefined, undefined],
    );
    assert.equal(rules.decide('a.test', { emailKey: 'x@y.test' }), 'second_factor_required');
    assert.equal(rules.decide('a.test', { emailKey: 'x@y.test', secondFactor: true }), 'pass');
    assert.equal(rules.decide('a.test', null), 'login_required');
    assert.equal(rules.decide('b.test', { emailKey: 'x@y.test' }), 'denied');
    assert.equal(rules.decide('c.test', { emailKey: 'x@y.test' }), 'pass');
  });

  it('refuses anything but true or false, and true with everyone', () => {
    assert.deepEqual(
      faultsOf(`rules:
  - host: a.test
    policy: logged_in
    second_factor: yes
  - host: b.test
    policy: everyone
    second_factor: true
  - host: c.test
    policy: logged_in
    second_factor: "true"
`),
      [
        'rules.yml:4: second_factor: expected true or false',
        'rules.yml:7: second_factor: true needs a login, which policy everyone does not ask for',
        'rules.yml:10: second_factor: expected true or false',
      ],
    );
  });
});

/**
 * The proxy configurations the README gives are the tested ones: each file of docs/proxy/ (which
 * test/e2e/proxies.test.ts runs in nginx and Caddy) appears in README.md, whole and unchanged,
 * as the body of a fenced code block.
 *
 * What README.md must hold, for each FILE and LANGUAGE below, is a block like
 *
 *     ```LANGUAGE
 *     <the contents of docs/proxy/FILE, exactly>
 *     ```
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const README = resolve(import.meta.dirname, '../../../README.md');
const PROXY_DOCS = resolve(import.meta.dirname, '../../../docs/proxy');

const QUOTED = [
  { file: 'nginx.conf', language: 'nginx' },
  { file: 'Caddyfile', language: 'caddyfile' },
  { file: 'traefik.yml', language: 'yaml' },
] as const;

/** The bodies of README's fenced blocks (``` fences), each with its info string. */
function fencedBlocks(markdown: string): { info: string; body: string }[] {
  const blocks: { info: string; body: string }[] = [];
  const fence = /^```([^\n`]*)\n([\s\S]*?)^```[ \t]*$/gm;
  for (const match of markdown.matchAll(fence)) {
    blocks.push({ info: (match[1] ?? '').trim(), body: match[2] ?? '' });
  }
  return blocks;
}

for (const { file, language } of QUOTED) {
  test(`the README quotes docs/proxy/${file} whole, in a ${language} block`, async () => {
    const [readme, configuration] = await Promise.all([
      readFile(README, 'utf8'),
      readFile(join(PROXY_DOCS, file), 'utf8'),
    ]);
    const quoted = fencedBlocks(readme).filter((block) => block.body === configuration);
    assert.ok(
      quoted.length > 0,
      `README.md must hold docs/proxy/${file}, unchanged, between \`\`\`${language} and \`\`\``,
    );
    assert.ok(
      quoted.some((block) => block.info === language),
      `the block quoting docs/proxy/${file} must be marked ${language}`,
    );
  });
}

test('a fenced block is read whole, with its info string', () => {
  const markdown = 'text\n```nginx\nserver {\n}\n```\nmore\n```\nplain\n```\n';
  assert.deepEqual(fencedBlocks(markdown), [
    { info: 'nginx', body: 'server {\n}\n' },
    { info: '', body: 'plain\n' },
  ]);
  assert.deepEqual(fencedBlocks('```yaml\nunclosed\n'), []);
});

/**
 * The bundle's loader (bundle-loader.ts): a bundle runs as a CommonJS module would, from its code
 * cache when the cache was made from it, and compiled afresh from its own source when the cache
 * is missing, was made from another bundle (even one of the same length, which V8 alone would
 * take), or is refused by V8. Each run is its own process: within one, V8 would reuse what it
 * compiled before, with or without a cache.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';

const LOADER = pathToFileURL(join(import.meta.dirname, '..', 'src', 'bundle-loader.js')).href;

const folder = mkdtempSync(join(tmpdir(), 'bienvenue-bundle-'));
after(() => rmSync(folder, { recursive: true, force: true }));

/** A bundle that prints which one it is, and what it was handed, as a CommonJS module is. */
function writeBundle(name: string, mark: string): string {
  const file = join(folder, name);
  writeFileSync(
    file,
    `process.stdout.write(JSON.stringify({ mark: ${JSON.stringify(mark)}, file: __filename, ` +
      `exports: module.exports === exports, require: typeof require('node:path').join }));\n` +
      `function square(x) { return x * x; }\nsquare(3);\n`,
  );
  return file;
}

interface Ran {
  fromCache: boolean;
  printed: { mark: string; file: string; exports: boolean; require: string };
}

/** Runs `bundle` in a new process, writing its cache afterwards if asked to. */
function run(bundle: string, { writeCache = false } = {}): Ran {
  const script = `
    const { runBundle } = await import(${JSON.stringify(LOADER)});
    const run = runBundle(${JSON.stringify(bundle)});
    if (${writeCache}) run.writeCache();
    process.stdout.write('\\n' + JSON.stringify(run.fromCache));`;
  const [printed = '', fromCache = ''] = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', script],
    { encoding: 'utf8' },
  ).split('\n');
  return {
    fromCache: JSON.parse(fromCache) as boolean,
    printed: JSON.parse(printed) as Ran['printed'],
  };
}

describe('running a bundle', () => {
  test('runs it as a CommonJS module, from its cache once one is written', () => {
    const bundle = writeBundle('a.cjs', 'A');
    const expected = { mark: 'A', file: bundle, exports: true, require: 'function' };
    assert.deepEqual(run(bundle, { writeCache: true }), { fromCache: false, printed: expected });
    assert.deepEqual(run(bundle), { fromCache: true, printed: expected });
  });

  test('ignores a cache made from another bundle of the same length, and runs its own code', () => {
    const bundle = writeBundle('b.cjs', 'B');
    run(bundle, { writeCache: true });
    assert.equal(run(bundle).fromCache, true);
    writeBundle('b.cjs', 'C');
    const again = run(bundle);
    assert.equal(again.fromCache, false);
    assert.equal(again.printed.mark, 'C');
  });

  test('ignores a cache copied from beside another bundle', () => {
    const one = writeBundle('d.cjs', 'D');
    const other = writeBundle('e.cjs', 'EE');
    run(one, { writeCache: true });
    copyFileSync(`${one}.cache`, `${other}.cache`);
    const ran = run(other);
    assert.equal(ran.fromCache, false);
    assert.equal(ran.printed.mark, 'EE');
  });

  test('compiles afresh when V8 refuses the cache', () => {
    const bundle = writeBundle('f.cjs', 'F');
    run(bundle, { writeCache: true });
    // The bundle's own digest, then bytes that are not V8's.
    const cache = `${bundle}.cache`;
    writeFileSync(
      cache,
      Buffer.concat([readFileSync(cache).subarray(0, 32), Buffer.alloc(512, 7)]),
    );
    const ran = run(bundle);
    assert.equal(ran.fromCache, false);
    assert.equal(ran.printed.mark, 'F');
  });
});

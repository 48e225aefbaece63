/**
 * Runs the service's bundle (scripts/bundle.ts) compiled with the V8 code cache beside it,
 * `BUNDLE.cache`, when that cache was made from this very bundle.
 *
 * Parsing the bundle, then compiling each of its functions as a start first calls it, was most of
 * the time the service took to answer its first request. The cache holds V8's bytecode for the
 * functions that a start, a few requests and the compiling of the route schemas ran; the build
 * makes it by starting the bundle once with `--write-code-cache` (src/start.ts).
 *
 * The cache starts with the SHA-256 of the bundle it was made from. V8 checks a cache against its
 * own version and flags and against the source's length only, so a bundle rebuilt to the same
 * length would otherwise run with bytecode of the old one. A cache that V8 refuses (made by
 * another Node, or with other flags) is only a slower start: the bundle compiles as without one.
 *
 * The bundle cannot use `import()`: Node 20 loses a script's dynamic-import callback when the
 * script comes from a code cache, and the import then fails. The build refuses a bundle with one.
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

type CommonJsWrapper = (
  exports: object,
  require: NodeJS.Require,
  module: { exports: object },
  filename: string,
  dirname: string,
) => void;

const DIGEST_BYTES = 32;

export interface BundleRun {
  /** Whether the bundle was compiled from its cache. */
  readonly fromCache: boolean;
  /** Writes the cache from what has been compiled so far, replacing any there was. */
  writeCache(): void;
}

/** Runs the CommonJS script `bundle` as Node runs a module's, from its code cache if it can. */
export function runBundle(bundle: string): BundleRun {
  const cacheFile = `${bundle}.cache`;
  const source = readFileSync(bundle);
  const digest = createHash('sha256').update(source).digest();
  const cache = readCache(cacheFile, digest);
  const script = new Script(
    `(function (exports, require, module, __filename, __dirname) {${source.toString('utf8')}\n})`,
    { filename: bundle, cachedData: cache },
  );
  const fromCache = cache !== undefined && script.cachedDataRejected === false;
  const module = { exports: {} };
  (script.runInThisContext() as CommonJsWrapper)(
    module.exports,
    createRequire(bundle),
    module,
    bundle,
    dirname(bundle),
  );
  return {
    fromCache,
    writeCache() {
      const partial = `${cacheFile}.${process.pid}`;
      writeFileSync(partial, Buffer.concat([digest, script.createCachedData()]));
      renameSync(partial, cacheFile);
    },
  };
}

/** The V8 data of the cache at `file`, if there is one and it was made from `digest`'s bundle. */
function readCache(file: string, digest: Buffer): Buffer | undefined {
  let cache: Buffer;
  try {
    cache = readFileSync(file);
  } catch {
    return undefined;
  }
  return cache.subarray(0, DIGEST_BYTES).equals(digest) ? cache.subarray(DIGEST_BYTES) : undefined;
}

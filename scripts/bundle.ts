/**
 * Bundles the service's entry point (`npm start`) into one file, `dist/bienvenue.cjs`, with
 * esbuild, from the JavaScript tsc has just written, then writes the V8 code cache that
 * `dist/bienvenue.js` (src/start.ts) compiles it with. Node then reads one file at start
 * instead of about 400 modules (the service's own and Kysely's are ES modules, Fastify's
 * CommonJS), and runs most of it from the cache's bytecode instead of compiling it.
 *
 * The bundle is a CommonJS script rather than an ES module: V8 takes a code cache for a script,
 * and Node 20 has no way to give it one for a module.
 *
 * Left out of the bundle, and loaded from node_modules as before:
 * - native addons;
 * - packages that read files beside their own code at run time;
 * - packages the service loads only at first use, so that a start does not compile them.
 *
 * The cache is made by starting the bundle once on an empty SQLite database in a temporary
 * folder, asking it what the first clients of a started service ask, waiting for it to compile
 * the route schemas, and stopping it: the loader saves the cache as the process exits.
 *
 * The process tests, the soak and the benchmarks run the bundle, as `npm start` does; the CLI
 * and the in-process tests run tsc's output.
 */
import { build, type Metafile, type Plugin } from 'esbuild';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const root = join(import.meta.dirname, '..', '..');
const dist = join(root, 'dist');

const BUNDLE = join(dist, 'bienvenue.cjs');
const LOADER = join(dist, 'bienvenue.js');
const CACHE = `${BUNDLE}.cache`;

const NATIVE = ['better-sqlite3', 'bcrypt', '@node-rs/argon2'];
const READ_FROM_THEIR_FOLDER = ['@simplewebauthn/browser'];
// The PostgreSQL driver, also required at first use, is inside: a start on PostgreSQL requires
// it at once, and Node would find, read and compile its 30-odd files one by one (about 45 ms).
const LOADED_AT_FIRST_USE = [
  'ioredis',
  'nodemailer',
  'qrcode',
  'otplib',
  '@simplewebauthn/server',
  '@zxcvbn-ts/language-common',
];

/** The line that makes a module's `require` (see {@link bundleOwnRequire}). */
const MAKES_REQUIRE = /^const require = createRequire\(import\.meta\.url\);$/m;

/**
 * The service's modules make their `require` with `createRequire(import.meta.url)`, which esbuild
 * cannot see through, so a package they require stays outside the bundle. In the bundle that line
 * goes (its line left empty, so that the source maps still match), and each `require('…')` of the
 * module is the bundle's own: a package not named external then loads from within the bundle, at
 * that call, as before.
 */
const bundleOwnRequire: Plugin = {
  name: 'bundle-own-require',
  setup(build) {
    build.onLoad({ filter: /[\\/]dist[\\/]src[\\/].*\.js$/ }, async ({ path }) => ({
      contents: (await readFile(path, 'utf8')).replace(MAKES_REQUIRE, ''),
      loader: 'js',
    }));
  },
};

/** From the service's first answer, how long to let it run so that it compiles its schemas. */
const SCHEMAS_COMPILED_MS = 3000;
/** The longest the cache's run may take, from spawning it to its exit. */
const CACHE_RUN_LIMIT_MS = 60_000;

rmSync(CACHE, { force: true });

const bundled = await build({
  entryPoints: [join(dist, 'src', 'main.js')],
  outfile: BUNDLE,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: [...NATIVE, ...READ_FROM_THEIR_FOLDER, ...LOADED_AT_FIRST_USE].flatMap((name) => [
    name,
    `${name}/*`,
  ]),
  // The service's modules name their own place with import.meta.url, which a script has not.
  define: { 'import.meta.url': 'bundleUrl' },
  banner: { js: "const bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [bundleOwnRequire],
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
});
refuseDynamicImports(bundled.metafile);

await build({
  entryPoints: [join(dist, 'src', 'start.js')],
  outfile: LOADER,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
});

// Without a cache the service only starts slower: a build that cannot make one says so and goes
// on. The process tests check that the build made one.
await writeCodeCache().catch((error: unknown) => {
  rmSync(CACHE, { force: true });
  process.stderr.write(
    `warning: no code cache for the bundle, the service will start slower: ${String(error)}\n`,
  );
});

/**
 * Throws if the bundle would `import()` a module outside it (esbuild turns the others into calls
 * within the bundle): from a code cache, Node 20 runs the script without the callback that
 * dynamic imports need (src/bundle-loader.ts), so each would fail.
 */
function refuseDynamicImports(metafile: Metafile): void {
  const found = Object.entries(metafile.inputs).flatMap(([file, input]) =>
    input.imports
      .filter((imported) => imported.kind === 'dynamic-import' && imported.external === true)
      .map((imported) => `${file} imports ${imported.path}`),
  );
  if (found.length > 0) {
    throw new Error(`the bundle cannot use import(); require instead:\n${found.join('\n')}`);
  }
}

/** Runs the bundle once as described above; the loader writes the cache as the process exits. */
async function writeCodeCache(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'bienvenue-code-cache-'));
  const port = await freePort();
  const child = spawn(process.execPath, [LOADER, '--write-code-cache'], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${join(folder, 'cache.db')}`,
      LOG_LEVEL: 'warn',
      SMTP_URL: '',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((done) => child.once('exit', done));
  const limit = setTimeout(() => child.kill('SIGKILL'), CACHE_RUN_LIMIT_MS);
  try {
    const url = `http://127.0.0.1:${port}`;
    await firstAnswer(url);
    for (const accept of ['application/json', 'text/html']) {
      await fetch(`${url}/`, { headers: { accept } });
      await fetch(`${url}/profile`, { headers: { accept } });
    }
    await sleep(SCHEMAS_COMPILED_MS);
    child.kill('SIGTERM');
    const status = await exited;
    if (status !== 0 || !existsSync(CACHE)) {
      throw new Error(`the run that writes the code cache exited with ${status} and no cache`);
    }
  } finally {
    clearTimeout(limit);
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(folder, { recursive: true, force: true });
  }

  async function firstAnswer(url: string): Promise<void> {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`);
      try {
        if ((await fetch(`${url}/`)).ok) return;
      } catch {
        // not listening yet
      }
      await sleep(10);
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

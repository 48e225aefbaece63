/**
 * Bundles the service's entry point (`npm start`) into one file, `dist/bienvenue.js`, with
 * esbuild, from the JavaScript tsc has just written. Node then reads and compiles one file at
 * start instead of about 400 modules (the service's own and Kysely's are ES modules, Fastify's
 * CommonJS), which is most of the time the service took to start.
 *
 * Left out of the bundle, and loaded from node_modules as before:
 * - native addons;
 * - packages that read files beside their own code at run time;
 * - packages the service loads only at first use, so that a start does not compile them.
 * The process tests, the soak and the benchmarks run the bundle, as `npm start` does; the CLI
 * and the in-process tests run tsc's output.
 */
import { build } from 'esbuild';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

const BUNDLE = join(root, 'dist', 'bienvenue.js');

const NATIVE = ['better-sqlite3', 'bcrypt', '@node-rs/argon2'];
const READ_FROM_THEIR_FOLDER = ['@simplewebauthn/browser'];
const LOADED_AT_FIRST_USE = [
  'pg',
  'ioredis',
  'nodemailer',
  'qrcode',
  'otplib',
  '@simplewebauthn/server',
  '@zxcvbn-ts/language-common',
  '@fastify/ajv-compiler',
  '@fastify/fast-json-stringify-compiler',
];

await build({
  entryPoints: [join(root, 'dist', 'src', 'main.js')],
  outfile: BUNDLE,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: [...NATIVE, ...READ_FROM_THEIR_FOLDER, ...LOADED_AT_FIRST_USE].flatMap((name) => [
    name,
    `${name}/*`,
  ]),
  // The CommonJS packages inside call `require`, which an ES module does not have.
  banner: {
    js: "import { createRequire as bundleRequire } from 'node:module';\nconst require = bundleRequire(import.meta.url);",
  },
  sourcemap: true,
  logLevel: 'warning',
});

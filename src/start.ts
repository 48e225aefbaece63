/**
 * What `npm start` runs, as `dist/bienvenue.js`: the service's bundle beside it, `bienvenue.cjs`
 * (whose entry point is main.ts), from its code cache. With `--write-code-cache`, which the build
 * passes, the cache is written as the process exits.
 */
import { join } from 'node:path';
import { runBundle } from './bundle-loader.js';

const run = runBundle(join(import.meta.dirname, 'bienvenue.cjs'));
if (process.argv.includes('--write-code-cache')) process.once('exit', () => run.writeCache());

/**
 * Runs the whole test suite with Node's test runner: once on SQLite, then once more on
 * PostgreSQL (TEST_POSTGRES_URL, by default the local server's `test` database), adding the tests
 * that only make sense there (several instances, outages, schema parity). Without a reachable
 * PostgreSQL the second pass is skipped with a loud notice, except under CI=true, where that
 * fails the run. Exits non-zero if any pass fails.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

const TEST_ROOT = 'dist/test';
const postgresUrl = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

// Compiled tests whose source still exists (tsc leaves the output of deleted files behind).
const files = readdirSync(TEST_ROOT, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.test.js'))
  .filter((file) => existsSync(join('test', file.replace(/\.js$/, '.ts'))))
  .map((file) => join(TEST_ROOT, file))
  .sort();
const postgresOnly = files.filter((file) => file.startsWith(join(TEST_ROOT, 'postgres')));
const everyEngine = files.filter((file) => !postgresOnly.includes(file));

function runPass(name: string, testFiles: string[], env: Record<string, string>): boolean {
  process.stdout.write(`\n### Test pass: ${name} (${testFiles.length} files)\n`);
  const result = spawnSync(
    process.execPath,
    ['--test', '--test-concurrency=2', ...process.argv.slice(2), ...testFiles],
    { stdio: 'inherit', env: { ...process.env, ...env } },
  );
  return result.status === 0;
}

async function postgresProblem(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

let ok = runPass('SQLite', everyEngine, {});
const problem = await postgresProblem();
if (problem === undefined) {
  ok =
    runPass('PostgreSQL', [...everyEngine, ...postgresOnly], { TEST_DATABASE: 'postgres' }) && ok;
} else {
  const banner = '!'.repeat(78);
  process.stdout.write(
    `\n${banner}\n  PostgreSQL is unreachable at ${postgresUrl.replace(/:[^:@/]*@/, ':***@')}\n` +
      `  (${problem}).\n` +
      (process.env.CI === 'true'
        ? '  Under CI=true the PostgreSQL pass is required: FAILING the run.\n'
        : `  The PostgreSQL pass (${everyEngine.length + postgresOnly.length} files) was SKIPPED.\n` +
          '  Start PostgreSQL or set TEST_POSTGRES_URL to run it.\n') +
      `${banner}\n`,
  );
  if (process.env.CI === 'true') ok = false;
}
process.exitCode = ok ? 0 : 1;

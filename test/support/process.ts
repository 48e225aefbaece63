/**
 * Runs the built service as a real child process (`node dist/bienvenue.js`, the bundle `npm start`
 * runs) speaking real HTTP, as users' clients see it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { after } from 'node:test';
import { freshDatabaseUrl } from './databases.js';
import { temporaryDirectory } from './files.js';
import { freePort } from './ports.js';

export const MAIN = resolve(import.meta.dirname, '../../bienvenue.js');

export interface ServerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process wrote so far. */
  output(): string;
  /** Resolves with the exit code once the process has ended. */
  readonly exited: Promise<number | null>;
}

/**
 * Starts the service with exactly `env` (plus PATH) in `cwd`, and waits until it answers GET /.
 * The process is killed when the calling test file ends, if still running.
 */
export async function startServerProcess(options: {
  env: Record<string, string>;
  cwd: string;
  port: number;
}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [MAIN], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) =>
    child.once('exit', (code, signal) => {
      // A server that ends by itself, with a failure, says why: the tests that then fail cannot.
      if (!child.killed && code !== 0) {
        process.stderr.write(
          `the server on port ${options.port} ended (${signal ?? code}):\n${output}\n`,
        );
      }
      done(code);
    }),
  );
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${output}`);
    try {
      const response = await fetch(`${url}/`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`server did not start:\n${output}`);
    await new Promise((done) => setTimeout(done, 50));
  }
  return { url, child, output: () => output, exited };
}

/**
 * Starts the service on a loopback port with a database of its own (a SQLite file in `directory`,
 * or a PostgreSQL schema), without verification links (EMAIL_VERIFICATION=off), plus `env`. Pass
 * the result back as `place` to restart it on the same port and database.
 */
export async function startIsolatedServer(
  env: Record<string, string> = {},
  place: { directory?: string; port?: number; databaseUrl?: string } = {},
): Promise<ServerProcess & { directory: string; port: number; databaseUrl: string }> {
  const directory = place.directory ?? temporaryDirectory();
  const port = place.port ?? (await freePort());
  const databaseUrl =
    place.databaseUrl ?? (await freshDatabaseUrl({ sqliteFile: join(directory, 'bienvenue.db') }));
  const server = await startServerProcess({
    cwd: directory,
    port,
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      // As in-process tests (TEST_ENV): sign-ups mail no verification link unless a test says.
      EMAIL_VERIFICATION: 'off',
      ...env,
    },
  });
  return { ...server, directory, port, databaseUrl };
}

/** An urlencoded body for fetch. */
export function formBody(fields: Record<string, string>): URLSearchParams {
  return new URLSearchParams(fields);
}

/**
 * Runs the compiled `bienvenue` command as a child process with exactly the environment given
 * (plus PATH), as an operator's shell would, and opens the same database in-process to check what
 * a command did through the Auth service.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { after } from 'node:test';
import type { Auth } from '../../src/auth/service.js';
import type { Clock } from '../../src/clock.js';
import { createService } from '../../src/compose.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { RecordingMailer } from '../support/fakes.js';

export const CLI = resolve(import.meta.dirname, '../../src/cli/main.js');

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Spawns `bienvenue …args` and waits for it to end; `input` is piped to its standard input. */
export function spawnCli(
  args: readonly string[],
  env: Record<string, string>,
  options: { input?: string } = {},
): ChildProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  child.stdin.end(options.input ?? '');
  return child;
}

/** Runs `bienvenue …args` to its end and returns its exit status and output. */
export function runCli(
  args: readonly string[],
  env: Record<string, string>,
  options: { input?: string } = {},
): Promise<CliResult> {
  const child = spawnCli(args, env, options);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`bienvenue ${args.join(' ')} did not finish:\n${stdout}\n${stderr}`));
    }, 30_000);
    child.once('close', (status) => {
      clearTimeout(timer);
      done({ status, stdout, stderr });
    });
  });
}

/** Runs `action` with an Auth service on the database of `env`, then closes the service. */
export async function withAuth<T>(
  env: Record<string, string>,
  action: (auth: Auth) => Promise<T>,
  overrides: { clock?: Clock } = {},
): Promise<T> {
  const config = loadConfig(env);
  const { app, auth } = await createService(config, createLogger('silent'), {
    mailer: new RecordingMailer(),
    ...overrides,
  });
  try {
    return await action(auth);
  } finally {
    await app.close();
  }
}

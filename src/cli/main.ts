#!/usr/bin/env node
/**
 * The `bienvenue` executable: hands the command line, the standard streams and the environment
 * (read here and in config.ts only) to the CLI, and exits with the status it returns. The exit
 * happens once the event loop is empty, so output is flushed and the service fully closed.
 */
import { runCli } from './cli.js';

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});

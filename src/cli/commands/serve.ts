/**
 * `bienvenue serve`: runs the HTTP service, exactly as `npm start` does, until SIGTERM or SIGINT;
 * logs go to standard output at LOG_LEVEL (default info), as the server's always do.
 */
import { loadConfig } from '../../config.js';
import { createLogger } from '../../logger.js';
import type { Command } from '../command.js';

/** `bienvenue serve`. */
export const serveCommand: Command = {
  kind: 'command',
  name: 'serve',
  summary: 'run the HTTP service until SIGTERM or SIGINT (like npm start)',
  arguments: [],
  options: {},
  async run({ io }) {
    const config = loadConfig(io.env);
    // Loaded on demand, like the service in the other commands (see service-session.ts).
    const { runServer } = await import('../../server.js');
    await runServer(config, createLogger(config.logLevel));
  },
};

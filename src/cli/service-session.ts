/**
 * Opens the service for one command and closes it afterwards, whatever happens, so that the
 * audit events the command caused are written before the process ends. Logs go to standard error
 * (standard output is the command's own), at LOG_LEVEL if set, otherwise only warnings and worse.
 */
import { pino, type Logger } from 'pino';
import type { AccountTransfer } from '../auth/account-transfer.js';
import type { AccountAdmin } from '../auth/admin.js';
import type { RequestContext } from '../auth/audit.js';
import type { Auth } from '../auth/service.js';
import { loadConfig, type Config, type Environment } from '../config.js';
import { createLogger } from '../logger.js';
import { logMailer } from '../mail/mailer.js';

/** How CLI actions appear in the audit log. */
export const CLI_CONTEXT: RequestContext = Object.freeze({ userAgent: 'bienvenue-cli' });

/** The configuration from `env`; throws a ConfigError listing every bad variable. */
export function cliConfig(env: Environment): Config {
  return loadConfig(env);
}

/** A logger on standard error: LOG_LEVEL when set, `warn` otherwise. */
export function cliLogger(env: Environment, config: Config): Logger {
  const level = env.LOG_LEVEL?.trim() ? config.logLevel : 'warn';
  return createLogger(level, pino.destination(2));
}

/**
 * Runs `action` with the Auth service and account administration, then closes the service. With
 * `sendsMail`, emails go out as the server sends them (SMTP_URL, or the log when it is unset).
 */
export async function withService<T>(
  env: Environment,
  action: (service: { auth: Auth; admin: AccountAdmin; transfer: AccountTransfer }) => Promise<T>,
  options: { sendsMail?: boolean } = {},
): Promise<T> {
  const config = cliConfig(env);
  const logger = cliLogger(env, config);
  // Loaded on demand: help and config check need no database. No HTTP app is built.
  const { openService } = await import('../service.js');
  // Commands that send no email use the log mailer: it spares a warning about SMTP_URL.
  const service = await openService(
    config,
    logger,
    options.sendsMail === true ? {} : { mailer: logMailer(logger) },
  );
  try {
    return await action({
      auth: service.auth,
      admin: service.admin,
      transfer: service.transfer,
    });
  } finally {
    await service.close();
  }
}

/**
 * Structured logs (pino). Request lines carry the method, the path without its query string (a
 * reset link carries its token there) and the client address; headers are not logged, and the
 * places where a secret could appear are redacted besides.
 */
import type { FastifyBaseLogger } from 'fastify';
import {
  pino,
  type Bindings,
  type ChildLoggerOptions,
  type DestinationStream,
  type Logger,
} from 'pino';
import type { LogLevel } from './config.js';

interface LoggedRequest {
  method: string;
  url: string;
  ip?: string;
}

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: {
        paths: [
          'req.headers.cookie',
          'req.headers.authorization',
          '*.headers.cookie',
          '*.headers.authorization',
          'res.headers["set-cookie"]',
          '*.password',
          '*.new_password',
          '*.reset_token',
          '*.session_id',
          '*.secretKey',
        ],
        censor: '[redacted]',
      },
      serializers: {
        req: (request: LoggedRequest) => ({
          method: request.method,
          path: request.url.split('?', 1)[0],
          ip: request.ip,
        }),
      },
    },
    destination,
  );
}

type LogArguments = Parameters<Logger['info']>;

/** Whether `logger` writes lines of `level` (pino's own levels; `silent` writes none). */
function writes(logger: FastifyBaseLogger, level: Exclude<LogLevel, 'silent'>): boolean {
  return (pino.levels.values[level] ?? 0) >= (pino.levels.values[logger.level] ?? Infinity);
}

/**
 * Fastify's `childLoggerFactory`: each request's logger is the service's with the request's id
 * bound, made by pino only when the request first logs at an enabled level or asks for a child.
 * Making it runs the redaction over the bindings, which took about 6% of the service's CPU time
 * during session checks, and most requests log nothing. A route's own log level makes it at once.
 */
export function requestLogger(
  parent: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  const logger = new RequestLogger(parent, bindings, options);
  return options.level === undefined ? logger : logger.made;
}

class RequestLogger implements FastifyBaseLogger {
  #made: FastifyBaseLogger | undefined;
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions;
  constructor(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  get made(): FastifyBaseLogger {
    return (this.#made ??= this.#parent.child(this.#bindings, this.#options));
  }
  get level(): string {
    return (this.#made ?? this.#parent).level;
  }
  set level(level: string) {
    this.made.level = level;
  }
  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.made.child(bindings, options);
  }
  fatal(...args: LogArguments): void {
    if (writes(this.#made ?? this.#parent, 'fatal')) this.made.fatal(...args);
  }
  error(...args: LogArguments): void {
    if (writes(this.#made ?? this.#parent, 'error')) this.made.error(...args);
  }
  warn(...args: LogArguments): void {
    if (writes(this.#made ?? this.#parent, 'warn')) this.made.warn(...args);
  }
  info(...args: LogArguments): void {
    if (writes(this.#made ?? this.#parent, 'info')) this.made.info(...args);
  }
  debug(...args: LogArguments): void {
    if (writes(this.#made ?? this.#parent, 'debug')) this.made.debug(...args);
  }
  trace(...args: LogArguments): void {
    if (writes(this.#made ?? this.#parent, 'trace')) this.made.trace(...args);
  }
  silent(): void {}
}

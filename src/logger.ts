/**
 * Structured logs (pino). Request lines carry the method, the path without its query string (a
 * reset link carries its token there) and the client address; headers are not logged, and the
 * places where a secret could appear are redacted besides.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
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

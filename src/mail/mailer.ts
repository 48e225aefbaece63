/**
 * Outgoing mail. The service builds messages; a transport delivers them: SMTP in production, the
 * log when no SMTP server is configured (local development only: the log then holds reset links).
 */
import { createRequire } from 'node:module';
import type nodemailerModule from 'nodemailer';
import type { Logger } from 'pino';

export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/** How long one message may take to be accepted by the SMTP server, connecting included. */
export const SMTP_DEADLINE_MS = 30_000;

/**
 * Delivers through the SMTP server at `url` (smtp:// or smtps://, credentials in the URL), over a
 * small pool of reused connections, so a burst of emails cannot open a connection each. Each
 * message must be accepted within `deadlineMs` (default {@link SMTP_DEADLINE_MS}), or its send
 * fails: a server that accepts connections and never answers holds nothing for longer.
 */
export function smtpMailer(
  url: string,
  from: string,
  options: { deadlineMs?: number } = {},
): Mailer {
  const deadlineMs = options.deadlineMs ?? SMTP_DEADLINE_MS;
  // Loaded only when SMTP is configured: a service without it starts faster.
  const nodemailer = createRequire(import.meta.url)('nodemailer') as typeof nodemailerModule;
  const transport = nodemailer.createTransport({
    url,
    pool: true,
    maxConnections: 2,
    // A stalled connection is closed by these; the race below bounds the whole message.
    connectionTimeout: deadlineMs,
    greetingTimeout: deadlineMs,
    socketTimeout: deadlineMs,
  });
  return {
    async send(message) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`the SMTP server did not accept the message within ${deadlineMs} ms`));
        }, deadlineMs);
      });
      try {
        await Promise.race([transport.sendMail({ from, ...message }), deadline]);
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => {
      transport.close();
    },
  };
}

/** Writes each message to the log instead of sending it. For local development only. */
export function logMailer(logger: Logger): Mailer {
  return {
    send(message) {
      logger.warn({ mail: message }, 'SMTP_URL is not set: this email was logged, not sent');
      return Promise.resolve();
    },
    close: () => undefined,
  };
}

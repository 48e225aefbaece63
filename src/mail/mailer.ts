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

/**
 * Delivers through the SMTP server at `url` (smtp:// or smtps://, credentials in the URL), over a
 * small pool of reused connections, so a burst of emails cannot open a connection each.
 */
export function smtpMailer(url: string, from: string): Mailer {
  // Loaded only when SMTP is configured: a service without it starts faster.
  const nodemailer = createRequire(import.meta.url)('nodemailer') as typeof nodemailerModule;
  const transport = nodemailer.createTransport({ url, pool: true, maxConnections: 2 });
  return {
    async send(message) {
      await transport.sendMail({ from, ...message });
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

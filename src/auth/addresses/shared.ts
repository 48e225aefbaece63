/**
 * What verification and address change share: their dependencies, the links they mail (random
 * UUIDs, stored only as digests, see db/email-tokens.ts) and the per-account limit on the mails
 * an outsider can set off.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { DB } from '../../db/db.js';
import type { EmailTokens } from '../../db/email-tokens.js';
import type { EmailTokenPurpose } from '../../db/schema.js';
import type { Throttles } from '../../db/throttles.js';
import type { Mailer } from '../../mail/mailer.js';
import type { AuditLog } from '../audit.js';
import type { BackgroundWork } from '../background.js';
import type { Credentials, ThrottlingSettings } from '../credentials.js';
import type { SessionManager } from '../sessions.js';
import { digestToken, generateUuid } from '../tokens.js';

/** EMAIL_VERIFICATION: whether links are sent at sign-up, and whether logins need one used. */
export type EmailVerificationMode = 'off' | 'optional' | 'required';

export interface AddressSettings {
  readonly emailVerification: EmailVerificationMode;
  /** How long a link works, in seconds (EMAIL_VERIFICATION_TTL). */
  readonly emailVerificationTtl: number;
  /** Base of the links put in emails; never taken from a request. */
  readonly publicUrl: string;
  /** Abuse protection; none when undefined (its `resetEmails` bounds these mails too). */
  readonly throttling?: ThrottlingSettings | undefined;
}

export interface AddressDependencies {
  readonly db: DB;
  readonly tokens: EmailTokens;
  readonly clock: Clock;
  readonly mailer: Mailer;
  readonly logger: Logger;
  readonly throttles: Throttles;
  readonly audit: AuditLog;
  readonly background: BackgroundWork;
  readonly sessions: SessionManager;
  readonly credentials: Credentials;
  readonly settings: AddressSettings;
}

/** Throttle kinds of these mails, per account: one a minute, and the longer window. */
const MAIL_COOLDOWN = 'address_email_minute';
const MAIL_WINDOW = 'address_email';
const MAIL_COOLDOWN_MS = 60 * 1000;

/** The page a link of `purpose` leads to. */
const LINK_PATHS = { verify: '/verify_email', change: '/confirm_email_change' } as const;

/**
 * Stores a new token of `purpose` for account `userId`, proving `email`, and returns the link
 * that carries it (the token itself is nowhere else).
 */
export async function issueLink(
  deps: AddressDependencies,
  token: { userId: number; purpose: EmailTokenPurpose; email: string; sessionId?: string },
): Promise<string> {
  const secret = generateUuid();
  const now = deps.clock.now();
  await deps.tokens.create({
    tokenDigest: digestToken(secret),
    userId: token.userId,
    purpose: token.purpose,
    email: token.email,
    sessionId: token.sessionId ?? null,
    now,
    expiresAt: now + deps.settings.emailVerificationTtl * 1000,
  });
  // Now and then, the expired ones go.
  if (Math.random() < 0.01) await deps.tokens.purge(now);
  return `${deps.settings.publicUrl}${LINK_PATHS[token.purpose]}?token=${secret}`;
}

/**
 * Whether account `address` may be mailed once more: with abuse protection on, at most one a
 * minute and RESET_EMAIL_LIMIT per window, counted in the database (shared by every instance;
 * of parallel requests exactly one is first). Always true without abuse protection.
 */
export async function mayMail(deps: AddressDependencies, address: string): Promise<boolean> {
  const limit = deps.settings.throttling?.resetEmails;
  if (limit === undefined) return true;
  const now = deps.clock.now();
  const recent = await deps.throttles.hit(MAIL_COOLDOWN, address, now, MAIL_COOLDOWN_MS);
  if (recent.count > 1) return false;
  const counter = await deps.throttles.hit(MAIL_WINDOW, address, now, limit.windowSeconds * 1000);
  return counter.count <= limit.max;
}

/**
 * The emails two-factor authentication sends the account holder: it was turned on, turned off (by
 * them, or by the operator), its recovery codes were replaced, one was used. Each goes out in the
 * background, off the caller's path (a failure is logged, never thrown), and none holds a secret:
 * no code, no secret, only what happened, when, and the links to act if it was not them.
 */
import type { Clock } from '../clock.js';
import type { DB } from '../db/db.js';
import type { TwoFactorStore } from '../db/two-factor.js';
import type { Mailer, MailMessage } from '../mail/mailer.js';
import {
  recoveryCodeUsedMessage,
  recoveryCodesRegeneratedMessage,
  twoFactorDisabledMessage,
  twoFactorEnabledMessage,
} from '../mail/messages.js';
import type { BackgroundWork } from './background.js';

export interface TwoFactorNoticeDependencies {
  readonly mailer: Mailer;
  readonly background: BackgroundWork;
  readonly clock: Clock;
  /** Base of the links put in emails. */
  readonly publicUrl: string;
  /** For the codes left, told when one is used. */
  readonly store: Pick<TwoFactorStore, 'countUnusedCodes'>;
  readonly db: Pick<DB, 'findUser'>;
}

/** What every notice says besides its news: to whom, when, and the links. */
interface NoticeBasics {
  readonly to: string;
  readonly at: Date;
  readonly resetLink: string;
  readonly accountLink: string;
}

export class TwoFactorNotices {
  constructor(private readonly deps: TwoFactorNoticeDependencies) {}

  /** The factor of `to`'s account was turned on. */
  enabled(to: string): void {
    this.send(to, twoFactorEnabledMessage);
  }

  /** The factor of `to`'s account was turned off, by its holder or (`byOperator`) the operator. */
  disabled(to: string, options: { byOperator: boolean }): void {
    this.send(to, (basics) => twoFactorDisabledMessage({ ...basics, ...options }));
  }

  /** The recovery codes of `to`'s account were replaced. */
  codesReplaced(to: string): void {
    this.send(to, recoveryCodesRegeneratedMessage);
  }

  /**
   * A recovery code of account `userId` was used; the email (looked up when not given) says how
   * many are left, counted when it is sent.
   */
  recoveryCodeUsed(userId: number, email?: string): void {
    const { store, db } = this.deps;
    this.later(async (basics) => {
      const to = email ?? (await db.findUser({ id: userId }))?.email;
      if (to === undefined) return undefined;
      const left = await store.countUnusedCodes(userId);
      return recoveryCodeUsedMessage({ ...basics, to, left });
    });
  }

  private send(to: string, message: (basics: NoticeBasics) => MailMessage): void {
    this.later((basics) => Promise.resolve(message({ ...basics, to })));
  }

  /** Sends what `message` makes (nothing when it makes nothing), in the background. */
  private later(
    message: (basics: Omit<NoticeBasics, 'to'>) => Promise<MailMessage | undefined>,
  ): void {
    const { publicUrl, mailer, background, clock } = this.deps;
    const basics = {
      at: new Date(clock.now()),
      resetLink: `${publicUrl}/forgot`,
      accountLink: `${publicUrl}/account`,
    };
    background.run(async () => {
      const made = await message(basics);
      if (made !== undefined) await mailer.send(made);
    }, 'two-factor notice email failed');
  }
}

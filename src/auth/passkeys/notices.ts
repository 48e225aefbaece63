/**
 * The emails passkeys send their account's holder, in the background, off the caller's path (a
 * failure is logged, never thrown). None holds a secret.
 */
import type { Clock } from '../../clock.js';
import type { Mailer } from '../../mail/mailer.js';
import { passkeyAddedMessage, passkeyRemovedMessage } from '../../mail/passkey-messages.js';
import type { BackgroundWork } from '../background.js';

export interface PasskeyNoticeDependencies {
  readonly mailer: Mailer;
  readonly background: BackgroundWork;
  readonly clock: Clock;
  readonly publicUrl: string;
}

export class PasskeyNotices {
  constructor(private readonly deps: PasskeyNoticeDependencies) {}

  /** Passkey `name` was added to `to`'s account. */
  added(to: string, name: string): void {
    this.send((basics) => passkeyAddedMessage({ ...basics, to, name }));
  }

  /** Passkey `name` (every one, when undefined: the operator's removal) left `to`'s account. */
  removed(to: string, name?: string): void {
    this.send((basics) =>
      passkeyRemovedMessage({ ...basics, to, ...(name !== undefined && { name }) }),
    );
  }

  private send(
    message: (basics: {
      at: Date;
      resetLink: string;
      accountLink: string;
    }) => ReturnType<typeof passkeyAddedMessage>,
  ): void {
    const { publicUrl, mailer, background, clock } = this.deps;
    const made = message({
      at: new Date(clock.now()),
      resetLink: `${publicUrl}/forgot`,
      accountLink: `${publicUrl}/account`,
    });
    background.run(() => mailer.send(made), 'passkey notice email failed');
  }
}

/** Test doubles for what the service lets callers inject: clock, mailer, password hasher. */
import type { PasswordHasher } from '../../src/auth/passwords.js';
import { bcryptHasher } from '../../src/auth/passwords.js';
import type { Clock } from '../../src/clock.js';
import type { MailMessage, Mailer } from '../../src/mail/mailer.js';

/** A clock that stands still until told to move. */
export class FakeClock implements Clock {
  constructor(private current = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.current;
  }
  advanceSeconds(seconds: number): void {
    this.current += seconds * 1000;
  }
}

/** Keeps every message instead of sending it. */
export class RecordingMailer implements Mailer {
  readonly sent: MailMessage[] = [];
  send(message: MailMessage): Promise<void> {
    this.sent.push(message);
    return Promise.resolve();
  }
  close(): void {}
}

/** Real bcrypt at the cheapest cost (or `inner`), counting the calls it receives. */
export class CountingHasher implements PasswordHasher {
  hashes = 0;
  verifications: string[] = [];
  constructor(private readonly inner: PasswordHasher = bcryptHasher(4)) {}
  hash(password: string): Promise<string> {
    this.hashes += 1;
    return this.inner.hash(password);
  }
  verify(password: string, hash: string): Promise<boolean> {
    this.verifications.push(hash);
    return this.inner.verify(password, hash);
  }
  needsRehash(hash: string): boolean {
    return this.inner.needsRehash(hash);
  }
}

/**
 * A {@link CountingHasher} whose verifications wait until {@link GatedHasher.open} is called, so a
 * test can hold password checks in flight while it sends more requests.
 */
export class GatedHasher extends CountingHasher {
  /** Verifications that have begun and wait for the gate. */
  held = 0;
  private opened = false;
  private release: () => void = () => undefined;
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve));
  private readonly watchers: { count: number; resolve: () => void }[] = [];

  override async verify(password: string, hash: string): Promise<boolean> {
    if (!this.opened) {
      this.held += 1;
      for (const watcher of this.watchers.filter((w) => this.held >= w.count)) watcher.resolve();
      await this.gate;
    }
    return super.verify(password, hash);
  }

  /** Resolves once `count` verifications are held at the gate. */
  untilHeld(count: number): Promise<void> {
    if (this.held >= count) return Promise.resolve();
    return new Promise((resolve) => this.watchers.push({ count, resolve }));
  }

  /** Lets every held and future verification through. */
  open(): void {
    this.opened = true;
    this.release();
  }
}

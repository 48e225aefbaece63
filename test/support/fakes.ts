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

/** Real bcrypt at the cheapest cost, counting the calls it receives. */
export class CountingHasher implements PasswordHasher {
  hashes = 0;
  verifications: string[] = [];
  private readonly inner = bcryptHasher(4);
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

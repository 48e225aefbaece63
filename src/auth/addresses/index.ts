/**
 * Proven addresses, as the Auth service exposes them (`auth.addresses`): verification of an
 * account's address ({@link EmailVerification}) and the change to a new one ({@link EmailChange}),
 * both by links mailed to the address, stored only as digests (db/email-tokens.ts).
 */
import { EmailChange } from './change.js';
import type { AddressDependencies } from './shared.js';
import { EmailVerification } from './verification.js';

export { EmailChange } from './change.js';
export { EmailVerification } from './verification.js';
export type { AddressSettings, EmailVerificationMode } from './shared.js';

export class Addresses {
  /** Links that prove an account's address; what EMAIL_VERIFICATION requires. */
  readonly verification: EmailVerification;
  /** Moving an account to a new address, confirmed from that address. */
  readonly change: EmailChange;

  constructor(deps: AddressDependencies) {
    this.verification = new EmailVerification(deps);
    this.change = new EmailChange(deps);
  }
}

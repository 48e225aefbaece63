/**
 * The account as the Auth layer hands it out: a view, never a table row. It carries no password
 * hash and no token digest, so nothing above the Auth layer (routes, pages, CLI commands) can
 * hold one.
 */
import type { User } from '../db/schema.js';

/** An account, for front ends. */
export interface Account {
  readonly id: number;
  /** The address as typed, trimmed, lower case and NFC (what is shown and mailed to). */
  readonly email: string;
  /** When the account was made. */
  readonly createdAt: Date;
  /** Whether its address is proven: a link mailed to it was used, or the operator vouched. */
  readonly emailVerified: boolean;
}

/** The view of a stored account. */
export function accountOf(
  user: Pick<User, 'id' | 'email' | 'created_at' | 'email_verified_at'>,
): Account {
  return {
    id: user.id,
    email: user.email,
    createdAt: new Date(user.created_at),
    emailVerified: user.email_verified_at !== null,
  };
}

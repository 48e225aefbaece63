/**
 * The database schema as Kysely sees it. The `users` table keeps the course's columns under their
 * original names but `session_id`, which became the `sessions` table (several sessions per
 * account); the rest hold what expiry, bookkeeping and address comparison need. Times are integer epoch
 * milliseconds so rows read the same on every engine, whatever its time zone.
 */
import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export interface UsersTable {
  id: Generated<number>;
  /** The address as typed, trimmed, lower case and NFC (what is shown and mailed to); unique. */
  email: string;
  /** bcrypt or argon2id (PHC string) hash, or `!no-password`. */
  hashed_password: string;
  /** SHA-256 hex digest of the outstanding reset token, or null. */
  reset_token: string | null;
  reset_token_expires_at: number | null;
  created_at: number;
  updated_at: number;
  /**
   * What addresses are compared under (look-alikes share one); unique. Null only for an account
   * made before keys existed whose key another, older account already had: it is found by its
   * exact address instead.
   */
  email_key: string | null;
  /** When the account's current address was proven (a link mailed to it was used); null until then. */
  email_verified_at: number | null;
  /**
   * 1 when the outstanding reset token was emailed (completing it proves the address), 0 when it
   * was handed out otherwise (RESET_TOKEN_IN_RESPONSE).
   */
  reset_token_emailed: Generated<number>;
}

/**
 * Counters for abuse protection, one row per (kind, subject): failed logins per email, reset
 * emails per account. Shared by every instance through the database.
 */
export interface ThrottlesTable {
  kind: string;
  /** What is counted: an email address's comparison key, or an account's address. */
  subject: string;
  count: number;
  window_started_at: number;
  blocked_until: number | null;
}

/**
 * How a session was authenticated: the password alone, or with a second factor; or a passkey,
 * with user verification (a complete login) or without (one factor).
 */
export type AuthMethod =
  'password' | 'password+totp' | 'password+recovery_code' | 'passkey' | 'passkey_without_uv';

/** The methods that count as more than one factor (an access rule's `second_factor: true`). */
export const MULTI_FACTOR_METHODS: ReadonlySet<AuthMethod> = new Set([
  'password+totp',
  'password+recovery_code',
  'passkey',
]);

/**
 * One row per session. `id` is public (shown to the account holder, named by operators): random,
 * never the token nor derived from it. The token the client holds is stored only as its digest.
 */
export interface SessionsTable {
  id: string;
  /** The account; deleting it deletes its sessions (foreign key, ON DELETE CASCADE). */
  user_id: number;
  /** SHA-256 hex digest of the token in the client's cookie; unique. */
  token_digest: string;
  created_at: number;
  /** Last recorded activity; written back at most every few minutes. */
  last_seen_at: number;
  /** When the session ends at the latest, whatever its activity (SESSION_TTL after its start). */
  expires_at: number;
  /** The client's address when the session began, at most {@link SESSION_IP_MAX} characters. */
  ip: string | null;
  /** Its user agent, cut to {@link SESSION_USER_AGENT_MAX} characters. */
  user_agent: string | null;
  auth_method: AuthMethod;
}

/** Bounds of `sessions.ip` and `sessions.user_agent` (checked by the database as well). */
export const SESSION_IP_MAX = 64;
export const SESSION_USER_AGENT_MAX = 512;

/** The audit trail: what happened to which account, when, from where. Never a secret. */
export interface AuditEventsTable {
  id: Generated<number>;
  at: number;
  type: string;
  /** The account concerned, when there is one (none for a login with an unknown email). */
  user_id: number | null;
  /** The account's email at the time (kept after the account is deleted). */
  email: string | null;
  ip: string | null;
  user_agent: string | null;
  /** The public id of the session concerned (session_started, session_ended); never its token. */
  session_id: string | null;
  /** Why a session ended (session_ended). */
  reason: string | null;
  /** How the login's session was authenticated (login_succeeded): an {@link AuthMethod}. */
  auth_method: string | null;
  /** The address asked for or taken on (email_change_requested, email_changed). */
  new_email: string | null;
}

/**
 * An account's authenticator-app factor: at most one row per account, pending until a first code
 * confirms it. Deleting the account deletes it (foreign key, ON DELETE CASCADE).
 */
export interface TwoFactorTable {
  user_id: number;
  /** The TOTP secret, sealed under the service's key (auth/secret-box.ts); never in the clear. */
  secret_sealed: string;
  /** When a first code confirmed it; null while pending (not yet asked for at login). */
  enabled_at: number | null;
  /** The RFC 6238 time step of the last code accepted: no code of it or before works again. */
  last_used_step: number | null;
  created_at: number;
}

/** An account's recovery codes, each stored as a keyed hash, each usable once. */
export interface RecoveryCodesTable {
  id: Generated<number>;
  /** The account; deleting it deletes its codes (foreign key, ON DELETE CASCADE). */
  user_id: number;
  /** HMAC-SHA256 (hex) of the normalized code under a subkey of the service's key; unique. */
  code_hash: string;
  /** When it was used; null while it still works. */
  used_at: number | null;
  created_at: number;
}

/**
 * A login whose password was right, waiting for the account's second factor: a few codes at most,
 * until `expires_at` (auth/second-step.ts). Deleting the account deletes it.
 */
export interface LoginChallengesTable {
  /** SHA-256 hex digest of the token in the client's challenge cookie. */
  token_digest: string;
  user_id: number;
  created_at: number;
  expires_at: number;
  /** Codes tried against it so far. */
  attempts: number;
}

/** What an emailed address token proves: the account's address, or a new one to change to. */
export type EmailTokenPurpose = 'verify' | 'change';

/**
 * A link mailed to prove an address (email verification, address change): stored only as its
 * token's digest, usable once until `expires_at`. Deleting the account deletes it.
 */
export interface EmailTokensTable {
  /** SHA-256 hex digest of the token in the link; the key. */
  token_digest: string;
  user_id: number;
  purpose: EmailTokenPurpose;
  /** The address the link was sent to, which using it proves (for a change, the new one). */
  email: string;
  /** For a change: the public id of the session that asked (it stays when the change is done). */
  session_id: string | null;
  created_at: number;
  expires_at: number;
  /** When it was used; null while it still works. */
  used_at: number | null;
}

/**
 * An account's passkey (a WebAuthn credential). Deleting the account deletes it (foreign key, ON
 * DELETE CASCADE).
 */
export interface PasskeysTable {
  /** Public id (random), to name it in requests; never the credential id. */
  id: string;
  user_id: number;
  /** The credential id, base64url, as the authenticator made it; unique. */
  credential_id: string;
  /** The COSE public key, base64url. */
  public_key: string;
  /** The last signature counter seen (0 for authenticators that do not count). */
  counter: number;
  /** The transports the browser reported, comma-separated. */
  transports: string;
  /** `singleDevice` or `multiDevice` (a synced passkey). */
  device_type: string;
  /** 1 when the credential is backed up (synced), else 0. */
  backed_up: number;
  /** The authenticator model's AAGUID (all zeros when not told). */
  aaguid: string;
  /** What its holder calls it. */
  name: string;
  created_at: number;
  last_used_at: number | null;
}

/** A passkey ceremony's challenge: usable once, until `expires_at`. */
export interface WebauthnChallengesTable {
  /** SHA-256 hex digest of the challenge (base64url) the client was given. */
  challenge_digest: string;
  /** `register` or `login`. */
  purpose: string;
  /** The account a registration is for; null for a login (no account is named). */
  user_id: number | null;
  created_at: number;
  expires_at: number;
}

export interface Schema {
  users: UsersTable;
  sessions: SessionsTable;
  throttles: ThrottlesTable;
  audit_events: AuditEventsTable;
  two_factor: TwoFactorTable;
  recovery_codes: RecoveryCodesTable;
  login_challenges: LoginChallengesTable;
  email_tokens: EmailTokensTable;
  passkeys: PasskeysTable;
  webauthn_challenges: WebauthnChallengesTable;
}

export type EmailTokenRow = Selectable<EmailTokensTable>;
export type PasskeyRow = Selectable<PasskeysTable>;

export type TwoFactorRow = Selectable<TwoFactorTable>;

export type AuditEventRow = Selectable<AuditEventsTable>;
export type NewAuditEvent = Insertable<AuditEventsTable>;

export type Throttle = Selectable<ThrottlesTable>;

export type SessionRow = Selectable<SessionsTable>;
export type NewSession = Insertable<SessionsTable>;

export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;

/** Every column of `users`, in the table's order. */
export const USER_COLUMN_NAMES = [
  'id',
  'email',
  'hashed_password',
  'reset_token',
  'reset_token_expires_at',
  'created_at',
  'updated_at',
  'email_key',
  'email_verified_at',
  'reset_token_emailed',
] as const satisfies readonly (keyof UsersTable)[];

/** The same, for validating filter and attribute names. */
export const USER_COLUMNS: ReadonlySet<string> = new Set(USER_COLUMN_NAMES);

/**
 * `bienvenue users …`: account administration through {@link AccountAdmin} and the Auth service,
 * never the database itself, so the same rules (password policy, email normalization) apply as
 * over HTTP and every change lands in the audit log as done by `bienvenue-cli`.
 */
import type { AccountSummary } from '../../auth/admin.js';
import { describeDevice } from '../../auth/devices.js';
import type { SessionView } from '../../auth/sessions.js';
import type { TwoFactorStatus } from '../../auth/two-factor.js';
import type { PasskeyView } from '../../auth/passkeys/index.js';
import { UnknownEmailError, UserAlreadyExistsError } from '../../auth/errors.js';
import {
  flag,
  integerOption,
  type Command,
  type CommandGroup,
  type OptionSpec,
} from '../command.js';
import { json, listing, table } from '../output.js';
import { passwordSource, readNewPassword } from '../password-input.js';
import { CLI_CONTEXT, withService } from '../service-session.js';
import { transferCommands } from './users-transfer.js';

const JSON_OPTION: OptionSpec = { type: 'boolean', description: 'print JSON instead of text' };
const PASSWORD_STDIN: OptionSpec = {
  type: 'boolean',
  description: 'read the password from standard input (all of it, less one final newline)',
};
const PASSWORD_DETAILS = `The password is never taken from the command line. At a terminal it is asked for twice,
without echo; otherwise pass --password-stdin and pipe it in, e.g.
  printf '%s' "$PASSWORD" | bienvenue users add ada@example.com --password-stdin`;

function requiredEmail(positionals: readonly string[]): string {
  return positionals[0] ?? '';
}

/** Why the operator's commands work while sign-up is closed or limited to some domains. */
const POLICY_DETAILS = `The sign-up policy (SIGNUP, SIGNUP_EMAIL_DOMAINS) binds sign-ups over HTTP, not this
command: it works with sign-up closed, for any domain.`;

const add: Command = {
  kind: 'command',
  name: 'add',
  summary: 'create an account (the password policy applies)',
  arguments: ['EMAIL'],
  options: { 'password-stdin': PASSWORD_STDIN },
  details: `${PASSWORD_DETAILS}\n\n${POLICY_DETAILS}`,
  async run({ positionals, values, io }) {
    const email = requiredEmail(positionals);
    const source = passwordSource(io, flag(values, 'password-stdin'));
    await withService(io.env, async ({ auth, admin }) => {
      // Say so before asking for a password that could not be used.
      const existing = await admin.showUser(email).catch((error: unknown) => {
        if (error instanceof UnknownEmailError) return undefined;
        throw error;
      });
      if (existing !== undefined) throw new UserAlreadyExistsError(existing.email);
      const password = await readNewPassword(io, source);
      const user = await auth.addUser(email, password, CLI_CONTEXT);
      io.stdout.write(`Added ${user.email} (id ${user.id}).\n`);
    });
  },
};

const invite: Command = {
  kind: 'command',
  name: 'invite',
  summary: 'create an account without a password and email it a link to set one',
  arguments: ['EMAIL'],
  options: {},
  details: `The link works once, for INVITE_TTL seconds (default 7 days), and leads to the page where a
reset link leads. Until a password is set there, logins with the account are refused like a
wrong password. The email goes out through SMTP_URL; without it, it is written to the log
(standard error). An address that already has an account is refused (exit 4) and nothing is
sent; if the email cannot be sent, the account is removed again (exit 1), so the invitation
can be repeated. An expired invitation is renewed with "Forgot your password?" on the login
page, like any reset.

${POLICY_DETAILS}`,
  async run({ positionals, io }) {
    const email = requiredEmail(positionals);
    const user = await withService(io.env, ({ auth }) => auth.inviteUser(email, CLI_CONTEXT), {
      sendsMail: true,
    });
    io.stdout.write(`Invited ${user.email} (id ${user.id}): a link to set a password was sent.\n`);
  },
};

const list: Command = {
  kind: 'command',
  name: 'list',
  summary: 'list accounts, oldest first',
  arguments: [],
  options: {
    limit: { type: 'string', value: 'N', description: 'at most N accounts (default 100)' },
    offset: { type: 'string', value: 'N', description: 'skip the first N accounts (default 0)' },
    json: JSON_OPTION,
  },
  async run({ values, io }) {
    const limit = integerOption(values, 'limit', { fallback: 100, min: 1, max: 100_000 });
    const offset = integerOption(values, 'offset', { fallback: 0, min: 0, max: 1e12 });
    const users = await withService(io.env, ({ admin }) => admin.listUsers({ limit, offset }));
    if (flag(values, 'json')) {
      io.stdout.write(json(users));
      return;
    }
    if (users.length === 0) {
      io.stdout.write('No accounts.\n');
      return;
    }
    io.stdout.write(
      table(
        ['ID', 'EMAIL', 'CREATED', 'SESSION', 'RESET PENDING', 'FAILED LOGINS', 'BLOCKED UNTIL'],
        users.map((user) => [
          user.id,
          user.email,
          user.createdAt,
          user.sessionActive,
          user.resetPending,
          user.failedLogins,
          user.loginBlockedUntil,
        ]),
      ),
    );
  },
};

const show: Command = {
  kind: 'command',
  name: 'show',
  summary: 'show one account',
  arguments: ['EMAIL'],
  options: { json: JSON_OPTION },
  async run({ positionals, values, io }) {
    const email = requiredEmail(positionals);
    const { user, twoFactor, sessions, passkeys } = await withService(
      io.env,
      async ({ auth, admin }) => {
        const summary = await admin.showUser(email);
        return {
          user: summary,
          twoFactor: await auth.twoFactor.status(summary.id),
          sessions: await admin.sessionsOf(email),
          passkeys: await auth.passkeys.listOf(summary.id),
        };
      },
    );
    if (flag(values, 'json')) {
      io.stdout.write(json({ ...user, twoFactor, sessions, passkeys }));
      return;
    }
    io.stdout.write(describeAccount(user, twoFactor));
    io.stdout.write('\n');
    io.stdout.write(describeSessions(sessions));
    io.stdout.write('\n');
    io.stdout.write(describePasskeys(passkeys));
  },
};

function describeSessions(sessions: readonly SessionView[]): string {
  if (sessions.length === 0) return 'No live sessions.\n';
  return table(
    ['SESSION', 'CREATED', 'LAST SEEN', 'EXPIRES', 'IP', 'DEVICE', 'USER AGENT'],
    sessions.map((session) => [
      session.id,
      session.createdAt.toISOString(),
      session.lastSeenAt.toISOString(),
      session.expiresAt.toISOString(),
      session.ip,
      describeDevice(session.userAgent),
      session.userAgent,
    ]),
  );
}

function describePasskeys(passkeys: readonly PasskeyView[]): string {
  if (passkeys.length === 0) return 'No passkeys.\n';
  return table(
    ['PASSKEY', 'NAME', 'CREATED', 'LAST USED', 'SYNCED', 'AAGUID'],
    passkeys.map((passkey) => [
      passkey.id,
      passkey.name,
      passkey.createdAt.toISOString(),
      passkey.lastUsedAt?.toISOString() ?? null,
      passkey.backedUp ? 'yes' : 'no',
      passkey.aaguid,
    ]),
  );
}

function describeAccount(user: AccountSummary, twoFactor: TwoFactorStatus): string {
  return listing([
    ['id', user.id],
    ['email', user.email],
    ['created', user.createdAt],
    ['email verified', user.emailVerified],
    ['two-factor', twoFactor.enabled ? 'on' : 'off'],
    ['recovery codes left', twoFactor.enabled ? twoFactor.recoveryCodesLeft : null],
    ['session active', user.sessionActive],
    ['reset pending', user.resetPending],
    ['failed logins', user.failedLogins],
    ['login blocked until', user.loginBlockedUntil],
  ]);
}

const remove: Command = {
  kind: 'command',
  name: 'delete',
  summary: 'delete an account (its audit trail stays)',
  arguments: ['EMAIL'],
  options: {},
  async run({ positionals, io }) {
    const email = requiredEmail(positionals);
    await withService(io.env, ({ admin }) => admin.deleteUser(email, CLI_CONTEXT));
    io.stdout.write(`Deleted ${email}.\n`);
  },
};

const setPassword: Command = {
  kind: 'command',
  name: 'set-password',
  summary: "set an account's password (ends its sessions, lifts login throttling)",
  arguments: ['EMAIL'],
  options: { 'password-stdin': PASSWORD_STDIN },
  details: PASSWORD_DETAILS,
  async run({ positionals, values, io }) {
    const email = requiredEmail(positionals);
    const source = passwordSource(io, flag(values, 'password-stdin'));
    await withService(io.env, async ({ admin }) => {
      // An unknown email fails here, before the password is asked for.
      await admin.showUser(email);
      const password = await readNewPassword(io, source);
      await admin.setPassword(email, password, CLI_CONTEXT);
    });
    io.stdout.write(`Password set for ${email}; its sessions have ended.\n`);
  },
};

const revokeSessions: Command = {
  kind: 'command',
  name: 'revoke-sessions',
  summary: 'end every session of an account (logging it out everywhere), or one with --id',
  arguments: ['EMAIL'],
  options: {
    id: {
      type: 'string',
      value: 'ID',
      description: 'end only this session (an id from `bienvenue users show`)',
    },
  },
  details: 'An --id that is not one of the account’s live sessions ends nothing (exit 3).',
  async run({ positionals, values, io }) {
    const email = requiredEmail(positionals);
    const id = typeof values.id === 'string' ? values.id : undefined;
    const ended = await withService(io.env, ({ admin }) =>
      admin.revokeSessions(email, { id, context: CLI_CONTEXT }),
    );
    io.stdout.write(
      id === undefined
        ? `Sessions of ${email} ended (${ended}).\n`
        : `Session ${id} of ${email} ended.\n`,
    );
  },
};

const unlock: Command = {
  kind: 'command',
  name: 'unlock',
  summary: "forget an account's failed logins, so it may log in at once",
  arguments: ['EMAIL'],
  options: {},
  async run({ positionals, io }) {
    const email = requiredEmail(positionals);
    await withService(io.env, ({ admin }) => admin.unlock(email, CLI_CONTEXT));
    io.stdout.write(`Unlocked ${email}.\n`);
  },
};

const verify: Command = {
  kind: 'command',
  name: 'verify',
  summary: "mark an account's email address as verified",
  arguments: ['EMAIL'],
  options: {},
  details: `For an address the operator knows to be the holder's (EMAIL_VERIFICATION=required refuses
logins of accounts whose address is not verified). Accounts made with "users add" or
"users invite" are verified already. The change is audited (email_verified).`,
  async run({ positionals, io }) {
    const email = requiredEmail(positionals);
    const changed = await withService(io.env, ({ admin }) => admin.verifyEmail(email, CLI_CONTEXT));
    io.stdout.write(
      changed ? `Verified ${email}.\n` : `${email} was verified already: nothing changed.\n`,
    );
  },
};

const resetTwoFactor: Command = {
  kind: 'command',
  name: 'reset-2fa',
  summary: "turn an account's two-factor authentication off and end its sessions",
  arguments: ['EMAIL'],
  options: {},
  details: `For a holder who lost both the authenticator app and the recovery codes: make sure it is
them first, by a channel other than this account's email. The factor goes (pending or on) with
its recovery codes, every session of the account ends, the change is audited, and the holder
is emailed. They log in with the password alone, and can turn it on again on the account page.
An account without two-factor authentication is left as it is (exit 0). Needs no secret key.`,
  async run({ positionals, io }) {
    const email = requiredEmail(positionals);
    const reset = await withService(
      io.env,
      async ({ auth, admin }) =>
        auth.twoFactor.resetByOperator((await admin.showUser(email)).id, CLI_CONTEXT),
      { sendsMail: true },
    );
    io.stdout.write(
      reset
        ? `Two-factor authentication of ${email} reset; its sessions have ended.\n`
        : `${email} has no two-factor authentication: nothing changed.\n`,
    );
  },
};

const removePasskeys: Command = {
  kind: 'command',
  name: 'remove-passkeys',
  summary: 'remove every passkey of an account',
  arguments: ['EMAIL'],
  options: {},
  details: `For a holder who lost the devices that hold their passkeys, or fears one was copied. Every
passkey of the account goes, the change is audited, and the holder is emailed. The sessions stay:
end them with revoke-sessions. An account with no password left logs in again after a
password reset by email. An account without passkeys is left as it is (exit 0).`,
  async run({ positionals, io }) {
    const email = requiredEmail(positionals);
    const removed = await withService(
      io.env,
      async ({ auth, admin }) =>
        auth.passkeys.removeAllByOperator((await admin.showUser(email)).id, CLI_CONTEXT),
      { sendsMail: true },
    );
    io.stdout.write(
      removed > 0
        ? `Passkeys of ${email} removed (${removed}).\n`
        : `${email} has no passkeys: nothing changed.\n`,
    );
  },
};

/** The `users` group. */
export const usersGroup: CommandGroup = {
  kind: 'group',
  name: 'users',
  summary: 'Manage accounts.',
  commands: [
    add,
    invite,
    list,
    show,
    remove,
    setPassword,
    revokeSessions,
    unlock,
    resetTwoFactor,
    verify,
    ...transferCommands,
    removePasskeys,
  ],
};

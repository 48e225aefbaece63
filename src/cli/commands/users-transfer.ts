/**
 * `bienvenue users import FILE` and `bienvenue users export`: accounts in from another system
 * (email and password hash, as the other system stored it) and out, through
 * {@link AccountTransfer}. Progress goes to standard error: a bar at a terminal, a line every
 * tenth otherwise.
 */
import { extname } from 'node:path';
import type { ImportFormat } from '../../auth/account-import.js';
import { csvField } from '../../auth/account-import.js';
import type { ImportReport } from '../../auth/account-transfer.js';
import { flag, stringOption, UsageError, type Command, type CliIo } from '../command.js';
import { CommandRefusedError } from '../failures.js';
import { escapeControls } from '../output.js';
import { withService } from '../service-session.js';

const FORMAT_OPTION = {
  type: 'string',
  value: 'FORMAT',
  description: 'jsonl or csv (default: by the file name, .csv or else jsonl)',
} as const;

function formatOf(raw: string | undefined, path?: string): ImportFormat {
  const format =
    raw ?? (path !== undefined && extname(path).toLowerCase() === '.csv' ? 'csv' : 'jsonl');
  if (format !== 'jsonl' && format !== 'csv') {
    throw new UsageError(`--format ${format}: expected jsonl or csv.`);
  }
  return format;
}

/** Reports progress on standard error: a redrawn bar at a terminal, a line every 10% otherwise. */
function progress(io: CliIo, label: string): (fraction: number) => void {
  const terminal = (io.stderr as { isTTY?: boolean }).isTTY ?? false;
  let lastTenth = -1;
  return (fraction) => {
    const percent = Math.floor(fraction * 100);
    if (terminal) {
      const filled = Math.round(fraction * 30);
      io.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${percent}%`);
      if (fraction >= 1) io.stderr.write('\n');
      return;
    }
    const tenth = Math.floor(percent / 10);
    if (tenth > lastTenth) {
      lastTenth = tenth;
      io.stderr.write(`${label}: ${tenth * 10}%\n`);
    }
  };
}

function describeBadLines(report: ImportReport): string {
  // A line's problem may quote what the file held: nothing in it steers the terminal.
  const lines = report.bad
    .map((bad) => `line ${bad.line}: ${escapeControls(bad.problem)}\n`)
    .join('');
  const more = report.badLines - report.bad.length;
  return lines + (more > 0 ? `… and ${more} more bad lines\n` : '');
}

const importCommand: Command = {
  kind: 'command',
  name: 'import',
  summary: 'create accounts from a JSON Lines or CSV file of emails and password hashes',
  arguments: ['FILE'],
  options: {
    format: FORMAT_OPTION,
    'dry-run': { type: 'boolean', description: 'check every line, store nothing' },
    'skip-invalid': {
      type: 'boolean',
      description: 'import the good lines of a file that has bad ones',
    },
  },
  details: `One account per line: email, password_hash (bcrypt $2a$, $2b$ or $2y$, or an argon2id PHC
string, stored as it is), and optionally email_verified and created_at (ISO 8601 or epoch
milliseconds). JSON Lines: {"email": "...", "password_hash": "..."}; CSV: a header row naming
the columns, then one row per account (quote the argon2id hashes, which hold commas).
Every bad line is reported by number: a bad email, an unknown hash format, a duplicate in the
file or of an account already in the database. A file with a bad line is refused (exit 4)
unless --skip-invalid is given. Accounts are stored in batches, one transaction each; a line
whose account already exists with the same hash counts as already imported, so an interrupted
import can run again. The accounts log in with their old passwords; a hash weaker than
configured is upgraded at that login.`,
  async run({ positionals, values, io }) {
    const path = positionals[0] ?? '';
    const format = formatOf(stringOption(values, 'format'), path);
    const dryRun = flag(values, 'dry-run');
    const skipInvalid = flag(values, 'skip-invalid');
    const report = await withService(io.env, async ({ transfer }) => {
      const check = () =>
        transfer.importFile(path, { format, write: false, onProgress: progress(io, 'checking') });
      if (dryRun) return check();
      if (!skipInvalid) {
        const checked = await check();
        if (checked.badLines > 0) {
          io.stderr.write(describeBadLines(checked));
          throw new CommandRefusedError(
            `${checked.badLines} of ${checked.lines} lines are bad: nothing imported. ` +
              'Fix them, or pass --skip-invalid to import the others.',
          );
        }
      }
      return transfer.importFile(path, {
        format,
        write: true,
        onProgress: progress(io, 'importing'),
      });
    });
    io.stderr.write(describeBadLines(report));
    io.stdout.write(
      dryRun
        ? `Checked ${report.lines} lines: ${report.valid} good (${report.alreadyImported} already imported), ${report.badLines} bad. Nothing stored (--dry-run).\n`
        : `Imported ${report.imported} accounts (${report.alreadyImported} already imported, ${report.badLines} bad lines skipped) from ${report.lines} lines.\n`,
    );
  },
};

const exportCommand: Command = {
  kind: 'command',
  name: 'export',
  summary: 'write every account as JSON Lines or CSV to standard output',
  arguments: [],
  options: {
    format: { type: 'string', value: 'FORMAT', description: 'jsonl (default) or csv' },
    'with-password-hashes': {
      type: 'boolean',
      description: 'include each password hash (a warning goes to standard error)',
    },
  },
  details: `Each account's email, created_at (ISO 8601), email_verified and two_factor (whether it
is on), in the columns users import reads back; with
--with-password-hashes, password_hash too (empty for an invited account without a password).
The hashes let another system verify the same passwords: keep the file as you would keep them.`,
  async run({ values, io }) {
    const format = formatOf(stringOption(values, 'format'));
    const withHashes = flag(values, 'with-password-hashes');
    if (withHashes) {
      io.stderr.write(
        'Warning: the export holds password hashes; anyone with the file can try passwords against them offline. Keep it safe and delete it after use.\n',
      );
    }
    const columns = [
      'email',
      'created_at',
      'email_verified',
      'two_factor',
      ...(withHashes ? ['password_hash'] : []),
    ];
    await withService(io.env, async ({ transfer }) => {
      if (format === 'csv') io.stdout.write(`${columns.join(',')}\n`);
      let chunk = '';
      for await (const account of transfer.exportAccounts()) {
        const record: Record<string, string | boolean | null> = {
          email: account.email,
          created_at: account.createdAt,
          email_verified: account.emailVerified,
          two_factor: account.twoFactor,
          ...(withHashes && { password_hash: account.passwordHash }),
        };
        chunk +=
          format === 'csv'
            ? `${columns.map((column) => csvField(String(record[column] ?? ''))).join(',')}\n`
            : `${JSON.stringify(record)}\n`;
        // Written as the other commands write: nothing stored can steer a terminal.
        if (chunk.length > 1 << 16) {
          io.stdout.write(escapeControls(chunk, { keepNewlines: true }));
          chunk = '';
        }
      }
      io.stdout.write(escapeControls(chunk, { keepNewlines: true }));
    });
  },
};

/** The import and export commands of the `users` group. */
export const transferCommands: readonly Command[] = [importCommand, exportCommand];

/**
 * `bienvenue backup FILE`: a consistent copy of the SQLite database of DATABASE_URL, made while
 * the service runs (see db/backup.ts). PostgreSQL has its own tools, named in the refusal. Like
 * `migrate`, it works on the database itself: a copy of every table is not a service operation.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../../config.js';
import { UsageError, type Command } from '../command.js';

/** `bienvenue backup FILE`. */
export const backupCommand: Command = {
  kind: 'command',
  name: 'backup',
  summary: 'copy the SQLite database to a new FILE while the service runs',
  arguments: ['FILE'],
  options: {},
  details: `The copy is made with SQLite's online backup API: the database as of one moment, while
the service goes on serving and writing. FILE must not exist; the copy is checked before it is
given that name. The secret key file (the database's path plus .key) is not in the copy: keep it
apart. With PostgreSQL, use pg_dump instead.`,
  async run({ positionals, io }) {
    const config = loadConfig(io.env);
    const url = config.databaseUrl;
    if (!url.startsWith('sqlite:')) {
      throw new UsageError(
        '`bienvenue backup` copies a SQLite database, and DATABASE_URL names a PostgreSQL one: ' +
          'back it up with pg_dump (`pg_dump --format=custom --file=bienvenue.dump "$DATABASE_URL"`) ' +
          'and restore it with pg_restore.',
      );
    }
    if (url === 'sqlite::memory:') {
      throw new UsageError(
        'DATABASE_URL is sqlite::memory:, a database that lives only inside its process: there is nothing to back up.',
      );
    }
    const source = url.slice('sqlite:'.length);
    // Loaded on demand, so that `--help` of every command stays quick.
    const { backupSqliteDatabase, BackupRefusedError } = await import('../../db/backup.js');
    const summary = await backupSqliteDatabase(source, positionals[0] ?? '').catch(
      (error: unknown) => {
        throw error instanceof BackupRefusedError ? new UsageError(error.message) : error;
      },
    );
    io.stdout.write(
      `Backed up ${resolve(source)} to ${summary.destination}: ${summary.pages} pages, ` +
        `${summary.accounts} ${summary.accounts === 1 ? 'account' : 'accounts'}.\n`,
    );
    const keyFile = `${resolve(source)}.key`;
    if (config.secretKey === undefined && existsSync(keyFile)) {
      io.stderr.write(
        `note: the secret key file ${keyFile} is not in the backup; keep a copy of it apart ` +
          '(without it, no two-factor secret in the backup can be read).\n',
      );
    }
  },
};

/**
 * A consistent copy of a SQLite database while the service writes to it, made with SQLite's online
 * backup API (better-sqlite3's `backup`), never by copying the file: the service runs in WAL mode,
 * so the latest commits may live only in the `-wal` file, and a copy of the main file alone would
 * miss them or catch a page half written.
 *
 * What {@link backupSqliteDatabase} guarantees:
 * - the copy is the database as of one committed moment: every page is copied within one read
 *   transaction, which in WAL mode never blocks the service's writers;
 * - the copy is one self-contained file (rollback journal mode, no `-wal` beside it), checked with
 *   `PRAGMA quick_check` before it is given its name;
 * - the destination appears complete or not at all: the copy is written under a temporary name in
 *   the same folder, synced, then renamed; an existing file is never overwritten;
 * - the copy is readable and writable by its owner only (0600): it holds every password hash.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  openSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import SQLite from 'better-sqlite3';

/** What a backup copied. */
export interface BackupSummary {
  /** The copy, as an absolute path. */
  readonly destination: string;
  /** Database pages copied. */
  readonly pages: number;
  /** Accounts in the copy. */
  readonly accounts: number;
}

/** A backup that cannot be made as asked; the message says why and what to do. */
export class BackupRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupRefusedError';
  }
}

// Enough pages for any database in one step: the whole copy is then read in one transaction, so
// writes by the service in the meantime cannot make the backup start over (which a step-by-step
// copy does whenever another connection writes to the source).
const ALL_PAGES = 0x7fffffff;

/** Copies the SQLite database file at `source` to the new file `destination`. */
export async function backupSqliteDatabase(
  source: string,
  destination: string,
): Promise<BackupSummary> {
  const sourcePath = resolve(source);
  const destinationPath = resolve(destination);
  if (!existsSync(sourcePath)) {
    throw new BackupRefusedError(`There is no database at ${sourcePath}: check DATABASE_URL.`);
  }
  if (existsSync(destinationPath)) {
    throw new BackupRefusedError(
      `${destinationPath} exists already: remove it or name another file (a backup never overwrites one).`,
    );
  }
  const folder = dirname(destinationPath);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new BackupRefusedError(`There is no folder ${folder} to write the backup in.`);
  }
  const partial = join(
    folder,
    `.${basename(destinationPath)}.partial-${randomBytes(4).toString('hex')}`,
  );
  // fileMustExist: a mistyped DATABASE_URL must not leave an empty database behind.
  const database = new SQLite(sourcePath, { fileMustExist: true });
  try {
    database.pragma('busy_timeout = 5000');
    // The copy holds every password hash: readable by its owner only, whatever the umask.
    closeSync(openSync(partial, 'wx', 0o600));
    chmodSync(partial, 0o600);
    const { totalPages } = await database.backup(partial, { progress: () => ALL_PAGES });
    const accounts = finishCopy(partial);
    // A hard link gives the copy its name only if that name is still free (rename would replace
    // a file created meanwhile); then the temporary name goes.
    linkSync(partial, destinationPath);
    syncFolder(folder);
    return { destination: destinationPath, pages: totalPages, accounts };
  } finally {
    database.close();
    rmSync(partial, { force: true });
    rmSync(`${partial}-journal`, { force: true });
  }
}

/** Makes the copy a single file, checks it and counts its accounts; syncs it to disk. */
function finishCopy(path: string): number {
  const copy = new SQLite(path, { fileMustExist: true });
  try {
    // The copy carries the source's WAL mode; a backup is easier to keep and restore as one file.
    copy.pragma('journal_mode = DELETE');
    const check = copy.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`the copy failed its integrity check: ${String(check)}`);
    const row = copy.prepare('SELECT count(*) AS accounts FROM users').get() as {
      accounts: number;
    };
    return row.accounts;
  } finally {
    copy.close();
    const handle = openSync(path, 'r');
    try {
      fsyncSync(handle);
    } finally {
      closeSync(handle);
    }
  }
}

function syncFolder(folder: string): void {
  const handle = openSync(folder, 'r');
  try {
    fsyncSync(handle);
  } finally {
    closeSync(handle);
  }
}

/**
 * Moving accounts in and out: the import of a file of email addresses and password hashes from
 * another system, and the export of every account.
 *
 * Guarantees of an import:
 * - Every line is checked: a bad email, an unknown hash format, a duplicate of an earlier line
 *   (by comparison key) or of an account already in the database is reported with its number.
 * - Without `write`, nothing is stored (a dry run). With it, accounts are stored in batches of
 *   {@link IMPORT_BATCH}, one transaction each, and never over an existing account. A line whose
 *   account already exists with the very same hash counts as already imported, not as bad, so
 *   an interrupted import runs again to its end and adds no duplicates.
 * - Hashes are stored as they are: the accounts log in with their old passwords, and a hash
 *   weaker than configured is upgraded at that login (credentials.ts).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Clock } from '../clock.js';
import type { ExportedUser, UserTransfer } from '../db/user-transfer.js';
import {
  ImportLineReader,
  type ImportedAccount,
  type ImportFormat,
  type LineProblem,
} from './account-import.js';
import { hasPassword } from './passwords.js';

/**
 * Lines per batch: one transaction to store them, and one query to find the existing accounts of
 * those not stored (of all of them, in a check).
 */
export const IMPORT_BATCH = 1000;
/** Bad lines kept in a report at most (the count goes on). */
const MAX_REPORTED = 1000;

export interface ImportOptions {
  readonly format: ImportFormat;
  /** Store the accounts; without it, check only. */
  readonly write: boolean;
  /** Told of progress, as the share of the file read (0 to 1). */
  readonly onProgress?: (fraction: number) => void;
}

export interface BadLine {
  readonly line: number;
  readonly problem: LineProblem;
}

export interface ImportReport {
  /** Lines that hold an account (blank lines and the CSV header aside). */
  readonly lines: number;
  readonly valid: number;
  /** Stored by this run. */
  readonly imported: number;
  /** Already in the database with the same hash (an earlier run's). */
  readonly alreadyImported: number;
  readonly badLines: number;
  /** The first {@link MAX_REPORTED} bad lines. */
  readonly bad: readonly BadLine[];
}

/** One account as the export writes it. */
export interface ExportedAccount {
  readonly email: string;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly emailVerified: boolean;
  readonly twoFactor: boolean;
  /** The stored hash; null for an account without a password (invited). */
  readonly passwordHash: string | null;
}

interface PendingLine {
  readonly line: number;
  readonly account: ImportedAccount;
}

export class AccountTransfer {
  constructor(
    private readonly store: UserTransfer,
    private readonly clock: Clock,
  ) {}

  /** Imports (or with `write` false, checks) the accounts of the file at `path`. */
  async importFile(path: string, options: ImportOptions): Promise<ImportReport> {
    const size = (await stat(path)).size;
    const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
    let bytesRead = 0;
    let reported = 0;
    stream.on('data', (chunk) => {
      bytesRead += Buffer.byteLength(chunk);
    });
    const reader = new ImportLineReader(options.format);
    const seen = new Map<string, number>();
    const bad: BadLine[] = [];
    let badLines = 0;
    let lines = 0;
    let valid = 0;
    let imported = 0;
    let alreadyImported = 0;
    const refuse = (line: number, problem: LineProblem) => {
      badLines += 1;
      if (bad.length < MAX_REPORTED) bad.push({ line, problem });
    };
    let pending: PendingLine[] = [];
    const flush = async () => {
      const batch = pending;
      pending = [];
      const now = this.clock.now();
      // A real run stores first: in the usual import nothing exists yet, and then there is
      // nothing to look up. Only the lines not stored are compared with what the database holds.
      let unstored = batch;
      if (options.write) {
        const stored = await this.store.insert(
          batch.map(({ account }) => ({
            email: account.email.address,
            emailKey: account.email.key,
            hashedPassword: account.passwordHash,
            createdAt: account.createdAt ?? now,
            emailVerifiedAt: account.emailVerified === true ? (account.createdAt ?? now) : null,
          })),
          now,
        );
        imported += stored.size;
        valid += stored.size;
        unstored = batch.filter(({ account }) => !stored.has(account.email.key));
      }
      const { byKey, byAddress } = await this.store.existing(
        unstored.map((entry) => entry.account.email.key),
        unstored.map((entry) => entry.account.email.address),
      );
      for (const { line, account } of unstored) {
        const stored = byKey.get(account.email.key) ?? byAddress.get(account.email.address);
        if (stored === account.passwordHash) {
          alreadyImported += 1;
          valid += 1;
        } else if (stored !== undefined) {
          refuse(line, `${account.email.address} already has an account in the database`);
        } else if (options.write) {
          // Not stored, yet not there: the account it collided with went away meanwhile.
          refuse(line, `${account.email.address} could not be stored; run the import again`);
        } else {
          valid += 1;
        }
      }
      if (options.onProgress !== undefined && size > 0) {
        const fraction = Math.min(1, bytesRead / size);
        if (fraction > reported) {
          reported = fraction;
          options.onProgress(fraction);
        }
      }
    };
    let number = 0;
    for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
      number += 1;
      const read = reader.line(text);
      if (read === undefined) continue;
      if (typeof read === 'string') {
        // The CSV header's own problem is not an account's line.
        if (number > 1 || options.format === 'jsonl') lines += 1;
        refuse(number, read);
        continue;
      }
      lines += 1;
      const earlier = seen.get(read.email.key);
      if (earlier !== undefined) {
        refuse(number, `duplicate of line ${earlier} (${read.email.address})`);
        continue;
      }
      seen.set(read.email.key, number);
      pending.push({ line: number, account: read });
      if (pending.length >= IMPORT_BATCH) await flush();
    }
    await flush();
    options.onProgress?.(1);
    return { lines, valid, imported, alreadyImported, badLines, bad };
  }

  /** Every account, in id order, a page at a time. */
  async *exportAccounts(): AsyncGenerator<ExportedAccount> {
    let afterId = 0;
    for (;;) {
      const page: ExportedUser[] = await this.store.page(afterId, IMPORT_BATCH);
      for (const user of page) {
        yield {
          email: user.email,
          createdAt: new Date(user.createdAt).toISOString(),
          emailVerified: user.emailVerified,
          twoFactor: user.twoFactor,
          passwordHash: hasPassword(user.hashedPassword) ? user.hashedPassword : null,
        };
      }
      const last = page.at(-1);
      if (last === undefined || page.length < IMPORT_BATCH) return;
      afterId = last.id;
    }
  }
}

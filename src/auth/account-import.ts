/**
 * One line of an account import file, read and checked: JSON Lines (one object per line) or CSV
 * (a header row naming the columns, then one account per row; fields with commas or quotes are
 * quoted, as RFC 4180 says). Columns: `email`, `password_hash` (bcrypt `$2a$`, `$2b$`, `$2y$`, or
 * an argon2id PHC string, stored as it is), and optionally `email_verified` and `created_at`
 * (ISO 8601, or epoch milliseconds). Pure: no database, no clock.
 */
import { parseOptions } from '@node-rs/argon2';
import { parseEmail, type EmailAddress } from './email.js';

export type ImportFormat = 'jsonl' | 'csv';

/** A line that reads as an account. */
export interface ImportedAccount {
  readonly email: EmailAddress;
  readonly passwordHash: string;
  /** Epoch milliseconds; undefined when the line gives none. */
  readonly createdAt: number | undefined;
  /** Whether the address counts as proven; absent means not. */
  readonly emailVerified: boolean | undefined;
}

/** What is wrong with a line, in a few words. */
export type LineProblem = string;

const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

/** Why `hash` is not a bcrypt hash nor an argon2id PHC string, or null when it is one. */
export function hashFormatProblem(hash: string): LineProblem | null {
  if (BCRYPT_HASH.test(hash)) return null;
  if (hash.startsWith('$argon2id$')) {
    try {
      parseOptions(hash);
      return null;
    } catch {
      return 'malformed argon2id hash';
    }
  }
  return 'unknown password hash format (expected bcrypt $2a$, $2b$, $2y$ or argon2id)';
}

/** The fields of one CSV row; null when its quotes do not close. */
export function csvFields(line: string): string[] | null {
  const fields: string[] = [];
  let index = 0;
  for (;;) {
    if (line[index] === '"') {
      let value = '';
      index += 1;
      for (;;) {
        const quote = line.indexOf('"', index);
        if (quote === -1) return null;
        value += line.slice(index, quote);
        if (line[quote + 1] === '"') {
          value += '"';
          index = quote + 2;
          continue;
        }
        index = quote + 1;
        break;
      }
      fields.push(value);
      if (index === line.length) return fields;
      if (line[index] !== ',') return null;
      index += 1;
    } else {
      const comma = line.indexOf(',', index);
      if (comma === -1) {
        fields.push(line.slice(index));
        return fields;
      }
      fields.push(line.slice(index, comma));
      index = comma + 1;
    }
  }
}

/** A CSV field, quoted when it must be. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function parseCreatedAt(raw: unknown): number | undefined | LineProblem {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const value =
    typeof raw === 'number'
      ? raw
      : typeof raw === 'string' && /^\d+$/.test(raw)
        ? Number(raw)
        : typeof raw === 'string'
          ? Date.parse(raw)
          : NaN;
  if (!Number.isSafeInteger(value) || value < 0) {
    return 'created_at is not an ISO 8601 time or epoch milliseconds';
  }
  return value;
}

function parseVerified(raw: unknown): boolean | undefined | LineProblem {
  if (raw === undefined || raw === null || raw === '') return undefined;
  // PostgreSQL's CSV output writes booleans as t and f.
  if (raw === true || raw === 'true' || raw === 't' || raw === '1') return true;
  if (raw === false || raw === 'false' || raw === 'f' || raw === '0') return false;
  return 'email_verified is not true or false';
}

/** The account a line's fields describe, or what is wrong with it. */
export function readAccount(
  fields: Readonly<Record<string, unknown>>,
): ImportedAccount | LineProblem {
  const { email: rawEmail, password_hash: rawHash } = fields;
  if (typeof rawEmail !== 'string' || rawEmail === '') return 'no email';
  const email = parseEmail(rawEmail);
  if (email === null) return `bad email ${JSON.stringify(rawEmail)}`;
  if (typeof rawHash !== 'string' || rawHash === '') return 'no password_hash';
  const hashProblem = hashFormatProblem(rawHash);
  if (hashProblem !== null) return hashProblem;
  const createdAt = parseCreatedAt(fields.created_at);
  if (typeof createdAt === 'string') return createdAt;
  const emailVerified = parseVerified(fields.email_verified);
  if (typeof emailVerified === 'string') return emailVerified;
  return { email, passwordHash: rawHash, createdAt, emailVerified };
}

/**
 * Reads the lines of one file in `format`: `line` returns the account of each line after the CSV
 * header, or its problem, or undefined for a blank line or the header itself.
 */
export class ImportLineReader {
  private header: string[] | undefined;

  constructor(private readonly format: ImportFormat) {}

  line(text: string): ImportedAccount | LineProblem | undefined {
    const trimmed = text.trim();
    if (trimmed === '') return undefined;
    if (this.format === 'jsonl') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(trimmed);
      } catch {
        return 'not a JSON object';
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        return 'not a JSON object';
      }
      return readAccount(parsed as Record<string, unknown>);
    }
    const cells = csvFields(trimmed);
    if (this.header === undefined) {
      if (cells === null || !cells.includes('email') || !cells.includes('password_hash')) {
        this.header = [];
        return 'the CSV header must name the columns email and password_hash';
      }
      this.header = cells;
      return undefined;
    }
    if (cells === null) return 'unclosed quote';
    if (cells.length !== this.header.length) {
      return `${cells.length} fields where the header names ${this.header.length}`;
    }
    const record: Record<string, string> = {};
    this.header.forEach((column, index) => (record[column] = cells[index] ?? ''));
    return readAccount(record);
  }
}

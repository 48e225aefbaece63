/**
 * What the migrations share. Each migration is written against an untyped handle and spells its
 * own column types and bounds: a migration must not change with today's schema or code.
 */
import type { ColumnDefinitionBuilder, Kysely } from 'kysely';
import type { Engine } from '../connection.js';

// Kysely's migration API takes an untyped handle: a migration must not depend on today's schema.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDb = Kysely<any>;

/** Where migrations report what an operator should know (a pino logger will do). */
export interface MigrationLog {
  warn(details: object, message: string): void;
}

/** An integer key that is never reused, spelled out NOT NULL (SQLite would describe it nullable). */
export function idColumn(engine: Engine) {
  return (col: ColumnDefinitionBuilder) =>
    engine === 'postgres'
      ? col.primaryKey().notNull().generatedByDefaultAsIdentity()
      : col.primaryKey().notNull().autoIncrement();
}

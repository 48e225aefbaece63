/**
 * Databases as an older version of the service left them: migrated up to a given migration
 * only, so that a test can put rows there and watch the later migrations handle them.
 */
import { Migrator, sql, type Kysely, type MigrationResultSet } from 'kysely';
import type { Database } from '../../src/db/connection.js';
import { migrations, type MigrationOptions } from '../../src/db/migrations.js';

/**
 * Applies the migrations up to and including `name` (or undoes those after it), as
 * migrateToLatest would have then.
 */
export async function migrateUpTo(
  database: Database,
  name: string,
  options: MigrationOptions = {},
): Promise<MigrationResultSet> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const db = database.kysely as Kysely<any>;
  const schema =
    database.engine === 'postgres'
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]
          ?.schema
      : undefined;
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations(database.engine, options)) },
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  const result = await migrator.migrateTo(name);
  if (result.error !== undefined)
    throw new Error(`migration to ${name} failed`, { cause: result.error });
  return result;
}

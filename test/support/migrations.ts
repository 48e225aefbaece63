/**
 * Databases as an older version of the service left them: migrated up to a given migration
 * only, so that a test can put rows there and watch the later migrations handle them.
 */
import type { MigrationResultSet } from 'kysely';
import type { Database } from '../../src/db/connection.js';
import { migratorFor, type MigrationOptions } from '../../src/db/migrations.js';

/**
 * Applies the migrations up to and including `name` (or undoes those after it), as
 * migrateToLatest would have then.
 */
export async function migrateUpTo(
  database: Database,
  name: string,
  options: MigrationOptions = {},
): Promise<MigrationResultSet> {
  const migrator = await migratorFor(database, options);
  const result = await migrator.migrateTo(name);
  if (result.error !== undefined)
    throw new Error(`migration to ${name} failed`, { cause: result.error });
  return result;
}

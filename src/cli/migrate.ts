/** `npm run migrate`: applies pending migrations to DATABASE_URL and reports what it did. */
import { ConfigError, loadConfig } from '../config.js';
import { openDatabase } from '../db/connection.js';
import { migrateToLatest } from '../db/migrations.js';
import { describeError } from '../describe-error.js';

try {
  const config = loadConfig(process.env);
  const database = openDatabase(config.databaseUrl);
  try {
    const { results = [] } = await migrateToLatest(database);
    for (const result of results) process.stdout.write(`applied ${result.migrationName}\n`);
    if (results.length === 0) process.stdout.write('database is up to date\n');
  } finally {
    await database.kysely.destroy();
  }
} catch (error) {
  process.stderr.write(`${describeError(error)}\n`);
  process.exitCode = error instanceof ConfigError ? 2 : 1;
}

/**
 * `bienvenue migrate`: applies pending migrations to DATABASE_URL and reports what it did. The
 * only command that works on the database directly, since the service needs the schema first.
 */
import { loadConfig } from '../../config.js';
import type { Command } from '../command.js';

/** `bienvenue migrate`. */
export const migrateCommand: Command = {
  kind: 'command',
  name: 'migrate',
  summary: 'apply pending database migrations (the server also does at start)',
  arguments: [],
  options: {},
  async run({ io }) {
    const config = loadConfig(io.env);
    // Loaded on demand, so that `--help` of every command stays quick.
    const { openDatabase } = await import('../../db/connection.js');
    const { migrateToLatest } = await import('../../db/migrations.js');
    const database = openDatabase(config.databaseUrl, { poolSize: 1 });
    try {
      const log = {
        warn: (details: object, message: string) => {
          io.stderr.write(`warning: ${message}: ${JSON.stringify(details)}\n`);
        },
      };
      const { results = [] } = await migrateToLatest(database, { log });
      for (const result of results) io.stdout.write(`applied ${result.migrationName}\n`);
      if (results.length === 0) io.stdout.write('database is up to date\n');
    } finally {
      await database.kysely.destroy();
    }
  },
};

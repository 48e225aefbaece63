/**
 * Comparison keys of email addresses (`users.email_key`), filled from the stored addresses.
 */
import { sql, type Migration } from 'kysely';
import { emailKey, normalizeEmail } from '../../auth/email.js';
import type { Engine } from '../connection.js';
import type { AnyDb, MigrationLog } from './shared.js';

/** Migration `0005_email_keys`. */
export function emailKeysMigration(engine: Engine, log: MigrationLog | undefined): Migration {
  return {
    // Look-alike addresses are compared under one key (auth/email.ts). Existing addresses are
    // left as they are, and reported when the normalization of today would write them
    // otherwise, or when their keys collide; the ids are reported, never the addresses.
    async up(db: AnyDb) {
      await addEmailKeys(db, engine, log);
    },
    async down(db: AnyDb) {
      await db.schema.dropIndex('users_email_key_key').ifExists().execute();
      await db.schema.alterTable('users').dropColumn('email_key').execute();
    },
  };
}

/** Rows read and keyed at a time while filling `users.email_key`. */
const EMAIL_KEY_BATCH = 500;
/** Ids listed at most in one report line (the count is always whole). */
const MOST_IDS_REPORTED = 1000;

/**
 * Adds `users.email_key`, fills it from each stored address, and makes it unique. Of accounts
 * whose keys collide, one keeps the key (the first whose address is in today's normal form, or
 * else the oldest); the others keep a null key and are found by their exact address only, which
 * no typed input reaches for an address not in today's normal form (such an account could never
 * log in before either: the log names it for the operator). On
 * SQLite, which runs this outside a transaction, every step can be run again: a run cut short is
 * completed by the next one.
 */
async function addEmailKeys(db: AnyDb, engine: Engine, log: MigrationLog | undefined) {
  if (engine === 'postgres') {
    await sql`ALTER TABLE users ADD COLUMN IF NOT EXISTS email_key text`.execute(db);
  } else {
    const { rows } = await sql<{
      name: string;
    }>`SELECT name FROM pragma_table_info('users') WHERE name = 'email_key'`.execute(db);
    if (rows.length === 0)
      await db.schema.alterTable('users').addColumn('email_key', 'text').execute();
  }
  await db.schema.dropIndex('users_email_key_key').ifExists().execute();

  const notNormal: number[] = [];
  for (let after = 0; ;) {
    const batch = (await db
      .selectFrom('users')
      .select(['id', 'email'])
      .where('id', '>', after)
      .orderBy('id')
      .limit(EMAIL_KEY_BATCH)
      .execute()) as { id: number; email: string }[];
    if (batch.length === 0) break;
    after = batch.at(-1)?.id ?? after;
    const ownKey: number[] = [];
    for (const { id, email } of batch) {
      if (normalizeEmail(email) !== email) notNormal.push(id);
      const key = emailKey(email);
      if (key === email) ownKey.push(id);
      else await db.updateTable('users').set({ email_key: key }).where('id', '=', id).execute();
    }
    if (ownKey.length > 0) {
      await db
        .updateTable('users')
        .set({ email_key: sql`email` })
        .where('id', 'in', ownKey)
        .execute();
    }
  }

  const collisions: { kept: number; others: number[] }[] = [];
  const shared = (await db
    .selectFrom('users')
    .select('email_key')
    .where('email_key', 'is not', null)
    .groupBy('email_key')
    .having(sql`count(*)`, '>', 1)
    .execute()) as { email_key: string }[];
  for (const { email_key: key } of shared) {
    const holders = (await db
      .selectFrom('users')
      .select(['id', 'email'])
      .where('email_key', '=', key)
      .orderBy('id')
      .execute()) as { id: number; email: string }[];
    const kept =
      holders.find((holder) => normalizeEmail(holder.email) === holder.email) ?? holders[0];
    if (kept === undefined) continue;
    const others = holders.filter((holder) => holder !== kept).map((holder) => holder.id);
    await db.updateTable('users').set({ email_key: null }).where('id', 'in', others).execute();
    collisions.push({ kept: kept.id, others });
  }
  await db.schema
    .createIndex('users_email_key_key')
    .ifNotExists()
    .on('users')
    .column('email_key')
    .unique()
    .execute();

  if (notNormal.length > 0) {
    log?.warn(
      { count: notNormal.length, ids: notNormal.slice(0, MOST_IDS_REPORTED) },
      'accounts whose stored email address is not in the normal form of today (left unchanged; they log in by comparison key)',
    );
  }
  if (collisions.length > 0) {
    log?.warn(
      {
        count: collisions.reduce((total, collision) => total + collision.others.length, 0),
        collisions: collisions.slice(0, MOST_IDS_REPORTED),
      },
      'accounts whose email addresses compare equal to another account: look-alikes reach the account listed as kept; each other one logs in with its exact address if it is in normal form, and cannot otherwise (resolve those by hand)',
    );
  }
}

/**
 * Where the service's secret key (the key of the secret box) comes from, decided once at start:
 *
 * - `SECRET_KEY` when set, on either engine;
 * - SQLite with a database file: the key file beside it, `<database file>.key`, holding the 32
 *   raw bytes. The first start creates it; later starts read it. It is created under a temporary
 *   name with mode 0600 from the start (`open` with `wx`, never a chmod afterwards), written and
 *   synced, then linked to its name, so no process ever reads a half-written key, and two
 *   processes starting together end up with the same one. A key file of the wrong size, or one
 *   that its group or others may read or write, is refused: the start stops with its path and
 *   what to do;
 * - `sqlite::memory:`: a random key for the life of the process (its database dies with it);
 * - PostgreSQL without `SECRET_KEY`: no key. Instances share the database but no disk, so a key
 *   file would differ from one instance to the next; the server starts, warns
 *   ({@link warnOfMissingSecretKey}), and enrolling a second factor is refused
 *   (`two_factor_unavailable`). The command-line tool does not warn: it enrols nobody.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, type Config } from '../config.js';
import { SECRET_KEY_BYTES } from './secret-box.js';

/** A key file that cannot be used; a configuration mistake (exit status 2), like a bad variable. */
export class SecretKeyFileError extends ConfigError {
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super([`secret key file ${path}: ${problem}`]);
    this.name = 'SecretKeyFileError';
  }
}

/** Where the key will come from, as `resolveSecretKey` decides it. */
export type SecretKeySource =
  | { readonly kind: 'environment' }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'ephemeral' }
  | { readonly kind: 'none' };

/** The source of `config`'s key, without touching any file. */
export function secretKeySource(config: Config): SecretKeySource {
  if (config.secretKey !== undefined) return { kind: 'environment' };
  if (config.databaseUrl === 'sqlite::memory:') return { kind: 'ephemeral' };
  const path = keyFilePath(config);
  return path === undefined ? { kind: 'none' } : { kind: 'file', path };
}

/** The key file of a SQLite database file, as an absolute path; undefined for other databases. */
function keyFilePath(config: Config): string | undefined {
  const url = config.databaseUrl;
  if (!url.startsWith('sqlite:') || url === 'sqlite::memory:') return undefined;
  return resolve(`${url.slice('sqlite:'.length)}.key`);
}

/** The key of the secret box, found or made as the module's paragraph says. */
export async function resolveSecretKey(
  config: Config,
  logger: Logger,
): Promise<Buffer | undefined> {
  const source = secretKeySource(config);
  switch (source.kind) {
    case 'environment':
      await warnOfAnotherKeyFile(config, logger);
      return config.secretKey;
    case 'ephemeral':
      return randomBytes(SECRET_KEY_BYTES);
    case 'none':
      return undefined;
    case 'file':
      return (await readKeyFile(source.path)) ?? (await createKeyFile(source.path, logger));
  }
}

/** The server's warning at start when it has no key. */
export function warnOfMissingSecretKey(logger: Logger): void {
  logger.warn(
    'SECRET_KEY is not set: two-factor authentication cannot be turned on (503 two_factor_unavailable); set it to 32 random bytes, the same on every instance',
  );
}

/**
 * Reads and checks the key file at `path`; undefined when there is none. Used at start and by
 * `bienvenue config check`, which creates nothing.
 */
export async function readKeyFile(path: string): Promise<Buffer | undefined> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return undefined;
    throw new SecretKeyFileError(path, `cannot be read (${codeOf(error) ?? String(error)})`);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new SecretKeyFileError(path, 'is not a regular file');
    if ((stats.mode & 0o077) !== 0) {
      const mode = (stats.mode & 0o777).toString(8);
      throw new SecretKeyFileError(
        path,
        `its group or others may use it (mode ${mode}); make it the owner's alone: chmod 600`,
      );
    }
    if (stats.size !== SECRET_KEY_BYTES) {
      throw new SecretKeyFileError(
        path,
        `holds ${stats.size} bytes, not ${SECRET_KEY_BYTES}: restore it from a backup`,
      );
    }
    const key = Buffer.alloc(SECRET_KEY_BYTES);
    const { bytesRead } = await handle.read(key, 0, SECRET_KEY_BYTES, 0);
    if (bytesRead !== SECRET_KEY_BYTES) throw new SecretKeyFileError(path, 'was cut short');
    return key;
  } finally {
    await handle.close();
  }
}

/** Creates the key file, or reads the one another process created first. */
async function createKeyFile(path: string, logger: Logger): Promise<Buffer> {
  await mkdir(dirname(path), { recursive: true });
  const key = randomBytes(SECRET_KEY_BYTES);
  const temporary = `${path}.${randomUUID()}.tmp`;
  try {
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(key);
      await handle.sync();
    } finally {
      await handle.close();
    }
    // link() never replaces an existing file: of two processes, one creates the key, and the
    // other reads it.
    await link(temporary, path);
  } catch (error) {
    if (codeOf(error) !== 'EEXIST') {
      throw new SecretKeyFileError(path, `cannot be created (${codeOf(error) ?? String(error)})`);
    }
    const existing = await readKeyFile(path);
    if (existing === undefined) throw new SecretKeyFileError(path, 'vanished while created');
    return existing;
  } finally {
    await rm(temporary, { force: true });
  }
  await syncDirectory(dirname(path));
  logger.info(
    { path },
    'created the secret key file: back it up apart from the database (without it, stored two-factor secrets cannot be read)',
  );
  return key;
}

/** The new name must survive a crash too, or the key would be lost with secrets sealed under it. */
async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, constants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some platforms and file systems cannot sync a directory; the file itself is synced.
  }
}

/** SECRET_KEY set beside an older key file: secrets sealed under that file's key stay sealed. */
async function warnOfAnotherKeyFile(config: Config, logger: Logger): Promise<void> {
  const path = keyFilePath(config);
  if (path === undefined || config.secretKey === undefined) return;
  const fileKey = await readKeyFile(path).catch(() => undefined);
  if (fileKey !== undefined && !fileKey.equals(config.secretKey)) {
    logger.warn(
      { path },
      'SECRET_KEY differs from the key file beside the database: secrets sealed under the file’s key cannot be opened',
    );
  }
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

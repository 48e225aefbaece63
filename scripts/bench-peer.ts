/**
 * The peer of `npm run bench`: Better Auth (a benchmark-only dependency) with email and password
 * on SQLite (better-sqlite3, the file at PEER_DATABASE), served by Node's own HTTP server through
 * its Node handler, on PORT. Configured as its documentation says for production: NODE_ENV
 * production, a secret, its own schema migrated, telemetry off. Its rate limiter is off, as
 * Bienvenue's is in the benchmark (RATE_LIMIT=off): otherwise it would answer most of the load
 * with 429s. PEER_COOKIE_CACHE=1 turns on its session cookie cache (5 minutes, the value of its
 * performance guide), which answers session checks from a signed cookie without reading the
 * database, so that a revoked session stays valid until the cache expires.
 * `GET /` answers 200, so that the benchmark can see it is up.
 */
import { createServer } from 'node:http';
import Database from 'better-sqlite3';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';

const port = Number(process.env.PORT);
const path = process.env.PEER_DATABASE;
if (path === undefined) throw new Error('PEER_DATABASE is not set');
const sqlite = new Database(path);
sqlite.pragma('journal_mode = WAL');

const options = {
  database: sqlite,
  baseURL: `http://127.0.0.1:${port}`,
  secret: 'a benchmark secret of more than thirty-two characters',
  emailAndPassword: { enabled: true },
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
  session: {
    cookieCache: { enabled: process.env.PEER_COOKIE_CACHE === '1', maxAge: 5 * 60 },
  },
};
const { runMigrations } = await getMigrations(options);
await runMigrations();
const auth = betterAuth(options);
const handler = toNodeHandler(auth);

createServer((request, response) => {
  if (request.url === '/') {
    response.writeHead(200, { 'content-type': 'text/plain' }).end('up\n');
    return;
  }
  void handler(request, response);
}).listen(port, '127.0.0.1');

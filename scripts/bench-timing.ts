/**
 * `npm run bench:timing`: measures whether answers tell which accounts exist. Against the real
 * service (SQLite in a temporary folder, bcrypt at BCRYPT_ROUNDS, default 12), over real HTTP, it
 * times interleaved pairs of requests that differ only in whether the email has an account:
 * logins with a wrong password versus logins with an unknown email, and reset requests for a
 * registered versus an unknown email. Prints median and 10th/90th percentiles in milliseconds.
 * Usage: npm run bench:timing -- [pairs=40]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createService } from '../src/compose.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';

const pairs = Number(process.argv[2] ?? 40);
const directory = mkdtempSync(join(tmpdir(), 'bienvenue-bench-'));
const config = loadConfig({
  DATABASE_URL: `sqlite:${join(directory, 'bench.db')}`,
  BCRYPT_ROUNDS: process.env.BCRYPT_ROUNDS ?? '12',
  LOG_LEVEL: 'silent',
});
const { app } = await createService(config, createLogger('silent'), {
  mailer: { send: () => Promise.resolve(), close: () => undefined },
});
const address = await app.listen({ port: 0, host: '127.0.0.1' });

async function timed(path: string, fields: Record<string, string>): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${address}${path}`, {
    method: 'POST',
    body: new URLSearchParams(fields),
  });
  await response.arrayBuffer();
  return performance.now() - started;
}

const known = 'known@example.com';
await timed('/users', { email: known, password: 'the right password' });
const samples: Record<string, number[]> = {
  'login, wrong password': [],
  'login, unknown email': [],
  'reset, registered email': [],
  'reset, unknown email': [],
};
for (let i = 0; i < pairs; i += 1) {
  const runs: [string, () => Promise<number>][] = [
    ['login, wrong password', () => timed('/sessions', { email: known, password: `wrong ${i}` })],
    [
      'login, unknown email',
      () => timed('/sessions', { email: `nobody${i}@example.com`, password: `wrong ${i}` }),
    ],
    ['reset, registered email', () => timed('/reset_password', { email: known })],
    ['reset, unknown email', () => timed('/reset_password', { email: `nobody${i}@example.com` })],
  ];
  // Alternate the order, so neither kind always runs first.
  if (i % 2 === 1) runs.reverse();
  for (const [name, run] of runs) samples[name]?.push(await run());
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};
console.log(`bcrypt cost ${config.bcryptRounds}, ${pairs} pairs, times in ms`);
console.log('request                    median      p10      p90');
for (const [name, values] of Object.entries(samples)) {
  const row = [50, 10, 90].map((p) => percentile(values, p).toFixed(2).padStart(8));
  console.log(`${name.padEnd(25)} ${row.join(' ')}`);
}
await app.close();
rmSync(directory, { recursive: true, force: true });

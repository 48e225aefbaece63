/**
 * Password hashes on threads of their own, at a lower CPU priority than the event loop.
 *
 * A hash holds a core for a quarter of a second. On libuv's thread pool it competes for the cores
 * as an equal of the event loop, so in a login storm the session checks waiting on the loop get
 * only their share of a core. On these threads (Linux only: there the nice value is a thread's
 * own) the kernel's scheduler gives the loop the core whenever it has work, and the hashes the
 * rest; with nothing else to do, hashes still run at full speed. The hashing pool
 * (`hash-pool.ts`) still decides how many run at once.
 *
 * Guarantees:
 * - One operation at a time per thread; a thread is started when every started one is busy, and
 *   stays for the next operations. They are the process's, shared by every service in it.
 * - A thread holds the process open only while it works.
 * - A thread that fails (its library throws, or it dies) fails only the operation it ran; a dead
 *   one is replaced at the next operation.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { HashEngine } from './password-hashing.js';

/**
 * The nice value of a hashing thread (0 is the loop's; 19 the lowest priority). At 10 the
 * scheduler weighs a hash at a tenth of the loop when both want one core.
 */
export const HASH_THREAD_NICE = 10;

/** What a thread is asked: the operation's name and arguments, as {@link HashEngine} has them. */
type Job = {
  [K in keyof HashEngine]: { op: K; args: Parameters<HashEngine[K]> };
}[keyof HashEngine];

/** A thread's answer to one job. */
type Answer = { ok: true; value: string | boolean } | { ok: false; message: string };

/**
 * The thread's program: plain JavaScript, evaluated, so that it needs no file of its own beside the
 * bundle. It lowers its own priority, loads both libraries from the paths it is given, and runs
 * each job synchronously: the thread is the hash's.
 */
const PROGRAM = `
const { parentPort, workerData } = require('node:worker_threads');
if (process.platform === 'linux') {
  try { require('node:os').setPriority(0, workerData.nice); } catch {}
}
const bcrypt = require(workerData.bcrypt);
const argon2 = require(workerData.argon2);
const run = {
  bcryptHash: (password, rounds) => bcrypt.hashSync(password, rounds),
  bcryptCompare: (password, hash) => bcrypt.compareSync(password, hash),
  argon2Hash: (password, options) => argon2.hashSync(password, options),
  argon2Verify: (hash, password) => argon2.verifySync(hash, password),
};
parentPort.on('message', ({ op, args }) => {
  try {
    parentPort.postMessage({ ok: true, value: run[op](...args) });
  } catch (error) {
    parentPort.postMessage({ ok: false, message: String(error && error.message || error) });
  }
});
`;

const require = createRequire(import.meta.url);

/** One thread, and the job it runs now, if any. */
class HashThread {
  private readonly worker: Worker;
  private pending:
    { resolve: (value: string | boolean) => void; reject: (e: Error) => void } | undefined;
  dead = false;

  constructor(onIdle: (thread: HashThread) => void) {
    this.worker = new Worker(PROGRAM, {
      eval: true,
      // Not the process's flags: --input-type=module, say, would make the program a module.
      execArgv: [],
      workerData: {
        nice: HASH_THREAD_NICE,
        bcrypt: require.resolve('bcrypt'),
        argon2: require.resolve('@node-rs/argon2'),
      },
      // Its own heap holds a few strings; the hashes' memory is the libraries' own.
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
      stdout: false,
      stderr: false,
    });
    this.worker.unref();
    this.worker.on('message', (answer: Answer) => {
      const pending = this.pending;
      this.pending = undefined;
      this.worker.unref();
      if (answer.ok) pending?.resolve(answer.value);
      else pending?.reject(new Error(answer.message));
      onIdle(this);
    });
    const die = (error: Error) => {
      this.dead = true;
      this.pending?.reject(error);
      this.pending = undefined;
    };
    this.worker.on('error', die);
    this.worker.on('exit', (code) => die(new Error(`a hashing thread exited (${code})`)));
  }

  run(job: Job): Promise<string | boolean> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.ref();
      this.worker.postMessage(job);
    });
  }
}

/** The idle threads of the process. */
const idle: HashThread[] = [];

function run(job: Job): Promise<string | boolean> {
  let thread = idle.pop();
  while (thread?.dead) thread = idle.pop();
  return (thread ?? new HashThread((done) => done.dead || idle.push(done))).run(job);
}

/** A {@link HashEngine} that runs each operation on one of the process's hashing threads. */
export const hashThreads: HashEngine = {
  bcryptHash: async (...args) => (await run({ op: 'bcryptHash', args })) as string,
  bcryptCompare: async (...args) => (await run({ op: 'bcryptCompare', args })) as boolean,
  argon2Hash: async (...args) => (await run({ op: 'argon2Hash', args })) as string,
  argon2Verify: async (...args) => (await run({ op: 'argon2Verify', args })) as boolean,
};

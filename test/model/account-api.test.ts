/**
 * A model-based test of the account API: fast-check draws random sequences of calls (sign-up,
 * login, wrong login, logout, profile, listing and ending sessions, reset request and reset,
 * password change, account deletion, time passing) across three addresses and three devices
 * (each a cookie jar), sends them to the real app through inject(), and after every call
 * compares the answer with a small in-memory model of what must be true: which accounts exist
 * with which password, which sessions live and whose they are, which reset token is good.
 * Reset tokens are read from the reset emails, as a user reads them. A failure prints the
 * shrunk sequence of calls and the seed to replay it (see settings.ts).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { form, startTestService, type TestService } from '../support/service.js';
import { checkProperty } from './settings.js';

const PASSWORDS = ['first model pass', 'second model pass', 'third model pass'] as const;
const WRONG_PASSWORD = 'not the password';
/** Refused by the password policy (too short). */
const WEAK_PASSWORD = 'short';
const RESET_TOKEN_TTL_SECONDS = 1800;
/** How far one "time passes" step moves the clock: two of them outlive a reset token. */
const STEP_SECONDS = 1000;
const DEVICES = 3;
const ACCOUNTS = 3;

/** How an address is typed: the same account whatever the case and surrounding spaces. */
type Spelling = 'plain' | 'upper' | 'spaced';
type PasswordChoice = number | 'weak';

interface ModelSession {
  readonly account: number;
  /** The token its cookie holds now (a password change gives the session a new one). */
  cookie: string;
  live: boolean;
}

interface ModelAccount {
  exists: boolean;
  password: string;
  /** The one reset token that works, and until when. */
  token: { value: string; expiresAt: number } | undefined;
  /** Whether the address is proven: a reset completed from an emailed token proves it. */
  verified: boolean;
}

interface Model {
  readonly accounts: ModelAccount[];
  /** By public session id, every session ever opened in this run. */
  readonly sessions: Map<string, ModelSession>;
  /** Every reset token ever emailed in this run, good or not any more. */
  readonly tokens: string[];
  now: number;
}

interface Real {
  readonly service: TestService;
  /** Addresses are unique to a run: runs share one service. */
  readonly run: number;
  /** Each device's cookie jar: the session_id it holds. */
  readonly jars: (string | undefined)[];
}

let runs = 0;
/** How often each route gave each status, over every run: printed, to show what was reached. */
const answers = new Map<string, number>();

function address(real: Real, account: number, spelling: Spelling = 'plain'): string {
  const plain = `user${account}.run${real.run}@example.com`;
  if (spelling === 'upper') return plain.toUpperCase();
  if (spelling === 'spaced') return `  ${plain} `;
  return plain;
}

function passwordOf(choice: PasswordChoice): string {
  return choice === 'weak'
    ? WEAK_PASSWORD
    : (PASSWORDS[choice % PASSWORDS.length] ?? WEAK_PASSWORD);
}

/** The live session a device's jar holds, as the model sees it. */
function sessionOf(model: Model, real: Real, device: number): [string, ModelSession] | undefined {
  const cookie = real.jars[device];
  if (cookie === undefined) return undefined;
  for (const entry of model.sessions) if (entry[1].live && entry[1].cookie === cookie) return entry;
  return undefined;
}

function endSessions(model: Model, account: number, keep?: string): void {
  for (const [id, session] of model.sessions) {
    if (session.account === account && id !== keep) session.live = false;
  }
}

function liveIdsOf(model: Model, account: number): string[] {
  return [...model.sessions]
    .filter(([, session]) => session.live && session.account === account)
    .map(([id]) => id)
    .sort();
}

/** Sends a request from `device`, with its cookie, and keeps what Set-Cookie says in its jar. */
async function send(
  real: Real,
  device: number | undefined,
  request: {
    method: 'GET' | 'POST' | 'PUT' | 'DELETE';
    url: string;
    fields?: Record<string, string>;
  },
): Promise<LightMyRequestResponse> {
  const cookie = device === undefined ? undefined : real.jars[device];
  const response = await real.service.app.inject({
    method: request.method,
    url: request.url,
    ...(request.fields !== undefined && form(request.fields)),
    ...(cookie !== undefined && { cookies: { session_id: cookie } }),
  });
  const route = `${request.method} ${request.url.replace(/sessions\/.*/, 'sessions/{id}')}`;
  const answer = `${route} ${response.statusCode}`;
  answers.set(answer, (answers.get(answer) ?? 0) + 1);
  if (device !== undefined) {
    for (const set of response.cookies.filter((c) => c.name === 'session_id')) {
      const cleared =
        set.value === '' || set.maxAge === 0 || (set.expires ?? Infinity) < new Date();
      real.jars[device] = cleared ? undefined : set.value;
    }
  }
  return response;
}

function code(response: LightMyRequestResponse): unknown {
  return response.json<{ code?: unknown }>().code;
}

/** Checks the status (and code) of an answer, naming the call when they differ. */
function expectAnswer(response: LightMyRequestResponse, status: number, errorCode?: string): void {
  assert.equal(response.statusCode, status, `status; body: ${response.body}`);
  if (errorCode !== undefined)
    assert.equal(code(response), errorCode, `code; body: ${response.body}`);
}

/** The public id of the session `device` holds, read from its own session list. */
async function currentSessionId(real: Real, device: number): Promise<string> {
  const listed = await send(real, device, { method: 'GET', url: '/profile/sessions' });
  expectAnswer(listed, 200);
  const current = listed
    .json<{ sessions: { id: string; current: boolean }[] }>()
    .sessions.filter((session) => session.current);
  assert.equal(current.length, 1, 'exactly one session is the caller’s');
  return current[0]?.id ?? '';
}

/**
 * After every call: each device's jar is what the model says, a live session of the right
 * account listing exactly that account's live sessions, or a cookie that no longer opens anything.
 */
async function compareDevices(model: Model, real: Real): Promise<void> {
  for (let device = 0; device < DEVICES; device += 1) {
    if (real.jars[device] === undefined) continue;
    const held = sessionOf(model, real, device);
    const listed = await send(real, device, { method: 'GET', url: '/profile/sessions' });
    if (held === undefined) {
      expectAnswer(listed, 403, 'session_required');
      continue;
    }
    expectAnswer(listed, 200);
    const { sessions } = listed.json<{ sessions: { id: string; current: boolean }[] }>();
    assert.deepEqual(
      sessions.map((session) => session.id).sort(),
      liveIdsOf(model, held[1].account),
      `device${device}'s account has the model's live sessions`,
    );
    assert.deepEqual(
      sessions.filter((session) => session.current).map((session) => session.id),
      [held[0]],
    );
  }
}

/** One call of the sequence: `act` sends it and checks its answer, then every device is compared. */
abstract class Call implements fc.AsyncCommand<Model, Real> {
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    await this.act(model, real);
    await compareDevices(model, real);
  }
  abstract act(model: Model, real: Real): Promise<void>;
  abstract toString(): string;
}

class SignUp extends Call {
  constructor(
    readonly account: number,
    readonly spelling: Spelling,
    readonly password: PasswordChoice,
  ) {
    super();
  }
  async act(model: Model, real: Real) {
    const email = address(real, this.account, this.spelling);
    const response = await send(real, undefined, {
      method: 'POST',
      url: '/users',
      fields: { email, password: passwordOf(this.password) },
    });
    const account = model.accounts[this.account];
    assert.ok(account);
    if (this.password === 'weak') {
      expectAnswer(response, 400, 'password_refused');
      return;
    }
    if (account.exists) {
      expectAnswer(response, 400);
      assert.deepEqual(response.json(), { message: 'email already registered' });
      return;
    }
    expectAnswer(response, 200);
    assert.deepEqual(response.json(), {
      email: address(real, this.account),
      message: 'user created',
    });
    Object.assign(account, {
      exists: true,
      password: passwordOf(this.password),
      token: undefined,
      verified: false,
    });
  }
  toString(): string {
    return `SignUp(user${this.account}, ${this.spelling}, ${String(this.password)})`;
  }
}

class LogIn extends Call {
  constructor(
    readonly device: number,
    readonly account: number,
    readonly spelling: Spelling,
    readonly rightPassword: boolean,
  ) {
    super();
  }
  async act(model: Model, real: Real) {
    const account = model.accounts[this.account];
    assert.ok(account);
    const password = this.rightPassword ? account.password : WRONG_PASSWORD;
    const before = real.jars[this.device];
    const response = await send(real, this.device, {
      method: 'POST',
      url: '/sessions',
      fields: { email: address(real, this.account, this.spelling), password },
    });
    if (!account.exists || !this.rightPassword) {
      expectAnswer(response, 401, 'invalid_credentials');
      assert.equal(real.jars[this.device], before, 'a refused login sets no cookie');
      return;
    }
    expectAnswer(response, 200);
    const cookie = real.jars[this.device];
    assert.ok(cookie !== undefined && cookie !== before, 'a login sets a new session cookie');
    const id = await currentSessionId(real, this.device);
    assert.ok(!model.sessions.has(id), 'a login opens a new session');
    model.sessions.set(id, { account: this.account, cookie, live: true });
  }
  toString(): string {
    return `LogIn(device${this.device}, user${this.account}, ${this.spelling}, ${this.rightPassword ? 'right' : 'wrong'} password)`;
  }
}

class LogOut extends Call {
  constructor(readonly device: number) {
    super();
  }
  async act(model: Model, real: Real) {
    const held = sessionOf(model, real, this.device);
    const response = await send(real, this.device, { method: 'DELETE', url: '/sessions' });
    if (held === undefined) {
      expectAnswer(response, 403, 'session_required');
      return;
    }
    expectAnswer(response, 302);
    held[1].live = false;
    assert.equal(real.jars[this.device], undefined, 'the cookie is cleared');
  }
  toString(): string {
    return `LogOut(device${this.device})`;
  }
}

class Profile extends Call {
  constructor(readonly device: number) {
    super();
  }
  async act(model: Model, real: Real) {
    const held = sessionOf(model, real, this.device);
    const response = await send(real, this.device, { method: 'GET', url: '/profile' });
    if (held === undefined) {
      expectAnswer(response, 403, 'session_required');
      return;
    }
    expectAnswer(response, 200);
    assert.deepEqual(response.json(), {
      email: address(real, held[1].account),
      two_factor: false,
      email_verified: model.accounts[held[1].account]?.verified,
    });
  }
  toString(): string {
    return `Profile(device${this.device})`;
  }
}

class ListSessions extends Call {
  constructor(readonly device: number) {
    super();
  }
  async act(model: Model, real: Real) {
    const held = sessionOf(model, real, this.device);
    const response = await send(real, this.device, { method: 'GET', url: '/profile/sessions' });
    if (held === undefined) {
      expectAnswer(response, 403, 'session_required');
      return;
    }
    expectAnswer(response, 200);
    const { sessions } = response.json<{ sessions: { id: string; current: boolean }[] }>();
    assert.deepEqual(
      sessions.map((session) => session.id).sort(),
      liveIdsOf(model, held[1].account),
    );
    assert.deepEqual(
      sessions.filter((session) => session.current).map((session) => session.id),
      [held[0]],
    );
  }
  toString(): string {
    return `ListSessions(device${this.device})`;
  }
}

class EndSession extends Call {
  /** `target` picks among every session id of the run, any account's, live or ended. */
  constructor(
    readonly device: number,
    readonly target: number,
  ) {
    super();
  }
  async act(model: Model, real: Real) {
    const held = sessionOf(model, real, this.device);
    const ids = [...model.sessions.keys()];
    const id = ids.length === 0 ? randomUUID() : (ids[this.target % ids.length] ?? '');
    const target = model.sessions.get(id);
    const response = await send(real, this.device, {
      method: 'DELETE',
      url: `/profile/sessions/${encodeURIComponent(id)}`,
    });
    if (held === undefined) {
      expectAnswer(response, 403, 'session_required');
      return;
    }
    if (target === undefined || !target.live || target.account !== held[1].account) {
      expectAnswer(response, 404, 'not_found');
      return;
    }
    expectAnswer(response, 200);
    target.live = false;
    if (id === held[0])
      assert.equal(real.jars[this.device], undefined, 'ending one’s own logs out');
  }
  toString(): string {
    return `EndSession(device${this.device}, session #${this.target})`;
  }
}

class EndOtherSessions extends Call {
  constructor(readonly device: number) {
    super();
  }
  async act(model: Model, real: Real) {
    const held = sessionOf(model, real, this.device);
    const response = await send(real, this.device, { method: 'DELETE', url: '/profile/sessions' });
    if (held === undefined) {
      expectAnswer(response, 403, 'session_required');
      return;
    }
    expectAnswer(response, 200);
    const others = liveIdsOf(model, held[1].account).filter((id) => id !== held[0]);
    assert.deepEqual(response.json(), { message: 'other sessions ended', ended: others.length });
    endSessions(model, held[1].account, held[0]);
  }
  toString(): string {
    return `EndOtherSessions(device${this.device})`;
  }
}

const RESET_LINK = /\/reset_password\?token=([0-9a-f-]{36})/;

class RequestReset extends Call {
  constructor(
    readonly account: number,
    readonly spelling: Spelling,
  ) {
    super();
  }
  async act(model: Model, real: Real) {
    const { mailer, auth } = real.service;
    const sentBefore = mailer.sent.length;
    const response = await send(real, undefined, {
      method: 'POST',
      url: '/reset_password',
      fields: { email: address(real, this.account, this.spelling) },
    });
    expectAnswer(response, 200);
    await auth.drain();
    const resetMails = mailer.sent.slice(sentBefore).filter((mail) => RESET_LINK.test(mail.text));
    const account = model.accounts[this.account];
    assert.ok(account);
    if (!account.exists) {
      assert.equal(resetMails.length, 0, 'no email for no account');
      return;
    }
    assert.equal(resetMails.length, 1, 'one reset email');
    assert.equal(resetMails[0]?.to, address(real, this.account));
    const link = RESET_LINK.exec(resetMails[0].text);
    assert.ok(link?.[1] !== undefined, 'the email holds a reset link');
    const token = link[1];
    account.token = { value: token, expiresAt: model.now + RESET_TOKEN_TTL_SECONDS * 1000 };
    model.tokens.push(token);
  }
  toString(): string {
    return `RequestReset(user${this.account}, ${this.spelling})`;
  }
}

class Reset extends Call {
  /** `token` picks among every token emailed in the run (or a made-up one if none was). */
  constructor(
    readonly account: number,
    readonly token: number,
    readonly password: PasswordChoice,
  ) {
    super();
  }
  async act(model: Model, real: Real) {
    const token =
      model.tokens.length === 0
        ? randomUUID()
        : (model.tokens[this.token % model.tokens.length] ?? '');
    const email = address(real, this.account);
    const response = await send(real, undefined, {
      method: 'PUT',
      url: '/reset_password',
      fields: { email, reset_token: token, new_password: passwordOf(this.password) },
    });
    const account = model.accounts[this.account];
    assert.ok(account);
    if (this.password === 'weak') {
      expectAnswer(response, 400, 'password_refused');
      return;
    }
    const good =
      account.exists && account.token?.value === token && model.now < account.token.expiresAt;
    if (!good) {
      expectAnswer(response, 403, 'invalid_reset_token');
      return;
    }
    expectAnswer(response, 200);
    assert.deepEqual(response.json(), { email, message: 'Password updated' });
    account.password = passwordOf(this.password);
    account.token = undefined;
    account.verified = true;
    endSessions(model, this.account);
  }
  toString(): string {
    return `Reset(user${this.account}, token #${this.token}, ${String(this.password)})`;
  }
}

class ChangePassword extends Call {
  constructor(
    readonly device: number,
    readonly rightCurrent: boolean,
    readonly password: PasswordChoice,
  ) {
    super();
  }
  async act(model: Model, real: Real) {
    const held = sessionOf(model, real, this.device);
    const account = held === undefined ? undefined : model.accounts[held[1].account];
    const before = real.jars[this.device];
    const response = await send(real, this.device, {
      method: 'PUT',
      url: '/profile/password',
      fields: {
        current_password: this.rightCurrent ? (account?.password ?? PASSWORDS[0]) : WRONG_PASSWORD,
        new_password: passwordOf(this.password),
      },
    });
    if (held === undefined || account === undefined) {
      expectAnswer(response, 403, 'session_required');
      return;
    }
    if (!this.rightCurrent) {
      expectAnswer(response, 401, 'wrong_password');
      return;
    }
    if (this.password === 'weak') {
      expectAnswer(response, 400, 'password_refused');
      return;
    }
    expectAnswer(response, 200);
    const cookie = real.jars[this.device];
    assert.ok(
      cookie !== undefined && cookie !== before,
      'the session carries on under a new cookie',
    );
    account.password = passwordOf(this.password);
    account.token = undefined;
    endSessions(model, held[1].account, held[0]);
    held[1].cookie = cookie;
    assert.equal(await currentSessionId(real, this.device), held[0], 'the same session');
  }
  toString(): string {
    return `ChangePassword(device${this.device}, ${this.rightCurrent ? 'right' : 'wrong'} current, ${String(this.password)})`;
  }
}

class DeleteAccount extends Call {
  constructor(
    readonly device: number,
    readonly rightPassword: boolean,
  ) {
    super();
  }
  async act(model: Model, real: Real) {
    const held = sessionOf(model, real, this.device);
    const account = held === undefined ? undefined : model.accounts[held[1].account];
    const response = await send(real, this.device, {
      method: 'DELETE',
      url: '/profile',
      fields: {
        password: this.rightPassword ? (account?.password ?? PASSWORDS[0]) : WRONG_PASSWORD,
      },
    });
    if (held === undefined || account === undefined) {
      expectAnswer(response, 403, 'session_required');
      return;
    }
    if (!this.rightPassword) {
      expectAnswer(response, 401, 'wrong_password');
      return;
    }
    expectAnswer(response, 200);
    assert.deepEqual(response.json(), {
      email: address(real, held[1].account),
      message: 'account deleted',
    });
    Object.assign(account, { exists: false, token: undefined });
    endSessions(model, held[1].account);
    assert.equal(real.jars[this.device], undefined, 'the cookie is cleared');
  }
  toString(): string {
    return `DeleteAccount(device${this.device}, ${this.rightPassword ? 'right' : 'wrong'} password)`;
  }
}

class TimePasses extends Call {
  act(model: Model, real: Real) {
    real.service.clock.advanceSeconds(STEP_SECONDS);
    model.now += STEP_SECONDS * 1000;
    return Promise.resolve();
  }
  toString(): string {
    return `TimePasses(${STEP_SECONDS} s)`;
  }
}

const device = fc.nat({ max: DEVICES - 1 });
const account = fc.nat({ max: ACCOUNTS - 1 });
const spelling = fc.constantFrom<Spelling>('plain', 'upper', 'spaced');
const password = fc.oneof(
  { weight: 4, arbitrary: fc.nat({ max: PASSWORDS.length - 1 }) },
  { weight: 1, arbitrary: fc.constant<'weak'>('weak') },
);
const pick = fc.nat({ max: 50 });

const signUp = fc.tuple(account, spelling, password).map(([a, s, p]) => new SignUp(a, s, p));
// Mostly with the right password: the interesting states lie behind a login.
const logIn = fc
  .tuple(device, account, spelling, fc.constantFrom(true, true, true, false))
  .map(([d, a, s, r]) => new LogIn(d, a, s, r));

// Sign-ups and logins weigh more, so that most runs reach accounts with several sessions.
const COMMANDS = [
  signUp,
  signUp,
  logIn,
  logIn,
  logIn,
  device.map((d) => new LogOut(d)),
  device.map((d) => new Profile(d)),
  device.map((d) => new ListSessions(d)),
  fc.tuple(device, pick).map(([d, p]) => new EndSession(d, p)),
  device.map((d) => new EndOtherSessions(d)),
  fc.tuple(account, spelling).map(([a, s]) => new RequestReset(a, s)),
  fc.tuple(account, pick, password).map(([a, t, p]) => new Reset(a, t, p)),
  fc.tuple(device, fc.boolean(), password).map(([d, r, p]) => new ChangePassword(d, r, p)),
  fc.tuple(device, fc.boolean()).map(([d, r]) => new DeleteAccount(d, r)),
  fc.constant(new TimePasses()),
];

test('random sequences of account API calls answer as the model says', async (t) => {
  // One service for every run (each run uses addresses of its own); no session cap to model.
  const service = await startTestService({ SESSIONS_PER_USER: '1000' });
  // The clock moves at most 40 steps of 1000 s per run: no session reaches its idle time.
  const property = fc.asyncProperty(
    fc.commands(COMMANDS, { maxCommands: 40, size: 'max' }),
    async (commands) => {
      runs += 1;
      const setup = () => ({
        model: {
          accounts: Array.from({ length: ACCOUNTS }, () => ({
            exists: false,
            password: PASSWORDS[0],
            token: undefined,
            verified: false,
          })),
          sessions: new Map(),
          tokens: [],
          now: service.clock.now(),
        } satisfies Model,
        real: { service, run: runs, jars: Array.from({ length: DEVICES }, () => undefined) },
      });
      await fc.asyncModelRun(setup, commands);
    },
  );
  await checkProperty(t, property, { runs: 80 });
  t.diagnostic(
    `answers seen: ${[...answers]
      .sort()
      .map(([answer, count]) => `${answer} ×${count}`)
      .join(', ')}`,
  );
});

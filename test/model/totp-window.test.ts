/**
 * The TOTP step window as a property: at any moment (step boundaries included), the code of the
 * step before, the current one and the step after is accepted and matched to its step; the code of
 * a step further away is refused (unless, once in a million, it equals a code inside the window),
 * with or without spaces typed in; anything but six digits is refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { matchingStep, TOTP_PERIOD_SECONDS, totpStepAt } from '../../src/auth/totp.js';
import { totpCodeAt } from '../support/totp.js';
import { checkProperty } from './settings.js';

const STEP_MS = TOTP_PERIOD_SECONDS * 1000;
/** Base32 secrets of 20 bytes (the service's) to 40, whole 5-byte groups (no padding). */
const secret = fc
  .integer({ min: 4, max: 8 })
  .chain((groups) =>
    fc.array(fc.constantFrom(...Array.from('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')), {
      minLength: groups * 8,
      maxLength: groups * 8,
    }),
  )
  .map((symbols) => symbols.join(''));
/** A moment from 1970 to 2100, often on a step's first or last millisecond. */
const moment = fc
  .tuple(
    fc.integer({ min: 10, max: Math.floor(Date.UTC(2100, 0, 1) / STEP_MS) }),
    fc.oneof(
      fc.constant(0),
      fc.constant(1),
      fc.constant(STEP_MS - 1),
      fc.nat({ max: STEP_MS - 1 }),
    ),
  )
  .map(([step, within]) => step * STEP_MS + within);

test('a code is matched to its step within one step either side of now, and refused beyond', async (t) => {
  const property = fc.property(
    secret,
    moment,
    fc.integer({ min: -4, max: 4 }),
    fc.boolean(),
    (key, nowMs, offset, spaced) => {
      const step = totpStepAt(nowMs);
      const code = totpCodeAt(key, (step + offset) * STEP_MS);
      const typed = spaced ? `${code.slice(0, 3)} ${code.slice(3)}` : code;
      const window = [-1, 0, 1].map((drift) => step + drift);
      // The steps of the window whose code this is (a code may repeat, one time in a million).
      const candidates = window.filter((s) => totpCodeAt(key, s * STEP_MS) === code);
      const matched = matchingStep(key, typed, nowMs);
      if (Math.abs(offset) <= 1) {
        assert.ok(matched !== null && candidates.includes(matched), `offset ${offset}`);
        if (candidates.length === 1) assert.equal(matched, step + offset);
      } else if (candidates.length === 0) {
        assert.equal(matched, null, `offset ${offset} is outside the window`);
      }
    },
  );
  await checkProperty(t, property, { runs: 2000 });
});

test('anything but six ASCII digits, spaces aside, is refused', async (t) => {
  const property = fc.property(secret, moment, fc.string({ maxLength: 10 }), (key, nowMs, text) => {
    fc.pre(!/^[0-9]{6}$/.test(text.replace(/ /g, '')));
    assert.equal(matchingStep(key, text, nowMs), null);
  });
  await checkProperty(t, property, { runs: 1000 });
});

/**
 * The duplicate-key scanner behind the JSON parser, on generated JSON: it never reports a key
 * that `JSON.stringify` output cannot repeat, and it finds a repeated key at any depth, however
 * the key is spelt (escapes included) and whatever strings surround it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { firstRepeatedKey } from '../../src/http/body-parsers.js';

test('JSON.stringify output never has a repeated key', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      assert.equal(firstRepeatedKey(JSON.stringify(value)), undefined);
    }),
  );
});

test('a key repeated in an object at any depth is found, written plain or escaped', () => {
  fc.assert(
    fc.property(
      fc.jsonValue(),
      fc.string({ minLength: 1 }),
      fc.jsonValue(),
      fc.nat(3),
      fc.boolean(),
      (before, key, value, depth, escaped) => {
        const spelt = escaped
          ? `"${key
              .split('')
              .map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
              .join('')}"`
          : JSON.stringify(key);
        let text = `{${JSON.stringify(key)}:${JSON.stringify(value)},"x":${JSON.stringify(before)},${spelt}:1}`;
        for (let level = 0; level < depth; level += 1)
          text = `[${JSON.stringify(before)},{"k":${text}}]`;
        assert.equal(firstRepeatedKey(text), key);
      },
    ),
  );
});

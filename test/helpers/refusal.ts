// The HttpError a pure function throws for bad input, so a test can assert
// the field and message a user would get; anything else thrown fails the test.
import assert from 'node:assert/strict';
import { HttpError } from '../../daemon/http/errors.js';

export function refusal(fn: () => unknown): HttpError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof HttpError, String(err));
    return err;
  }
  assert.fail('expected a refusal');
}

/**
 * What `p` was rejected with, checked to be a `type` (a client's typed
 * error, for assertions on what the server said); a `p` that resolves, or
 * fails otherwise, fails the test.
 */
export async function rejection<E extends Error>(p: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof type, String(err));
    return err;
  }
  assert.fail('expected a refusal');
}

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

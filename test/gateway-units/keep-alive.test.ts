import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseKeepAlive } from '../../daemon/gateway/keep-alive.js';
import { HttpError } from '../../daemon/http/errors.js';

describe('parseKeepAlive', () => {
  const valid: [value: unknown, seconds: number | null][] = [
    [undefined, null],
    [null, null], // Ollama: JSON null leaves the *Duration unset
    [300, 300],
    [0, 0],
    [-0, 0],
    [2.5, 2.5],
    [-1, Infinity],
    [-300, Infinity],
    ['0', 0],
    ['-0', 0],
    ['300', 300],
    ['-1', Infinity],
    ['+10', 10],
    ['1.5', 1.5],
    ['90s', 90],
    ['5m', 300],
    ['1h30m', 5400],
    ['1.5h', 5400],
    ['2h45m30.5s', 9930.5],
    ['100ms', 0.1],
    ['1500us', 0.0015],
    ['1500µs', 0.0015],
    ['1500μs', 0.0015],
    ['1000000000ns', 1],
    ['.5m', 30],
    ['-5m', Infinity],
    ['0s', 0],
    ['-0s', 0],
  ];
  for (const [value, seconds] of valid) {
    test(`${JSON.stringify(value) ?? 'undefined'} -> ${seconds}`, () => {
      assert.equal(parseKeepAlive(value, 'body'), seconds);
      if (typeof value === 'string') assert.equal(parseKeepAlive(value, 'header'), seconds);
    });
  }

  const invalid: unknown[] = [
    ...['', ' ', '5 m', '5m ', '5M', '1d', 'm', '.s', '1h-30m', '--1', '1e3', 'forever', '9'.repeat(400)],
    ...[true, {}, [], Number.NaN],
  ];
  for (const value of invalid) {
    test(`invalid: ${typeof value === 'number' ? String(value) : JSON.stringify(value)}`, () => {
      for (const source of ['body', 'header'] as const) {
        assert.throws(
          () => parseKeepAlive(value, source),
          (err: unknown) => {
            assert.ok(err instanceof HttpError);
            assert.equal(err.status, 400);
            assert.equal(err.code, 'invalid_keep_alive');
            if (source === 'header') {
              assert.match(err.message, /X-Berth-Keep-Alive/);
              assert.equal(err.field, undefined);
            } else {
              assert.match(err.message, /'keep_alive'/);
              assert.equal(err.field, 'keep_alive');
            }
            return true;
          },
        );
      }
    });
  }
});

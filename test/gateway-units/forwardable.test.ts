// What of a client's request the gateway can send to an engine as it stands.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertForwardablePath, forwardHeaders } from '../../daemon/gateway/forwardable.js';
import { refusal } from '../helpers/refusal.js';

const lookup = (h: Record<string, string>) => ({ get: (name: string) => h[name] });

describe('assertForwardablePath', () => {
  it('passes visible ASCII, percent-encoding and a route the gateway does not know', () => {
    for (const route of ['/chat/completions', '/completions', '/embeddings/x%20y', '/unknown/~route']) assertForwardablePath(route);
  });

  it('refuses a tab, a space, a control and any byte 0x80-0xff, naming the byte and where it is in the target', () => {
    for (const [route, said] of [
      ['/chat/completions\xff', 'the byte 0xff at offset 20'],
      ['/chat/comp\tletions', 'a tab (0x09) at offset 13'],
      ['/a b', 'a space (0x20) at offset 5'],
      ['/\x80', 'the byte 0x80 at offset 4'],
      ['/\x7f', 'the byte 0x7f at offset 4'],
      ['/caf\u00e9\u2019', 'the byte 0xe9 at offset 7'],
    ] as const) {
      const e = refusal(() => assertForwardablePath(route));
      assert.equal(e.status, 400);
      assert.equal(e.code, 'invalid_path');
      assert.ok(e.message.includes(said), `${JSON.stringify(route)}: ${e.message}`);
    }
  });
});

describe('forwardHeaders', () => {
  it('passes on Accept and X-Request-Id only, never the client\'s Authorization', () => {
    assert.deepEqual(forwardHeaders(lookup({ accept: 'text/event-stream', 'x-request-id': 'r-1', authorization: 'Bearer sk-berth' })), {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      'x-request-id': 'r-1',
    });
  });

  it('refuses a header no engine request can carry, naming it', () => {
    const e = refusal(() => forwardHeaders(lookup({ 'x-request-id': 'a\r\nx-injected: 1' })));
    assert.equal(e.status, 400);
    assert.equal(e.field, 'x-request-id');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRequestHead, parseResponseHead } from '../../daemon/http/wire/head.js';

/** A head as the server hands it over: lines joined by CRLF, without the final CRLF CRLF. */
const head = (...lines: string[]): string => lines.join('\r\n');

describe('parseRequestHead', () => {
  it('parses a normal POST head', () => {
    const h = parseRequestHead(
      head(
        'POST /v1/chat/completions?x=1 HTTP/1.1',
        'Host: 127.0.0.1:8080',
        'Content-Type: application/json',
        'Content-Length: 42',
        'X-Berth-Trace:   abc  ',
      ),
    );
    assert.ok(h);
    assert.equal(h.method, 'POST');
    assert.equal(h.target, '/v1/chat/completions?x=1');
    assert.deepEqual({ ...h.headers }, {
      host: '127.0.0.1:8080',
      'content-type': 'application/json',
      'content-length': '42',
      'x-berth-trace': 'abc',
    });
    assert.equal(h.contentLength, 42);
    assert.equal(h.close, false);
    assert.equal(h.needsFullParser, false);
  });

  it('reports -1 when there is no Content-Length', () => {
    const h = parseRequestHead(head('GET /health HTTP/1.1', 'Host: a'));
    assert.ok(h);
    assert.equal(h.contentLength, -1);
  });

  it('joins repeated headers with ", "', () => {
    const h = parseRequestHead(head('GET / HTTP/1.1', 'Host: a', 'Accept: text/plain', 'accept: application/json', 'ACCEPT: */*'));
    assert.ok(h);
    assert.equal(h.headers.accept, 'text/plain, application/json, */*');
  });

  it('Connection: close sets close, in any case and among other tokens', () => {
    assert.equal(parseRequestHead(head('GET / HTTP/1.1', 'Host: a', 'Connection: close'))?.close, true);
    assert.equal(parseRequestHead(head('GET / HTTP/1.1', 'Host: a', 'Connection: TE, Close'))?.close, true);
    assert.equal(parseRequestHead(head('GET / HTTP/1.1', 'Host: a', 'Connection: keep-alive'))?.close, false);
  });

  for (const [name, line] of [
    ['Transfer-Encoding', 'Transfer-Encoding: chunked'],
    ['Expect', 'Expect: 100-continue'],
    ['Upgrade', 'Upgrade: websocket'],
  ] as const) {
    it(`${name} needs the full parser`, () => {
      const h = parseRequestHead(head('POST / HTTP/1.1', 'Host: a', line));
      assert.ok(h);
      assert.equal(h.needsFullParser, true);
    });
  }

  it('accepts an identical repeated Content-Length', () => {
    assert.equal(parseRequestHead(head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 7', 'Content-Length: 7'))?.contentLength, 7);
    assert.equal(parseRequestHead(head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 7, 7'))?.contentLength, 7);
  });

  const rejected: [string, string][] = [
    ['HTTP/1.0', head('GET / HTTP/1.0', 'Host: a')],
    ['HTTP/2.0', head('GET / HTTP/2.0', 'Host: a')],
    ['a start line with an extra space', head('GET  / HTTP/1.1', 'Host: a')],
    ['a start line without a version', head('GET /', 'Host: a')],
    ['a method that is not a token', head('G(T / HTTP/1.1', 'Host: a')],
    ['a missing Host', head('GET / HTTP/1.1', 'Accept: */*')],
    ['a header name with a space inside', head('GET / HTTP/1.1', 'Host: a', 'X Foo: b')],
    ['a space before the colon', head('GET / HTTP/1.1', 'Host : a')],
    ['a line without a colon', head('GET / HTTP/1.1', 'Host: a', 'garbage')],
    ['an empty header name', head('GET / HTTP/1.1', 'Host: a', ': b')],
    ['an obs-fold continuation line', head('GET / HTTP/1.1', 'Host: a', 'X-Long: one', ' two')],
    ['an obs-fold continuation line with a tab', head('GET / HTTP/1.1', 'Host: a', 'X-Long: one', '\ttwo: three')],
    ['a NUL in a value', head('GET / HTTP/1.1', 'Host: a', 'X-A: b\0c')],
    ['a bare LF in a value', head('GET / HTTP/1.1', 'Host: a', 'X-A: b\nX-B: c')],
    ['a bare CR in a value', head('GET / HTTP/1.1', 'Host: a', 'X-A: b\rc')],
    ['DEL in a value', head('GET / HTTP/1.1', 'Host: a', 'X-A: b\x7fc')],
    ['two different Content-Length values', head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 5', 'Content-Length: 6')],
    ['a Content-Length list with different values', head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 5, 6')],
    ['a non-numeric Content-Length', head('POST / HTTP/1.1', 'Host: a', 'Content-Length: abc')],
    ['a negative Content-Length', head('POST / HTTP/1.1', 'Host: a', 'Content-Length: -1')],
    ['a signed Content-Length', head('POST / HTTP/1.1', 'Host: a', 'Content-Length: +5')],
    ['an empty Content-Length', head('POST / HTTP/1.1', 'Host: a', 'Content-Length: ')],
    ['a hex Content-Length', head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 0x10')],
    ['two Host headers', head('GET / HTTP/1.1', 'Host: a', 'Host: b')],
    ['a vertical tab ending a value', head('GET / HTTP/1.1', 'Host: a', 'X-A: v\x0b')],
    ['a bare LF in the request target', head('POST /v1/a\nb HTTP/1.1', 'Host: a')],
    ['a NUL in the request target', head('POST /v1/a\0b HTTP/1.1', 'Host: a')],
  ];
  for (const [what, text] of rejected) {
    it(`returns null for ${what}`, () => {
      assert.equal(parseRequestHead(text), null);
    });
  }

  it('trims only spaces and tabs around a value, keeping obs-text at its ends', () => {
    const h = parseRequestHead(head('GET / HTTP/1.1', 'Host: a', 'X-A: \t caf\xa0 \t'));
    assert.equal(h?.headers['x-a'], 'caf\xa0');
  });

  it('allows tabs and obs-text inside a value', () => {
    const h = parseRequestHead(head('GET / HTTP/1.1', 'Host: a', 'X-A: b\tc\xe9'));
    assert.ok(h);
    assert.equal(h.headers['x-a'], 'b\tc\xe9');
  });
});

describe('parseResponseHead', () => {
  it('parses a 200 with Content-Length', () => {
    const h = parseResponseHead(head('HTTP/1.1 200 OK', 'Content-Type: application/json', 'Content-Length: 17'));
    assert.ok(h);
    assert.equal(h.status, 200);
    assert.deepEqual({ ...h.headers }, { 'content-type': 'application/json', 'content-length': '17' });
    assert.equal(h.contentLength, 17);
    assert.equal(h.chunked, false);
    assert.equal(h.close, false);
    assert.equal(h.keepAliveS, null);
  });

  it('accepts a status line without a reason phrase', () => {
    const h = parseResponseHead(head('HTTP/1.1 204', 'Date: x'));
    assert.ok(h);
    assert.equal(h.status, 204);
    assert.equal(h.contentLength, -1);
  });

  it('parses a chunked response, ignoring Content-Length', () => {
    const h = parseResponseHead(head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked', 'Content-Length: 5'));
    assert.ok(h);
    assert.equal(h.chunked, true);
    assert.equal(h.contentLength, -1);
  });

  it('accepts chunked as the last of several codings', () => {
    const h = parseResponseHead(head('HTTP/1.1 200 OK', 'Transfer-Encoding: gzip, chunked'));
    assert.ok(h);
    assert.equal(h.chunked, true);
  });

  it('reads the Keep-Alive timeout', () => {
    assert.equal(parseResponseHead(head('HTTP/1.1 200 OK', 'Content-Length: 0', 'Keep-Alive: timeout=5'))?.keepAliveS, 5);
    assert.equal(parseResponseHead(head('HTTP/1.1 200 OK', 'Content-Length: 0', 'Keep-Alive: max=100, timeout=12'))?.keepAliveS, 12);
    assert.equal(parseResponseHead(head('HTTP/1.1 200 OK', 'Content-Length: 0', 'Keep-Alive: max=100'))?.keepAliveS, null);
  });

  it('Connection: close sets close', () => {
    const h = parseResponseHead(head('HTTP/1.1 200 OK', 'Content-Length: 0', 'Connection: close'));
    assert.ok(h);
    assert.equal(h.close, true);
  });

  it('HTTP/1.0 closes unless it says keep-alive', () => {
    assert.equal(parseResponseHead(head('HTTP/1.0 200 OK', 'Content-Length: 0'))?.close, true);
    assert.equal(parseResponseHead(head('HTTP/1.0 200 OK', 'Content-Length: 0', 'Connection: Keep-Alive'))?.close, false);
  });

  it('keeps set-cookie as an array and joins other repeated fields', () => {
    const h = parseResponseHead(head('HTTP/1.1 200 OK', 'Set-Cookie: a=1', 'Vary: accept', 'set-cookie: b=2, c=3', 'Vary: origin'));
    assert.ok(h);
    assert.deepEqual(h.headers['set-cookie'], ['a=1', 'b=2, c=3']);
    assert.equal(h.headers.vary, 'accept, origin');
  });

  const rejected: [string, string][] = [
    ['transfer-encoding gzip (chunked not last)', head('HTTP/1.1 200 OK', 'transfer-encoding: gzip')],
    ['transfer-encoding chunked, gzip', head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked, gzip')],
    ['a bad status line', head('HTTP/1.1 OK', 'Content-Length: 0')],
    ['a two-digit status', head('HTTP/1.1 20 OK', 'Content-Length: 0')],
    ['a status without a space before the reason', head('HTTP/1.1 200OK', 'Content-Length: 0')],
    ['HTTP/2', head('HTTP/2 200', 'Content-Length: 0')],
    ['not HTTP at all', head('SSH-2.0-OpenSSH_9.6')],
    ['conflicting Content-Length values', head('HTTP/1.1 200 OK', 'Content-Length: 1', 'Content-Length: 2')],
    ['a non-numeric Content-Length', head('HTTP/1.1 200 OK', 'Content-Length: ten')],
    ['a bad header name', head('HTTP/1.1 200 OK', 'Bad Name: x')],
    ['a control character in a value', head('HTTP/1.1 200 OK', 'X-A: b\x01c')],
  ];
  for (const [what, text] of rejected) {
    it(`returns null for ${what}`, () => {
      assert.equal(parseResponseHead(text), null);
    });
  }
});

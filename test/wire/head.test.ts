import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_REQUEST_FIELDS, parseRequestHead, parseResponseHead, RequestHeadScanner, ScanResult } from '../../daemon/http/wire/head.js';

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

  it('reads Content-Length as llhttp does: OWS before, spaces after, leading zeros', () => {
    assert.equal(parseRequestHead(head('POST / HTTP/1.1', 'Host: a', 'Content-Length:\t7'))?.contentLength, 7);
    assert.equal(parseRequestHead(head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 7  '))?.contentLength, 7);
    assert.equal(parseRequestHead(head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 0018'))?.contentLength, 18);
  });

  it('refuses a method llhttp does not know, but takes any it does', () => {
    assert.equal(parseRequestHead(head('FOO / HTTP/1.1', 'Host: a')), null);
    assert.equal(parseRequestHead(head('PROPFIND / HTTP/1.1', 'Host: a'))?.method, 'PROPFIND');
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
    ['a tab in the request target', head('POST /v1/a\tb HTTP/1.1', 'Host: a')],
    ['a byte 0xff in the path', head('POST /v1/chat/completions\xff HTTP/1.1', 'Host: a')],
    ['a byte 0x80 in the query', head('POST /v1/a?q=\x80 HTTP/1.1', 'Host: a')],
    ['a repeated Content-Length, even an equal one', head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 7', 'Content-Length: 7')],
    ['a Content-Length list of equal values', head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 18, 18')],
    ['a tab after the Content-Length digits', head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 18\t')],
    ['a space inside the Content-Length digits', head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 1 8')],
    ['a repeated Authorization (Node keeps only the first)', head('POST / HTTP/1.1', 'Host: a', 'Authorization: a', 'authorization: b')],
    ['a repeated Content-Type (Node keeps only the first)', head('POST / HTTP/1.1', 'Host: a', 'Content-Type: a', 'Content-Type: b')],
    ['a repeated Cookie (Node joins it with "; ")', head('POST / HTTP/1.1', 'Host: a', 'Cookie: a=1', 'Cookie: b=2')],
    ['more field lines than MAX_REQUEST_FIELDS', head('POST / HTTP/1.1', 'Host: a', ...Array.from({ length: MAX_REQUEST_FIELDS }, (_, i) => `X-${i}: 1`))],
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

  it('passes on no Content-Length beside Transfer-Encoding (RFC 9112 §6.3), in either order', () => {
    for (const lines of [
      ['Content-Length: 5', 'X-A: 1', 'Transfer-Encoding: chunked', 'X-B: 2'],
      ['Transfer-Encoding: chunked', 'X-A: 1', 'content-length: 5', 'X-B: 2'],
    ]) {
      const h = parseResponseHead(head('HTTP/1.1 200 OK', ...lines));
      assert.ok(h);
      assert.equal(h.endToEnd, 'X-A: 1\r\nX-B: 2\r\n');
      assert.deepEqual({ ...h.endToEndHeaders() }, { 'x-a': '1', 'x-b': '2' });
    }
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

describe('RequestHeadScanner', () => {
  /** Feeds `text` one byte at a time; the result of the last push. */
  const feed = (text: string, max = 16 * 1024): number => {
    const scan = new RequestHeadScanner(max);
    const bytes = Buffer.from(text, 'latin1');
    let r: number = ScanResult.More;
    for (let i = 0; i < bytes.length; i++) {
      r = scan.push(bytes.subarray(i, i + 1));
      if (r !== ScanResult.More) {
        // Nothing after a refusal or the head's end is looked at.
        assert.ok(r === ScanResult.Refused || i === bytes.length - 1, `stopped at byte ${i} of ${JSON.stringify(text)}`);
        break;
      }
    }
    return r;
  };

  it('finds the end of a valid head split into single bytes', () => {
    const text = 'POST /v1/a?b=c HTTP/1.1\r\nHost: a\r\nX-A: \tv\xe9\r\nContent-Length: 0\r\n\r\n';
    assert.equal(feed(text), text.length);
  });

  it('waits while a valid head is incomplete', () => {
    assert.equal(feed('POST /v1/a HTTP/1.1\r\nHost: a\r\nX-A: b'), ScanResult.More);
    assert.equal(feed('PO'), ScanResult.More);
  });

  const refused: [string, string, number?][] = [
    ['bare CR line endings', 'POST /v1/a HTTP/1.1\rHost: a\r'],
    ['\\r\\r\\n', 'POST /v1/a HTTP/1.1\r\r\n'],
    ['a bare LF', 'POST /v1/a HTTP/1.1\nHost: a\n'],
    ['a line without a colon', 'POST /v1/a HTTP/1.1\r\nHost\r\n'],
    ['a stray control byte in a value', 'POST /v1/a HTTP/1.1\r\nHost: a\x01'],
    ['obs-fold', 'POST /v1/a HTTP/1.1\r\nHost: a\r\n b'],
    ['an unknown method', 'FOO '],
    ['a lower-case method', 'post '],
    ['HTTP/1.0', 'POST / HTTP/1.0'],
    ['a tab in the target', 'POST /a\t'],
    ['a byte 0x80 in the target', 'POST /a?\x80'],
    ['an empty target', 'POST  '],
    ['a head longer than the limit', 'POST /v1/a HTTP/1.1\r\nX-A: ' + 'a'.repeat(200), 100],
    ['more field lines than MAX_REQUEST_FIELDS', 'POST /v1/a HTTP/1.1\r\n' + 'X-A: 1\r\n'.repeat(MAX_REQUEST_FIELDS + 1)],
  ];
  for (const [what, text, max] of refused) {
    it(`refuses ${what} at once`, () => {
      assert.equal(feed(text, max), ScanResult.Refused);
    });
  }
});

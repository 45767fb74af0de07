import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChunkedDecoder } from '../../daemon/http/wire/chunked.js';

const WIRE = '5\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n0\r\n\r\n';
const DATA = 'hello world!';

/** Feeds `input` in one push; returns the decoded text, the bytes consumed and whether it finished. */
function decodeAll(input: string | Buffer): { text: string; used: number; done: boolean } {
  const d = new ChunkedDecoder();
  const out: Buffer[] = [];
  const used = d.push(Buffer.isBuffer(input) ? input : Buffer.from(input, 'latin1'), out);
  return { text: Buffer.concat(out).toString('latin1'), used, done: d.done };
}

describe('ChunkedDecoder', () => {
  it('decodes a multi-chunk body fed at once', () => {
    const r = decodeAll(WIRE);
    assert.equal(r.text, DATA);
    assert.equal(r.used, WIRE.length);
    assert.equal(r.done, true);
  });

  it('decodes the same bytes fed one at a time, done only at the very end', () => {
    const d = new ChunkedDecoder();
    const out: Buffer[] = [];
    const wire = Buffer.from(WIRE, 'latin1');
    for (let i = 0; i < wire.length; i++) {
      assert.equal(d.done, false, `done early, before byte ${i}`);
      assert.equal(d.push(wire.subarray(i, i + 1), out), 1);
    }
    assert.equal(d.done, true);
    assert.equal(Buffer.concat(out).toString('latin1'), DATA);
  });

  it('decodes every split of the stream into two pushes alike', () => {
    const wire = Buffer.from(WIRE, 'latin1');
    for (let cut = 0; cut <= wire.length; cut++) {
      const d = new ChunkedDecoder();
      const out: Buffer[] = [];
      const a = d.push(wire.subarray(0, cut), out);
      const b = d.push(wire.subarray(cut), out);
      assert.equal(a + b, wire.length, `cut at ${cut}`);
      assert.equal(d.done, true, `cut at ${cut}`);
      assert.equal(Buffer.concat(out).toString('latin1'), DATA, `cut at ${cut}`);
    }
  });

  it('hands out binary data unchanged', () => {
    const payload = Buffer.from([0, 13, 10, 255, 48, 13, 10, 13, 10]);
    const wire = Buffer.concat([Buffer.from('9\r\n'), payload, Buffer.from('\r\n0\r\n\r\n')]);
    const d = new ChunkedDecoder();
    const out: Buffer[] = [];
    assert.equal(d.push(wire, out), wire.length);
    assert.deepEqual(Buffer.concat(out), payload);
    assert.equal(d.done, true);
  });

  it('ignores chunk extensions', () => {
    const r = decodeAll('5;foo=bar\r\nhello\r\n3 ; q="x;y"\r\nabc\r\n0;last\r\n\r\n');
    assert.equal(r.text, 'helloabc');
    assert.equal(r.done, true);
  });

  it('reads upper- and lower-case hex sizes', () => {
    const big = 'x'.repeat(0x1a);
    const r = decodeAll(`1A\r\n${big}\r\nb\r\n${'y'.repeat(11)}\r\n0\r\n\r\n`);
    assert.equal(r.text, big + 'y'.repeat(11));
    assert.equal(r.done, true);
  });

  it('accepts leading zeros in a size of up to 12 digits', () => {
    const r = decodeAll('000000000003\r\nabc\r\n0\r\n\r\n');
    assert.equal(r.text, 'abc');
    assert.equal(r.done, true);
  });

  it('accepts any number of leading zeros before the significant digits', () => {
    const r = decodeAll('00000000000000000003\r\nabc\r\n0000\r\n\r\n');
    assert.equal(r.text, 'abc');
    assert.equal(r.done, true);
  });

  it('consumes trailers after the last chunk', () => {
    const wire = '3\r\nabc\r\n0\r\nX-Checksum: 123\r\nX-Other: a b\r\n\r\n';
    const r = decodeAll(wire);
    assert.equal(r.text, 'abc');
    assert.equal(r.used, wire.length);
    assert.equal(r.done, true);
  });

  it('is not done before the final CRLF', () => {
    for (const partial of ['3\r\nabc\r\n', '3\r\nabc\r\n0\r\n', '3\r\nabc\r\n0\r\n\r', '0\r\nX: y\r\n']) {
      const r = decodeAll(partial);
      assert.equal(r.done, false, JSON.stringify(partial));
      assert.equal(r.used, partial.length, JSON.stringify(partial));
    }
  });

  it('reports bytes after the terminating CRLF as not consumed', () => {
    const next = 'HTTP/1.1 200 OK\r\n';
    const r = decodeAll(WIRE + next);
    assert.equal(r.text, DATA);
    assert.equal(r.used, WIRE.length);
    assert.equal(r.done, true);

    // And once done, a further push takes nothing.
    const d = new ChunkedDecoder();
    const out: Buffer[] = [];
    d.push(Buffer.from(WIRE), out);
    assert.equal(d.push(Buffer.from(next), out), 0);
    assert.equal(Buffer.concat(out).toString(), DATA);
  });

  it('returns data as views of the input (no copy)', () => {
    const wire = Buffer.from('5\r\nhello\r\n0\r\n\r\n');
    const out: Buffer[] = [];
    new ChunkedDecoder().push(wire, out);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.buffer, wire.buffer);
    assert.equal(out[0]!.byteOffset, wire.byteOffset + 3);
  });

  const malformed: [string, string][] = [
    ['a non-hex size', 'zz\r\nabc\r\n0\r\n\r\n'],
    ['a size with a non-hex digit after hex', '5g\r\nhello\r\n'],
    ['an empty size line', '\r\nabc\r\n'],
    ['a size led by a space', ' 5\r\nhello\r\n'],
    ['a bare LF after the size', '5\nhello\r\n'],
    ['CR not followed by LF after the size', '5\rXhello\r\n'],
    ['data longer than its size', '3\r\nabcd\r\n0\r\n\r\n'],
    ['a missing CRLF after data', '3\r\nabc0\r\n\r\n'],
    ['CR without LF after data', '3\r\nabc\rX0\r\n\r\n'],
    ['a size with 13 hex digits', '1000000000000\r\n'],
    ['a trailer line with CR not followed by LF', '0\r\nX: y\rZ\r\n'],
    ['a last-chunk end with CR not followed by LF', '0\r\n\rX'],
  ];
  for (const [what, wire] of malformed) {
    it(`throws on ${what}`, () => {
      assert.throws(() => decodeAll(wire), Error);
    });
  }

  it('throws on a malformed byte even when fed one byte at a time', () => {
    const d = new ChunkedDecoder();
    const out: Buffer[] = [];
    const wire = Buffer.from('3\r\nabcX');
    for (let i = 0; i < wire.length - 1; i++) d.push(wire.subarray(i, i + 1), out);
    assert.throws(() => d.push(wire.subarray(wire.length - 1), out), /overran/);
    assert.equal(Buffer.concat(out).toString(), 'abc');
  });

  it('accepts a 12-digit size (the limit) and waits for its data', () => {
    const d = new ChunkedDecoder();
    const out: Buffer[] = [];
    const head = 'fffffffffff0\r\n';
    assert.equal(d.push(Buffer.from(head + 'abc'), out), head.length + 3);
    assert.equal(d.done, false);
    assert.equal(Buffer.concat(out).toString(), 'abc');
  });

  it('says when a push was whole chunks framed as Berth frames them, so the bytes can be sent on as they are', () => {
    const whole = (...pushes: string[]) => {
      const d = new ChunkedDecoder();
      for (const p of pushes) d.push(Buffer.from(p, 'latin1'), []);
      return d.wholeChunks;
    };
    assert.equal(whole('5\r\nhello\r\n'), true);
    assert.equal(whole('5\r\nhello\r\n1a\r\n' + 'x'.repeat(26) + '\r\n'), true);
    assert.equal(whole('5\r\nhe', 'llo\r\n'), false, 'the second push began inside a chunk');
    assert.equal(whole('5\r\nhel'), false, 'ends inside a chunk');
    assert.equal(whole('5\r\nhello\r'), false, 'ends before the CRLF');
    assert.equal(whole('1A\r\n' + 'x'.repeat(26) + '\r\n'), false, 'upper-case hex');
    assert.equal(whole('05\r\nhello\r\n'), false, 'a leading zero');
    assert.equal(whole('5;a=b\r\nhello\r\n'), false, 'an extension');
    assert.equal(whole('5\r\nhello\r\n0\r\n\r\n'), false, 'the last chunk');
    assert.equal(whole('5\r\nhello\r\n', '3\r\nabc\r\n'), true, 'a later push that is whole chunks again');
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { stripAnsi } from '../../daemon/logs/ansi.js';
import { LineSplitter, type Line } from '../../daemon/logs/line-splitter.js';
import { readFixture } from './engine-log-fixtures.js';

function split(chunks: string[], flush = true): Line[] {
  const s = new LineSplitter();
  const out = chunks.flatMap((c) => s.push(c));
  return flush ? [...out, ...s.flush()] : out;
}
const plain = (lines: Line[]) => lines.map((l) => l.plain);

/** Cuts `text` into chunks of pseudo-random sizes (deterministic), to split '\r\n' and escapes anywhere. */
function chop(text: string, seed: number): string[] {
  const out: string[] = [];
  let x = seed;
  for (let i = 0; i < text.length; ) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const n = 1 + (x % 97);
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

describe('LineSplitter', () => {
  test('\\n, \\r\\n and \\r\\r\\n all end a line', () => {
    assert.deepEqual(plain(split(['a\nb\r\nc\r\r\nd\n'])), ['a', 'b', 'c', 'd']);
  });

  test('a bare \\r overwrites the line: only what follows the last one stays', () => {
    assert.deepEqual(plain(split(['\rLoading  0%\rLoading 50%\rLoading 100%\r\n'])), ['Loading 100%']);
    // vLLM's worker prefix is written before tqdm's \r and is covered by the bar.
    assert.deepEqual(plain(split(['(VllmWorker rank=0 pid=7) \rLoading 100%\r\n'])), ['Loading 100%']);
  });

  test('a \\r at the end of a chunk is resolved by the next chunk', () => {
    assert.deepEqual(plain(split(['done\r', '\nnext\n'])), ['done', 'next']);
    assert.deepEqual(plain(split(['old text\r', 'new\n'])), ['new']);
    assert.deepEqual(plain(split(['kept\r'])), ['kept'], 'a trailing \\r alone erases nothing');
  });

  test('keeps empty lines (tqdm close() writes one)', () => {
    assert.deepEqual(plain(split(['a\r\n\r\nb\r\n'])), ['a', '', 'b']);
  });

  test('a partial last line waits for more data or flush()', () => {
    const s = new LineSplitter();
    assert.deepEqual(s.push('hel'), []);
    assert.equal(s.peek()?.plain, 'hel');
    assert.deepEqual(plain(s.push('lo\nwor')), ['hello']);
    assert.deepEqual(plain(s.flush()), ['wor']);
    assert.deepEqual(s.flush(), []);
    assert.equal(s.peek(), null);
  });

  test('raw keeps ANSI colours, plain drops them', () => {
    const [line] = split(['\x1b[32mINFO\x1b[0m:     Started server process [\x1b[36m3604\x1b[0m]\r\n']);
    assert.equal(line!.raw, '\x1b[32mINFO\x1b[0m:     Started server process [\x1b[36m3604\x1b[0m]');
    assert.equal(line!.plain, 'INFO:     Started server process [3604]');
  });

  test('an escape sequence split across chunks is still stripped', () => {
    assert.deepEqual(plain(split(['\x1b[3', '2mINFO\x1b', '[0m: ok\n'])), ['INFO: ok']);
  });

  test('cuts an endless line at maxLineLength without splitting a surrogate pair', () => {
    const s = new LineSplitter({ maxLineLength: 5 });
    const lines = s.push('abcd😀efgh\n'); // the emoji is 2 code units at index 4-5
    assert.deepEqual(lines.map((l) => l.raw), ['abcd', '😀efg', 'h']);
    for (const l of lines) assert.equal(l.raw, Buffer.from(l.raw, 'utf8').toString('utf8'), 'well-formed');
  });

  for (const name of ['vllm-0.9.0.1-success-1gpu', 'vllm-0.9.0.1-success-tp2', 'sglang-0.4.6-success']) {
    test(`${name}.raw turns into exactly ${name}.log, however the chunks fall`, () => {
      const raw = readFixture(`${name}.raw`);
      const expected = readFixture(`${name}.log`).split('\n');
      expected.pop(); // the file ends with a newline
      for (const seed of [1, 7, 42]) assert.deepEqual(plain(split(chop(raw, seed))), expected);
      assert.deepEqual(plain(split([raw])), expected);
    });
  }
});

describe('stripAnsi', () => {
  test('removes CSI, OSC and stray controls, keeps tabs', () => {
    assert.equal(stripAnsi('\x1b[1;36m(VllmWorker)\x1b[0;0m x'), '(VllmWorker) x');
    assert.equal(stripAnsi('\x1b]0;title\x07text\x1b]8;;http://x\x1b\\link'), 'textlink');
    assert.equal(stripAnsi('a\tb\x07c\x1b(Bd'), 'a\tbcd');
  });

  test('returns the same string when there is nothing to strip', () => {
    const s = 'INFO 06-05 09:07:08 [__init__.py:243] Automatically detected platform cuda.';
    assert.equal(stripAnsi(s), s);
  });
});

// Turns pty output chunks into the lines a person saw on the screen.
//
// What arrives (engine-logs README, "Terminal output"):
//  - the pty's line discipline turns every '\n' into '\r\n';
//  - tqdm redraws a bar in place with a bare '\r' and the new text, so one
//    screen line can receive hundreds of versions before its newline;
//  - vLLM's worker prefix is written before tqdm's '\r', so on screen the bar
//    covers it;
//  - chunks split anywhere: between '\r' and '\n', inside an escape sequence.
//
// Rule: a line ends at '\n' (any '\r's right before it included); a bare '\r'
// followed by text means the line is overwritten and only what follows the
// last bare '\r' is kept. That is the `.log` form of the engine-log fixtures,
// and what the screen shows for tqdm, which pads every redraw to the previous
// width. A '\r' is resolved only when the next character arrives, so a chunk
// that ends in '\r' loses nothing.
import { stripAnsi } from './ansi.js';
import { safeCutIndex } from './utf16.js';

export interface Line {
  /** As the terminal received it, ANSI colours included. */
  raw: string;
  /** ANSI escapes and control characters removed. */
  plain: string;
}

export interface LineSplitterOptions {
  /**
   * Longest line kept whole, in UTF-16 code units; longer text is cut into
   * lines of this size. Bounds memory when a program writes without newlines.
   * Default 64 Ki: vLLM's engine-config line and SGLang's server_args line run
   * to several thousand characters and must stay whole.
   */
  maxLineLength?: number;
}

const DEFAULT_MAX_LINE_LENGTH = 64 * 1024;

function toLine(raw: string): Line {
  return { raw, plain: stripAnsi(raw) };
}

export class LineSplitter {
  private readonly maxLineLength: number;
  private current = '';
  /** A '\r' was seen after `current` and not yet resolved. */
  private carriageReturn = false;

  constructor(opts: LineSplitterOptions = {}) {
    this.maxLineLength = Math.max(2, opts.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH);
  }

  /** Feeds a chunk; returns the lines it completed. */
  push(chunk: string): Line[] {
    const out: Line[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      if (i > start) this.append(chunk.slice(start, i), out);
      start = i + 1;
      if (c === 13) {
        this.carriageReturn = true;
      } else {
        out.push(toLine(this.current));
        this.current = '';
        this.carriageReturn = false;
      }
    }
    if (start < chunk.length) this.append(chunk.slice(start), out);
    return out;
  }

  /**
   * The line being written, as the screen shows it now (a progress bar that
   * has not ended yet), or null when there is none.
   */
  peek(): Line | null {
    return this.current === '' ? null : toLine(this.current);
  }

  /** Ends the partial last line (the process exited mid-line). */
  flush(): Line[] {
    const line = this.peek();
    this.current = '';
    this.carriageReturn = false;
    return line ? [line] : [];
  }

  private append(text: string, out: Line[]): void {
    if (this.carriageReturn) {
      this.current = '';
      this.carriageReturn = false;
    }
    this.current += text;
    while (this.current.length > this.maxLineLength) {
      const cut = safeCutIndex(this.current, this.maxLineLength);
      out.push(toLine(this.current.slice(0, cut)));
      this.current = this.current.slice(cut);
    }
  }
}

// Server-sent events, parsed by hand for the streams EventSource cannot open:
// a chat completion is a POST, and EventSource only GETs. Pure (no DOM), so
// it runs and is tested under Node as it runs in the page.
//
// The format (WHATWG HTML, "server-sent events"): lines end in CRLF, LF or a
// lone CR; `field: value` with one optional space after the colon; a line
// starting with ':' is a comment (keep-alives); `data` lines accumulate,
// joined by '\n'; a blank line dispatches the event. Network chunks split
// anywhere, a CRLF included, so a trailing CR is held until the next chunk
// says whether an LF follows.

export interface SseMessage {
  /** The `event:` field; "message" when absent. */
  event: string;
  /** The `data:` lines joined by '\n'. */
  data: string;
  /** The last `id:` seen on the stream (it persists across events), or undefined. */
  id: string | undefined;
}

export class SseParser {
  private partial = '';
  /** The previous chunk ended in CR: an LF that starts the next one belongs to it. */
  private pendingCr = false;
  private started = false;
  private data: string[] = [];
  private event = '';
  private lastId: string | undefined;

  /** Feeds decoded text; returns the events it completed. */
  push(chunk: string): SseMessage[] {
    if (chunk.length === 0) return [];
    if (!this.started) {
      this.started = true;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    const out: SseMessage[] = [];
    let i = 0;
    if (this.pendingCr) {
      this.pendingCr = false;
      if (chunk.charCodeAt(0) === 10) i = 1;
    }
    let start = i;
    for (; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = this.partial + chunk.slice(start, i);
      this.partial = '';
      this.line(line, out);
      if (c === 13) {
        if (i + 1 === chunk.length) this.pendingCr = true;
        else if (chunk.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.partial += chunk.slice(start);
    return out;
  }

  /**
   * The stream ended. The standard drops an event that its blank line never
   * closed; we keep one whose last line did end, because a server that ends
   * with `data: [DONE]\n` and closes has said everything it meant to.
   */
  end(): SseMessage[] {
    const out: SseMessage[] = [];
    if (this.partial !== '') {
      this.partial = '';
    } else if (this.data.length > 0) {
      this.dispatch(out);
    }
    this.data = [];
    this.event = '';
    return out;
  }

  private line(line: string, out: SseMessage[]): void {
    if (line === '') {
      this.dispatch(out);
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ':' comment
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.event = value;
        break;
      case 'id':
        // The standard ignores an id holding NUL.
        if (!value.includes('\0')) this.lastId = value;
        break;
      default:
        // `retry` matters only to a reconnecting client; unknown fields are ignored by the standard.
        break;
    }
  }

  private dispatch(out: SseMessage[]): void {
    if (this.data.length > 0) out.push({ event: this.event || 'message', data: this.data.join('\n'), id: this.lastId });
    this.data = [];
    this.event = '';
  }
}

/**
 * Reads an SSE body to its end, calling `onMessage` for each event. UTF-8 is
 * decoded in streaming mode, so a character split across network chunks
 * arrives whole. Resolves when the body ends; rejects when reading fails (an
 * abort included, with the signal's AbortError).
 */
export async function readSse(body: ReadableStream<Uint8Array>, onMessage: (m: SseMessage) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder('utf-8');
  const parser = new SseParser();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const m of parser.push(decoder.decode(value, { stream: true }))) onMessage(m);
    }
    for (const m of parser.push(decoder.decode())) onMessage(m);
    for (const m of parser.end()) onMessage(m);
  } finally {
    reader.releaseLock();
  }
}

// Server-sent events in main, where there is no EventSource: fetch, a parser
// that follows the HTML spec's rules, and a reconnect loop with backoff that
// resumes with Last-Event-ID. A daemon that is not there is a link state the
// tray shows, never an exception.

export interface SseMessage {
  /** The last `id:` seen on this stream (the spec's "last event ID"), null before any. */
  id: string | null;
  /** `event:`, or "message" when the message named none. */
  event: string;
  data: string;
}

/** Incremental parser: feed decoded text as it arrives, get whole messages back. */
export class SseParser {
  private buf = '';
  private data: string[] = [];
  private event = '';
  private lastId: string | null = null;
  /** The server's `retry:` in ms, when it sent one. */
  retryMs: number | null = null;

  push(chunk: string): SseMessage[] {
    this.buf += chunk;
    const out: SseMessage[] = [];
    let start = 0;
    for (;;) {
      let end = -1;
      let next = -1;
      for (let i = start; i < this.buf.length; i++) {
        const c = this.buf[i];
        if (c === '\n') {
          end = i;
          next = i + 1;
          break;
        }
        if (c === '\r') {
          // A CR at the end of this chunk may be the first half of CRLF.
          if (i + 1 === this.buf.length) break;
          end = i;
          next = this.buf[i + 1] === '\n' ? i + 2 : i + 1;
          break;
        }
      }
      if (end < 0) break;
      const msg = this.line(this.buf.slice(start, end));
      if (msg) out.push(msg);
      start = next;
    }
    this.buf = this.buf.slice(start);
    return out;
  }

  private line(line: string): SseMessage | null {
    if (line === '') {
      const data = this.data;
      const event = this.event || 'message';
      this.data = [];
      this.event = '';
      if (data.length === 0) return null;
      return { id: this.lastId, event, data: data.join('\n') };
    }
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    return null;
  }
}

export type LinkState =
  /** The first attempt, before any answer; a retry stays 'lost' until it connects, so the tray does not flicker. */
  | { kind: 'connecting' }
  | { kind: 'live' }
  /** No connection (refused, dropped, timed out); retrying. */
  | { kind: 'lost'; reason: string; retryInMs: number }
  /** The daemon answered but refused the stream (401 without the right API key, or not an event stream). */
  | { kind: 'refused'; status: number; message: string; retryInMs: number };

export interface FollowOptions {
  url: string;
  apiKey?: string | null;
  fetch?: typeof fetch;
  onMessage(msg: SseMessage): void;
  onLink(state: LinkState): void;
  /** First retry delay, doubled per failure up to maxMs; reset once a connection delivers a message. */
  initialRetryMs?: number;
  maxRetryMs?: number;
  /**
   * No byte for this long means a dead connection (a hung daemon, a sleeping
   * laptop's stale socket): drop it and reconnect. The daemon sends a comment
   * every 15 s, so twice that plus slack.
   */
  idleMs?: number;
}

export interface Follower {
  close(): void;
}

export function followStream(opts: FollowOptions): Follower {
  const doFetch = opts.fetch ?? fetch;
  const initial = opts.initialRetryMs ?? 250;
  const max = opts.maxRetryMs ?? 5000;
  const idleMs = opts.idleMs ?? 35_000;
  let closed = false;
  let lastId: string | null = null;
  let delay = initial;
  let current: AbortController | null = null;
  let sleepTimer: NodeJS.Timeout | null = null;
  let wakeSleep: (() => void) | null = null;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wakeSleep = resolve;
      sleepTimer = setTimeout(resolve, ms);
    });

  async function connectOnce(): Promise<Extract<LinkState, { retryInMs: number }> | null> {
    const ac = new AbortController();
    current = ac;
    let idle: NodeJS.Timeout | null = null;
    const touch = () => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => ac.abort(new Error(`no data for ${idleMs} ms`)), idleMs);
    };
    const headers: Record<string, string> = { accept: 'text/event-stream', 'cache-control': 'no-cache' };
    if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;
    if (lastId !== null) headers['last-event-id'] = lastId;
    try {
      touch();
      const res = await doFetch(opts.url, { headers, signal: ac.signal });
      const type = res.headers.get('content-type') ?? '';
      if (!res.ok || !type.startsWith('text/event-stream') || !res.body) {
        const text = await res.text().catch(() => '');
        let message = `the daemon answered ${res.status}`;
        try {
          const m = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
          if (typeof m === 'string') message = m;
        } catch {
          /* not our envelope */
        }
        return { kind: 'refused', status: res.status, message, retryInMs: 0 };
      }
      opts.onLink({ kind: 'live' });
      const parser = new SseParser();
      const decoder = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        touch();
        for (const msg of parser.push(decoder.decode(chunk, { stream: true }))) {
          lastId = msg.id;
          delay = parser.retryMs ?? initial;
          opts.onMessage(msg);
        }
      }
      return { kind: 'lost', reason: 'the daemon closed the event stream', retryInMs: 0 };
    } catch (err) {
      if (closed) return null;
      const cause = (err as { cause?: { code?: string } }).cause;
      const reason = cause?.code === 'ECONNREFUSED' ? 'nothing listens on the port' : ac.signal.aborted ? String((ac.signal.reason as Error)?.message ?? 'aborted') : (err as Error).message;
      return { kind: 'lost', reason, retryInMs: 0 };
    } finally {
      if (idle) clearTimeout(idle);
      current = null;
    }
  }

  void (async () => {
    opts.onLink({ kind: 'connecting' });
    while (!closed) {
      const end = await connectOnce();
      if (closed || !end) break;
      opts.onLink({ ...end, retryInMs: delay });
      await sleep(delay);
      delay = Math.min(delay * 2, max);
    }
  })();

  return {
    close() {
      closed = true;
      current?.abort();
      if (sleepTimer) clearTimeout(sleepTimer);
      wakeSleep?.();
    },
  };
}

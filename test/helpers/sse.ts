// A server-sent-events client for tests: reads a stream in the background,
// keeps every message with its id and event, and waits for the one that
// matters (never for a length of time).
import { SAFETY_MS } from './limits.js';

export interface SseMessage {
  id: string | null;
  event: string | null;
  data: string;
}

export class SseReader {
  readonly messages: SseMessage[] = [];
  private readonly wakers = new Set<() => void>();
  private ended = false;
  private readonly abort = new AbortController();
  private endedNow: () => void = () => {};
  /** Resolves when the stream has ended: the server closed it, or close() was called. */
  readonly finished = new Promise<void>((resolve) => (this.endedNow = resolve));

  private constructor(readonly response: Response) {}

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const ac = new AbortController();
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: ac.signal });
    if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status}`);
    const reader = new SseReader(res);
    reader.abort.signal.addEventListener('abort', () => ac.abort());
    void reader.pump();
    return reader;
  }

  /** The parsed JSON of every message so far. */
  data<T = unknown>(): T[] {
    return this.messages.map((m) => JSON.parse(m.data) as T);
  }

  /** The first message (already seen or still to come) that satisfies `pred`. */
  until(pred: (m: SseMessage) => boolean, what: string, timeoutMs = SAFETY_MS): Promise<SseMessage> {
    const seen = this.messages.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(check);
      };
      const check = () => {
        const m = this.messages.find(pred);
        if (m) {
          done();
          resolve(m);
        } else if (this.ended) {
          done();
          reject(new Error(`stream ended before ${what} (saw: ${this.summary()})`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no message: ${what} (saw: ${this.summary()})`));
      }, timeoutMs);
      this.wakers.add(check);
    });
  }

  close(): void {
    this.abort.abort();
  }

  private summary(): string {
    return this.messages.map((m) => `${m.id}:${m.event}`).slice(-30).join(', ') || 'nothing';
  }

  private async pump(): Promise<void> {
    const decoder = new TextDecoder();
    let buf = '';
    let cur: SseMessage = { id: null, event: null, data: '' };
    let hasData = false;
    try {
      for await (const chunk of this.response.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf('\n')) !== -1) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line === '') {
            if (hasData) this.messages.push(cur);
            cur = { id: null, event: null, data: '' };
            hasData = false;
            continue;
          }
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id') cur.id = value;
          else if (field === 'event') cur.event = value;
          else if (field === 'data') {
            cur.data = hasData ? `${cur.data}\n${value}` : value;
            hasData = true;
          }
        }
        for (const wake of [...this.wakers]) wake();
      }
    } catch {
      /* aborted or reset: the stream has ended */
    } finally {
      this.ended = true;
      this.endedNow();
      for (const wake of [...this.wakers]) wake();
    }
  }
}

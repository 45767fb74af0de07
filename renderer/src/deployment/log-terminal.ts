// A deployment's engine output in a real terminal (STYLE.md example 13: the
// class owns the xterm instance and the stream; the component only mounts it).
//
// The stream: GET /api/v1/deployments/:name/logs?follow=1&ansi=1&tail=500 as
// server-sent events, one JSON-encoded line per `data:`; each replica's tail,
// then its new lines, after an `event: replica` naming it (LogStreamEvents in
// the contract). The daemon follows the deployment: when a restart replaces
// the replica, or the first one starts, the same stream moves on and says
// so, and the terminal starts over under a marker line. The daemon has
// already resolved carriage returns (a tqdm bar redrawn in place arrives as
// the one line the screen ended with, colours kept:
// daemon/logs/line-splitter.ts), so every message is a whole line.
// EventSource reconnects by itself after a dropped connection and the daemon
// then replays the tail: the terminal is reset first, so nothing shows twice,
// and a marker says lines in the gap may be missing. `event: end` (a named
// replica gone for good) closes the stream for good.
import { FitAddon } from '@xterm/addon-fit';
import { Terminal, type ITheme } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { fillPath, queryString, streams } from '../../../daemon/contract/routes.js';
import { withStyleNonce } from './csp-nonce.js';
import { LogQueue } from './log-queue.js';
import { endReasonOf, replicaMarker, replicaOf } from './log-stream-events.js';

/** Lines the daemon replays on (re)connect. */
export const TAIL_LINES = 500;
const SCROLLBACK = 10_000;
/** Text handed to xterm but not yet parsed, above which the next frame waits (ttyd's high watermark). */
const IN_FLIGHT_LIMIT = 256 * 1024;
/**
 * Waits before reopening a stream the browser gave up on. EventSource retries
 * a dropped connection by itself, but not an error status: a 404 for a
 * replica the daemon no longer has, a 502 from a proxy while the daemon
 * restarts. The page usually moves to the new replica first.
 */
const RETRY_MS = [2_000, 5_000, 10_000, 30_000];
/** The reader's own ways of scrolling: wheel, keys (Shift+PageUp), dragging the scrollbar, touch. */
const USER_SCROLL_EVENTS = ['wheel', 'keyup', 'pointerup', 'touchend'] as const;

export type LogStreamState =
  /** Nothing to show: no source. */
  | 'idle'
  | 'connecting'
  | 'live'
  /** The connection dropped; the browser is retrying. */
  | 'reconnecting'
  /** The daemon (or a proxy before it) refused the stream: the replica is gone, a login is needed, the daemon is down behind a proxy. Retried with backoff. */
  | 'closed'
  /** The daemon ended the stream (the picked replica is gone for good): nothing more will come. */
  | 'ended';

export interface LogSource {
  deployment: string;
  /**
   * The replica the user picked, or null to follow the deployment: the
   * daemon then picks the replica and moves the stream to the next one
   * itself, also after a daemon restart (the reconnect asks it afresh).
   */
  replica: string | null;
}

function sameSource(a: LogSource | null, b: LogSource | null): boolean {
  if (!a || !b) return a === b;
  return a.deployment === b.deployment && a.replica === b.replica;
}

export interface LogTerminalOptions {
  onState?: (state: LogStreamState) => void;
  /** Following changed from inside the terminal (the user scrolled up, or back to the end). */
  onFollowChange?: (follow: boolean) => void;
  /** The replica whose output the terminal now shows, as the daemon said (null: none yet, or a new source). */
  onReplica?: (id: string | null) => void;
  /** For tests and other origins; the page uses its own origin. */
  baseUrl?: string;
}

/** A dim line for the queue, which ends each line itself. */
const DIM_LINE = (s: string) => `\x1b[2m${s}\x1b[0m`;
const DIM = (s: string) => `${DIM_LINE(s)}\r\n`;
const WARN = (s: string) => `\x1b[33m${s}\x1b[0m\r\n`;
const ERR = (s: string) => `\x1b[31m${s}\x1b[0m\r\n`;
const HIDE_CURSOR = '\x1b[?25l';

/** The URL of a log stream: tail, then follow, ANSI colours kept. */
export function logStreamUrl(src: LogSource, baseUrl = ''): string {
  const query = { follow: true, ansi: true, tail: TAIL_LINES, replica: src.replica ?? undefined };
  return baseUrl + fillPath(streams.deploymentLogs, { name: src.deployment }) + queryString(query);
}

function cssVar(el: Element, name: string): string | undefined {
  const v = getComputedStyle(el).getPropertyValue(name).trim();
  return v || undefined;
}

// ANSI colours chosen to read on each background; engines colour log levels
// (vLLM: green INFO, yellow WARNING, red ERROR) and nothing else.
const DARK: ITheme = {
  background: '#14161a',
  foreground: '#d8dee9',
  cursor: '#d8dee9',
  selectionBackground: '#3b4252',
  black: '#3b4252',
  red: '#f07178',
  green: '#a3d977',
  yellow: '#f0c674',
  blue: '#82aaff',
  magenta: '#c792ea',
  cyan: '#89ddff',
  white: '#e5e9f0',
  brightBlack: '#6b7280',
  brightRed: '#ff8b92',
  brightGreen: '#b8f28a',
  brightYellow: '#ffd98a',
  brightBlue: '#9cbcff',
  brightMagenta: '#dcaaff',
  brightCyan: '#a6e9ff',
  brightWhite: '#ffffff',
};

const LIGHT: ITheme = {
  background: '#fbfbfc',
  foreground: '#1f2328',
  cursor: '#1f2328',
  selectionBackground: '#cfe3ff',
  black: '#1f2328',
  red: '#c4262e',
  green: '#1a7f37',
  yellow: '#8a6100',
  blue: '#0b5cd5',
  magenta: '#8250df',
  cyan: '#0f7b8a',
  white: '#6e7781',
  brightBlack: '#57606a',
  brightRed: '#a40e26',
  brightGreen: '#116329',
  brightYellow: '#6f4e00',
  brightBlue: '#0a3f9c',
  brightMagenta: '#6639ba',
  brightCyan: '#0b5c68',
  brightWhite: '#24292f',
};

export class LogTerminal {
  private readonly term: Terminal;
  private readonly fit = new FitAddon();
  private readonly queue = new LogQueue();
  private readonly resize: ResizeObserver;
  private readonly scheme: MediaQueryList;
  private source: EventSource | null = null;
  private src: LogSource | null = null;
  private frame = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private scrollCheck: ReturnType<typeof setTimeout> | undefined;
  private retries = 0;
  /** The refusal was already shown: say it once per outage, not once per retry. */
  private refused = false;
  /** The replica this connection is showing; null until its first `replica` message. */
  private shown: string | null = null;
  private inFlight = 0;
  private follow = true;
  private opened = false;
  private disposed = false;
  private state: LogStreamState = 'idle';

  constructor(
    private readonly host: HTMLElement,
    private readonly opts: LogTerminalOptions = {},
  ) {
    this.scheme = matchMedia('(prefers-color-scheme: dark)');
    this.term = new Terminal({
      disableStdin: true,
      convertEol: false,
      cursorBlink: false,
      scrollback: SCROLLBACK,
      fontFamily: cssVar(host, '--mono') ?? 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
      fontSize: 13,
      theme: this.theme(),
      // Engine output has no use for a cursor or a bell; links are printed as text.
      allowProposedApi: false,
    });
    this.term.loadAddon(this.fit);
    withStyleNonce(host.ownerDocument, () => this.term.open(host));
    this.term.write(HIDE_CURSOR);
    this.resize = new ResizeObserver(() => this.refit());
    this.resize.observe(host);
    this.scheme.addEventListener('change', this.onScheme);
    // Capture: xterm's scrollable element stops the wheel event from bubbling.
    for (const type of USER_SCROLL_EVENTS) host.addEventListener(type, this.onUserScroll, { passive: true, capture: true });
    this.refit();
  }

  /** Shows `src`'s output (tail, then live), or nothing for null. Replaces what was shown. */
  show(src: LogSource | null): void {
    if (this.disposed) return;
    if (sameSource(src, this.src)) return;
    this.disconnect();
    this.clear();
    this.src = src;
    this.opts.onReplica?.(null);
    this.opened = false;
    this.retries = 0;
    this.refused = false;
    if (!src) {
      this.setState('idle');
      return;
    }
    this.connect(src);
  }

  /** Follow: keep the newest line in view. Off: stay where the reader is while lines keep arriving. */
  setFollow(on: boolean): void {
    if (this.follow === on) return;
    this.follow = on;
    if (on) this.term.scrollToBottom();
  }

  get following(): boolean {
    return this.follow;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disconnect();
    cancelAnimationFrame(this.frame);
    this.resize.disconnect();
    this.scheme.removeEventListener('change', this.onScheme);
    for (const type of USER_SCROLL_EVENTS) this.host.removeEventListener(type, this.onUserScroll, { capture: true });
    clearTimeout(this.scrollCheck);
    this.term.dispose();
  }

  private connect(src: LogSource): void {
    this.setState(this.opened ? 'reconnecting' : 'connecting');
    const es = new EventSource(logStreamUrl(src, this.opts.baseUrl));
    this.source = es;
    es.onopen = () => {
      if (this.source !== es) return;
      if (this.opened) {
        // The daemon replays the tail on every connection: start over, say why.
        this.clear();
        this.term.write(WARN(`reconnected: the last ${TAIL_LINES} lines again; lines printed while disconnected may be missing`));
      } else {
        const what = src.replica ?? `${src.deployment} (following its replicas)`;
        this.term.write(DIM(`${what}: the last ${TAIL_LINES} lines, then live`));
      }
      this.shown = null;
      this.opened = true;
      this.retries = 0;
      this.refused = false;
      this.setState('live');
    };
    es.onmessage = (e: MessageEvent<string>) => {
      if (this.source !== es) return;
      let line: unknown;
      try {
        line = JSON.parse(e.data);
      } catch {
        line = e.data;
      }
      this.queue.push(typeof line === 'string' ? line : String(line));
      this.schedule();
    };
    // The stream moved to a replica: the first of this connection, or the
    // next one after a restart. Another replica's lines start over, under a
    // marker; the first ones follow what onopen wrote.
    es.addEventListener('replica', (e: MessageEvent<string>) => {
      if (this.source !== es) return;
      const id = replicaOf(e.data);
      if (id === null) return;
      if (this.shown !== null && this.shown !== id) this.clear();
      this.shown = id;
      this.opts.onReplica?.(id);
      // Queued like a line, so it stays in order with the lines around it.
      this.queue.push(DIM_LINE(replicaMarker(id)));
      this.schedule();
    });
    // Said before the daemon closes: no reconnect would bring anything back.
    es.addEventListener('end', (e: MessageEvent<string>) => {
      if (this.source !== es) return;
      this.disconnect();
      // After the lines still queued: the replica's last words come first.
      this.queue.push(DIM_LINE(`— ${endReasonOf(e.data) ?? 'the stream ended'} —`));
      this.schedule();
      this.setState('ended');
    });
    // Not closed here: the browser retries a dropped connection by itself.
    // CLOSED means it will not (the daemon answered with an error status).
    es.onerror = () => {
      if (this.source !== es) return;
      if (es.readyState === EventSource.CLOSED) {
        this.source = null;
        const wait = RETRY_MS[Math.min(this.retries++, RETRY_MS.length - 1)]!;
        if (!this.refused) {
          this.refused = true;
          this.term.write(ERR(`the log stream was refused (the replica may be gone, or the page must log in again); retrying every few seconds`));
        }
        this.setState('closed');
        this.retryTimer = setTimeout(() => this.connect(src), wait);
      } else {
        this.setState('reconnecting');
      }
    };
  }

  private disconnect(): void {
    clearTimeout(this.retryTimer);
    this.source?.close();
    this.source = null;
  }

  /** Empties the screen, scrollback and queue. */
  private clear(): void {
    this.queue.clear();
    this.term.reset();
    this.term.write(HIDE_CURSOR);
  }

  private schedule(): void {
    if (this.frame || this.disposed) return;
    this.frame = requestAnimationFrame(this.flush);
  }

  private readonly flush = () => {
    this.frame = 0;
    if (this.disposed) return;
    // xterm has not parsed what it got: wait a frame rather than pile more on it.
    if (this.inFlight > IN_FLIGHT_LIMIT) {
      this.schedule();
      return;
    }
    const text = this.queue.take();
    if (text === null) return;
    this.inFlight += text.length;
    const pinned = this.follow ? null : this.term.buffer.active.viewportY;
    // Following needs nothing here: xterm keeps a viewport that is at the end
    // there. Forcing it would pull back a reader who has just started to
    // scroll up, before onUserScroll turns following off.
    this.term.write(text, () => {
      this.inFlight -= text.length;
      if (this.disposed) return;
      if (pinned !== null && !this.follow) this.term.scrollToLine(pinned);
    });
    if (!this.queue.empty) this.schedule();
  };

  private refit(): void {
    if (this.disposed) return;
    // Hidden (an inactive tab): there is no size to fit to.
    if (this.host.clientWidth === 0 || this.host.clientHeight === 0) return;
    this.fit.fit();
    if (this.follow) this.term.scrollToBottom();
  }

  /**
   * Scrolling up stops following; scrolling back to the end resumes it. Only
   * the reader's own input counts: output moves the viewport too, and must
   * not decide. Checked a moment later, once xterm has applied the scroll.
   */
  private readonly onUserScroll = () => {
    clearTimeout(this.scrollCheck);
    this.scrollCheck = setTimeout(() => {
      if (this.disposed) return;
      const b = this.term.buffer.active;
      const atEnd = b.viewportY >= b.baseY;
      if (atEnd !== this.follow) {
        this.follow = atEnd;
        this.opts.onFollowChange?.(atEnd);
      }
    }, 50);
  };

  private readonly onScheme = () => {
    this.term.options.theme = this.theme();
  };

  private theme(): ITheme {
    const base = this.scheme.matches ? DARK : LIGHT;
    return { ...base, background: cssVar(this.host, '--term-bg') ?? base.background };
  }

  private setState(s: LogStreamState): void {
    if (this.state === s) return;
    this.state = s;
    this.opts.onState?.(s);
  }
}

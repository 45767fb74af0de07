// A running engine's output, handed to every listener: `RunningProcess.onData`
// for any launcher. Output produced before the first listener subscribes is
// kept (bounded) and replayed to it, so a caller that awaits something between
// start() and onData() loses nothing.

/** Output kept for a process nobody listens to yet, in UTF-16 code units. */
const BACKLOG_LIMIT = 1 << 20;

export class OutputFanout {
  private readonly listeners = new Set<(chunk: string) => void>();
  private backlog: string[] | null = [];
  private backlogSize = 0;

  subscribe(listener: (chunk: string) => void): () => void {
    this.listeners.add(listener);
    const backlog = this.backlog;
    if (backlog) {
      this.backlog = null;
      // Replayed in a microtask so the listener never runs before subscribe()
      // returns; no output can come in between (it arrives in I/O callbacks).
      queueMicrotask(() => {
        for (const chunk of backlog) if (this.listeners.has(listener)) listener(chunk);
      });
    }
    return () => {
      this.listeners.delete(listener);
    };
  }

  emit(chunk: string): void {
    if (this.backlog) {
      this.backlog.push(chunk);
      this.backlogSize += chunk.length;
      while (this.backlogSize > BACKLOG_LIMIT && this.backlog.length > 1) this.backlogSize -= this.backlog.shift()!.length;
      return;
    }
    for (const listener of [...this.listeners]) {
      if (!this.listeners.has(listener)) continue; // unsubscribed by an earlier listener
      try {
        listener(chunk);
      } catch (err) {
        // One broken listener must not starve the others (the log, readiness);
        // rethrown outside this loop so the bug still surfaces.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}

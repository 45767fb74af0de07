// Lifecycle operations on one deployment run one at a time (STYLE example 3's
// companion): a launch awaits the GPU inventory and a port probe, a stop
// awaits drains, and interleaving them at those awaits is how a stop or a
// delete during a cold start used to leave an engine running.
//
// Keyed by deployment name, not by object: a deployment created again under
// the name of one still being deleted waits for that delete to finish, so the
// old engine is gone (and its state-file entry deleted) before the new one
// starts.

export class OpQueue {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `op` after every op queued before it for `key` has settled. */
  run<T>(key: string, op: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const result = prev.then(op);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    // Forget idle keys, or every name ever deployed would stay in the map.
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

/**
 * Runs tasks one after another: a connection's transaction must not interleave with other
 * statements of the same process (a heartbeat timer, a second await chain).
 */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

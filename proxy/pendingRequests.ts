/** Requests the server has received and not yet answered, to answer them if it dies. */
export class PendingRequests {
  /** Keyed by the id itself: `1` and `"1"` are different keys, as they are different ids. */
  private readonly byKey = new Map<unknown, unknown>();

  /** A client request (of this id) went to the server. */
  sent(id: unknown): void {
    this.byKey.set(keyOf(id), id);
  }

  /** The server answered (the request of this id). */
  answered(id: unknown): void {
    this.byKey.delete(keyOf(id));
  }

  /** The ids still waiting, in the order they were sent; clears the set. */
  drain(): unknown[] {
    const ids = [...this.byKey.values()];
    this.byKey.clear();
    return ids;
  }

  get size(): number {
    return this.byKey.size;
  }
}

/** Ids are strings or numbers; anything else (not a valid id) by its text. */
function keyOf(id: unknown): unknown {
  return typeof id === 'string' || typeof id === 'number' ? id : `?${String(id)}`;
}

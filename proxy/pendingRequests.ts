import type { RpcMessage } from './frame.js';

/** Requests the server has received and not yet answered, to answer them if it dies. */
export class PendingRequests {
  private readonly byKey = new Map<string, unknown>();

  /** A client request went to the server. */
  sent(m: RpcMessage): void {
    this.byKey.set(keyOf(m.id), m.id);
  }

  /** The server answered. */
  answered(m: RpcMessage): void {
    this.byKey.delete(keyOf(m.id));
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

function keyOf(id: unknown): string {
  return typeof id === 'string' ? `s${id}` : `n${String(id)}`;
}

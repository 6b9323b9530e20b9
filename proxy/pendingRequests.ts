import { lossyId, RawJson } from './exactId.js';

/**
 * Ids whose double stands for more than one token (`9007199254740992` and `…993`, both read as
 * 2^53): the tokens in flight, in the order they were sent.
 */
class Tokens {
  constructor(readonly list: RawJson[]) {}
}

/** Requests the server has received and not yet answered, to answer them if it dies. */
export class PendingRequests {
  /**
   * Keyed by the id itself: `1` and `"1"` are different keys, as they are different ids. The
   * value is the id to answer with; for a number a double does not hold exactly (`lossyId`), the
   * tokens of the requests it stands for (`Tokens`).
   */
  private readonly byKey = new Map<unknown, unknown>();
  /** How many tokens more than keys the `Tokens` hold. */
  private shared = 0;

  /** A client request (of this id) went to the server; `exact`: its id as written (Frame.exactId). */
  sent(id: unknown, exact: unknown = id): void {
    if (lossyId(id)) this.sentLossy(id, exact instanceof RawJson ? exact : new RawJson(JSON.stringify(id)));
    else this.byKey.set(keyOf(id), id);
  }

  /**
   * The server answered (the request of this id); `exact`: the id as its answer wrote it. Of the
   * requests a double stands for, the answer settles the one it spells, else (the server read the
   * id as a double too) the first.
   */
  answered(id: unknown, exact: unknown = id): void {
    if (!lossyId(id)) {
      this.byKey.delete(keyOf(id));
      return;
    }
    const had = this.byKey.get(id);
    if (!(had instanceof Tokens)) return;
    if (had.list.length === 1) {
      this.byKey.delete(id);
      return;
    }
    const i = exact instanceof RawJson ? had.list.findIndex((r) => r.text === exact.text) : -1;
    had.list.splice(i === -1 ? 0 : i, 1);
    this.shared--;
  }

  /**
   * The ids still waiting (to answer with), in the order they were sent (the tokens one double
   * stands for together, where its first was sent); clears the set.
   */
  drain(): unknown[] {
    const ids = [...this.byKey.values()];
    this.byKey.clear();
    this.shared = 0;
    return ids.flatMap((v) => (v instanceof Tokens ? v.list : [v]));
  }

  get size(): number {
    return this.byKey.size + this.shared;
  }

  private sentLossy(id: number, exact: RawJson): void {
    const had = this.byKey.get(id);
    if (!(had instanceof Tokens)) this.byKey.set(id, new Tokens([exact]));
    else if (!had.list.some((r) => r.text === exact.text)) {
      // Another request the server may read as the same id: each is owed an answer.
      had.list.push(exact);
      this.shared++;
    }
  }
}

/** Ids are strings or numbers; anything else (not a valid id) by its text. */
function keyOf(id: unknown): unknown {
  return typeof id === 'string' || typeof id === 'number' ? id : `?${String(id)}`;
}

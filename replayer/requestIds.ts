import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import { InFlightRequests } from '../proxy/enforce/clientMessages.js';
import { rpcMessages } from './rpcMessages.js';
import type { ReplayMessage } from './source.js';

/**
 * The gateway's request ids in flight, as replay reconstructs them (proxy/enforce's
 * InFlightRequests: ids compare by their text, so `1` and `"1"` collide). A request claims its
 * id; an answer with that id reaching the client frees it, but for the gateway's own refusals
 * (`owe`): refusing a request that reuses an id in flight, the gateway answers with that id,
 * and the request in flight goes on.
 */
export interface RequestIds {
  /** A request with this id, at `seq`: false if the id is still in flight (the gateway refuses it). */
  claim(id: unknown, seq: number): boolean;
  /** The gateway answered a request with this id itself, in the messages right after `seq`. */
  owe(id: unknown, seq: number): void;
  /** A message to the client (fed every one, in order, when the ids are streamed). */
  answered(r: ReplayMessage): void;
}

/** Fed every message of the session in order: the ids in flight, and the refusals owed. */
export class StreamedIds implements RequestIds {
  /** The gateway's own bookkeeping. */
  private readonly inFlight = new InFlightRequests();
  private readonly owed = new Map<string, number>();

  claim(id: unknown): boolean {
    return this.inFlight.claim(id as RequestId);
  }

  owe(id: unknown): void {
    const key = String(id);
    this.owed.set(key, (this.owed.get(key) ?? 0) + 1);
  }

  answered(r: ReplayMessage): void {
    if (r.raw !== null) {
      // A batch, or a message the envelope scan leaves to JSON.parse.
      for (const m of rpcMessages(r.raw)) if (m.method === undefined && m.id !== undefined) this.release(String(m.id));
    } else if (r.method === null && r.rpcId !== null) {
      let id: unknown;
      try {
        id = JSON.parse(r.rpcId);
      } catch {
        return;
      }
      this.release(String(id));
    }
  }

  private release(key: string): void {
    const owed = this.owed.get(key);
    if (owed === undefined) this.inFlight.release(key);
    else if (owed > 1) this.owed.set(key, owed - 1);
    else this.owed.delete(key);
  }
}

/**
 * Requests remembered by RememberedIds: an id reused after this many other requests is taken as
 * answered. No MCP request stays unanswered that long (clients time out within a minute), and
 * the memory stays bounded however long the session.
 */
export const REMEMBERED_REQUESTS = 65_536;

/**
 * Fed the client's messages only (a db session: the server's are not read at all, until a
 * request reuses an id): a request reusing an id counts the answers with that id the client got
 * since the id's last request. The answers are read once, in order, by `answersBetween` (the
 * server's answers between two messages), from where they were last read up to the request, and
 * each is credited to the last remembered request with its id; so a client that cycles through
 * a few thousand ids reads each answer once, not once per request in between. Integer ids that
 * only grow (what SDK clients send) are kept in a ring sorted by id, with no string and no map
 * entry per call; other requests in a map.
 */
export class RememberedIds implements RequestIds {
  // Grown on demand (a timeline holds one per session it merges): 16 entries to begin with.
  private monoIds = new Float64Array(16);
  private monoSeqs = new Float64Array(16);
  /** Answers received for each request of the ring (credited as they are read). */
  private monoAnswers = new Float64Array(16);
  private monoStart = 0;
  private monoCount = 0;
  private maxInt = -Infinity;
  /** Other requests: each id's last one, as its slot in a ring forgotten in request order. */
  private readonly claims = new Map<string, number>();
  private ringKeys: (string | undefined)[] = new Array<string | undefined>(16);
  private ringSeqs = new Float64Array(16);
  private ringAnswers = new Float64Array(16);
  private next = 0;
  /** Refusals with an id since its last request (rare). */
  private readonly refusals = new Map<string, number>();
  /** The answers up to this `seq` (exclusive of later ones) have been read and credited. */
  private readTo = -Infinity;

  constructor(
    /** The server's answers after one message and before another (exclusive): those with an id, and batches. */
    private readonly answersBetween: (afterSeq: number, beforeSeq: number) => Iterable<ReplayMessage>,
  ) {}

  claim(id: unknown, seq: number): boolean {
    if (
      typeof id === 'number' &&
      Number.isInteger(id) &&
      id > this.maxInt &&
      (this.claims.size === 0 || !this.claims.has(String(id)))
    ) {
      this.maxInt = id;
      let size = this.monoIds.length;
      if (this.monoCount === size && size < REMEMBERED_REQUESTS) {
        // Grow, the ring unrolled into order.
        const ids = new Float64Array(size * 2);
        const seqs = new Float64Array(size * 2);
        const answers = new Float64Array(size * 2);
        for (let i = 0; i < size; i++) {
          const from = (this.monoStart + i) % size;
          ids[i] = this.monoIds[from]!;
          seqs[i] = this.monoSeqs[from]!;
          answers[i] = this.monoAnswers[from]!;
        }
        [this.monoIds, this.monoSeqs, this.monoAnswers, this.monoStart, size] = [ids, seqs, answers, 0, size * 2];
      }
      const at = (this.monoStart + this.monoCount) % size;
      this.monoIds[at] = id;
      this.monoSeqs[at] = seq;
      this.monoAnswers[at] = 0;
      if (this.monoCount < size) this.monoCount++;
      else this.monoStart = (this.monoStart + 1) % size;
      return true;
    }
    const key = String(id);
    const last = this.lastRequest(key);
    if (last !== undefined) {
      this.readAnswers(seq);
      if (this.answersOf(last) <= (this.refusals.get(key) ?? 0)) return false;
      this.refusals.delete(key);
    }
    let size = this.ringSeqs.length;
    if (this.next === 0 && this.ringKeys[0] !== undefined && size < REMEMBERED_REQUESTS) {
      // The ring is full and in order (it wrapped to 0): grow it, the new half empty.
      this.ringKeys.length = size * 2;
      const seqs = new Float64Array(size * 2);
      seqs.set(this.ringSeqs);
      this.ringSeqs = seqs;
      const answers = new Float64Array(size * 2);
      answers.set(this.ringAnswers);
      this.ringAnswers = answers;
      this.next = size;
      size *= 2;
    }
    const oldest = this.ringKeys[this.next];
    if (oldest !== undefined && this.claims.get(oldest) === this.next) {
      this.claims.delete(oldest);
      this.refusals.delete(oldest);
    }
    this.claims.set(key, this.next);
    this.ringKeys[this.next] = key;
    this.ringSeqs[this.next] = seq;
    this.ringAnswers[this.next] = 0;
    this.next = (this.next + 1) % size;
    return true;
  }

  owe(id: unknown, seq: number): void {
    const key = String(id);
    const last = this.lastRequest(key);
    // The refusal follows the message it refuses: it counts against a request made up to then.
    if (last !== undefined && this.seqOf(last) <= seq) this.refusals.set(key, (this.refusals.get(key) ?? 0) + 1);
  }

  answered(): void {
    // Not fed: the answers are read on demand.
  }

  /**
   * Reads the answers before `seq` not read yet, crediting each to the last remembered request
   * with its id (made before it). An answer older than every remembered request is skipped unread.
   */
  private readAnswers(seq: number): void {
    const from = Math.max(this.readTo, this.oldestSeq());
    if (from >= seq - 1) return;
    for (const r of this.answersBetween(from, seq)) {
      if (r.raw !== null) {
        // A batch: its members' answers.
        for (const m of rpcMessages(r.raw))
          if (m.method === undefined && m.id !== undefined) this.credit(String(m.id), r.seq);
      } else if (r.method === null && r.rpcId !== null) {
        let id: unknown;
        try {
          id = JSON.parse(r.rpcId);
        } catch {
          continue;
        }
        this.credit(String(id), r.seq);
      }
    }
    this.readTo = seq - 1;
  }

  private credit(key: string, answerSeq: number): void {
    const slot = this.lastRequest(key);
    if (slot === undefined || this.seqOf(slot) >= answerSeq) return;
    if (slot >= 0) this.monoAnswers[slot]!++;
    else this.ringAnswers[~slot]!++;
  }

  /** The `seq` of the oldest request remembered (no answer before it can count). */
  private oldestSeq(): number {
    let oldest = Infinity;
    if (this.monoCount > 0) oldest = this.monoSeqs[this.monoStart]!;
    const ring = this.ringKeys[this.next] !== undefined ? this.next : this.ringKeys[0] !== undefined ? 0 : -1;
    if (ring !== -1) oldest = Math.min(oldest, this.ringSeqs[ring]!);
    return oldest === Infinity ? -Infinity : oldest;
  }

  private seqOf(slot: number): number {
    return slot >= 0 ? this.monoSeqs[slot]! : this.ringSeqs[~slot]!;
  }

  private answersOf(slot: number): number {
    return slot >= 0 ? this.monoAnswers[slot]! : this.ringAnswers[~slot]!;
  }

  /**
   * Where the last remembered request with this id text is: its index in the ring of growing
   * integer ids (≥ 0), or `~index` in the ring of the others (< 0).
   */
  private lastRequest(key: string): number | undefined {
    const slot = this.claims.get(key);
    if (slot !== undefined) return ~slot;
    const n = Number(key);
    if (!Number.isInteger(n) || String(n) !== key || this.monoCount === 0) return undefined;
    // Binary search of the ring (ids ascending from monoStart).
    const size = this.monoIds.length;
    let lo = 0;
    let hi = this.monoCount - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const at = (this.monoStart + mid) % size;
      const v = this.monoIds[at]!;
      if (v === n) return at;
      if (v < n) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }
}

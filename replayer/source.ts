import type { MessageRecord, ReplayMessage, SessionInfo, SessionRecord } from '../store/types.js';

export type { ReplayMessage };

/** A recorded session, wherever it lives (db or JSONL file): its header and streamed records. */
export interface SessionSource {
  info: SessionInfo;
  /** Where it came from, for messages: a file path or `db:<id>`. */
  origin: string;
  records(): Iterable<SessionRecord>;
  /**
   * Optional fast path for replay, with `answersBetween`: the client's messages replay reads
   * (those that can be a `tools/call` or an `initialize`, and every request), in `seq` order. The
   * server's are then not read at all, but for a request that reuses an earlier one's id.
   */
  replayMessages?(): Iterable<ReplayMessage>;
  /**
   * With `replayMessages`: the server's answers between two messages (exclusive), in `seq`
   * order: its messages with an id and no method (`rpcId` and no text), and batches (with text).
   */
  answersBetween?(afterSeq: number, beforeSeq: number): Iterable<ReplayMessage>;
  /** A db session: the `seq` of its last record (how far a reading goes, for a progress bar). */
  lastSeq?(): number;
  /** Optional direct lookup of one message by `seq` (else: scan `records()`). */
  messageAt?(seq: number): MessageRecord | undefined;
}

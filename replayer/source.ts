import type { MessageRecord, SessionInfo, SessionRecord } from '../store/types.js';

/** A recorded session, wherever it lives (db or JSONL file): its header and streamed records. */
export interface SessionSource {
  info: SessionInfo;
  /** Where it came from, for messages: a file path or `db:<id>`. */
  origin: string;
  records(): Iterable<SessionRecord>;
  /**
   * Optional fast path for replay: the client messages that can hold a `tools/call` or an
   * `initialize`, in `seq` order (a superset; `callsOf` still checks each).
   */
  callMessages?(): Iterable<MessageRecord>;
  /** Optional direct lookup of one message by `seq` (else: scan `records()`). */
  messageAt?(seq: number): MessageRecord | undefined;
}

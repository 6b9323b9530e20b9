/** What a recording is, in the terms of the JSONL format (SPEC §4). */
export interface SessionInfo {
  id: string;
  name?: string | undefined;
  /** ISO 8601 time the session started; message times `t` are µs since then. */
  startedAt: string;
  transport: string;
  server?: unknown;
  /** The identity the session's calls ran under, when set explicitly (`enforce --grant`). */
  grant?: string | undefined;
  endedAt?: string | undefined;
  exitCode?: number | null | undefined;
  /** Other fields of the session line, kept so import then export yields the same line. */
  extra?: Record<string, unknown> | undefined;
}

export type Direction = 'c2s' | 's2c';

export interface MessageRecord {
  type: 'message';
  seq: number;
  /** µs since the session started. */
  t: number;
  dir: Direction;
  /** The raw JSON-RPC message text, exactly as stored. */
  raw: string;
}

/**
 * What replay reads of one message: where it is, its method and id as the recorder stored them
 * (of a batch's first element), and its text when replay must read it (every client message, a
 * batch either way); a server's answer is known by its id alone.
 */
export interface ReplayMessage {
  seq: number;
  t: number;
  dir: Direction;
  method: string | null;
  /** The JSON-RPC id as JSON text (`1`, `"a"`), or null. */
  rpcId: string | null;
  raw: string | null;
}

export interface EventRecord {
  type: 'event';
  seq: number;
  t: number;
  event: string;
  data: unknown;
}

export type SessionRecord = MessageRecord | EventRecord;

export interface SessionSummary extends SessionInfo {
  messages: number;
  calls: number;
}

import type { Direction, Frame } from './frame.js';

/**
 * What a tap does with a frame: forward it (`undefined`), forward another message in its place
 * (`{ replace }`), or consume it (`{ drop: true }`; to answer it, the tap also `send`s a reply).
 */
export type TapAction = undefined | { replace: unknown } | { drop: true };

/** Things that happen beside the message stream, for the recorder. */
export type PumpEvent =
  | { kind: 'stderr'; data: string; t: number }
  | { kind: 'non-json'; dir: Direction; data: string; t: number }
  | { kind: 'exit'; code: number | null; signal: string | null; t: number }
  | { kind: 'error'; message: string; t: number };

export interface TapContext {
  /** µs since the session started, now. */
  now(): number;
  /**
   * Sends a message (or a frame) from this tap's position: toward the client through the taps
   * on the client's side of it, toward the server through those on the server's side. Inside
   * `onFrame` it joins the current batch; at other times it goes out at once.
   */
  send(dir: Direction, message: unknown): void;
}

/**
 * A stage of the pump. Taps are ordered from the client's side to the server's: a client
 * message meets them first to last, a server message last to first. All hooks are synchronous,
 * so message order is kept; a tap that must wait (an approval) drops the frame and sends later.
 */
export interface Tap {
  /** What a log line calls it ("recorder", "gateway"). */
  readonly name?: string;
  /**
   * A gatekeeper (the enforcer): if its `onFrame` throws on a client message, the message is not
   * forwarded and its requests get a JSON-RPC error. Other taps are skipped on error instead.
   */
  readonly failClosed?: boolean;
  onFrame(frame: Frame, ctx: TapContext): TapAction;
  /** The end of a batch of frames that arrived together: make them durable. Runs before any is written. */
  flush?(): void;
  /**
   * The batch was written to its side: the work that need not delay it (parsing what was
   * forwarded unparsed, for bookkeeping). Runs before the next batch.
   */
  settle?(): void;
  onEvent?(event: PumpEvent): void;
  /** The client closed its side (end of stdin): nothing it waits for can reach it any more. */
  clientEnded?(): void;
  /** The session is over (the server exited); release resources. */
  close?(): void;
}

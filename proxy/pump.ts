import { INVALID, envelopeIsRequest, envelopeIsResponse, type Envelope } from './envelope.js';
import { lossyId } from './exactId.js';
import { Frame, isRequest, type Direction } from './frame.js';
import { LineSplitter } from './lineSplitter.js';
import { visibleName } from '../engine/visible.js';
import { PendingRequests } from './pendingRequests.js';
import type { PumpEvent, Tap, TapContext } from './tap.js';

export interface PumpOptions {
  /** Ordered from the client's side to the server's. */
  taps: readonly Tap[];
  /** Writes bytes to a side: `c2s` to the server, `s2c` to the client. */
  write: (dir: Direction, bytes: Buffer) => void;
  /** µs since the session started. */
  clock: () => number;
  /**
   * A tap failed (it is skipped for that frame: the message still goes through). `where` says
   * which tap and on what message, when it failed on one ("gateway, on the client's tools/call id 7").
   */
  onTapError?: (err: unknown, where?: string) => void;
  /**
   * Runs a whole batch (taps and flushes) as one unit, e.g. one db transaction: the gateway's
   * decisions, their audit and the recorded messages then commit together, once.
   */
  atomic?: (fn: () => void) => void;
}

const CANCELLED = 'notifications/cancelled';

/** JSON-RPC error code for requests the server died before answering. */
export const SERVER_EXITED = -32000;

/** JSON-RPC error code for requests a fail-closed tap (the gateway) failed to judge. */
export const TAP_FAILED = -32603;

/**
 * Moves messages between the client and the server through the taps. Bytes arrive in chunks;
 * the complete lines of a chunk form a batch: every frame goes through the taps, then every tap
 * flushes (the recorder makes the batch durable), then the batch is written out, in one write. A frame no tap
 * touched is forwarded as the exact bytes it arrived as.
 */
export class Pump {
  private readonly splitters = { c2s: new LineSplitter(), s2c: new LineSplitter() };
  private readonly pending = new PendingRequests();
  private readonly contexts: TapContext[];
  /** The batch being built: what to write to each side, and the frames to settle after. */
  private out: { c2s: Buffer[]; s2c: Buffer[]; sent: Frame[]; received: Frame[] } | undefined;
  private serverGone = false;
  /** The server's last bytes to the client ended without a newline (it died mid-line). */
  private clientLineOpen = false;
  private gone = '';

  constructor(private readonly options: PumpOptions) {
    this.contexts = options.taps.map((_, i) => ({
      now: options.clock,
      send: (dir: Direction, message: unknown) => {
        const frame = message instanceof Frame ? message : Frame.of(dir, message, options.clock());
        this.batch(() => this.travel(frame, dir === 'c2s' ? i + 1 : i - 1));
      },
    }));
  }

  /** Bytes from the client (`c2s`) or the server (`s2c`). */
  receive(dir: Direction, chunk: Buffer): void {
    const lines = this.splitters[dir].push(chunk);
    if (lines.length > 0) this.process(dir, lines);
  }

  /** The side's stream ended: an unterminated last line is passed on as it is. */
  end(dir: Direction): void {
    const rest = this.splitters[dir].end();
    if (rest) {
      this.process(dir, [rest]);
      if (dir === 's2c') this.clientLineOpen = true;
    }
    if (dir === 'c2s') for (const tap of this.options.taps) this.guard(() => tap.clientEnded?.());
  }

  event(event: PumpEvent): void {
    for (const tap of this.options.taps) this.guard(() => tap.onEvent?.(event));
  }

  /**
   * The server is gone: every request it had not answered gets a JSON-RPC error (the client
   * must not wait forever), then the exit is reported and the taps closed.
   */
  serverExited(code: number | null, signal: string | null): void {
    if (this.serverGone) return;
    this.serverGone = true;
    this.gone = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const ids = this.pending.drain();
    if (ids.length > 0) this.batch(() => ids.forEach((id) => this.answerGone(id)));
    this.event({ kind: 'exit', code, signal, t: this.options.clock() });
    for (const tap of this.options.taps) this.guard(() => tap.close?.());
  }

  /** Requests the server has not answered yet. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** The complete lines of a chunk: one batch (the taps flush once, one write to the other side). */
  private process(dir: Direction, lines: Buffer[]): void {
    const t = this.options.clock();
    const first = dir === 'c2s' ? 0 : this.options.taps.length - 1;
    this.batch(() => {
      for (const bytes of lines) {
        const frame = new Frame(dir, bytes, t);
        if (dir === 's2c') this.out!.received.push(frame);
        this.travel(frame, first);
      }
    });
  }

  /** Runs `fn` as a batch (or inside the current one): taps flush, then the output is written. */
  private batch(fn: () => void): void {
    if (this.out) {
      fn();
      return;
    }
    const out = (this.out = { c2s: [], s2c: [], sent: [], received: [] });
    let ran = false;
    const run = () => {
      ran = true;
      fn();
      for (const tap of this.options.taps) this.guard(() => tap.flush?.());
    };
    try {
      if (this.options.atomic) this.options.atomic(run);
      else run();
    } catch (err) {
      this.options.onTapError?.(err);
      // The unit could not start: the traffic still flows, each tap on its own. It could not
      // commit: a gatekeeper's verdicts did not hold (the budgets they spent are rolled back),
      // so the requests it let through are refused, not forwarded (fail closed).
      if (!ran) run();
      else this.refuseForwarded(out, err);
    } finally {
      this.out = undefined;
    }
    if (out.s2c.length > 0) this.options.write('s2c', join(out.s2c));
    if (out.c2s.length > 0) this.options.write('c2s', join(out.c2s));
    this.settle(out);
  }

  /**
   * The requests of a batch about to go to the server are answered instead, from the server's
   * edge (the taps see them answered and forget them); frames without a request still go.
   */
  private refuseForwarded(out: { c2s: Buffer[]; sent: Frame[] }, err: unknown): void {
    if (!this.options.taps.some((tap) => tap.failClosed)) return;
    const sent = out.sent.splice(0);
    const bytes = out.c2s.splice(0);
    sent.forEach((frame, k) => {
      const requests = frame.messages().filter(isRequest);
      if (requests.length === 0) {
        out.sent.push(frame);
        out.c2s.push(bytes[k]!);
      }
      for (const m of requests) this.refuse(frame.exactId(m), this.options.taps.length, err);
    });
    for (const tap of this.options.taps) this.guard(() => tap.flush?.());
  }

  /**
   * After the batch is written: which requests the server now owes an answer. Parsing for this
   * waits until the frames are on their way (a frame parses once; the taps share it).
   */
  private settle(out: { sent: Frame[]; received: Frame[] }): void {
    this.guard(() => this.track(out));
    for (const tap of this.options.taps) if (tap.settle) this.guard(() => tap.settle!());
  }

  private track(out: { sent: Frame[]; received: Frame[] }): void {
    // An id a double may not hold exactly is kept as written too (answered so if the server dies).
    for (const frame of out.received) {
      const heads = frame.heads();
      if (heads === INVALID) continue;
      for (let k = 0; k < heads.length; k++) {
        const { id } = heads[k]!;
        if (envelopeIsResponse(heads[k]!)) this.pending.answered(id, lossyId(id) ? frame.exactIdAt(k) : id);
      }
    }
    for (const frame of out.sent) {
      const heads = frame.heads();
      if (heads === INVALID) continue;
      for (let k = 0; k < heads.length; k++) {
        const { id } = heads[k]!;
        if (envelopeIsRequest(heads[k]!)) this.pending.sent(id, lossyId(id) ? frame.exactIdAt(k) : id);
        else if (heads[k]!.method === CANCELLED && id === undefined) this.cancelled(frame, k);
      }
    }
  }

  /**
   * The client cancelled a request (`notifications/cancelled`, the `k`th message of `frame`): it
   * forgot the request, and the server owes it no answer (MCP), so none is made up if the server
   * dies (the client would read an answer to an id it no longer knows).
   */
  private cancelled(frame: Frame, k: number): void {
    const params = frame.messages()[k]?.params as { requestId?: unknown } | undefined;
    const id = params?.requestId;
    if (typeof id === 'string' || typeof id === 'number') this.pending.answered(id);
  }

  /** Takes a frame through the taps from index `from` on, in its direction, then to its side. */
  private travel(frame: Frame, from: number): void {
    const { taps } = this.options;
    const step = frame.dir === 'c2s' ? 1 : -1;
    for (let i = from; i >= 0 && i < taps.length; i += step) {
      let action;
      let replaced: Frame;
      try {
        action = taps[i]!.onFrame(frame, this.contexts[i]!);
        if (action === undefined) continue;
        if ('drop' in action) return;
        // A rewritten line keeps the terminator the original had (`\r\n` stays `\r\n`). It may
        // not serialize (nested deeper than the stack): that is the tap failing too.
        replaced = Frame.of(frame.dir, action.replace, frame.t, frame.eol() || '\n');
      } catch (err) {
        this.options.onTapError?.(err, `${taps[i]!.name ?? `tap ${i + 1}`}, on ${describe(frame)}`);
        if (!taps[i]!.failClosed || frame.dir !== 'c2s') continue;
        // A gatekeeping tap that fails lets nothing through: its requests are refused, not forwarded.
        for (const m of frame.messages()) if (isRequest(m)) this.refuse(frame.exactId(m), i, err);
        return;
      }
      Object.assign(replaced.notes, frame.notes);
      frame = replaced;
    }
    if (frame.dir === 'c2s') {
      if (this.serverGone) {
        for (const m of frame.messages()) if (isRequest(m)) this.answerGone(frame.exactId(m));
        return;
      }
      this.out!.sent.push(frame);
    }
    this.out![frame.dir].push(frame.bytes);
  }

  /**
   * Answers a request the server will never answer (it is gone), from the server's edge. `id`:
   * as the client wrote it (Frame.exactId), as for `refuse`.
   */
  private answerGone(id: unknown): void {
    // The server died in the middle of a line: our answers start on a line of their own (glued
    // to the fragment, the client could read neither).
    if (this.clientLineOpen) {
      this.out!.s2c.push(NEWLINE);
      this.clientLineOpen = false;
    }
    const reply = {
      jsonrpc: '2.0',
      id,
      error: { code: SERVER_EXITED, message: `MCP server ${this.gone} before answering (mcp-replay)` },
    };
    this.travel(Frame.of('s2c', reply, this.options.clock()), this.options.taps.length - 1);
  }

  /**
   * Answers a client request a fail-closed tap could not judge, from that tap's position (the
   * taps on the client's side of it see the answer; `taps.length`: the server's edge, all do).
   */
  private refuse(id: unknown, tap: number, err: unknown): void {
    const reply = {
      jsonrpc: '2.0',
      id,
      error: {
        code: TAP_FAILED,
        message: `refused by mcp-replay (fail closed): ${(err as Error)?.message ?? String(err)}`,
      },
    };
    this.travel(Frame.of('s2c', reply, this.options.clock()), tap - 1);
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.options.onTapError?.(err);
    }
  }
}

const NEWLINE = Buffer.from('\n');

/** A frame as a log line names it: "the client's tools/call id 7", "the server's line that is not JSON". */
function describe(frame: Frame): string {
  const side = frame.dir === 'c2s' ? "the client's" : "the server's";
  let heads: readonly Envelope[] | typeof INVALID;
  try {
    heads = frame.heads();
  } catch {
    heads = INVALID;
  }
  if (heads === INVALID) return `${side} line that is not JSON`;
  if (heads.length !== 1 || Array.isArray(frame.json())) return `${side} batch of ${heads.length}`;
  const e = heads[0]!;
  const what = e.method !== null ? e.method : e.hasMethod ? 'message' : 'response';
  return `${side} ${visibleName(what)}${e.idText !== null ? ` id ${visibleName(e.idText)}` : ''}`;
}

/**
 * One buffer of the frames to write. Frames forwarded untouched are adjacent slices of the chunk
 * they arrived in: then the slice of the chunk that spans them, without a copy.
 */
function join(list: Buffer[]): Buffer {
  const first = list[0]!;
  if (list.length === 1) return first;
  let end = first.byteOffset + first.length;
  let length = first.length;
  for (let i = 1; i < list.length; i++) {
    const b = list[i]!;
    if (b.buffer !== first.buffer || b.byteOffset !== end) return Buffer.concat(list);
    end += b.length;
    length += b.length;
  }
  return Buffer.from(first.buffer, first.byteOffset, length);
}

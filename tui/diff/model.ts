import type { Decision, Verdict } from '../../engine/types.js';
import type { DiffedCall, Transition } from '../../replayer/diff.js';
import { DECISION_ORDER as DECISIONS } from './order.js';

/** One call as the TUI shows it. `args` is undefined for unchanged calls (not kept; see `loadArgs`). */
export interface DiffRow {
  index: number;
  session: string;
  seq: number;
  /** µs since the session started. */
  t: number;
  /** Absolute time (ms since the epoch). */
  at: number;
  tool: string;
  args: unknown;
  a: Side;
  b: Side;
  changed: boolean;
}

export interface Side {
  decision: Decision;
  reason: string;
  rule: string;
  retryAfterMs?: number;
}

export interface ViewFilter {
  changedOnly: boolean;
  /** Case-insensitive substring of the tool name. */
  tool: string;
  transition: Transition | undefined;
}

const NO_RETRY = 0xffffffff;

/**
 * Every diffed call in compact typed arrays (about 50 bytes a call, strings interned), plus the
 * arguments of the changed calls only: a million calls fit in tens of MB, and filters run over
 * arrays instead of objects.
 */
export class DiffModel {
  private cap = 1024;
  private n = 0;
  private toolId = new Uint32Array(this.cap);
  private sessionId = new Uint32Array(this.cap);
  private seqs = new Float64Array(this.cap);
  private ts = new Float64Array(this.cap);
  private decA = new Uint8Array(this.cap);
  private decB = new Uint8Array(this.cap);
  private reasonA = new Uint32Array(this.cap);
  private reasonB = new Uint32Array(this.cap);
  private ruleA = new Uint32Array(this.cap);
  private ruleB = new Uint32Array(this.cap);
  private retryA = new Uint32Array(this.cap);
  private retryB = new Uint32Array(this.cap);
  private readonly strings: string[] = [];
  private readonly ids = new Map<string, number>();
  private readonly sessions: { id: string; startMs: number }[] = [];
  private readonly sessionIds = new Map<string, number>();
  private readonly changedArgs = new Map<number, unknown>();
  private changedList: number[] = [];

  get size(): number {
    return this.n;
  }

  get changedCount(): number {
    return this.changedList.length;
  }

  /** The tools seen, in order of first appearance. */
  tools(): string[] {
    const seen = new Set<number>();
    for (let i = 0; i < this.n; i++) seen.add(this.toolId[i]!);
    return [...seen].map((id) => this.strings[id]!);
  }

  add({ call, a, b }: DiffedCall): void {
    if (this.n === this.cap) this.grow();
    const i = this.n++;
    this.toolId[i] = this.intern(call.tool);
    let s = this.sessionIds.get(call.session);
    if (s === undefined) {
      s = this.sessions.length;
      this.sessions.push({ id: call.session, startMs: call.at - call.t / 1000 });
      this.sessionIds.set(call.session, s);
    }
    this.sessionId[i] = s;
    this.seqs[i] = call.seq;
    this.ts[i] = call.t;
    this.setSide(i, a, this.decA, this.reasonA, this.ruleA, this.retryA);
    this.setSide(i, b, this.decB, this.reasonB, this.ruleB, this.retryB);
    if (a.decision !== b.decision) {
      this.changedList.push(i);
      this.changedArgs.set(i, call.args);
    }
  }

  row(i: number): DiffRow {
    const session = this.sessions[this.sessionId[i]!]!;
    const t = this.ts[i]!;
    return {
      index: i,
      session: session.id,
      seq: this.seqs[i]!,
      t,
      at: session.startMs + t / 1000,
      tool: this.strings[this.toolId[i]!]!,
      args: this.changedArgs.get(i),
      a: this.side(i, this.decA, this.reasonA, this.ruleA, this.retryA),
      b: this.side(i, this.decB, this.reasonB, this.ruleB, this.retryB),
      changed: this.decA[i] !== this.decB[i],
    };
  }

  /** Indexes of the calls the filter shows, in timeline order. */
  select(filter: ViewFilter): Uint32Array {
    const needle = filter.tool.toLowerCase();
    const toolOk =
      needle === ''
        ? undefined
        : new Set(this.strings.flatMap((s, id) => (s.toLowerCase().includes(needle) ? [id] : [])));
    let fromDec = -1;
    let toDec = -1;
    if (filter.transition) {
      const [x, y] = filter.transition.split('->') as [Decision, Decision];
      fromDec = DECISIONS.indexOf(x);
      toDec = DECISIONS.indexOf(y);
    }
    const keep = (i: number) =>
      (!toolOk || toolOk.has(this.toolId[i]!)) && (fromDec < 0 || (this.decA[i] === fromDec && this.decB[i] === toDec));
    if (filter.changedOnly) {
      if (!toolOk && fromDec < 0) return Uint32Array.from(this.changedList);
      return Uint32Array.from(this.changedList.filter(keep));
    }
    if (!toolOk && fromDec < 0) {
      const all = new Uint32Array(this.n);
      for (let i = 0; i < this.n; i++) all[i] = i;
      return all;
    }
    const out: number[] = [];
    for (let i = 0; i < this.n; i++) if (keep(i)) out.push(i);
    return Uint32Array.from(out);
  }

  private intern(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.ids.set(s, id);
    }
    return id;
  }

  private setSide(
    i: number,
    v: Verdict,
    dec: Uint8Array,
    reason: Uint32Array,
    rule: Uint32Array,
    retry: Uint32Array,
  ): void {
    dec[i] = DECISIONS.indexOf(v.decision);
    reason[i] = this.intern(v.reason);
    rule[i] = this.intern(v.rule);
    retry[i] = v.retryAfterMs === undefined ? NO_RETRY : Math.min(v.retryAfterMs, NO_RETRY - 1);
  }

  private side(i: number, dec: Uint8Array, reason: Uint32Array, rule: Uint32Array, retry: Uint32Array): Side {
    const s: Side = {
      decision: DECISIONS[dec[i]!]!,
      reason: this.strings[reason[i]!]!,
      rule: this.strings[rule[i]!]!,
    };
    if (retry[i] !== NO_RETRY) s.retryAfterMs = retry[i]!;
    return s;
  }

  private grow(): void {
    this.cap *= 2;
    const g = <T extends Uint8Array | Uint32Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(this.cap);
      b.set(a);
      return b;
    };
    this.toolId = g(this.toolId);
    this.sessionId = g(this.sessionId);
    this.seqs = g(this.seqs);
    this.ts = g(this.ts);
    this.decA = g(this.decA);
    this.decB = g(this.decB);
    this.reasonA = g(this.reasonA);
    this.reasonB = g(this.reasonB);
    this.ruleA = g(this.ruleA);
    this.ruleB = g(this.ruleB);
    this.retryA = g(this.retryA);
    this.retryB = g(this.retryB);
  }
}

import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { Policy } from '../../engine/compilePolicy.js';
import { decide } from '../../engine/decide.js';
import type { Limiter, ToolCall, Verdict } from '../../engine/types.js';
import type { DecisionRecord } from '../../store/decisionLog.js';
import type { Store } from '../../store/store.js';
import { INVALID } from '../envelope.js';
import { lossyId, memberTexts, RawJson } from '../exactId.js';
import { Frame, isRequest, NOT_JSON } from '../frame.js';
import type { SessionClock } from '../sessionClock.js';
import type { Tap, TapAction, TapContext } from '../tap.js';
import { ElicitationAsker, QueueAsker, queuedQuestion, type ApprovalOutcome } from './approvalAskers.js';
import { InFlightRequests, inspectClientMessage, isFirstInitialize, refusedWhole } from './clientMessages.js';
import {
  INVALID_REQUEST,
  PARSE_ERROR,
  approvalDenied,
  denialResponse,
  failClosed,
  isDenial,
  rejection,
  type AnswerId,
  type DenyAs,
} from './responses.js';
import { deniedOutright, filterToolsList } from './toolsList.js';

export interface EnforcerOptions {
  /** The policy in force, read for every call (hot reload swaps it). */
  policy: () => Policy;
  limiter: Limiter;
  /** The db: the approvals queue. */
  store: Store;
  /** Where every decision is stored beside its message (none with `--no-record`: there is no session). */
  audit?: ((d: Omit<DecisionRecord, 'n' | 'sessionId'>) => void) | undefined;
  sessionId: string;
  clock: SessionClock;
  /** `--grant` / `MCP_REPLAY_GRANT`; else the client's `clientInfo.name`. */
  grant?: string | undefined;
  /** `--shadow`: decide and record, enforce nothing. */
  shadow: boolean;
  denyAs: DenyAs;
  approvalTimeoutMs: number;
  /** What the approvals queue stores of a call's arguments (the recorder's redaction). */
  redact?: (args: unknown) => unknown;
  /**
   * A server's `tools/list` answer the gateway is about to filter, as the server sent it: the
   * recording holds what the client received, and this keeps what the server offered too
   * (the recorder's `unfiltered` event; `simulate --from` reads it).
   */
  unfiltered?: ((frame: Frame) => void) | undefined;
  log?: (line: string) => void;
}

type Msg = Record<string, unknown> & { id?: unknown; method?: unknown; params?: unknown; result?: unknown };

const isRecord = (v: unknown): v is Msg => typeof v === 'object' && v !== null && !Array.isArray(v);
const idKey = (id: unknown) => `${typeof id}:${String(id)}`;
/** Whether a value can be written as JSON (a result nested deeper than the stack cannot). */
function serializes(v: unknown): boolean {
  try {
    JSON.stringify(v);
    return true;
  } catch {
    return false;
  }
}
/** A request (a method and an id): the server owes it an answer. */
const isRequestMsg = (m: unknown): m is Msg & { id: RequestId } => isRecord(m) && isRequest(m);
/**
 * A message of `frame` (a batch's member) to write anew: its id as the line has it when the
 * parsed one may not write back so (`Frame.exactId`), so the other side gets the id sent.
 */
const withExactId = (frame: Frame, m: unknown): unknown =>
  isRecord(m) && lossyId(m.id) ? { ...m, id: frame.exactId(m) } : m;
/** An answer's id as it is written: in a message the client reads. */
const idText = (id: AnswerId): string => (id instanceof RawJson ? id.text : JSON.stringify(id));

/**
 * The live gateway (SPEC §3) as a tap next to the server: every client `tools/call` is decided
 * by the engine at the time the recorder stamps it (so replaying the recording decides the same),
 * and answered here when denied or throttled, held while a human approves, or forwarded.
 * `tools/list` results lose the tools the policy denies outright. Malformed and evasive client
 * messages are rejected, never forwarded. Any failure while deciding denies the call (fail closed).
 */
export class EnforcerTap implements Tap {
  readonly name = 'gateway';
  readonly failClosed = true;
  private grant: string;
  private elicitation = false;
  /** The session's `initialize` request was read; a later one (or a notification) changes nothing. */
  private initialized = false;
  private readonly inFlight = new InFlightRequests();
  private readonly listRequests = new Set<string>();
  /** Server frames forwarded in this batch without a look: their answers release ids at `settle`. */
  private readonly answers: Frame[] = [];
  /**
   * Our answers to members of a client's batch whose other members went on to the server: they
   * join the server's answer to that batch (JSON-RPC answers a batch with one array), found by
   * the ids it owes.
   */
  private readonly held: { owed: Set<string>; answers: unknown[] }[] = [];
  /** While a batch's members are judged: where the answers to them go (sent as one array after). */
  private collecting: unknown[] | undefined;
  /** The client closed its side: an approval landing now cannot be forwarded. */
  private clientGone = false;
  /** Calls held for approval, by request id: a `notifications/cancelled` from the client withdraws one. */
  private readonly holding = new Map<string, AbortController>();
  private readonly queue: QueueAsker;
  private elicit: ElicitationAsker | undefined;
  private readonly log: (line: string) => void;
  /** The session's `initialize` request, while its answer (the server's capabilities) is due. */
  private initRequest: string | undefined;
  /** The server declared `tools.listChanged`: the client listens for `notifications/tools/list_changed`. */
  private serverListChanged = false;
  /** Every tool name the server listed, and the policy the client's last list was filtered by. */
  private readonly listed = new Set<string>();
  private listedUnder: Policy | undefined;
  /** To tell the client of a reload (from no frame of its own). */
  private ctx: TapContext | undefined;

  constructor(private readonly o: EnforcerOptions) {
    this.grant = o.grant ?? 'unknown';
    this.queue = new QueueAsker(o.store, o.approvalTimeoutMs);
    this.log = o.log ?? ((line) => process.stderr.write(`mcp-replay: ${line}\n`));
  }

  onFrame(frame: Frame, ctx: TapContext): TapAction {
    if (
      frame.dir === 's2c' &&
      this.listRequests.size === 0 &&
      this.held.length === 0 &&
      this.initRequest === undefined
    ) {
      // Nothing of the server's to rewrite: its answers release their ids once forwarded (settle).
      this.answers.push(frame);
      return undefined;
    }
    const json = frame.json();
    if (frame.dir === 'c2s') return this.fromClient(frame, json, ctx);
    return json === NOT_JSON ? undefined : this.fromServer(frame, json, ctx);
  }

  /** The batch was forwarded: the ids the server answered in it may be used again. */
  settle(): void {
    for (const frame of this.answers) {
      const heads = frame.heads();
      if (heads === INVALID) continue;
      for (const e of heads) if (!e.hasMethod && e.id !== undefined) this.inFlight.release(e.id as RequestId);
    }
    this.answers.length = 0;
  }

  close(): void {
    this.elicit?.cancelAll('the session ended');
    this.queue.cancelAll();
  }

  /**
   * A new policy is in force (hot reload): if it lists or hides a tool the server listed
   * otherwise than the client was told, the client is sent `notifications/tools/list_changed`
   * (when the server declared it would send them: else the client listens for none) and lists
   * the tools again, filtered by the new policy.
   */
  policyReloaded(): void {
    const before = this.listedUnder;
    if (this.o.shadow || this.clientGone || before === undefined || this.ctx === undefined) return;
    const policy = this.o.policy();
    const shown = (p: Policy, tool: string) => deniedOutright(p, tool) === undefined;
    const changed = [...this.listed].filter((tool) => shown(before, tool) !== shown(policy, tool));
    if (changed.length === 0) return;
    this.listedUnder = policy;
    if (!this.serverListChanged) {
      this.log(
        `the new policy lists or hides ${changed.join(', ')}; the client sees that when it lists tools again ` +
          '(the server declared no tools.listChanged, so the client is not told)',
      );
      return;
    }
    this.ctx.send('s2c', { jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
  }

  /** The client hung up: no call held for approval can be answered or forwarded any more. */
  clientEnded(): void {
    this.clientGone = true;
    this.close();
  }

  private fromClient(frame: Frame, json: unknown, ctx: TapContext): TapAction {
    if (json === NOT_JSON) {
      // Not JSON to us, maybe a call to a lenient server (`NaN` in it, a second message after a
      // `\r`): not forwarded. A blank line carries nothing: dropped without a word.
      if (frame.text().trim() !== '') {
        this.log('dropped a client line that is not JSON');
        ctx.send('s2c', rejection(null, PARSE_ERROR, 'the line is not JSON; refused by mcp-replay'));
      }
      return { drop: true };
    }
    const refused = refusedWhole(frame.text(), json);
    if (refused !== undefined) {
      const answers = (Array.isArray(json) ? json : [json])
        .filter(isRequestMsg)
        .map((m) => rejection(frame.exactId(m), INVALID_REQUEST, `${refused}; refused by mcp-replay`));
      if (answers.length > 0) ctx.send('s2c', Array.isArray(json) ? answers : answers[0]);
      else this.log(`dropped a client line: ${refused}`);
      return { drop: true };
    }
    if (!Array.isArray(json)) return this.admit(json, frame, () => frame, ctx) ? undefined : { drop: true };
    if (json.length === 0) {
      ctx.send('s2c', rejection(null, INVALID_REQUEST, 'empty JSON-RPC batch'));
      return { drop: true };
    }
    // A batch: each member on its own; only the admitted ones go on, as a smaller batch. Our
    // answers to the others make one array: sent now if the server owes no answer to the batch,
    // else joined to the server's (a call held for approval is answered on its own, later).
    const answers: unknown[] = [];
    const keptAt: number[] = [];
    // What goes on of the batch goes as the client wrote it (re-serialized, numbers could change).
    let texts: string[] | undefined | null = null;
    const asWritten = (i: number): unknown => {
      if (texts === null) texts = memberTexts(frame.text());
      const text = texts?.length === json.length ? texts[i] : undefined;
      return text === undefined ? withExactId(frame, json[i]) : new RawJson(text);
    };
    this.collecting = answers;
    try {
      json.forEach((m, i) => {
        const admitted = Array.isArray(m)
          ? (this.reply(ctx, rejection(null, INVALID_REQUEST, 'nested JSON-RPC batch')), false)
          : this.admit(m, frame, () => Frame.of('c2s', asWritten(i), frame.t), ctx);
        if (admitted) keptAt.push(i);
      });
    } finally {
      this.collecting = undefined;
    }
    const kept = keptAt.map((i) => json[i] as unknown);
    if (answers.length > 0) {
      const owed = kept.filter(isRequestMsg).map((m) => idKey(m.id));
      if (owed.length === 0) ctx.send('s2c', answers);
      else this.held.push({ owed: new Set(owed), answers });
    }
    if (kept.length === json.length) return undefined;
    return kept.length === 0 ? { drop: true } : { replace: keptAt.map(asWritten) };
  }

  /**
   * Whether one client message may go on to the server now. `alone` makes the frame to forward it
   * later (an approved call), only then: a batch member may not serialize alone (too deep).
   */
  private admit(msg: unknown, frame: Frame, alone: () => Frame, ctx: TapContext): boolean {
    if (isRecord(msg) && msg.method === undefined && this.elicit?.owns(msg.id)) {
      this.elicit.answer(msg.id as string, msg); // the client's answer to our question: not for the server
      return false;
    }
    if (isRecord(msg) && isFirstInitialize(msg, this.initialized)) this.initialize(msg, ctx);
    if (isRecord(msg) && msg.method === 'notifications/cancelled' && isRecord(msg.params)) {
      // The client gave up on a call held for approval: it is withdrawn, never forwarded, and the
      // server (which never saw the call) is not told either.
      const held = this.holding.get(idKey(msg.params.requestId));
      if (held) {
        held.abort();
        return false;
      }
    }
    const check = inspectClientMessage(msg);
    switch (check.kind) {
      case 'reject':
        this.reply(
          ctx,
          rejection(check.id === null ? null : frame.exactId(msg as { id: RequestId }), check.code, check.message),
        );
        return false;
      case 'drop':
        this.log(`dropped a client message: ${check.reason}`);
        return false;
      case 'batch':
        this.reply(ctx, rejection(null, INVALID_REQUEST, 'nested JSON-RPC batch'));
        return false;
      case 'other': {
        const m = msg as Msg;
        if (typeof m.method !== 'string' || m.id === undefined || m.id === null) return true;
        if (!this.claim(m.id as RequestId, frame, m, ctx)) return false;
        if (m.method === 'tools/list') this.listRequests.add(idKey(m.id));
        return true;
      }
      case 'call':
        if (!this.claim(check.id, frame, msg as Msg, ctx)) return false;
        return this.call({ tool: check.tool, args: check.args }, check.id, frame, msg as Msg, alone, ctx);
    }
  }

  /**
   * A request id still in flight cannot be reused: answers could be matched to the wrong call.
   * `msg`, of `frame`: the request, for its id as written.
   */
  private claim(id: RequestId, frame: Frame, msg: Msg, ctx: TapContext): boolean {
    if (this.inFlight.claim(id)) return true;
    const exact = frame.exactId(msg as { id: RequestId });
    // Ids beyond 2^53 compare as the doubles they read as: a server reading them so (any
    // JavaScript one) could not tell the two requests apart either.
    const same = lossyId(id) ? ' (or one read as the same number)' : '';
    this.reply(
      ctx,
      rejection(
        exact,
        INVALID_REQUEST,
        `request id ${idText(exact)}${same} is already in flight; refused by mcp-replay`,
      ),
    );
    return false;
  }

  /** Answers a client message now, or, while a batch is judged, with the batch's other answers. */
  private reply(ctx: TapContext, message: unknown): void {
    if (this.collecting) this.collecting.push(message);
    else ctx.send('s2c', message);
  }

  /** `msg`: the request, of `frame` (its id as written answers it). */
  private call(
    what: { tool: string; args: unknown },
    id: RequestId,
    frame: Frame,
    msg: Msg,
    alone: () => Frame,
    ctx: TapContext,
  ): boolean {
    const now = this.o.clock.at(frame.notes.t ?? frame.t);
    const call: ToolCall = { tool: what.tool, args: what.args, session: this.o.sessionId, grant: this.grant };
    const seq = frame.notes.seq ?? null;
    const verdict = this.decide(call, now, seq, id, { consumeOnApproval: this.o.shadow });
    if (this.o.shadow || verdict.decision === 'allow') return true;
    const exact = frame.exactId(msg as { id: RequestId });
    // A call made as a task (MCP tasks: `params.task`) is owed a CreateTaskResult or an error: a
    // CallToolResult in its place is read by no client (the SDK's fails on it, the denial unsaid).
    const denyAs = isRecord(msg.params) && msg.params.task !== undefined ? 'error' : this.o.denyAs;
    if (isDenial(verdict)) {
      this.answer(id, exact, verdict, ctx, denyAs);
      return false;
    }
    void this.approve(call, verdict, now, seq, id, exact, alone, ctx, denyAs);
    return false;
  }

  /** decide() and its audit row in one transaction; any failure denies (fail closed). */
  private decide(
    call: ToolCall,
    now: number,
    seq: number | null,
    id: RequestId,
    opts: { consumeOnApproval: boolean },
    audited = true,
  ): Verdict {
    const { limiter } = this.o;
    try {
      const policy = this.o.policy();
      return limiter.atomically(() => {
        const v = decide(policy, limiter, call, now, opts);
        if (audited) this.audit(call, v, now, seq, id, policy.sha256);
        return v;
      });
    } catch (err) {
      const v = failClosed(err);
      this.log(`${call.tool}: ${v.reason}`);
      try {
        this.audit(call, v, now, seq, id, this.o.policy().sha256);
      } catch {
        // the audit itself failed: the denial stands
      }
      return v;
    }
  }

  private audit(call: ToolCall, v: Verdict, now: number, seq: number | null, id: RequestId, sha: string): void {
    if (!this.o.audit || seq === null) return;
    this.o.audit({
      seq,
      rpcId: JSON.stringify(id),
      tool: call.tool,
      decision: v.decision,
      reason: v.reason,
      rule: v.rule,
      retryAfterMs: v.retryAfterMs,
      policySha256: sha,
      at: now,
      enforced: !this.o.shadow,
    });
  }

  /** Answers the call of request id `id` (written `exact`) with a denial, as `denyAs` says. */
  private answer(
    id: RequestId,
    exact: AnswerId,
    v: Verdict & { decision: 'deny' | 'throttle' },
    ctx: TapContext,
    denyAs: DenyAs,
  ): void {
    this.inFlight.release(id);
    this.reply(ctx, denialResponse(exact, v, denyAs));
  }

  /**
   * Holds a `require_approval` call until a human answers. Approved: decided again at the call's
   * own time, consuming its counters if they still allow it, then forwarded. Otherwise denied.
   */
  private async approve(
    call: ToolCall,
    v: Verdict,
    now: number,
    seq: number | null,
    id: RequestId,
    exact: AnswerId,
    alone: () => Frame,
    ctx: TapContext,
    denyAs: DenyAs,
  ) {
    const question = {
      ...call,
      reason: v.reason,
      rule: v.rule,
      sessionId: this.o.audit ? this.o.sessionId : null,
      seq,
    };
    let outcome: ApprovalOutcome;
    const withdraw = new AbortController();
    this.holding.set(idKey(id), withdraw);
    try {
      // The client shows the human the real arguments; the db keeps them redacted.
      outcome = await (this.elicitation
        ? this.elicit!.ask(question, withdraw.signal)
        : this.queue.ask(this.o.redact ? queuedQuestion(question, this.o.redact) : question, withdraw.signal));
    } catch (err) {
      outcome = { approved: false, why: `approval failed: ${(err as Error).message}` };
    } finally {
      this.holding.delete(idKey(id));
    }
    if (withdraw.signal.aborted) {
      // Cancelled by the client: no answer is owed (MCP). Its id stays used: MCP forbids reusing
      // one, and replay, which frees an id when an answer carries it, reads the recording so too.
      this.auditQuietly(call, approvalDenied(v, 'cancelled by the client'), now, seq, id);
      return;
    }
    // Approved as the client hung up: the server's stdin is closed, the call could not go on.
    if (outcome.approved && this.clientGone) outcome = { approved: false, why: 'the client closed the session' };
    if (!outcome.approved) {
      const denied = approvalDenied(v, outcome.why);
      this.auditQuietly(call, denied, now, seq, id);
      return this.answer(id, exact, denied, ctx, denyAs);
    }
    // Decided again at the call's own time: the counters may have filled while the human thought.
    const final = this.decide(call, now, seq, id, { consumeOnApproval: true }, false);
    if (isDenial(final)) {
      this.auditQuietly(call, final, now, seq, id);
      return this.answer(id, exact, final, ctx, denyAs);
    }
    let forward: Frame;
    try {
      forward = alone();
    } catch (err) {
      const failed = failClosed(err); // the call cannot be written out alone (nested too deep)
      this.auditQuietly(call, failed, now, seq, id);
      return this.answer(id, exact, failed, ctx, denyAs);
    }
    this.auditQuietly(
      call,
      { ...final, decision: 'allow', reason: `${v.reason}: approved by ${outcome.by}` },
      now,
      seq,
      id,
    );
    ctx.send('c2s', forward);
  }

  private auditQuietly(call: ToolCall, v: Verdict, now: number, seq: number | null, id: RequestId): void {
    try {
      this.audit(call, v, now, seq, id, this.o.policy().sha256);
    } catch (err) {
      this.log(`audit failed: ${(err as Error).message}`);
    }
  }

  /** The session's `initialize` request: the client's name (the grant) and capabilities, once. */
  private initialize(msg: Msg, ctx: TapContext): void {
    this.initialized = true;
    this.initRequest = idKey(msg.id);
    this.ctx = ctx;
    const params = isRecord(msg.params) ? msg.params : {};
    const name = isRecord(params.clientInfo) ? params.clientInfo.name : undefined;
    if (this.o.grant === undefined && typeof name === 'string') this.grant = name;
    const caps = isRecord(params.capabilities) ? params.capabilities : {};
    const e = caps.elicitation;
    // An empty elicitation capability means form mode (the SDK's reading too).
    this.elicitation = isRecord(e) && (Object.keys(e).length === 0 || isRecord(e.form));
    if (this.elicitation) {
      const send = (m: unknown, recordAs?: unknown) => {
        if (recordAs === undefined) return ctx.send('s2c', m);
        const frame = Frame.of('s2c', m, ctx.now());
        frame.notes.recordAs = recordAs;
        ctx.send('s2c', frame);
      };
      this.elicit = new ElicitationAsker(send, this.o.approvalTimeoutMs, this.o.redact);
    }
  }

  /**
   * A server frame while a `tools/list` is pending (its result may lose tools) or answers of ours
   * wait for the server's answer to a batch (they join it).
   */
  private fromServer(frame: Frame, json: unknown, ctx: TapContext): TapAction {
    const list = Array.isArray(json) ? json : [json];
    let changed = false;
    let filtered = false;
    const joined: unknown[] = [];
    const out = list.map((m) => {
      if (!isRecord(m) || m.method !== undefined || m.id === undefined) return m;
      this.inFlight.release(m.id as RequestId);
      const key = idKey(m.id);
      const i = this.held.findIndex((h) => h.owed.has(key));
      if (i !== -1) joined.push(...this.held.splice(i, 1)[0]!.answers);
      if (key === this.initRequest) {
        this.initRequest = undefined;
        const caps = isRecord(m.result) && isRecord(m.result.capabilities) ? m.result.capabilities : {};
        this.serverListChanged = isRecord(caps.tools) && caps.tools.listChanged === true;
      }
      if (!this.listRequests.delete(key) || !isRecord(m.result)) return m;
      if (this.o.shadow) return m; // --shadow enforces nothing: the agent sees every tool
      const policy = this.o.policy();
      const tools = m.result.tools;
      if (Array.isArray(tools))
        for (const t of tools) if (isRecord(t) && typeof t.name === 'string') this.listed.add(t.name);
      this.listedUnder = policy;
      const { result, removed } = filterToolsList(policy, m.result);
      if (removed.length === 0) return m;
      changed = filtered = true;
      return { ...m, id: frame.exactId(m), result };
    });
    if (joined.length > 0) {
      // The server answered the batch as one array: ours join it. It answered the members one by
      // one (or it died and each got the proxy's error): ours go on their own too.
      if (Array.isArray(json) && serializes([...out, ...joined])) {
        out.push(...joined);
        changed = true;
      } else for (const a of joined) ctx.send('s2c', a);
    }
    if (!changed) return undefined;
    if (filtered) this.o.unfiltered?.(frame);
    // Written anew: the server's ids as it wrote them.
    return { replace: Array.isArray(json) ? out.map((m) => withExactId(frame, m)) : out[0] };
  }
}

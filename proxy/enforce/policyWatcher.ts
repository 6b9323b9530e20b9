import { createHash } from 'node:crypto';
import { readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { compilePolicy, formatProblem, type Policy } from '../../engine/compilePolicy.js';
import { InputError, noSuchFile } from '../../engine/errors.js';
import { utf8Text } from '../../engine/sourceLocation.js';

export interface PolicyWatcherOptions {
  /** Quiet time after a change event before the file is read (editors write in several steps). Default 100 ms. */
  debounceMs?: number;
  /** Interval of the stat check that catches what events miss (files replaced by rename, symlink swaps). Default 1000 ms. */
  pollMs?: number;
  /** Use fs.watch events as well as the stat check. Default true. */
  watch?: boolean;
  /** Where one-line reports go (reloads, rejected versions). Default: stderr. */
  log?: (line: string) => void;
  /** Called after a new valid version is swapped in. */
  onReload?: (policy: Policy) => void;
  /** Called with the one-line error when a new version is rejected. */
  onReject?: (message: string) => void;
}

export type CheckResult = 'unchanged' | 'reloaded' | 'rejected';

/**
 * The policy of a running gateway (SPEC §3 "hot reload"): the file is watched; a valid new
 * version is swapped in for the next call; an invalid one is reported in one line
 * (`file:line:col: path: message`) and the last valid version stays in force. Counters are not
 * the watcher's: they live in the limiter and survive every reload.
 */
export class PolicyWatcher {
  private current: Policy;
  private reloads = 0;
  private signature: string;
  private rejectedSha: string | undefined;
  private watcher: FSWatcher | undefined;
  private readonly poller: NodeJS.Timeout;
  private debounce: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly log: (line: string) => void;

  /** Loads `file` (bad input → InputError naming the file and line) and starts watching it. */
  static open(file: string, options: PolicyWatcherOptions = {}): PolicyWatcher {
    const text = readPolicyText(file);
    if (text instanceof Error) throw new InputError(text.message);
    const compiled = compilePolicy(text);
    if (!compiled.ok) throw new InputError(formatProblem(file, compiled.errors[0]!));
    const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
    for (const w of compiled.warnings) log(`mcp-replay: warning: ${formatProblem(file, w)}`);
    return new PolicyWatcher(file, compiled.policy, options, log);
  }

  private constructor(
    readonly file: string,
    policy: Policy,
    private readonly options: PolicyWatcherOptions,
    log: (line: string) => void,
  ) {
    this.current = policy;
    this.log = log;
    this.signature = statSignature(file);
    if (options.watch ?? true) {
      try {
        // The folder, not the file: a file replaced by rename is a new inode a file watch misses.
        const name = basename(file);
        this.watcher = watch(dirname(file), (_event, changed) => {
          if (!changed || changed === name) this.schedule();
        });
        this.watcher.on('error', () => this.watcher?.close());
        this.watcher.unref();
      } catch {
        this.watcher = undefined; // the stat check still runs
      }
    }
    this.poller = setInterval(() => {
      if (statSignature(this.file) !== this.signature) this.check();
    }, options.pollMs ?? 1000);
    this.poller.unref();
  }

  /** The policy in force: read it for every call. */
  get policy(): Policy {
    return this.current;
  }

  /** How many new versions have been swapped in. */
  get version(): number {
    return this.reloads;
  }

  /** Re-reads the file now; swaps in a valid new version, reports an invalid one once. */
  check(): CheckResult {
    if (this.closed) return 'unchanged';
    this.signature = statSignature(this.file);
    const text = readPolicyText(this.file);
    if (text instanceof Error) return this.reject(`sha-of-error:${text.message}`, text.message);
    const sha = createHash('sha256').update(text).digest('hex');
    if (sha === this.current.sha256) {
      this.rejectedSha = undefined;
      return 'unchanged';
    }
    const compiled = compilePolicy(text);
    if (!compiled.ok) {
      const more = compiled.errors.length > 1 ? ` (+${compiled.errors.length - 1} more)` : '';
      return this.reject(sha, formatProblem(this.file, compiled.errors[0]!) + more);
    }
    const renamed = budgetsStartingAfresh(this.current, compiled.policy);
    this.current = compiled.policy;
    this.reloads++;
    this.rejectedSha = undefined;
    for (const w of compiled.warnings) this.log(`mcp-replay: warning: ${formatProblem(this.file, w)}`);
    if (renamed) this.log(`mcp-replay: warning: policy ${this.file}: ${renamed}`);
    this.log(`mcp-replay: policy ${this.file} reloaded (sha256 ${sha.slice(0, 12)})`);
    this.options.onReload?.(compiled.policy);
    return 'reloaded';
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    clearInterval(this.poller);
    if (this.debounce) clearTimeout(this.debounce);
  }

  private schedule(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.check(), this.options.debounceMs ?? 100);
    this.debounce.unref();
  }

  private reject(key: string, problem: string): CheckResult {
    if (this.rejectedSha === key) return 'rejected'; // reported already
    this.rejectedSha = key;
    const line = `mcp-replay: ${problem}; keeping the last valid policy (sha256 ${this.current.sha256.slice(0, 12)})`;
    this.log(line);
    this.options.onReject?.(line);
    return 'rejected';
  }
}

/**
 * A budget is its counter and scope (the counter key): a version with a counter or scope the last
 * one lacked counts it from zero, whatever calls were made. Meant for a limit added; not for a
 * renamed counter, a tools key renamed or a limit inserted before others (an unnamed limit's
 * counter is the key and its index), or a changed scope, where the calls made stay in the old
 * budget. Said on every reload that brings such counters.
 */
function budgetsStartingAfresh(before: Policy, after: Policy): string | undefined {
  const old = budgets(before);
  const now = budgets(after);
  const added = [...now].filter((b) => !old.has(b));
  if (added.length === 0) return undefined;
  const gone = [...old].filter((b) => !now.has(b));
  return (
    `counters new in this version start empty: ${added.join(', ')}` +
    (gone.length > 0 ? ` (no longer counted: ${gone.join(', ')})` : '') +
    `; a limit without "counter" is counted by its tools key and index: name the counter to keep its budget through edits`
  );
}

function budgets(policy: Policy): Set<string> {
  const all = [...policy.rules.flatMap((r) => r.limits), ...policy.allToolsLimits];
  return new Set(all.map((l) => `${l.counter} ${l.scope === 'global' ? 'global' : `per ${l.scope}`}`));
}

function readPolicyText(file: string): string | Error {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return new Error(
      `${file}: cannot read: ${code === 'ENOENT' ? noSuchFile(file) : (code ?? (err as Error).message)}`,
    );
  }
  const decoded = utf8Text(bytes);
  if (!decoded.ok) return new Error(`${file}:${decoded.location.line}:${decoded.location.column}: ${decoded.message}`);
  return decoded.text;
}

/** What changes when the file is rewritten or replaced: inode, size, times. */
function statSignature(file: string): string {
  try {
    const s = statSync(file, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return 'missing';
  }
}

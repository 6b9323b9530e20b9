import { existsSync } from 'node:fs';
import { InputError, noSuchFile } from '../engine/errors.js';
import type { Store } from '../store/store.js';
import { jsonlSource } from './jsonl.js';
import type { SessionSource } from './source.js';

export function dbSource(store: Store, id: string): SessionSource {
  const info = store.resolveSession(id);
  return {
    info,
    origin: `db:${info.id}`,
    records: () => store.records(info.id),
    replayMessages: () => store.replayMessages(info.id),
    answersBetween: (after, before) => store.answersBetween(info.id, after, before),
    messageAt: (seq) => store.messageAt(info.id, seq),
    lastSeq: () => store.lastSeq(info.id),
  };
}

/**
 * Turns command-line SESSION arguments into sources: a path ending in `.jsonl` (or an existing
 * file) is read as JSONL, anything else is a session id (or unique prefix) in the db; none = every
 * session in the db. `openDb` is called only when the db is needed.
 */
export function resolveSources(args: readonly string[], openDb: () => Store): SessionSource[] {
  if (args.length === 0) {
    const store = openDb();
    const all = store.allSessions().map((info) => dbSource(store, info.id));
    if (all.length === 0)
      throw new InputError(`${store.file}: no recorded sessions (record some, or pass .jsonl files)`);
    return all;
  }
  const seen = new Map<string, string>();
  return args.map((arg) => {
    let source: SessionSource;
    if (/\.jsonl$/i.test(arg) || (arg.includes('/') && existsSync(arg))) {
      if (!existsSync(arg)) throw new InputError(`${arg}: ${noSuchFile(arg)}`);
      source = jsonlSource(arg);
    } else source = arg === '-' ? stdinAsSession(openDb()) : dbSource(openDb(), arg);
    // The same session twice would replay each call twice, against budgets it shares with itself.
    const first = seen.get(source.info.id);
    if (first !== undefined)
      throw new InputError(`${arg}: session ${source.info.id} is given twice (also as ${first})`);
    seen.set(source.info.id, arg);
    return source;
  });
}

/** `-` is a session so named, if one is; else the user meant stdin (as `sessions import -` says). */
function stdinAsSession(store: Store): SessionSource {
  try {
    return dbSource(store, '-');
  } catch (err) {
    if (err instanceof InputError) throw new InputError('-: no such session or file (stdin is /dev/stdin)');
    throw err;
  }
}

import { existsSync } from 'node:fs';
import { InputError } from '../engine/errors.js';
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
    answersBetween: (key, after, before) => store.answersBetween(info.id, key, after, before),
    messageAt: (seq) => store.messageAt(info.id, seq),
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
  return args.map((arg) => {
    if (/\.jsonl$/i.test(arg) || (arg.includes('/') && existsSync(arg))) {
      if (!existsSync(arg)) throw new InputError(`${arg}: no such file`);
      return jsonlSource(arg);
    }
    return dbSource(openDb(), arg);
  });
}

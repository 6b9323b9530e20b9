export { openStore, Store } from './store.js';
export { defaultDbPath } from './dbPath.js';
export type { SessionInfo, SessionSummary, SessionRecord, MessageRecord, EventRecord, Direction } from './types.js';
export { SqliteLimiter } from './sqliteLimiter.js';

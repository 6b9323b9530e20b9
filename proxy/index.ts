export { Frame, NOT_JSON, isRequest, isResponse, type Direction, type RpcMessage } from './frame.js';
export type { Tap, TapAction, TapContext, PumpEvent } from './tap.js';
export { Pump, SERVER_EXITED, type PumpOptions } from './pump.js';
export { LineSplitter } from './lineSplitter.js';
export { SessionClock } from './sessionClock.js';
export { runStdioProxy, type StdioProxyOptions, type ProxyExit } from './stdioProxy.js';
export { whyServerCannotRun } from './serverCommand.js';
export { RecorderTap } from './recorderTap.js';

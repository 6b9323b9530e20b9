export {
  simulate,
  simulationArbitrary,
  streamAt,
  type SimulateOptions,
  type SimulationReport,
  type Counterexample,
} from './simulate.js';
export { parseToolsFile, toolsFromSession } from './catalog.js';
export { parseExpectations, type Expectation } from './expectations.js';
export { propertiesFor, type Property, type DecidedStream, type Violation } from './properties.js';
export { schemaArbitrary } from './schemaArbitrary.js';
export { streamArbitrary } from './streamArbitrary.js';
export { buildToolPool } from './toolPool.js';
export { decideStream } from './decideStream.js';
export { humanReport, jsonReport, type ReportContext } from './report.js';
export { counterexampleSessions, COUNTEREXAMPLE_START } from './counterexampleJsonl.js';
export type { SimCall, SimDecision, SimPolicy, ToolSpec } from './types.js';

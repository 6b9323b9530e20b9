export type { Decision, ToolCall, Verdict, Charge, Limiter } from './types.js';
export { DECISIONS } from './types.js';
export {
  compilePolicy,
  compilePolicyValue,
  formatProblem,
  type Policy,
  type CompiledRule,
  type CompiledLimit,
  type CompileResult,
  type PolicyProblem,
  type Scope,
} from './compilePolicy.js';
export { decide, applyCharges, failClosed, type DecideOptions } from './decide.js';
export { MemoryLimiter } from './slidingWindow.js';
export { parseWindow, describeWindow } from './window.js';
export { globMatcher, isGlob, type GlobMatcher } from './glob.js';
export { jsonPath } from './jsonPath.js';
export { parseJson, locate, type Location } from './sourceLocation.js';
export { InputError } from './errors.js';

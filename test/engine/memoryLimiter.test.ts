import { MemoryLimiter } from '../../engine/index.js';
import { limiterContract } from './limiterContract.js';

limiterContract('MemoryLimiter', ({ retainMs }) => ({ limiter: new MemoryLimiter({ retainMs }) }));

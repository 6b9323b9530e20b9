import { MemoryLimiter } from '../../engine/index.js';
import { limiterContract } from './limiterContract.js';

limiterContract('MemoryLimiter', () => ({ limiter: new MemoryLimiter() }));

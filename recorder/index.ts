export { Redactor, SECRET_KEY, REDACTED, type RedactOptions } from './redact.js';
export { ulid } from './ulid.js';

/**
 * NO_COLOR (https://no-color.org): set and not empty, no colours. The terminal UIs draw with ink,
 * whose chalk reads FORCE_COLOR but not NO_COLOR, once, when it is loaded: so this module is the
 * CLI's first import. An explicit FORCE_COLOR still wins.
 */
if (process.env.NO_COLOR && process.env.FORCE_COLOR === undefined) process.env.FORCE_COLOR = '0';

export {};

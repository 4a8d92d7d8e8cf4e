// index.ts: the ELF loader's public surface.
export * from './parse.js';
export * from './load.js';
export * from './notes.js';
export * from './constants.js';

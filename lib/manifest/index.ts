// index.ts: the manifest module's public surface (loads zod; the ELF loader imports note.js directly).
export * from './types.js';
export * from './schema.js';
export * from './note.js';
export * from './csource.js';

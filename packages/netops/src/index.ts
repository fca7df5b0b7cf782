export * from './spouts/file/index.js';
export * from './spouts/generator/index.js';

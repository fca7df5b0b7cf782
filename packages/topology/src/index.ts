export * from './errors.js';
export * from './module-loader.js';
export * from './registry.js';
export * from './types.js';
export * from './plan.js';
export * from './load.js';
export * from './graph.js';

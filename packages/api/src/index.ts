export * from './component.js';
export * from './logger.js';
export * from './spec.js';
export * from './state.js';
export * from './tuple.js';
export * from './grouping.js';

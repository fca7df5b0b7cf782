import { defineSpout } from '@qitian/api';
import { GeneratorSpout } from './generator.js';
import { generatorSpoutSpec } from './spec.js';

export type { GeneratorCheckpoint } from './generator.js';
export { GeneratorSpout, LineMaker } from './generator.js';
export type { GeneratorSpoutConfig } from './spec.js';
export { generatorSpoutFields, generatorSpoutSpec } from './spec.js';
export { WORDS_VOCABULARY } from './lines.js';

/** `type: generator` spout: seeded synthetic syslog, words or sequence lines. */
export const generatorSpout = defineSpout({
  spec: generatorSpoutSpec,
  outputs: () => ({ default: ['line'] }),
  create: (config) => new GeneratorSpout(config),
});

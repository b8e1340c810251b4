import type { ActionDoc } from '../../../src/model/action.js';

export function actionDoc(overrides: Partial<ActionDoc> = {}): ActionDoc {
  return {
    namespace: 'guest',
    name: 'hello',
    version: '0.0.1',
    publish: false,
    exec: { kind: 'nodejs:20', code: 'function main(p){return p}', binary: false },
    parameters: [],
    limits: { timeout: 60000, memory: 256, logs: 10, concurrency: 1 },
    annotations: [{ key: 'provide-api-key', value: false }, { key: 'exec', value: 'nodejs:20' }],
    updated: 1700000000000,
    ...overrides,
  };
}

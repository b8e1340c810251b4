export type { Identity, EntityStore, ActivationQuery, ActivationStore, Store } from './types.js';
export { openSqliteStore, type SqliteStoreOptions } from './sqlite/store.js';
export { logWriteErrors } from './sqlite/activations.js';

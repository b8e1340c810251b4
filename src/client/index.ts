export { createClient, normalizeApihost, checkAuth, splitEntityName, apiErrorOf, type BriskClient, type ClientOptions, type InvokeOptions } from './client.js';
export type * from './types.js';

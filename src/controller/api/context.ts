import type { IncomingMessage } from 'node:http';
import type { Store } from '../../store/types.js';
import type { Identity } from '../../store/types.js';
import type { Invoker } from '../invoker.js';
import type { ActionCache } from './action-cache.js';
import type { Query } from './query.js';
import type { NamespaceLimits, NamespaceThrottle } from './throttle.js';

/** What handlers share for the server's lifetime. */
export interface ApiDeps {
  store: Store;
  invoker: Invoker;
  actions: ActionCache;
  throttle: NamespaceThrottle;
  limits: NamespaceLimits;
  maxBlockingWaitMs: number;
  clock: () => number;
  /** errors that cannot be answered to anyone (a failed background store write) */
  onError: (error: unknown, context?: { requestId: string }) => void;
}

/** One authenticated request. `namespace` is the resolved path namespace (`_` replaced). */
export interface RequestContext {
  req: IncomingMessage;
  identity: Identity;
  namespace: string;
  query: Query;
  /** epoch ms when the request arrived */
  receivedAt: number;
}

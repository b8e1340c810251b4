/** The controller's load balancer: the Invoker that runs activations on warm containers. */
export { Balancer, createBalancer, noCapacity, type BalancerOptions, type BalancerStats } from './balancer.js';
export { ContainerTable, toOwned, type TableEntry } from './container-table.js';
export { OverflowBuffer, acquiresToSend, waitersToFailOnReject, DEFAULT_OVERFLOW_LIMIT, DEFAULT_MAX_OUTSTANDING_ACQUIRES } from './overflow-buffer.js';
export { classifyInitReply, classifyRunReply, classifyTimeout, classifyExit, internalError } from './classify.js';
export { buildRecord, finalLogs } from './record.js';
export { actionInfoOf, type ActionInfo } from './action-info.js';

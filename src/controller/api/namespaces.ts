/** Info, namespaces and limits handlers (compat §1.1, §1.9). */
import { LIMITS, MAX_PAYLOAD_BYTES } from '../../model/limits.js';
import type { ApiDeps, RequestContext } from './context.js';
import type { Reply } from './http.js';

/** `GET /api/v1`, no auth. */
export const API_INFO = {
  description: 'brisk: an OpenWhisk-compatible serverless platform',
  api_version: '1.0.0',
  api_version_path: 'v1',
  build: 'brisk',
  buildno: '0.1.0',
  swagger_paths: { ui: '/docs', 'api-docs': '/api/v1/api-docs' },
} as const;

export function listNamespaces(ctx: RequestContext): Reply {
  return { status: 200, body: [ctx.identity.namespace] };
}

/** The namespace's limits: throttles as configured, action ranges from the shared table. */
export function namespaceLimits(deps: ApiDeps): Reply {
  return {
    status: 200,
    body: {
      invocationsPerMinute: deps.limits.invocationsPerMinute,
      concurrentInvocations: deps.limits.concurrentInvocations,
      firesPerMinute: 60,
      minActionMemory: LIMITS.memoryMB.min,
      maxActionMemory: LIMITS.memoryMB.max,
      minActionLogs: LIMITS.logsMB.min,
      maxActionLogs: LIMITS.logsMB.max,
      minActionTimeout: LIMITS.timeoutMs.min,
      maxActionTimeout: LIMITS.timeoutMs.max,
      minActionConcurrency: LIMITS.concurrency.min,
      maxActionConcurrency: LIMITS.concurrency.max,
      maxParameterSize: MAX_PAYLOAD_BYTES,
      maxActionInstances: deps.limits.concurrentInvocations,
    },
  };
}

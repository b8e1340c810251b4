/**
 * OpenWhisk's action limits: ranges and defaults (see shared/openwhisk-compat.md §3 and §4).
 * One table so that the REST edge, the CLI and the docs agree.
 */
export const LIMITS = {
  timeoutMs: { min: 100, max: 300_000, default: 60_000 },
  memoryMB: { min: 128, max: 512, default: 256 },
  logsMB: { min: 0, max: 10, default: 10 },
  concurrency: { min: 1, max: 500, default: 1 },
} as const;

/** Invoke body and result, parameters and annotations: 1 MB each. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;
/** `exec.code` of an action: 48 MB. */
export const MAX_CODE_BYTES = 48 * 1024 * 1024;
/** Longest a blocking invoke waits before answering 202 with the activation still running. */
export const MAX_BLOCKING_WAIT_MS = 60_000;
/** Page size of list endpoints. */
export const LIST_LIMIT = { default: 30, max: 200 } as const;

export interface ActionLimits {
  /** milliseconds */
  timeout: number;
  /** megabytes */
  memory: number;
  /** megabytes of logs kept per activation; 0 skips log collection */
  logs: number;
  /** concurrent activations one container may run */
  concurrency: number;
}

export const DEFAULT_LIMITS: ActionLimits = {
  timeout: LIMITS.timeoutMs.default,
  memory: LIMITS.memoryMB.default,
  logs: LIMITS.logsMB.default,
  concurrency: LIMITS.concurrency.default,
};

/**
 * The one error catalogue. Every failure that crosses a module boundary is a BriskError with a
 * stable `code`; callers classify by class or code, never by message text. Every code is listed
 * once in docs/errors.md.
 *
 * - `user`: the caller or the action is at fault (bad input, action crashed, over a limit)
 * - `platform`: brisk or the host is at fault (no capacity, a daemon is down, a container failed to start)
 * - `protocol`: a daemon peer sent something invalid or incompatible
 */
export type ErrorFault = 'user' | 'platform' | 'protocol';

export interface BriskErrorOptions {
  cause?: unknown;
  /** HTTP status the REST edge answers with; defaults by fault. */
  status?: number;
  /** What the operator should do next (CLI `--json` error envelope, docs). */
  hint?: string;
}

export class BriskError extends Error {
  readonly code: string;
  readonly fault: ErrorFault;
  readonly status: number;
  readonly hint: string | undefined;

  constructor(code: string, fault: ErrorFault, message: string, options: BriskErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.fault = fault;
    this.status = options.status ?? (fault === 'user' ? 400 : fault === 'platform' ? 503 : 400);
    this.hint = options.hint;
  }
}

// ---------------------------------------------------------------- user faults (REST edge)

/** 400: malformed or out-of-range input. */
export class InvalidInputError extends BriskError {
  constructor(message: string, options: BriskErrorOptions = {}) {
    super('INVALID_INPUT', 'user', message, { status: 400, ...options });
  }
}

/** Why a zip action archive was refused (see src/runtime/zip.ts). */
export type ZipErrorCode = 'ZIP_MALFORMED' | 'ZIP_UNSUPPORTED' | 'ZIP_LIMIT_EXCEEDED' | 'ZIP_UNSAFE_ENTRY' | 'ZIP_INTEGRITY';

/** A zip action archive was refused by the runtime; always the action's fault (400). Its init fails with the message. */
export class ZipError extends BriskError {
  declare readonly code: ZipErrorCode;

  constructor(code: ZipErrorCode, message: string, options: BriskErrorOptions = {}) {
    super(code, 'user', message, { status: 400, ...options });
  }
}

/** 401: missing or wrong credentials. */
export class UnauthenticatedError extends BriskError {
  constructor(message = 'The supplied authentication is invalid', options: BriskErrorOptions = {}) {
    super('UNAUTHENTICATED', 'user', message, { status: 401, ...options });
  }
}

/** 403: authenticated, but not entitled to the namespace. */
export class ForbiddenError extends BriskError {
  constructor(message = 'The supplied authentication is not authorized to access this resource.', options: BriskErrorOptions = {}) {
    super('FORBIDDEN', 'user', message, { status: 403, ...options });
  }
}

/** 404: no such entity or route. */
export class NotFoundError extends BriskError {
  constructor(message = 'The requested resource does not exist.', options: BriskErrorOptions = {}) {
    super('NOT_FOUND', 'user', message, { status: 404, ...options });
  }
}

/** 405: route exists, method does not. */
export class MethodNotAllowedError extends BriskError {
  constructor(message = 'HTTP method not allowed, supported methods: GET, PUT, POST, DELETE.', options: BriskErrorOptions = {}) {
    super('METHOD_NOT_ALLOWED', 'user', message, { status: 405, ...options });
  }
}

/** 409: exists without overwrite, or a revision clash. */
export class ConflictError extends BriskError {
  constructor(message = 'resource already exists', options: BriskErrorOptions = {}) {
    super('CONFLICT', 'user', message, { status: 409, ...options });
  }
}

/** 413: request, code, parameters or annotations over their size limit. */
export class PayloadTooLargeError extends BriskError {
  constructor(message: string, options: BriskErrorOptions = {}) {
    super('PAYLOAD_TOO_LARGE', 'user', message, { status: 413, ...options });
  }
}

/** 429: a namespace or per-action limit was hit (rate, overflow buffer, in-flight). */
export class ThrottledError extends BriskError {
  /** which limit was hit, e.g. `overflowBuffer`, `invocationsPerMinute`, `concurrentInvocations` */
  readonly limit: string;
  constructor(limit: string, message: string, options: BriskErrorOptions = {}) {
    super('THROTTLED', 'user', message, { status: 429, ...options });
    this.limit = limit;
  }
}

// ---------------------------------------------------------------- platform faults

/** 503: no container could be had in time (scheduler queue full or its deadline passed, no agents). */
export class CapacityUnavailableError extends BriskError {
  /** which limit was hit, e.g. `schedulerQueue`, `queueDeadline`, `noAgents`, `tooLargeForAnyAgent` */
  readonly limit: string;
  /** the activation that was accepted and then ended for want of a container (it has a record) */
  readonly activationId: string | undefined;
  constructor(limit: string, message: string, options: BriskErrorOptions & { activationId?: string } = {}) {
    super('CAPACITY_UNAVAILABLE', 'platform', message, { status: 503, ...options });
    this.limit = limit;
    this.activationId = options.activationId;
  }
}

/** 503: the scheduler cannot be reached. */
export class SchedulerUnavailableError extends BriskError {
  constructor(message = 'The scheduler is not reachable; no new containers can be placed.', options: BriskErrorOptions = {}) {
    super('SCHEDULER_UNAVAILABLE', 'platform', message, { status: 503, ...options });
  }
}

/** A container could not be created, paused, resumed or destroyed by a backend. */
export class ContainerOperationError extends BriskError {
  constructor(message: string, options: BriskErrorOptions = {}) {
    super('CONTAINER_OPERATION_FAILED', 'platform', message, { status: 500, ...options });
  }
}

/** An agent was asked about a container it does not run (never created, destroyed, or gone). */
export class ContainerNotFoundError extends BriskError {
  constructor(message: string, options: BriskErrorOptions = {}) {
    super('CONTAINER_NOT_FOUND', 'platform', message, { status: 404, ...options });
  }
}

/** A subprocess (runc, ...) exited non-zero. */
export class CommandFailedError extends BriskError {
  readonly exitCode: number | undefined;
  readonly stderr: string;
  constructor(command: string, exitCode: number | undefined, stderr: string, options: BriskErrorOptions = {}) {
    super('COMMAND_FAILED', 'platform', `${command} failed with exit code ${exitCode ?? 'unknown'}: ${stderr.trim()}`, { status: 500, ...options });
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** A subprocess did not finish within its per-verb timeout. */
export class CommandTimedOutError extends BriskError {
  constructor(command: string, timeoutMs: number, options: BriskErrorOptions = {}) {
    super('COMMAND_TIMED_OUT', 'platform', `${command} did not finish within ${timeoutMs} ms`, { status: 500, ...options });
  }
}

/** Configuration that cannot be used (file, flags, environment). */
export class ConfigError extends BriskError {
  constructor(message: string, options: BriskErrorOptions = {}) {
    super('CONFIG_INVALID', 'user', message, { status: 400, ...options });
  }
}

// ---------------------------------------------------------------- protocol faults

/** A daemon peer sent a message that fails its schema, or an unknown type. */
export class ProtocolError extends BriskError {
  constructor(message: string, options: BriskErrorOptions = {}) {
    super('PROTOCOL_INVALID_MESSAGE', 'protocol', message, options);
  }
}

/** The peer speaks another protocol version. */
export class ProtocolVersionError extends BriskError {
  constructor(message: string, options: BriskErrorOptions = {}) {
    super('PROTOCOL_VERSION_MISMATCH', 'protocol', message, options);
  }
}

/** The peer's cluster token is missing or wrong. */
export class ClusterAuthError extends BriskError {
  constructor(message = 'The cluster token is missing or wrong.', options: BriskErrorOptions = {}) {
    super('CLUSTER_AUTH_FAILED', 'protocol', message, { status: 401, ...options });
  }
}

/** A request over the daemon protocol got no reply in time, or the connection closed first. */
export class PeerUnavailableError extends BriskError {
  constructor(message: string, options: BriskErrorOptions = {}) {
    super('PEER_UNAVAILABLE', 'platform', message, { status: 503, ...options });
  }
}

/** The message of anything thrown: an Error's `message`, else its string form. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function isBriskError(error: unknown): error is BriskError {
  return error instanceof BriskError;
}

// ---------------------------------------------------------------- client side (REST client, CLI)

/** The REST API could not be reached at all (connection refused, DNS, timeout before a response). */
export class ApiUnreachableError extends BriskError {
  readonly apihost: string;
  constructor(apihost: string, message: string, options: BriskErrorOptions = {}) {
    super('API_UNREACHABLE', 'platform', message, { status: 503, ...options });
    this.apihost = apihost;
  }
}

/**
 * The REST API answered with an error status. `code` is the catalogue code for that status
 * (NOT_FOUND, UNAUTHENTICATED, ...; `API_ERROR` when no code fits); `transactionId` is the
 * server's `code` field of its `{error, code}` body.
 */
export class ApiError extends BriskError {
  readonly transactionId: string | undefined;
  /** the parsed response body, kept for callers that need more than the message */
  readonly body: unknown;
  constructor(code: string, fault: ErrorFault, message: string, details: { status: number; transactionId?: string; body?: unknown }, options: BriskErrorOptions = {}) {
    super(code, fault, message, { ...options, status: details.status });
    this.transactionId = details.transactionId;
    this.body = details.body;
  }
}

/** A blocking invoke finished, but the activation did not succeed (application, developer or whisk error). */
export class ActivationFailedError extends BriskError {
  readonly activationId: string;
  /** the activation's `response.result` (on failures `{error: ...}`) */
  readonly result: unknown;
  /** OpenWhisk status text: `application error`, `action developer error`, `whisk internal error` */
  readonly statusText: string;
  constructor(details: { activationId: string; result: unknown; statusText: string }, options: BriskErrorOptions = {}) {
    super('ACTIVATION_FAILED', 'user', `The activation ${details.activationId} ended with ${details.statusText}.`, { status: 502, ...options });
    this.activationId = details.activationId;
    this.result = details.result;
    this.statusText = details.statusText;
  }
}

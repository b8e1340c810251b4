/**
 * Turns what a container answered to /init and /run (or how it failed to answer) into an
 * activation response, exactly as OpenWhisk classifies it (compat §1.8, §3). Pure.
 */
import { DeveloperErrorText, StatusCode, type ActivationResponse } from '../../model/activation.js';
import { MAX_PAYLOAD_BYTES } from '../../model/limits.js';

/** A reply as read from the container: status, the body text (cut at `maxBytes`) and its full size. */
export interface ContainerReply {
  status: number;
  text: string;
  /** byte length of the whole body, even when `text` was cut */
  size: number;
}

/** How the HTTP exchange with the container failed, when it produced no reply. */
export type ExchangeFailure = 'timeout' | 'died';

/** Why the container process is gone, as the agent reports it (logs.collect `exit`). */
export type ExitKind = 'oom' | 'other' | undefined;

export interface Classified {
  response: ActivationResponse;
  /** the container must be discarded (destroyed and released as failed) */
  developerError: boolean;
  /** the action hit its time limit (annotation `timeout: true`) */
  timedOut: boolean;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function developer(error: unknown, timedOut = false): Classified {
  return { response: { statusCode: StatusCode.developerError, result: { error } }, developerError: true, timedOut };
}

/**
 * /init reply: undefined when the container initialised (HTTP 200), else the developer error:
 * the body's `error` value when it is a JSON object carrying one, else initFailed(<body>).
 */
export function classifyInitReply(reply: ContainerReply): Classified | undefined {
  if (reply.status === 200) return undefined;
  const parsed = parseJson(reply.text);
  if (parsed.ok && isPlainObject(parsed.value) && 'error' in parsed.value) return developer(parsed.value.error);
  return developer(DeveloperErrorText.initFailed(reply.text));
}

/**
 * /run reply:
 * - larger than `maxBytes` (1 MB) → application error resultTooLarge (the container is kept);
 * - 200 + JSON object without `error`, or 200 + JSON array → success;
 * - 200 + JSON object with `error` → application error `{error: <its error>}`;
 * - other status + JSON object with `error` → developer error `{error: <its error>}`;
 * - anything else (other JSON, non-JSON) → developer error invalidJson(<body>).
 */
/**
 * Whether the runtime refused a /run without running the action. The protocol answers 403 only for
 * runs it does not start (not initialized, stopped after a failure, busy without concurrency,
 * input not an object — the controller never sends the last); the activation is then safe to run
 * on another container rather than be charged to the action.
 */
export function runRefused(reply: ContainerReply): boolean {
  return reply.status === 403;
}

export function classifyRunReply(reply: ContainerReply, maxBytes: number = MAX_PAYLOAD_BYTES): Classified {
  if (reply.size > maxBytes) {
    return {
      response: {
        statusCode: StatusCode.applicationError,
        result: { error: DeveloperErrorText.resultTooLarge(reply.size, maxBytes, reply.text) },
        size: reply.size,
      },
      developerError: false,
      timedOut: false,
    };
  }
  const parsed = parseJson(reply.text);
  if (parsed.ok) {
    const value = parsed.value;
    if (isPlainObject(value)) {
      if (reply.status === 200) {
        if ('error' in value) {
          return {
            response: { statusCode: StatusCode.applicationError, result: { error: value.error }, size: reply.size },
            developerError: false,
            timedOut: false,
          };
        }
        return { response: { statusCode: StatusCode.success, result: value, size: reply.size }, developerError: false, timedOut: false };
      }
      if ('error' in value) return developer(value.error);
    } else if (Array.isArray(value) && reply.status === 200) {
      return { response: { statusCode: StatusCode.success, result: value, size: reply.size }, developerError: false, timedOut: false };
    }
  }
  return developer(DeveloperErrorText.invalidJson(reply.text));
}

/** The action ran over its time limit (during init or run). */
export function classifyTimeout(phase: 'init' | 'run', timeoutMs: number): Classified {
  return developer(phase === 'init' ? DeveloperErrorText.initTimeout(timeoutMs) : DeveloperErrorText.timeout(timeoutMs), true);
}

/** The container went away during the exchange (connection reset, process exited). */
export function classifyExit(phase: 'init' | 'run', exit: ExitKind): Classified {
  if (exit === 'oom') return developer(DeveloperErrorText.memoryExhausted);
  return developer(phase === 'init' ? DeveloperErrorText.exitedDuringInit : DeveloperErrorText.exitedDuringRun);
}

/** A platform failure (agent, scheduler, controller): a whisk internal error with a message that says what. */
export function internalError(message: string): ActivationResponse {
  return { statusCode: StatusCode.internalError, result: { error: message } };
}

import type { ActionDoc } from '../model/action.js';
import type { ActivationRecord } from '../model/activation.js';

/**
 * The port between the REST API (src/controller/api) and the load balancer (src/controller/balancer).
 * The REST layer validates, authenticates, resolves the action and merges parameters; the invoker
 * runs the activation on a container and produces its record.
 */
export interface InvokeRequest {
  action: ActionDoc;
  /** merged parameters: the action's defaults with the payload over them */
  params: Record<string, unknown>;
  activationId: string;
  /** namespace of the invoking identity (the record's `namespace` and `subject`) */
  subject: string;
  /** `uuid:key` of the invoker, passed to the runtime only when the action's provide-api-key allows it */
  apiKey: string;
  /** epoch ms when the controller received the request; waitTime is measured from it */
  receivedAt: number;
}

export interface Invocation {
  activationId: string;
  /**
   * Resolves as soon as the action's result is known, with the record minus its logs (`logs: []`),
   * so a blocking invoke can answer without waiting for log collection. Never rejects: every
   * failure after acceptance (action error, timeout, crash, no capacity) becomes a record.
   */
  response: Promise<ActivationRecord>;
  /** Resolves with the complete record, logs included. Never rejects. */
  record: Promise<ActivationRecord>;
  /**
   * Set, before `response` resolves, when the activation ended without reaching a container because
   * none could be had (scheduler queue full or its deadline passed, no agent fits, the scheduler is
   * down, the controller is shutting down). Its record is a whisk internal error; a blocking invoke
   * answers 503 and says which limit was hit.
   */
  readonly unavailable?: Unavailable;
}

export interface Unavailable {
  /** which limit was hit, e.g. `schedulerQueue`, `queueDeadline`, `tooLargeForAnyAgent`, `schedulerUnavailable` */
  limit: string;
  /** the whole message, as in the record's `response.result.error` */
  message: string;
}

export interface Invoker {
  /**
   * Accepts an activation. Throws ThrottledError synchronously (nothing accepted, no record) when the
   * action's overflow buffer is full; every accepted activation ends with exactly one record.
   */
  invoke(request: InvokeRequest): Invocation;
  /** Stops accepting work; in-flight activations finish or end as records. */
  close(): Promise<void>;
}

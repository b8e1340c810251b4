/**
 * `POST .../actions/{name}` (compat §1.5): the hot path. Validate, throttle, hand the activation to
 * the Invoker port, store its records as they resolve, and answer 202 or wait for the result.
 */
import { CapacityUnavailableError, InvalidInputError, NotFoundError } from '../../errors.js';
import type { ActionDoc } from '../../model/action.js';
import { newActivationId, type ActivationRecord } from '../../model/activation.js';
import { MAX_PAYLOAD_BYTES } from '../../model/limits.js';
import type { Invocation } from '../invoker.js';
import type { ApiDeps, RequestContext } from './context.js';
import { parseJsonObject, readBody, type Reply } from './http.js';
import { boolParam, timeoutParam } from './query.js';
import { activationView, blockingStatus } from './views.js';

export const FINAL_PARAMS_MESSAGE = 'Request defines parameters that are not allowed (e.g., reserved properties).';

/** Default parameters with the payload over them; 400 if a `final` action's defined parameter is overridden. */
export function mergeParams(action: ActionDoc, payload: Record<string, unknown>): Record<string, unknown> {
  const isFinal = action.annotations.some((a) => a.key === 'final' && a.value === true);
  const merged: Record<string, unknown> = {};
  for (const p of action.parameters) merged[p.key] = p.value;
  for (const key of Object.keys(payload)) {
    if (isFinal && Object.hasOwn(merged, key)) throw new InvalidInputError(FINAL_PARAMS_MESSAGE);
    merged[key] = payload[key];
  }
  return merged;
}

export async function invokeAction(deps: ApiDeps, ctx: RequestContext, name: string): Promise<Reply> {
  const blocking = boolParam(ctx.query, 'blocking', false);
  const resultOnly = boolParam(ctx.query, 'result', false);
  const timeout = timeoutParam(ctx.query);
  const payload = parseJsonObject(await readBody(ctx.req, MAX_PAYLOAD_BYTES));
  const action = deps.actions.get(ctx.namespace, name);
  if (action === undefined) throw new NotFoundError();
  const params = mergeParams(action, payload);

  const throttled = deps.throttle.check(ctx.identity.namespace);
  if (throttled) throw throttled;

  const activationId = newActivationId();
  // A synchronous ThrottledError (overflow buffer full) propagates: nothing was accepted → 429.
  const invocation = deps.invoker.invoke({
    action,
    params,
    activationId,
    subject: ctx.identity.namespace,
    apiKey: `${ctx.identity.uuid}:${ctx.identity.key}`,
    receivedAt: ctx.receivedAt,
  });
  track(deps, ctx.identity.namespace, invocation);

  const headers = { 'x-openwhisk-activation-id': activationId };
  if (!blocking) return { status: 202, body: { activationId }, headers };
  const record = await waitFor(invocation.response, Math.min(timeout, deps.maxBlockingWaitMs));
  if (record === undefined) return { status: 202, body: { activationId }, headers };
  if (invocation.unavailable !== undefined) {
    throw new CapacityUnavailableError(invocation.unavailable.limit, invocation.unavailable.message, { activationId });
  }
  const result = record.response.result;
  const body = resultOnly || Array.isArray(result) ? result : activationView(record);
  return { status: blockingStatus(record.response.statusCode), body, headers };
}

/**
 * Counts the activation in flight until its response, and stores the response record and then the
 * full record. A full record that arrives first is never replaced by the response record.
 */
function track(deps: ApiDeps, namespace: string, invocation: Invocation): void {
  deps.throttle.started(namespace);
  let finished = false;
  let fullStored = false;
  const finish = () => {
    if (!finished) {
      finished = true;
      deps.throttle.finished(namespace);
    }
  };
  const put = (record: ActivationRecord) => {
    try {
      deps.store.activations.put(record);
    } catch (error) {
      deps.onError(error);
    }
  };
  invocation.response.then(
    (record) => {
      finish();
      if (!fullStored) put(record);
    },
    (error: unknown) => {
      finish();
      deps.onError(error);
    },
  );
  invocation.record.then(
    (record) => {
      fullStored = true;
      finish();
      put(record);
    },
    (error: unknown) => {
      finish();
      deps.onError(error);
    },
  );
}

/** The record, or undefined when `ms` pass first. A rejection (contract: never) counts as no answer. */
function waitFor(response: Promise<ActivationRecord>, ms: number): Promise<ActivationRecord | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    response.then(
      (record) => {
        clearTimeout(timer);
        resolve(record);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}

/**
 * What the balancer derives once per action revision: the pool key, the scheduler's ActionRef and
 * the record annotations that never change between activations. Cached per ActionDoc object, so a
 * warm invoke with the REST layer's cached doc does no string building and no lookups beyond one
 * WeakMap get.
 */
import { actionKey, actionRefOf, type ActionDoc, type ActionRef, type KeyValue } from '../../model/action.js';

export interface ActionInfo {
  readonly doc: ActionDoc;
  readonly ref: ActionRef;
  /** actionKey(ref): the container table and overflow buffer key */
  readonly key: string;
  /** `ns/name` (the `path` annotation, messages) */
  readonly path: string;
  /** `/ns/name` (the runtime's `action_name`, `__OW_ACTION_NAME`) */
  readonly qualifiedName: string;
  readonly concurrency: number;
  readonly timeoutMs: number;
  /** limits.logs in bytes; 0 skips log collection */
  readonly logLimitBytes: number;
  /** whether `api_key` goes to the runtime: the provide-api-key annotation is truthy or absent */
  readonly provideApiKey: boolean;
  /** shared, read-only annotation objects reused by every record of this revision */
  readonly limitsAnnotation: KeyValue;
  readonly pathAnnotation: KeyValue;
  readonly kindAnnotation: KeyValue;
}

const cache = new WeakMap<ActionDoc, ActionInfo>();

/** Returns the (cached) ActionInfo of a doc. The doc must not be mutated after its first use here. */
export function actionInfoOf(doc: ActionDoc): ActionInfo {
  let info = cache.get(doc);
  if (info === undefined) {
    info = buildActionInfo(doc);
    cache.set(doc, info);
  }
  return info;
}

export function buildActionInfo(doc: ActionDoc): ActionInfo {
  const ref = actionRefOf(doc);
  const path = `${doc.namespace}/${doc.name}`;
  const provide = doc.annotations.find((a) => a.key === 'provide-api-key');
  return {
    doc,
    ref,
    key: actionKey(ref),
    path,
    qualifiedName: `/${path}`,
    concurrency: Math.max(1, doc.limits.concurrency),
    timeoutMs: doc.limits.timeout,
    logLimitBytes: Math.max(0, Math.floor(doc.limits.logs * 1024 * 1024)),
    provideApiKey: provide === undefined || isTruthy(provide.value),
    limitsAnnotation: {
      key: 'limits',
      value: {
        timeout: doc.limits.timeout,
        memory: doc.limits.memory,
        logs: doc.limits.logs,
        concurrency: doc.limits.concurrency,
      },
    },
    pathAnnotation: { key: 'path', value: path },
    kindAnnotation: { key: 'kind', value: doc.exec.kind },
  };
}

/** OpenWhisk's annotation truthiness: false, 0, "" and null are false; anything else is true. */
function isTruthy(value: unknown): boolean {
  return Boolean(value);
}

/** Parameters marked `init: true` go into the /init env, as in OpenWhisk. */
export function initParameters(doc: ActionDoc): Record<string, string> {
  const env: Record<string, string> = {};
  for (const p of doc.parameters as Array<KeyValue & { init?: unknown }>) {
    if (p.init === true) env[p.key] = typeof p.value === 'string' ? p.value : JSON.stringify(p.value);
  }
  return env;
}

import type { ActionLimits } from './limits.js';

export interface KeyValue {
  key: string;
  value: unknown;
}

export interface ActionExec {
  kind: string;
  /** for `blackbox`: the code handed to the image's /init, '' when none was given */
  code: string;
  binary: boolean;
  main?: string;
  /** `blackbox` only: the OpenWhisk-compatible runtime image that runs the action */
  image?: string;
}

/** An action as stored and as returned by GET (OpenWhisk's action document). */
export interface ActionDoc {
  namespace: string;
  name: string;
  version: string;
  publish: boolean;
  exec: ActionExec;
  parameters: KeyValue[];
  limits: ActionLimits;
  annotations: KeyValue[];
  /** epoch ms of the last write */
  updated: number;
}

/**
 * What the load balancer and the scheduler need to know of an action. `revision` changes on every
 * update, so a warm container is never reused for a different revision of the same action.
 */
export interface ActionRef {
  namespace: string;
  name: string;
  /** `${version}@${updated}` — unique per stored revision */
  revision: string;
  kind: string;
  memoryMB: number;
  /** `blackbox` actions: the image their containers run (only agents with the docker backend can) */
  image?: string;
}

/** The key that identifies one revision of one action in one namespace, for pools and tables. */
export function actionKey(ref: Pick<ActionRef, 'namespace' | 'name' | 'revision'>): string {
  return `${ref.namespace}/${ref.name}@${ref.revision}`;
}

export function actionRefOf(doc: ActionDoc): ActionRef {
  return {
    namespace: doc.namespace,
    name: doc.name,
    revision: `${doc.version}@${doc.updated}`,
    kind: doc.exec.kind,
    memoryMB: doc.limits.memory,
    ...(doc.exec.image === undefined ? {} : { image: doc.exec.image }),
  };
}

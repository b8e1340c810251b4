/** JSON views of stored documents as the REST API returns them (compat §1.4, §1.6, §1.7). Pure. */
import type { ActionDoc } from '../../model/action.js';
import { STATUS_TEXT, StatusCode, type ActivationRecord } from '../../model/activation.js';

/** The doc, without `exec.code` when `code` is false. */
export function actionView(doc: ActionDoc, options: { code: boolean }): unknown {
  if (options.code) return doc;
  const { code: _omitted, ...exec } = doc.exec;
  return { ...doc, exec };
}

/** List entry: no code, `exec` reduced to `{binary}`. */
export function actionSummary(doc: ActionDoc): unknown {
  return {
    namespace: doc.namespace,
    name: doc.name,
    version: doc.version,
    publish: doc.publish,
    annotations: doc.annotations,
    limits: doc.limits,
    exec: { binary: doc.exec.binary },
    updated: doc.updated,
  };
}

/** `response` with the text `status` and `success` beside the numeric `statusCode`. */
export function responseView(record: ActivationRecord): Record<string, unknown> {
  const { statusCode, result, size } = record.response;
  const view: Record<string, unknown> = {
    status: STATUS_TEXT[statusCode],
    statusCode,
    success: statusCode === StatusCode.success,
    result,
  };
  if (size !== undefined) view.size = size;
  return view;
}

/** The extended record; `end`/`duration` omitted while `end` is 0. */
export function activationView(record: ActivationRecord): Record<string, unknown> {
  const view: Record<string, unknown> = { ...record, response: responseView(record) };
  if (record.end === 0) {
    delete view.end;
    delete view.duration;
  }
  return view;
}

/** List entry of `docs=false`. */
export function activationSummary(record: ActivationRecord): Record<string, unknown> {
  const view: Record<string, unknown> = {
    namespace: record.namespace,
    name: record.name,
    version: record.version,
    publish: record.publish,
    annotations: record.annotations,
    activationId: record.activationId,
    start: record.start,
  };
  if (record.end !== 0) {
    view.end = record.end;
    view.duration = record.duration;
    view.statusCode = record.response.statusCode;
  }
  return view;
}

/** HTTP status of a blocking invoke by activation status: 200, 502 (application/developer error), 500. */
export function blockingStatus(statusCode: StatusCode): number {
  switch (statusCode) {
    case StatusCode.success: return 200;
    case StatusCode.applicationError:
    case StatusCode.developerError: return 502;
    case StatusCode.internalError: return 500;
  }
}

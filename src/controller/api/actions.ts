/** Actions CRUD handlers (compat §1.3). Default package only: `pkg/name` paths answer 404. */
import { ConflictError, InvalidInputError, NotFoundError } from '../../errors.js';
import { MAX_CODE_BYTES, MAX_PAYLOAD_BYTES } from '../../model/limits.js';
import { buildAction, parseActionPut } from './action-put.js';
import type { ApiDeps, RequestContext } from './context.js';
import { ILLEGAL_NAME, isValidEntityName } from './entity-rules.js';
import { parseJson, readBody, type Reply } from './http.js';
import { boolParam, pageParams } from './query.js';
import { actionSummary, actionView } from './views.js';

/** A PUT carries code (48 MB) plus parameters and annotations (1 MB each) plus a little JSON. */
export const MAX_PUT_BODY_BYTES = MAX_CODE_BYTES + 2 * MAX_PAYLOAD_BYTES + 64 * 1024;

/** Validates the action path: name rule → 400; a package segment → 404 (brisk has no packages). */
export function checkActionPath(name: string, pkg: string | undefined): void {
  if (!isValidEntityName(name) || (pkg !== undefined && !isValidEntityName(pkg))) throw new InvalidInputError(ILLEGAL_NAME);
  if (pkg !== undefined) {
    throw new NotFoundError(`The requested resource does not exist: packages are not supported, actions live in the default package (got '${pkg}/${name}').`);
  }
}

export function getAction(deps: ApiDeps, ctx: RequestContext, name: string): Reply {
  const code = boolParam(ctx.query, 'code', true);
  const doc = deps.actions.get(ctx.namespace, name);
  if (doc === undefined) throw new NotFoundError();
  return { status: 200, body: actionView(doc, { code }) };
}

export async function putAction(deps: ApiDeps, ctx: RequestContext, name: string): Promise<Reply> {
  const overwrite = boolParam(ctx.query, 'overwrite', false);
  const body = parseJson(await readBody(ctx.req, MAX_PUT_BODY_BYTES));
  const put = parseActionPut(body ?? {});
  const existing = deps.actions.getFresh(ctx.namespace, name);
  if (existing !== undefined && !overwrite) throw new ConflictError('resource already exists');
  const doc = buildAction({ namespace: ctx.namespace, name, put, existing, now: deps.clock() });
  return { status: 200, body: deps.actions.put(doc, existing?.updated) };
}

export function deleteAction(deps: ApiDeps, ctx: RequestContext, name: string): Reply {
  const doc = deps.actions.delete(ctx.namespace, name);
  if (doc === undefined) throw new NotFoundError();
  return { status: 200, body: doc };
}

export function listActions(deps: ApiDeps, ctx: RequestContext): Reply {
  const page = pageParams(ctx.query, 'actions');
  if (boolParam(ctx.query, 'count', false)) {
    return { status: 200, body: { actions: deps.store.entities.countActions(ctx.namespace) } };
  }
  return { status: 200, body: deps.store.entities.listActions(ctx.namespace, page).map(actionSummary) };
}

/** Activation handlers (compat §1.6). */
import { InvalidInputError, NotFoundError } from '../../errors.js';
import type { ActivationRecord } from '../../model/activation.js';
import type { ActivationQuery } from '../../store/types.js';
import type { ApiDeps, RequestContext } from './context.js';
import { ILLEGAL_NAME, isValidEntityName } from './entity-rules.js';
import type { Reply } from './http.js';
import { boolParam, epochParam, pageParams, type Query } from './query.js';
import { activationSummary, activationView, responseView } from './views.js';

export const DOCS_WITH_COUNT = "The parameter 'docs' is not permitted with 'count'.";

/**
 * The `name` filter: `action` or `pkg/action`. Records store the simple name and brisk has no
 * packages, so a `pkg/action` filter is kept verbatim and matches nothing.
 */
export function nameFilter(query: Query): string | undefined {
  const raw = query.get('name');
  if (raw === undefined) return undefined;
  const parts = raw.split('/');
  if (parts.length > 2) throw new InvalidInputError(`The name filter '${raw}' must be 'action' or 'package/action'.`);
  if (!parts.every(isValidEntityName)) throw new InvalidInputError(ILLEGAL_NAME);
  return raw;
}

export async function listActivations(deps: ApiDeps, ctx: RequestContext): Promise<Reply> {
  const page = pageParams(ctx.query, 'activations');
  const count = boolParam(ctx.query, 'count', false);
  const docs = boolParam(ctx.query, 'docs', false);
  if (count && docs) throw new InvalidInputError(DOCS_WITH_COUNT);
  const q: ActivationQuery = { ...page };
  const name = nameFilter(ctx.query);
  const since = epochParam(ctx.query, 'since');
  const upto = epochParam(ctx.query, 'upto');
  if (name !== undefined) q.name = name;
  if (since !== undefined) q.since = since;
  if (upto !== undefined) q.upto = upto;
  if (count) {
    const { limit: _l, skip: _s, ...filter } = q;
    return { status: 200, body: { activations: await deps.store.activations.count(ctx.namespace, filter) } };
  }
  const records = await deps.store.activations.list(ctx.namespace, q);
  return { status: 200, body: records.map(docs ? activationView : activationSummary) };
}

/** 400 for a malformed id, with OpenWhisk's two messages. */
export function checkActivationId(id: string): void {
  if (id.length !== 32) throw new InvalidInputError(`Activation id length is ${id.length} but must be 32.`);
  if (!/^[0-9a-fA-F]{32}$/.test(id)) throw new InvalidInputError('The activation id is not valid.');
}

export function getActivation(deps: ApiDeps, ctx: RequestContext, id: string, part: 'record' | 'result' | 'logs'): Reply {
  checkActivationId(id);
  const record: ActivationRecord | undefined = deps.store.activations.get(ctx.namespace, id.toLowerCase());
  if (record === undefined) throw new NotFoundError();
  switch (part) {
    case 'record':
      return { status: 200, body: activationView(record) };
    case 'result': {
      const { statusCode: _code, ...result } = responseView(record);
      return { status: 200, body: result };
    }
    case 'logs':
      return { status: 200, body: { logs: record.logs } };
  }
}

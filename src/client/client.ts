/**
 * A small REST client for the OpenWhisk-compatible API that brisk's controller serves (and that any
 * OpenWhisk deployment serves). It speaks plain `fetch`, validates every body it returns with zod,
 * and turns every failure into a typed error from src/errors.ts:
 * - no answer at all → ApiUnreachableError (code API_UNREACHABLE)
 * - an error status → ApiError whose `code` names the status (NOT_FOUND, UNAUTHENTICATED, ...) and whose
 *   message is the server's `error` text
 */
import { z } from 'zod';
import { ApiError, ApiUnreachableError, ConfigError, ProtocolError, type ErrorFault } from '../errors.js';
import {
  actionDocSchema,
  actionSummarySchema,
  activationIdBodySchema,
  activationLogsSchema,
  activationResultSchema,
  activationSummarySchema,
  activationViewSchema,
  type ActionPut,
  type ActionSummary,
  type ActionView,
  type ActivationListQuery,
  type ActivationResultView,
  type ActivationSummary,
  type ActivationView,
  type InvokeOutcome,
} from './types.js';
import { watchSnapshotSchema, type WatchSnapshot } from '../watch/snapshot.js';

export interface ClientOptions {
  /** `http://127.0.0.1:3233`; without a scheme, loopback hosts get `http://` and others `https://` (as wsk) */
  apihost: string;
  /** `uuid:key`, sent as HTTP Basic credentials */
  auth: string;
  /** namespace path segment; default `_` (the namespace of the credentials) */
  namespace?: string;
  /**
   * Per-request deadline in ms; default 75 000, above the server's 60 s longest blocking wait so a
   * blocking invoke ends with the server's own 202 rather than a client timeout.
   */
  timeoutMs?: number;
  /** injectable for tests; default the global fetch */
  fetch?: typeof fetch;
}

export interface InvokeOptions {
  params?: Record<string, unknown>;
  /** wait for the result (up to the server's blocking wait); default false */
  blocking?: boolean;
  /** server-side blocking wait in ms (`timeout` query), 1..60000; server default 60000 */
  waitMs?: number;
}

export interface BriskClient {
  /** the normalised API host, e.g. `http://127.0.0.1:3233` */
  readonly apihost: string;
  readonly actions: {
    /** create (`overwrite: false`, 409 when it exists) or create-or-update (`overwrite: true`, merges) */
    put(name: string, body: ActionPut, options: { overwrite: boolean }): Promise<ActionView>;
    get(name: string, options?: { code?: boolean }): Promise<ActionView>;
    list(options?: { limit?: number; skip?: number }): Promise<ActionSummary[]>;
    delete(name: string): Promise<ActionView>;
    /**
     * Invokes an action. A blocking invoke that finished (200, 502 or a 500 carrying a record) is
     * `completed` whatever the activation's status; it never throws for a failed activation.
     */
    invoke(name: string, options?: InvokeOptions): Promise<InvokeOutcome>;
  };
  readonly activations: {
    list(query?: ActivationListQuery): Promise<ActivationSummary[]>;
    get(id: string): Promise<ActivationView>;
    logs(id: string): Promise<string[]>;
    result(id: string): Promise<ActivationResultView>;
  };
  /** The live view's data (the controller's `GET /api/v1/watch` and `GET /api/v1/status`). */
  readonly watch: {
    /**
     * Where to open the watch stream: the WebSocket URL (`ws://` for an `http://` API host, `wss://`
     * for `https://`) and the headers to send with the upgrade. Each message is one WatchSnapshot
     * (JSON; validate it with `watchSnapshotSchema`).
     */
    url(): { url: string; headers: { authorization: string } };
    /** One snapshot of the credentials' namespace (`GET /api/v1/status`), validated. */
    status(): Promise<WatchSnapshot>;
  };
}

const DEFAULT_TIMEOUT_MS = 75_000;
/** Error bodies are read for their message only; a larger body is cut, never buffered whole into an error. */
const MAX_ERROR_TEXT = 4_096;

/** Adds a scheme when missing and drops trailing slashes. Throws ConfigError on a host that is not a URL. */
export function normalizeApihost(apihost: string): string {
  const trimmed = apihost.trim().replace(/\/+$/, '');
  if (trimmed === '') throw new ConfigError('The API host is empty.', { hint: 'Pass --apihost http://127.0.0.1:3233 or run `brisk up`.' });
  let withScheme = trimmed;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/i.test(trimmed);
    withScheme = `${loopback ? 'http' : 'https'}://${trimmed}`;
  }
  try {
    const url = new URL(withScheme);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new ConfigError(`The API host '${apihost}' is not an http(s) URL.`, { hint: 'Pass --apihost http://HOST:PORT.' });
  }
  return withScheme;
}

/** Checks the `uuid:key` shape; the server decides whether it is valid. */
export function checkAuth(auth: string): string {
  const trimmed = auth.trim();
  const colon = trimmed.indexOf(':');
  if (colon <= 0 || colon === trimmed.length - 1) {
    throw new ConfigError('The API key must look like UUID:KEY.', { hint: 'Pass --auth UUID:KEY, or run `brisk up` to save the guest key.' });
  }
  return trimmed;
}

const STATUS_CODES: Record<number, { code: string; fault: ErrorFault }> = {
  400: { code: 'INVALID_INPUT', fault: 'user' },
  401: { code: 'UNAUTHENTICATED', fault: 'user' },
  403: { code: 'FORBIDDEN', fault: 'user' },
  404: { code: 'NOT_FOUND', fault: 'user' },
  405: { code: 'METHOD_NOT_ALLOWED', fault: 'user' },
  409: { code: 'CONFLICT', fault: 'user' },
  413: { code: 'PAYLOAD_TOO_LARGE', fault: 'user' },
  429: { code: 'THROTTLED', fault: 'user' },
  503: { code: 'CAPACITY_UNAVAILABLE', fault: 'platform' },
};

/** Maps an HTTP error status and body to an ApiError (exported for tests). */
export function apiErrorOf(status: number, body: unknown, fallbackText: string): ApiError {
  const known = STATUS_CODES[status] ?? { code: 'API_ERROR', fault: status >= 500 ? 'platform' : 'user' };
  const parsed = z.object({ error: z.unknown(), code: z.unknown().optional() }).safeParse(body);
  let message = fallbackText.trim() === '' ? `The API answered HTTP ${status}.` : fallbackText.slice(0, MAX_ERROR_TEXT);
  let transactionId: string | undefined;
  if (parsed.success) {
    if (typeof parsed.data.error === 'string') message = parsed.data.error;
    else if (parsed.data.error !== undefined) message = JSON.stringify(parsed.data.error).slice(0, MAX_ERROR_TEXT);
    if (typeof parsed.data.code === 'string' || typeof parsed.data.code === 'number') transactionId = String(parsed.data.code);
  }
  return new ApiError(known.code, known.fault, message, { status, body, ...(transactionId === undefined ? {} : { transactionId }) });
}

/** Creates a client. Cheap: no connection is made until the first call. */
export function createClient(options: ClientOptions): BriskClient {
  const apihost = normalizeApihost(options.apihost);
  const authHeader = `Basic ${Buffer.from(checkAuth(options.auth)).toString('base64')}`;
  const namespace = encodeURIComponent(options.namespace ?? '_');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const doFetch = options.fetch ?? fetch;
  const root = `${apihost}/api/v1/namespaces/`;

  interface RawResponse {
    status: number;
    body: unknown;
    text: string;
    /** the `x-openwhisk-activation-id` header of invoke answers */
    activationId: string | undefined;
  }

  async function call(method: string, path: string, query: Record<string, string | number | boolean | undefined>, body?: unknown): Promise<RawResponse> {
    // A path that names its namespace (`/ns/...`, from a fully qualified entity name) keeps it.
    // `/api/v1/...` paths outside the namespaces tree (status) are taken as they are.
    const url = new URL(path.startsWith('/api/v1/') ? `${apihost}${path}` : path.startsWith('//') ? `${root}${path.slice(2)}` : `${root}${namespace}${path}`);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { authorization: authHeader, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await doFetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw new ApiUnreachableError(
        apihost,
        timedOut ? `The API at ${apihost} did not answer within ${timeoutMs} ms.` : `The API at ${apihost} is not reachable.`,
        { cause: error },
      );
    }
    const text = await response.text();
    let parsed: unknown = undefined;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    return { status: response.status, body: parsed, text, activationId: response.headers.get('x-openwhisk-activation-id') ?? undefined };
  }

  function expectOk(raw: RawResponse): unknown {
    if (raw.status >= 200 && raw.status < 300) return raw.body;
    throw apiErrorOf(raw.status, raw.body, raw.text);
  }

  function validated<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, body: unknown, what: string): T {
    const result = schema.safeParse(body);
    if (!result.success) throw new ProtocolError(`The API returned an unexpected ${what}: ${result.error.issues[0]?.message ?? 'invalid body'}`);
    return result.data;
  }

  const actionPath = (name: string) => {
    const { namespace: ns, name: rest } = splitEntityName(name);
    return ns === undefined ? `/actions/${encodeName(rest)}` : `//${encodeURIComponent(ns)}/actions/${encodeName(rest)}`;
  };
  const activationPath = (id: string) => `/activations/${encodeURIComponent(id)}`;

  return {
    apihost,
    actions: {
      async put(name, body, { overwrite }) {
        const raw = await call('PUT', actionPath(name), { overwrite }, body);
        return validated(actionDocSchema, expectOk(raw), 'action');
      },
      async get(name, options = {}) {
        const raw = await call('GET', actionPath(name), { code: options.code });
        return validated(actionDocSchema, expectOk(raw), 'action');
      },
      async list(options = {}) {
        const raw = await call('GET', '/actions', { limit: options.limit, skip: options.skip });
        return validated(z.array(actionSummarySchema), expectOk(raw), 'action list');
      },
      async delete(name) {
        const raw = await call('DELETE', actionPath(name), {});
        return validated(actionDocSchema, expectOk(raw), 'action');
      },
      async invoke(name, options = {}) {
        const raw = await call('POST', actionPath(name), { blocking: options.blocking ?? false, timeout: options.waitMs }, options.params ?? {});
        if (raw.status === 202) {
          return { kind: 'accepted', activationId: validated(activationIdBodySchema, raw.body, 'invoke answer').activationId };
        }
        // A finished blocking activation comes back as a record with 200 (success), 502 (application or
        // developer error) or 500 (whisk error); any other error body is a request failure.
        const finished = raw.status === 200 || raw.status === 502 || raw.status === 500;
        const record = activationViewSchema.safeParse(raw.body);
        if (options.blocking === true && record.success && finished) {
          return { kind: 'completed', activation: record.data };
        }
        // An action that returns an array is answered with the bare array (as OpenWhisk does): the
        // record is read back by the id in the header.
        if (options.blocking === true && finished && Array.isArray(raw.body) && raw.activationId !== undefined) {
          const stored = await call('GET', activationPath(raw.activationId), {});
          return { kind: 'completed', activation: validated(activationViewSchema, expectOk(stored), 'activation') };
        }
        expectOk(raw);
        throw new ProtocolError(`The API answered HTTP ${raw.status} to an invoke with an unexpected body.`);
      },
    },
    activations: {
      async list(query = {}) {
        // A fully qualified name (`/ns/action`, as wsk accepts) lists in that namespace by the rest.
        const target = query.name === undefined ? undefined : splitEntityName(query.name);
        const path = target?.namespace === undefined ? '/activations' : `//${encodeURIComponent(target.namespace)}/activations`;
        const raw = await call('GET', path, { name: target?.name, limit: query.limit, skip: query.skip, since: query.since, upto: query.upto });
        return validated(z.array(activationSummarySchema), expectOk(raw), 'activation list');
      },
      async get(id) {
        const raw = await call('GET', activationPath(id), {});
        return validated(activationViewSchema, expectOk(raw), 'activation');
      },
      async logs(id) {
        const raw = await call('GET', `${activationPath(id)}/logs`, {});
        return validated(activationLogsSchema, expectOk(raw), 'activation logs').logs;
      },
      async result(id) {
        const raw = await call('GET', `${activationPath(id)}/result`, {});
        return validated(activationResultSchema, expectOk(raw), 'activation result');
      },
    },
    watch: {
      url() {
        return { url: `${apihost.replace(/^http/i, 'ws')}/api/v1/watch`, headers: { authorization: authHeader } };
      },
      async status() {
        const raw = await call('GET', '/api/v1/status', {});
        return validated(watchSnapshotSchema, expectOk(raw), 'status snapshot');
      },
    },
  };
}

/**
 * Splits an entity name as wsk reads it: `/ns/name` and `/ns/pkg/name` name their namespace;
 * `name` and `pkg/name` use the client's namespace.
 */
export function splitEntityName(name: string): { namespace: string | undefined; name: string } {
  if (!name.startsWith('/')) return { namespace: undefined, name };
  const [ns = '', ...rest] = name.slice(1).split('/');
  if (ns === '' || rest.length === 0) return { namespace: undefined, name: name.replace(/^\/+/, '') };
  return { namespace: ns, name: rest.join('/') };
}

/** Encodes each segment of `name` or `pkg/name`, keeping the slash that separates them. */
function encodeName(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/');
}

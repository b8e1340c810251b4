/**
 * The controller's OpenWhisk-compatible REST API on node:http (no framework: this is the hot path).
 * Composition: router → (info | auth → namespace entitlement → handler) → JSON reply. The Invoker
 * port is the only way to run actions.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { ForbiddenError, MethodNotAllowedError, NotFoundError, UnauthenticatedError } from '../../errors.js';
import { MAX_BLOCKING_WAIT_MS } from '../../model/limits.js';
import type { Store } from '../../store/types.js';
import type { Invoker } from '../invoker.js';
import { ActionCache } from './action-cache.js';
import { checkActionPath, deleteAction, getAction, listActions, putAction } from './actions.js';
import { getActivation, listActivations } from './activations.js';
import { Authenticator } from './auth.js';
import type { ApiDeps, RequestContext } from './context.js';
import { CORS_HEADERS, errorReply, sendJson, type Reply } from './http.js';
import { invokeAction } from './invoke.js';
import { API_INFO, listNamespaces, namespaceLimits } from './namespaces.js';
import { EMPTY_QUERY, parseQuery } from './query.js';
import { API_BASE, matchRoute, type Route } from './router.js';
import type { WatchRoutes } from '../watch/index.js';
import { DEFAULT_NAMESPACE_LIMITS, NamespaceThrottle } from './throttle.js';

export interface ApiServerOptions {
  store: Store;
  invoker: Invoker;
  /** default 127.0.0.1 */
  host?: string;
  /** default 0 (ephemeral) */
  port?: number;
  /** per namespace; defaults invocationsPerMinute 60000, concurrentInvocations 1000 (reported by /limits) */
  limits?: Partial<{ invocationsPerMinute: number; concurrentInvocations: number }>;
  /** longest a blocking invoke waits before answering 202; default 60000 */
  maxBlockingWaitMs?: number;
  /** epoch ms; default Date.now */
  clock?: () => number;
  /** sizes of the identity and action caches; default 10000 each */
  cacheSize?: number;
  /** errors nobody can be answered about (unexpected handler failures, background store writes); default console.error */
  /** a 500 or a background failure; `requestId` is the `code` of the 500 body, to match logs with answers */
  onError?: (error: unknown, context?: { requestId: string }) => void;
  /**
   * Answers plain requests before the API routes (e.g. `GET /metrics`); returns true when it
   * answered. Default none.
   */
  httpHandler?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** told of every error the API answers with (after it is mapped to a reply), e.g. to count 429s */
  onErrorReply?: (error: unknown, status: number) => void;
  /**
   * The live view's routes (src/controller/watch): `GET /api/v1/status` (one WatchSnapshot) and
   * `GET /api/v1/watch` upgraded to a WebSocket, both with the API's Basic auth. Default none (404).
   */
  watch?: WatchRoutes;
}

const STATUS_PATH = `${API_BASE}/status`;
const WATCH_PATH = `${API_BASE}/watch`;

/** Refuses an upgrade before any WebSocket frame (the socket is still plain HTTP). */
function refuseUpgrade(socket: Duplex, status: number, text: string, extra = ''): void {
  const body = JSON.stringify({ error: text });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`);
}

export interface RunningApiServer {
  url: string;
  port: number;
  /** Stops accepting connections, waits for in-flight responses, then closes every connection. */
  close(): Promise<void>;
}

export async function startApiServer(options: ApiServerOptions): Promise<RunningApiServer> {
  const clock = options.clock ?? Date.now;
  const limits = { ...DEFAULT_NAMESPACE_LIMITS, ...options.limits };
  const onError = options.onError ?? ((error: unknown, context?: { requestId: string }) => console.error('brisk api:', context?.requestId ?? '', error));
  const deps: ApiDeps = {
    store: options.store,
    invoker: options.invoker,
    actions: new ActionCache(options.store.entities, options.cacheSize),
    throttle: new NamespaceThrottle(limits, clock),
    limits,
    maxBlockingWaitMs: options.maxBlockingWaitMs ?? MAX_BLOCKING_WAIT_MS,
    clock,
    onError,
  };
  const auth = new Authenticator(options.store.entities, options.cacheSize);
  const nextRequestId = requestIds();

  let inFlight = 0;
  let drained: (() => void) | undefined;

  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    inFlight += 1;
    res.once('close', () => {
      inFlight -= 1;
      if (inFlight === 0) drained?.();
    });
    if (options.httpHandler?.(req, res) === true) return;
    const requestId = nextRequestId();
    handle(deps, auth, req, clock(), options.watch).then(
      (reply) => sendJson(res, reply),
      (error: unknown) => {
        const reply = errorReply(error, requestId);
        options.onErrorReply?.(error, reply.status);
        if (reply.status === 500) onError(error, { requestId });
        if (res.headersSent) res.destroy();
        else sendJson(res, reply);
      },
    );
  });

  // Only the live view upgrades; it authenticates like every API route, before the upgrade.
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    if (options.watch === undefined || (q < 0 ? url : url.slice(0, q)) !== WATCH_PATH) {
      refuseUpgrade(socket, 404, 'The requested resource does not exist.');
      return;
    }
    let namespace: string;
    try {
      namespace = auth.authenticate(req.headers.authorization).namespace;
    } catch (error) {
      if (error instanceof UnauthenticatedError) refuseUpgrade(socket, 401, error.message, 'www-authenticate: Basic realm="OpenWhisk secure realm"\r\n');
      else {
        onError(error);
        refuseUpgrade(socket, 500, 'The server encountered an internal error.');
      }
      return;
    }
    options.watch.upgrade(req, socket, head, namespace);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
        server.closeAllConnections();
        await closed;
      })();
      return closing;
    },
  };
}

/** Short unique ids for error bodies' `code`: a per-process prefix and a counter. */
function requestIds(): () => string {
  const prefix = randomBytes(4).toString('hex');
  let n = 0;
  return () => `${prefix}${(n++).toString(36).padStart(6, '0')}`;
}

async function handle(deps: ApiDeps, auth: Authenticator, req: IncomingMessage, receivedAt: number, watch: WatchRoutes | undefined): Promise<Reply> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const method = req.method ?? 'GET';
  if (method === 'OPTIONS') return { status: 200, body: {}, headers: { ...CORS_HEADERS } };
  if (watch !== undefined && (path === STATUS_PATH || path === WATCH_PATH)) {
    if (method !== 'GET') throw new MethodNotAllowedError('HTTP method not allowed, supported methods: GET.');
    const { namespace } = auth.authenticate(req.headers.authorization);
    if (path === WATCH_PATH) return { status: 426, body: { error: 'Upgrade to a WebSocket to watch; GET /api/v1/status answers one snapshot.' }, headers: { upgrade: 'websocket' } };
    return { status: 200, body: await watch.status(namespace) };
  }

  const match = matchRoute(path);
  if (match === undefined) throw new NotFoundError();
  if (!match.methods.includes(method)) {
    throw new MethodNotAllowedError(`HTTP method not allowed, supported methods: ${match.methods.join(', ')}.`);
  }
  const { route } = match;
  if (route.kind === 'info') return { status: 200, body: API_INFO };

  const identity = auth.authenticate(req.headers.authorization);
  // `_` and the caller's own namespace are the only ones it may address (no sharing modelled).
  if ('ns' in route && route.ns !== '_' && route.ns !== identity.namespace) throw new ForbiddenError();
  const ctx: RequestContext = { req, identity, namespace: identity.namespace, query: q < 0 ? EMPTY_QUERY : parseQuery(url.slice(q + 1)), receivedAt };
  return dispatch(deps, ctx, route, method);
}

function dispatch(deps: ApiDeps, ctx: RequestContext, route: Exclude<Route, { kind: 'info' }>, method: string): Reply | Promise<Reply> {
  switch (route.kind) {
    case 'namespaces': return listNamespaces(ctx);
    case 'limits': return namespaceLimits(deps);
    case 'emptyCollection': return { status: 200, body: [] };
    case 'actions': return listActions(deps, ctx);
    case 'action': {
      checkActionPath(route.name, route.pkg);
      switch (method) {
        case 'GET': return getAction(deps, ctx, route.name);
        case 'PUT': return putAction(deps, ctx, route.name);
        case 'DELETE': return deleteAction(deps, ctx, route.name);
        default: return invokeAction(deps, ctx, route.name);
      }
    }
    case 'activations': return listActivations(deps, ctx);
    case 'activation': return getActivation(deps, ctx, route.id, route.part);
  }
}

/**
 * The viewer's end of the watch stream, without React: one WebSocket to the controller's
 * `GET /api/v1/watch` with the namespace's Basic credentials; every message is validated against
 * the snapshot schema; a lost connection is reported and retried with exponential backoff until
 * `close()`. The hook `useWatch` is a thin wrapper that feeds these events to the reducer.
 *
 * Bounds: one message is at most `maxPayloadBytes` (ws refuses larger ones, which counts as a lost
 * connection); only the newest snapshot matters, so nothing is queued here. A connection that has
 * sent nothing for `staleAfterMs` (the controller sends every ~500 ms) is treated as lost: a half-open
 * TCP connection would otherwise show old numbers as if they were live.
 */
import WebSocket from 'ws';
import { messageOf } from '../errors.js';
import { watchSnapshotSchema, type WatchSnapshot } from '../watch/snapshot.js';

/** Events the client reports; a subset of the reducer's events, in the same shape. */
export type WatchEvent =
  | { readonly type: 'connected' }
  | { readonly type: 'disconnected'; readonly reason: string }
  | { readonly type: 'snapshot'; readonly snapshot: WatchSnapshot }
  | { readonly type: 'invalid'; readonly message: string };

export interface BackoffOptions {
  /** first delay, default 250 ms */
  initialMs?: number;
  /** longest delay, default 5000 ms */
  maxMs?: number;
}

export interface WatchClientOptions {
  /** e.g. `http://127.0.0.1:3233` (https → wss) */
  apihost: string;
  /** `uuid:key` of a namespace */
  auth: string;
  /** called for every event, never after `close()` */
  onEvent: (event: WatchEvent) => void;
  backoff?: BackoffOptions;
  /** no message for this long counts as a lost connection; default 5000 ms */
  staleAfterMs?: number;
  /** largest message accepted; default 16 MiB */
  maxPayloadBytes?: number;
}

export interface WatchClient {
  /** stops for good: closes the socket, cancels retries; idempotent */
  close(): void;
}

export const WATCH_PATH = '/api/v1/watch';

/** The watch stream's URL for an API host: same host and port, ws(s) scheme, the host's path prefix kept. */
export function watchUrl(apihost: string): string {
  const url = new URL(apihost);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${WATCH_PATH}`;
  url.search = '';
  url.hash = '';
  return url.toString();
}

/** Delay before retry number `attempt` (0-based): doubles from `initialMs`, capped at `maxMs` (pure). */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? 250;
  const max = options.maxMs ?? 5_000;
  return Math.min(max, initial * 2 ** Math.min(attempt, 30));
}

/** Parses and validates one message (pure). */
export function decodeSnapshot(data: string): { ok: true; snapshot: WatchSnapshot } | { ok: false; message: string } {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { ok: false, message: `the watch stream sent a message that is not JSON (${data.length} bytes)` };
  }
  const parsed = watchSnapshotSchema.safeParse(json);
  if (parsed.success) return { ok: true, snapshot: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
  return { ok: false, message: `the watch stream sent an invalid snapshot${where}: ${issue?.message ?? 'invalid'}` };
}

function reasonOf(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET') return 'connection reset';
  if (code === 'ENOTFOUND') return 'host not found';
  return messageOf(error);
}

/** Starts watching; retries until `close()`. */
export function startWatch(options: WatchClientOptions): WatchClient {
  const url = watchUrl(options.apihost);
  const authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
  const staleAfterMs = options.staleAfterMs ?? 5_000;
  let closed = false;
  let attempt = 0;
  let socket: WebSocket | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let staleTimer: NodeJS.Timeout | undefined;

  const emit = (event: WatchEvent) => {
    if (!closed) options.onEvent(event);
  };

  const connect = () => {
    retryTimer = undefined;
    if (closed) return;
    const ws = new WebSocket(url, { headers: { authorization }, maxPayload: options.maxPayloadBytes ?? 16 * 1024 * 1024, handshakeTimeout: staleAfterMs });
    socket = ws;
    let reason: string | undefined;
    let lostOnce = false;

    const armStale = () => {
      clearTimeout(staleTimer);
      staleTimer = setTimeout(() => {
        reason ??= `no data for ${staleAfterMs} ms`;
        ws.terminate();
      }, staleAfterMs);
    };
    const lost = () => {
      if (lostOnce) return;
      lostOnce = true;
      clearTimeout(staleTimer);
      ws.removeAllListeners();
      // a late error from the dead socket must not become an unhandled 'error' event
      ws.on('error', () => {});
      if (closed) return;
      emit({ type: 'disconnected', reason: reason ?? 'connection closed' });
      retryTimer = setTimeout(connect, backoffDelay(attempt++, options.backoff));
    };

    ws.on('open', () => {
      attempt = 0;
      armStale();
      emit({ type: 'connected' });
    });
    ws.on('message', (data, isBinary) => {
      armStale();
      const decoded = decodeSnapshot(isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString());
      emit(decoded.ok ? { type: 'snapshot', snapshot: decoded.snapshot } : { type: 'invalid', message: decoded.message });
    });
    ws.on('unexpected-response', (request, response) => {
      reason = `HTTP ${response.statusCode ?? '?'}${response.statusCode === 401 ? ' unauthorized: check --auth' : response.statusCode === 404 ? ': this controller serves no watch stream' : ''}`;
      response.resume();
      request.destroy();
      lost();
    });
    ws.on('error', (error) => {
      reason ??= reasonOf(error);
      lost();
    });
    ws.on('close', (code, why) => {
      // 1006: no close frame, the connection just went away (a killed controller, a cut network)
      reason ??= code === 1006 ? 'connection lost' : `closed by the server (${code}${why.length > 0 ? ` ${why.toString()}` : ''})`;
      lost();
    });
  };

  connect();
  return {
    close() {
      if (closed) return;
      closed = true;
      clearTimeout(retryTimer);
      clearTimeout(staleTimer);
      if (socket !== undefined) {
        socket.removeAllListeners();
        socket.on('error', () => {});
        socket.terminate();
      }
    },
  };
}

/**
 * WebSocket transport shared by every daemon: a server that authenticates peers and a client that
 * keeps itself connected. Messages are the ones of protocol.ts, validated on receipt.
 *
 * Handshake: the client sends `Authorization: Bearer <cluster token>` on the upgrade request; a wrong
 * or missing token is refused with HTTP 401 before any frame. Its first frame is `hello`; the server
 * answers `welcome` or closes with CloseCode.versionMismatch / invalidMessage / unauthorized (role).
 * Heartbeats: each side pings every `heartbeatMs` and terminates a peer that did not answer the
 * previous ping. A client reconnects with exponential backoff and jitter until `close()`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { timingSafeEqual, createHash } from 'node:crypto';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { ClusterAuthError, PeerUnavailableError, ProtocolVersionError, isBriskError } from '../errors.js';
import {
  CloseCode,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  decodeMessage,
  encodeMessage,
  type Message,
  type Role,
} from './protocol.js';

/** One accepted peer on a server. */
export interface Connection {
  /** the `id` from the peer's hello */
  readonly peerId: string;
  readonly role: Role;
  /** false when the socket is not open */
  send(message: Message): boolean;
  close(code?: number, reason?: string): void;
  /** bytes queued on the socket and not yet handed to the OS (lets a publisher skip a slow peer) */
  readonly bufferedAmount?: number;
}

export interface PeerHandlers {
  onMessage(message: Message): void;
  onClose(code: number, reason: string): void;
}

export interface WsServerOptions {
  /** default 127.0.0.1 */
  host?: string;
  /** default 0 (ephemeral) */
  port?: number;
  /** cluster token, checked on the upgrade request */
  token: string;
  serverId: string;
  /** roles allowed to connect */
  roles: readonly Role[];
  /** ping interval; a peer that missed the previous pong is terminated (default 10000) */
  heartbeatMs?: number;
  /** how long a new socket may take to send hello (default 5000) */
  helloTimeoutMs?: number;
  /** called after a valid hello */
  onConnection(conn: Connection): PeerHandlers;
  /** protocol faults of peers (bad frames), for the daemon's log */
  onProtocolError?(peer: string, error: Error): void;
  /**
   * Plain HTTP requests (not upgrades) on the same port, e.g. `GET /metrics`: return true when the
   * request was answered. Requests it does not answer (and all of them without it) get 426.
   */
  httpHandler?(req: IncomingMessage, res: ServerResponse): boolean;
}

export interface WsServer {
  /** ws://host:port */
  readonly url: string;
  readonly port: number;
  connections(): Connection[];
  close(): Promise<void>;
}

export interface WsClientOptions {
  url: string;
  token: string;
  role: Role;
  id: string;
  /** after every successful handshake (first and each reconnect): (re)register here */
  onConnected?(client: WsClient): void;
  /** messages that are not replies to a pending request() */
  onMessage(message: Message): void;
  /** the connection was lost (not called after this client's own close()) */
  onDisconnected?(info: { code: number; reason: string }): void;
  /**
   * A connection attempt was refused for a reason the operator must fix: a wrong cluster token
   * (ClusterAuthError), another protocol version (ProtocolVersionError). The client keeps retrying
   * with backoff, so a server that is fixed and restarted is reached without a restart here.
   */
  onRefused?(error: ClusterAuthError | ProtocolVersionError): void;
  /** reconnect backoff with jitter, default 100 → 5000 ms */
  backoff?: { initialMs: number; maxMs: number };
  /** default 10000 */
  heartbeatMs?: number;
}

export interface WsClient {
  readonly connected: boolean;
  /** false when not connected: the caller decides whether to queue, fail or retry */
  send(message: Message): boolean;
  /**
   * Sends a message that has a requestId and resolves with the first received message carrying the
   * same requestId (that reply is not passed to onMessage). Rejects with PeerUnavailableError on
   * timeout, when not connected, or when the connection closes first.
   */
  request<T extends Message = Message>(message: Message & { requestId: string }, timeoutMs: number): Promise<T>;
  /** Resolves once connected; rejects PeerUnavailableError after timeoutMs (default 10000). */
  whenConnected(timeoutMs?: number): Promise<void>;
  /** Stops reconnecting and closes the socket. (A client closed by the server with CloseCode.replaced stops reconnecting by itself.) */
  close(): Promise<void>;
}

const DEFAULT_HEARTBEAT_MS = 10_000;

function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  if (header === undefined || !header.startsWith('Bearer ')) return false;
  return timingSafeEqual(tokenDigest(header.slice('Bearer '.length)), expected);
}

function rawToString(data: RawData): string {
  if (typeof data === 'string') return data;
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function sendOn(socket: WebSocket, message: Message): boolean {
  if (socket.readyState !== WebSocket.OPEN) return false;
  socket.send(encodeMessage(message));
  return true;
}

/** Starts a WebSocket server for daemon peers. */
export async function startWsServer(options: WsServerOptions): Promise<WsServer> {
  const expected = tokenDigest(options.token);
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const helloTimeoutMs = options.helloTimeoutMs ?? 5_000;
  const live = new Map<string, { socket: WebSocket; conn: Connection }>();
  const alive = new WeakMap<WebSocket, boolean>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
  const http: Server = createServer((req, res) => {
    if (options.httpHandler?.(req, res) === true) return;
    res.writeHead(426, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'WebSocket upgrade required' }));
  });

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!bearerMatches(req.headers.authorization, expected)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => acceptSocket(ws));
  });

  function acceptSocket(ws: WebSocket): void {
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    ws.on('error', () => ws.terminate());
    const helloTimer = setTimeout(() => ws.close(CloseCode.invalidMessage, 'no hello'), helloTimeoutMs);
    ws.once('close', () => clearTimeout(helloTimer));
    ws.once('message', (data) => {
      clearTimeout(helloTimer);
      let hello: Message;
      try {
        hello = decodeMessage(rawToString(data));
      } catch (error) {
        options.onProtocolError?.('(handshake)', error as Error);
        ws.close(CloseCode.invalidMessage, 'invalid hello');
        return;
      }
      if (hello.type !== 'hello') {
        ws.close(CloseCode.invalidMessage, 'expected hello');
        return;
      }
      if (hello.protocol !== PROTOCOL_VERSION) {
        ws.close(CloseCode.versionMismatch, `protocol ${hello.protocol} not supported, this daemon speaks ${PROTOCOL_VERSION}`);
        return;
      }
      if (!options.roles.includes(hello.role)) {
        ws.close(CloseCode.unauthorized, `role ${hello.role} may not connect here`);
        return;
      }
      const key = `${hello.role}:${hello.id}`;
      const previous = live.get(key);
      if (previous !== undefined) previous.socket.close(CloseCode.replaced, 'replaced by a newer connection');
      const conn: Connection = {
        peerId: hello.id,
        role: hello.role,
        get bufferedAmount() {
          return ws.bufferedAmount;
        },
        send: (message) => sendOn(ws, message),
        close: (code = CloseCode.normal, reason = '') => ws.close(code, reason),
      };
      live.set(key, { socket: ws, conn });
      sendOn(ws, { type: 'welcome', protocol: PROTOCOL_VERSION, serverId: options.serverId });
      const handlers = options.onConnection(conn);
      ws.on('message', (frame) => {
        let message: Message;
        try {
          message = decodeMessage(rawToString(frame));
        } catch (error) {
          options.onProtocolError?.(key, error as Error);
          ws.close(CloseCode.invalidMessage, isBriskError(error) ? error.message.slice(0, 120) : 'invalid message');
          return;
        }
        handlers.onMessage(message);
      });
      ws.once('close', (code, reason) => {
        if (live.get(key)?.socket === ws) live.delete(key);
        handlers.onClose(code, reason.toString());
      });
    });
  }

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, heartbeatMs);
  heartbeat.unref();

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `ws://${urlHost}:${port}`,
    port,
    connections: () => [...live.values()].map((entry) => entry.conn),
    close: async () => {
      clearInterval(heartbeat);
      for (const ws of wss.clients) ws.close(CloseCode.goingAway, 'server shutting down');
      // Sockets that do not finish the closing handshake promptly are cut.
      const cut = setTimeout(() => {
        for (const ws of wss.clients) ws.terminate();
      }, 1_000);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
      clearTimeout(cut);
    },
  };
}

interface PendingRequest {
  resolve(message: Message): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** Connects to a daemon and stays connected (reconnecting with backoff) until close(). */
export function connectWs(options: WsClientOptions): WsClient {
  const backoff = options.backoff ?? { initialMs: 100, maxMs: 5_000 };
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const pending = new Map<string, PendingRequest>();
  const waiters = new Set<() => void>();
  let socket: WebSocket | undefined;
  let connected = false;
  let closed = false;
  let attempt = 0;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  /** why the last attempt failed, for whenConnected's rejection */
  let lastRefusal: Error | undefined;

  const refused = (error: ClusterAuthError | ProtocolVersionError) => {
    lastRefusal = error;
    options.onRefused?.(error);
  };

  const failPending = (reason: string) => {
    for (const [id, entry] of pending) {
      clearTimeout(entry.timer);
      pending.delete(id);
      entry.reject(new PeerUnavailableError(reason));
    }
  };

  const scheduleReconnect = () => {
    if (closed || reconnectTimer !== undefined) return;
    const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 16));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    attempt += 1;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      open();
    }, delay);
  };

  const open = () => {
    if (closed) return;
    const ws = new WebSocket(options.url, {
      headers: { authorization: `Bearer ${options.token}` },
      maxPayload: MAX_FRAME_BYTES,
      perMessageDeflate: false,
      handshakeTimeout: 10_000,
    });
    socket = ws;
    let alive = true;
    let welcomed = false;
    ws.on('unexpected-response', (_req, res) => {
      if (res.statusCode === 401) refused(new ClusterAuthError(`${options.url} refused the cluster token (HTTP 401): this daemon and the server must share one token`));
      ws.terminate();
    });
    ws.on('open', () => {
      // ws turns Nagle off on its sockets, so small control messages (resume) are not delayed.
      ws.send(encodeMessage({ type: 'hello', protocol: PROTOCOL_VERSION, role: options.role, id: options.id }));
    });
    ws.on('pong', () => {
      alive = true;
    });
    ws.on('message', (data) => {
      let message: Message;
      try {
        message = decodeMessage(rawToString(data));
      } catch {
        ws.close(CloseCode.invalidMessage, 'invalid message');
        return;
      }
      if (!welcomed) {
        if (message.type !== 'welcome') {
          ws.close(CloseCode.invalidMessage, 'expected welcome');
          return;
        }
        if (message.protocol !== PROTOCOL_VERSION) {
          refused(new ProtocolVersionError(`${options.url} speaks protocol ${message.protocol}, this daemon ${PROTOCOL_VERSION}: run the same brisk version on both`));
          ws.close(CloseCode.versionMismatch, `protocol ${PROTOCOL_VERSION} expected`);
          return;
        }
        welcomed = true;
        lastRefusal = undefined;
        connected = true;
        attempt = 0;
        heartbeatTimer = setInterval(() => {
          if (!alive) {
            ws.terminate();
            return;
          }
          alive = false;
          ws.ping();
        }, heartbeatMs);
        heartbeatTimer.unref();
        for (const wake of waiters) wake();
        waiters.clear();
        options.onConnected?.(client);
        return;
      }
      const requestId = 'requestId' in message ? message.requestId : undefined;
      if (requestId !== undefined) {
        const entry = pending.get(requestId);
        if (entry !== undefined) {
          pending.delete(requestId);
          clearTimeout(entry.timer);
          entry.resolve(message);
          return;
        }
      }
      options.onMessage(message);
    });
    ws.on('error', () => {
      // 'close' follows; reconnection is handled there.
    });
    ws.on('close', (code, reason) => {
      if (heartbeatTimer !== undefined) clearInterval(heartbeatTimer);
      heartbeatTimer = undefined;
      const wasConnected = connected;
      if (socket === ws) {
        connected = false;
        socket = undefined;
      }
      failPending(`connection to ${options.url} closed (${code})`);
      if (code === CloseCode.versionMismatch && !welcomed) refused(new ProtocolVersionError(`${options.url} closed the connection: ${reason.toString()}`));
      if (code === CloseCode.unauthorized && !welcomed) refused(new ClusterAuthError(`${options.url} refused this peer: ${reason.toString()}`));
      // Not after our own close(): the owner knows, and shutdown should not read like a failure.
      if (wasConnected && !closed) options.onDisconnected?.({ code, reason: reason.toString() });
      // A newer connection with the same id took over: reconnecting would only knock it off again.
      if (code === CloseCode.replaced) closed = true;
      scheduleReconnect();
    });
  };

  const client: WsClient = {
    get connected() {
      return connected;
    },
    send(message) {
      if (!connected || socket === undefined) return false;
      return sendOn(socket, message);
    },
    request<T extends Message = Message>(message: Message & { requestId: string }, timeoutMs: number): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        if (!connected || socket === undefined) {
          reject(new PeerUnavailableError(`not connected to ${options.url}`));
          return;
        }
        const timer = setTimeout(() => {
          pending.delete(message.requestId);
          reject(new PeerUnavailableError(`no reply to ${message.type} from ${options.url} within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(message.requestId, { resolve: resolve as (m: Message) => void, reject, timer });
        if (!sendOn(socket, message)) {
          clearTimeout(timer);
          pending.delete(message.requestId);
          reject(new PeerUnavailableError(`not connected to ${options.url}`));
        }
      });
    },
    whenConnected(timeoutMs = 10_000) {
      if (connected) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(wake);
          const why = lastRefusal === undefined ? '' : `: ${lastRefusal.message}`;
          reject(new PeerUnavailableError(`could not connect to ${options.url} within ${timeoutMs} ms${why}`, lastRefusal === undefined ? {} : { cause: lastRefusal }));
        }, timeoutMs);
        waiters.add(wake);
      });
    },
    async close() {
      closed = true;
      if (reconnectTimer !== undefined) clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
      const ws = socket;
      if (ws === undefined) {
        failPending('client closed');
        return;
      }
      await new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        const cut = setTimeout(() => ws.terminate(), 1_000);
        ws.once('close', () => {
          clearTimeout(cut);
          resolve();
        });
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(CloseCode.normal, 'client closing');
      });
    },
  };

  open();
  return client;
}

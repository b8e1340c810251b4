/**
 * The viewers of `GET /api/v1/watch`: WebSockets upgraded from the REST port (the server has
 * authenticated the request and passes the viewer's namespace). Each viewer gets a WatchSnapshot of
 * its namespace at once and then every `intervalMs`.
 *
 * A slow viewer never slows the controller: a tick sends nothing to a viewer whose socket still holds
 * more than `maxBufferedBytes` unsent (it gets a newer snapshot on a later tick, never a backlog), and
 * snapshots are built once per namespace per tick whatever the number of viewers. Viewers are bounded
 * (`maxViewers`): one more is accepted and closed at once with 1013 and the reason. Viewers send
 * nothing; a frame from one is ignored, a large one closes it (`maxPayload`). A viewer that does not
 * answer a ping within `heartbeatMs` is terminated.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { WatchSnapshot } from '../../watch/snapshot.js';

/** Close code for a viewer over the limit ("try again later"). */
export const TOO_MANY_VIEWERS_CODE = 1013;

export interface ViewerHubOptions {
  /** the snapshot of a namespace, now */
  snapshot(namespace: string): WatchSnapshot;
  /** told when the first viewer arrives (true) and the last one leaves (false) */
  onActive?(active: boolean): void;
  /** default 500 ms */
  intervalMs?: number;
  /** default 32 */
  maxViewers?: number;
  /** default 1 MiB */
  maxBufferedBytes?: number;
  /** default 30 000 ms */
  heartbeatMs?: number;
}

interface Viewer {
  readonly ws: WebSocket;
  readonly namespace: string;
  alive: boolean;
}

export class ViewerHub {
  private readonly wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: 4096 });
  private readonly viewers = new Set<Viewer>();
  private readonly intervalMs: number;
  private readonly maxViewers: number;
  private readonly maxBufferedBytes: number;
  private readonly heartbeatMs: number;
  private ticker: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;
  /** ticks on which a viewer was skipped because it had not drained (for tests and diagnostics) */
  skipped = 0;

  constructor(private readonly options: ViewerHubOptions) {
    this.intervalMs = options.intervalMs ?? 500;
    this.maxViewers = options.maxViewers ?? 32;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
    this.heartbeatMs = options.heartbeatMs ?? 30_000;
  }

  get count(): number {
    return this.viewers.size;
  }

  /** Completes the WebSocket upgrade of an authenticated request for `namespace`. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, namespace: string): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, namespace));
  }

  /** Terminates every viewer and stops the timers. */
  async close(): Promise<void> {
    this.closed = true;
    for (const viewer of this.viewers) viewer.ws.terminate();
    this.viewers.clear();
    this.stop();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(ws: WebSocket, namespace: string): void {
    ws.on('error', () => ws.terminate());
    if (this.closed || this.viewers.size >= this.maxViewers) {
      ws.close(TOO_MANY_VIEWERS_CODE, `too many viewers (limit ${this.maxViewers}); try again later`);
      return;
    }
    const viewer: Viewer = { ws, namespace, alive: true };
    this.viewers.add(viewer);
    ws.on('pong', () => {
      viewer.alive = true;
    });
    ws.once('close', () => this.remove(viewer));
    if (this.viewers.size === 1) this.start();
    this.send([viewer]);
  }

  private remove(viewer: Viewer): void {
    if (!this.viewers.delete(viewer)) return;
    if (this.viewers.size === 0) this.stop();
  }

  private start(): void {
    this.options.onActive?.(true);
    this.ticker = setInterval(() => this.send(this.viewers), this.intervalMs);
    this.ticker.unref();
    this.heartbeat = setInterval(() => this.ping(), this.heartbeatMs);
    this.heartbeat.unref();
  }

  private stop(): void {
    if (this.ticker === undefined) return;
    clearInterval(this.ticker);
    clearInterval(this.heartbeat);
    this.ticker = undefined;
    this.heartbeat = undefined;
    this.options.onActive?.(false);
  }

  /** One tick: the latest snapshot to every viewer that has drained, built once per namespace. */
  private send(viewers: Iterable<Viewer>): void {
    const frames = new Map<string, string>();
    for (const viewer of viewers) {
      if (viewer.ws.readyState !== WebSocket.OPEN) continue;
      if (viewer.ws.bufferedAmount > this.maxBufferedBytes) {
        this.skipped += 1;
        continue;
      }
      let frame = frames.get(viewer.namespace);
      if (frame === undefined) {
        frame = JSON.stringify(this.options.snapshot(viewer.namespace));
        frames.set(viewer.namespace, frame);
      }
      viewer.ws.send(frame);
    }
  }

  private ping(): void {
    for (const viewer of this.viewers) {
      if (!viewer.alive) {
        viewer.ws.terminate();
        continue;
      }
      viewer.alive = false;
      viewer.ws.ping();
    }
  }
}

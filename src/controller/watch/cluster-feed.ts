/**
 * The controller's subscription to the scheduler's `watch.cluster`, held only while someone needs it
 * (a connected viewer, or a `GET /api/v1/status` waiting for its answer): leases are counted, the
 * first opens the connection and subscribes, the last closes it.
 *
 * It uses its own connection, as role `observer` with the controller's id, not the controller's
 * acquire connection: a cluster frame (up to a thousand agents) then never sits in front of an
 * `acquire.granted` on the hot path, and closing it is the unsubscribe.
 */
import type { ClusterWatch } from '../../watch/snapshot.js';
import { connectWs, type WsClient, type WsClientOptions } from '../../daemon/transport.js';
import { silentLog, type LogFn } from '../../daemon/log.js';

export interface ClusterFeedOptions {
  /** the scheduler's ws:// URL */
  schedulerUrl: string;
  /** cluster token */
  token: string;
  /** the hello id (the controller's id; the role `observer` keeps it apart from the controller connection) */
  id: string;
  log?: LogFn;
  /** test seam, default connectWs */
  connect?: (options: WsClientOptions) => WsClient;
}

export class ClusterFeed {
  private client: WsClient | undefined;
  private leases = 0;
  private current: ClusterWatch | undefined;
  private waiters = new Set<() => void>();
  private closed = false;
  /** the close of the last connection, so that close() also waits for one a lease release began */
  private closing: Promise<void> = Promise.resolve();

  constructor(private readonly options: ClusterFeedOptions) {}

  /** The newest ClusterWatch; undefined while not subscribed or not connected. */
  get latest(): ClusterWatch | undefined {
    return this.current;
  }

  get subscribed(): boolean {
    return this.client !== undefined;
  }

  /** Takes a lease (subscribing if it is the first); call the returned function once to give it back. */
  acquire(): () => void {
    if (this.closed) return () => undefined;
    this.leases += 1;
    if (this.client === undefined) this.open();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.leases -= 1;
      if (this.leases === 0) this.shut();
    };
  }

  /** Resolves once a ClusterWatch is at hand, or after `timeoutMs`, whichever is first. Never rejects. */
  whenAvailable(timeoutMs: number): Promise<void> {
    if (this.current !== undefined || this.client === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      this.waiters.add(done);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.leases = 0;
    await this.shut();
    await this.closing;
  }

  private open(): void {
    const log = this.options.log ?? silentLog;
    const connect = this.options.connect ?? connectWs;
    this.client = connect({
      url: this.options.schedulerUrl,
      token: this.options.token,
      role: 'observer',
      id: this.options.id,
      onConnected: (client) => {
        client.send({ type: 'watch.subscribe' });
      },
      onMessage: (message) => {
        if (message.type !== 'watch.cluster') return;
        this.current = message.cluster;
        for (const waiter of [...this.waiters]) waiter();
      },
      onDisconnected: () => {
        this.current = undefined;
      },
      onRefused: (error) => log('warn', 'the scheduler refused the watch subscription', { error: error.message }),
    });
  }

  private shut(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.current = undefined;
    for (const waiter of [...this.waiters]) waiter();
    if (client !== undefined) this.closing = client.close();
    return this.closing;
  }
}

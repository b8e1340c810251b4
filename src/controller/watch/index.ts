/**
 * The controller's side of the live view (issue 5): statistics of the activations it answers, its
 * own load per action, the scheduler's cluster data (subscribed only while someone watches), and the
 * two REST routes that serve them: `GET /api/v1/watch` (WebSocket) and `GET /api/v1/status`.
 *
 * Wiring (src/controller/daemon.ts): `instrument()` wraps the balancer like the metrics decorator,
 * and `routes` is handed to the API server, which authenticates and passes the namespace.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { LogFn } from '../../daemon/log.js';
import type { WsClient, WsClientOptions } from '../../daemon/transport.js';
import type { WatchSnapshot } from '../../watch/snapshot.js';
import type { Invoker } from '../invoker.js';
import { ActionStatsWindow, type ActionStatsOptions } from './action-stats.js';
import { ActivationTracker, type ActivationTrackerOptions } from './activations.js';
import { ClusterFeed } from './cluster-feed.js';
import { instrumentForWatch } from './instrument.js';
import { buildWatchSnapshot, type ActionLoadInput } from './snapshot.js';
import { ViewerHub } from './viewers.js';
import { WATCH_LIMITS } from '../../watch/snapshot.js';

/** What the API server needs: both routes take an already authenticated namespace. */
export interface WatchRoutes {
  /** one snapshot of the namespace (waits briefly for the scheduler's data when not subscribed yet) */
  status(namespace: string): Promise<WatchSnapshot>;
  /** completes a WebSocket upgrade of `GET /api/v1/watch` for the namespace */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, namespace: string): void;
}

export interface ControllerWatchOptions {
  controllerId: string;
  schedulerUrl: string;
  /** cluster token */
  token: string;
  /** the balancer's per-action load (`Balancer.actionLoads`) */
  loads(): readonly ActionLoadInput[];
  /** whether the controller's scheduler connection is up */
  schedulerConnected(): boolean;
  /** period of the viewers' snapshots, default 500 ms */
  intervalMs?: number;
  /** viewers at most, default 32 */
  maxViewers?: number;
  /** a viewer with more unsent bytes than this skips ticks until it drains, default 1 MiB */
  maxBufferedBytes?: number;
  /** how long `status` waits for the scheduler's data when nobody is subscribed, default 2000 ms */
  statusWaitMs?: number;
  stats?: ActionStatsOptions;
  activations?: ActivationTrackerOptions;
  /** epoch ms; default Date.now */
  clock?: () => number;
  log?: LogFn;
  /** test seam for the scheduler connection, default connectWs */
  connect?: (options: WsClientOptions) => WsClient;
}

export interface ControllerWatch {
  /** Wraps the invoker so that activations feed the view (forwarding everything). */
  instrument(invoker: Invoker): Invoker;
  readonly routes: WatchRoutes;
  /** the snapshot a viewer of `namespace` would get now (no waiting) */
  snapshot(namespace: string): WatchSnapshot;
  /** Terminates viewers and the scheduler subscription. */
  close(): Promise<void>;
}

export function createControllerWatch(options: ControllerWatchOptions): ControllerWatch {
  const clock = options.clock ?? Date.now;
  const stats = new ActionStatsWindow(options.stats);
  const activations = new ActivationTracker(options.activations);
  const feed = new ClusterFeed({
    schedulerUrl: options.schedulerUrl,
    token: options.token,
    id: options.controllerId,
    ...(options.log === undefined ? {} : { log: options.log }),
    ...(options.connect === undefined ? {} : { connect: options.connect }),
  });

  function snapshot(namespace: string): WatchSnapshot {
    const now = clock();
    return buildWatchSnapshot({
      at: now,
      controllerId: options.controllerId,
      namespace,
      schedulerConnected: options.schedulerConnected(),
      cluster: feed.latest,
      loads: options.loads(),
      stats: stats.snapshot(now),
      inFlight: activations.inFlightOf(namespace, WATCH_LIMITS.activations),
      recent: activations.recentOf(namespace, WATCH_LIMITS.activations),
    });
  }

  let viewerLease: (() => void) | undefined;
  const hub = new ViewerHub({
    snapshot,
    onActive: (active) => {
      if (active) viewerLease ??= feed.acquire();
      else {
        viewerLease?.();
        viewerLease = undefined;
      }
    },
    ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
    ...(options.maxViewers === undefined ? {} : { maxViewers: options.maxViewers }),
    ...(options.maxBufferedBytes === undefined ? {} : { maxBufferedBytes: options.maxBufferedBytes }),
  });

  return {
    instrument: (invoker) => instrumentForWatch(invoker, { stats, activations, clock }),
    snapshot,
    routes: {
      async status(namespace) {
        if (feed.latest === undefined && options.schedulerConnected()) {
          const release = feed.acquire();
          try {
            await feed.whenAvailable(options.statusWaitMs ?? 2_000);
            return snapshot(namespace);
          } finally {
            release();
          }
        }
        return snapshot(namespace);
      },
      upgrade: (req, socket, head, namespace) => hub.upgrade(req, socket, head, namespace),
    },
    async close() {
      await hub.close();
      await feed.close();
    },
  };
}

/**
 * The controller daemon: the composition root of one controller. It builds the load balancer
 * (the Invoker: scheduler connection, agent connections, container table, overflow buffer) and
 * serves the REST API on top of it. `close()` is the one shutdown path (SIGTERM, SIGINT, tests).
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { silentLog, type LogFn } from '../daemon/log.js';
import type { Store } from '../store/types.js';
import { startApiServer } from './api/server.js';
import { createBalancer } from './balancer/balancer.js';
import { messageOf } from '../errors.js';
import { metricsHttpHandler } from '../daemon/metrics.js';
import { bufferedOf, createControllerMetrics, type ControllerMetrics } from './metrics.js';
import { createControllerWatch, type ControllerWatchOptions } from './watch/index.js';

export interface ControllerOptions {
  /** the scheduler's ws:// URL */
  schedulerUrl: string;
  /** cluster token */
  token: string;
  /** opened (and closed) by the caller */
  store: Store;
  /** API listen address; default 127.0.0.1 */
  host?: string;
  /** API port; default 0 (ephemeral) */
  port?: number;
  /** default `controller-<hostname>-<random>` */
  controllerId?: string;
  /** pause an idle container after this long; default 1000 ms */
  pauseGraceMs?: number;
  /** release an idle container to the scheduler after this long; default 600 000 ms */
  idleTimeoutMs?: number;
  /** requests waiting for a container, per action; default 256 */
  overflowLimit?: number;
  /** period of usage batches to the scheduler; default 1000 ms */
  usageIntervalMs?: number;
  /** per-namespace throttles of the REST API (see startApiServer) */
  limits?: Partial<{ invocationsPerMinute: number; concurrentInvocations: number }>;
  /** how long start waits for the scheduler connection before serving anyway; default 5000 ms */
  schedulerConnectTimeoutMs?: number;
  log?: LogFn;
  /**
   * the controller's metrics, served at `GET /metrics` of the API; default a new set. Pass one made
   * beforehand to also count the store's write errors (`metrics.storeWriteErrors`).
   */
  metrics?: ControllerMetrics;
  /** bearer token `GET /metrics` requires; default none (open) */
  metricsToken?: string;
  /** the live view (`GET /api/v1/watch`, `GET /api/v1/status`): snapshot period (default 500 ms) and viewer bound (default 32) */
  watch?: Pick<ControllerWatchOptions, 'intervalMs' | 'maxViewers' | 'maxBufferedBytes' | 'statusWaitMs'>;
}

export interface RunningController {
  /** the REST API base, http://host:port */
  url: string;
  port: number;
  controllerId: string;
  /** Stops the API, fails buffered requests, waits (bounded) for activations in flight, releases every container, closes connections. Idempotent. */
  close(): Promise<void>;
}

export async function startController(options: ControllerOptions): Promise<RunningController> {
  const log = options.log ?? silentLog;
  const controllerId = options.controllerId ?? `controller-${hostname()}-${randomBytes(3).toString('hex')}`;
  const balancer = createBalancer({
    controllerId,
    schedulerUrl: options.schedulerUrl,
    token: options.token,
    pauseGraceMs: options.pauseGraceMs,
    idleTimeoutMs: options.idleTimeoutMs,
    overflowLimit: options.overflowLimit,
    usageIntervalMs: options.usageIntervalMs,
    log,
  });
  try {
    await balancer.whenSchedulerConnected(options.schedulerConnectTimeoutMs ?? 5_000);
  } catch {
    // Serve anyway: the connection retries by itself; until then invokes end as "no capacity" records.
    log('warn', 'scheduler not reachable yet; serving without it until it is', { schedulerUrl: options.schedulerUrl });
  }
  const watch = createControllerWatch({
    ...options.watch,
    controllerId,
    schedulerUrl: options.schedulerUrl,
    token: options.token,
    loads: () => balancer.actionLoads(),
    schedulerConnected: () => balancer.schedulerConnected,
    log,
  });
  const metrics = options.metrics ?? createControllerMetrics();
  metrics.observe({ stats: () => balancer.stats(), storeBuffered: () => bufferedOf(options.store.activations) });
  let api: Awaited<ReturnType<typeof startApiServer>>;
  try {
    api = await startApiServer({
      store: options.store,
      invoker: metrics.instrument(watch.instrument(balancer)),
      watch: watch.routes,
      httpHandler: metricsHttpHandler({ registry: metrics.registry, token: options.metricsToken }),
      onErrorReply: (error) => metrics.errorReply(error),
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      limits: options.limits,
      onError: (error, context) => log('error', 'api error', { error: messageOf(error), ...context }),
    });
  } catch (error) {
    await Promise.allSettled([watch.close(), balancer.close()]);
    throw error;
  }
  log('info', 'controller listening', { url: api.url, controllerId });

  let closing: Promise<void> | undefined;
  return {
    url: api.url,
    port: api.port,
    controllerId,
    close() {
      // Both at once: the API stops accepting and waits for its responses, which the balancer's
      // shutdown ends quickly (buffered requests fail, runs in flight finish within their bound).
      // The viewers' sockets first (upgraded sockets would hold the HTTP server's close open).
      closing ??= Promise.allSettled([watch.close(), api.close(), balancer.close()]).then((results) => {
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed !== undefined) throw failed.reason;
      });
      return closing;
    },
  };
}

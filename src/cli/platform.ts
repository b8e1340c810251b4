/**
 * `brisk up`: the whole platform in one process. Starts the scheduler, opens the SQLite store, starts
 * the controller (the REST API) and an agent (with the backend it is given), and ensures the `guest`
 * namespace. `close()` stops them in reverse order; the agent removes every container it started.
 */
import { join } from 'node:path';
import type { BackendName } from '../agent/backend.js';
import type { OpenBackendOptions } from '../agent/backends/select.js';
import { startAgent } from '../agent/daemon.js';
import { startController } from '../controller/daemon.js';
import { createControllerMetrics } from '../controller/metrics.js';
import type { LogFn } from '../daemon/log.js';
import { silentLog } from '../daemon/log.js';
import { EMBEDDED_STEM_CELLS, startScheduler } from '../scheduler/daemon.js';
import { logWriteErrors, openSqliteStore } from '../store/index.js';
import { AGENT_DIR, STORE_FILE, ensureDataDir } from './data-dir.js';

export interface PlatformOptions {
  /** absolute data directory (store, agent state) */
  dataDir: string;
  /** cluster token shared by the three daemons */
  token: string;
  /** interface of the REST API; default 127.0.0.1 */
  host?: string;
  /** REST API port; 0 picks a free one; default 3233 (as OpenWhisk standalone) */
  port?: number;
  /** agent capacity in MB */
  memoryMB: number;
  /** stem cells kept on every agent; default EMBEDDED_STEM_CELLS */
  stemCells?: { kind: string; memoryMB: number; count: number }[];
  /** the scheduler's queue bound; default the scheduler's */
  queueSize?: number;
  /** the scheduler's placement strategy and locality; defaults the scheduler's (pack, with locality) */
  placement?: 'pack' | 'spread';
  locality?: boolean;
  /** the controller's pool settings; defaults the controller's */
  pool?: { pauseGraceMs?: number; idleTimeoutMs?: number; overflowLimit?: number };
  /** per-namespace throttles of the REST API; defaults as startApiServer's */
  limits?: { invocationsPerMinute?: number; concurrentInvocations?: number };
  /** namespace whose key is printed and saved; default `guest` */
  namespace?: string;
  /** one logger per daemon; default silent */
  log?: (component: 'scheduler' | 'controller' | 'agent') => LogFn;
  /** bearer token `GET /metrics` of every daemon requires; default none (open) */
  metricsToken?: string;
  /** the agent's container backend (resolve `auto` with selectBackend() first); default process */
  backendName?: BackendName;
  /** options of that backend (image directory, container subnet, pause method) */
  backendOptions?: Omit<OpenBackendOptions, 'name' | 'dataDir' | 'host'>;
}

export interface Platform {
  /** base URL of the REST API, e.g. http://127.0.0.1:3233 */
  apihost: string;
  namespace: string;
  /** `uuid:key` of the namespace */
  auth: string;
  schedulerUrl: string;
  /** Prometheus endpoints of the three daemons (each on its own port: REST, scheduler, agent control) */
  metrics: { controller: string; scheduler: string; agent: string };
  agentId: string;
  /** the backend that runs containers */
  backend: BackendName;
  controllerId: string;
  /**
   * Stops the controller first (in-flight activations finish and get their records, containers are
   * released), then the agent (which removes every container left), the scheduler, and closes the
   * store last. Idempotent; rejects with the first failure after trying all.
   */
  close(): Promise<void>;
}

/** Starts everything; on a failure part-way, closes what was started and rethrows. */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const host = options.host ?? '127.0.0.1';
  const namespace = options.namespace ?? 'guest';
  const log = options.log ?? (() => silentLog);
  await ensureDataDir(options.dataDir);
  // Started out of this order (the agent needs the controller's URL), closed in it.
  const CLOSE_ORDER = ['controller', 'agent', 'scheduler', 'store'] as const;
  const closers: { name: (typeof CLOSE_ORDER)[number]; close: () => Promise<void> }[] = [];
  let closing: Promise<void> | undefined;
  const closeAll = () =>
    (closing ??= (async () => {
      let first: unknown;
      closers.sort((a, b) => CLOSE_ORDER.indexOf(a.name) - CLOSE_ORDER.indexOf(b.name));
      for (const { close } of closers) {
        try {
          await close();
        } catch (error) {
          first ??= error;
        }
      }
      if (first !== undefined) throw first;
    })());

  try {
    const scheduler = await startScheduler({
      host: '127.0.0.1',
      port: 0,
      token: options.token,
      stemCells: options.stemCells ?? [...EMBEDDED_STEM_CELLS],
      ...(options.queueSize === undefined ? {} : { queue: { maxSize: options.queueSize } }),
      ...(options.placement === undefined ? {} : { placement: options.placement }),
      ...(options.locality === undefined ? {} : { locality: options.locality }),
      log: log('scheduler'),
      ...(options.metricsToken === undefined ? {} : { metricsToken: options.metricsToken }),
    });
    closers.push({ name: 'scheduler', close: () => scheduler.close() });

    const metrics = createControllerMetrics();
    const store = openSqliteStore({ file: join(options.dataDir, STORE_FILE), writeBehind: { onWriteError: metrics.storeWriteErrors(logWriteErrors(log('controller'))) } });
    closers.push({ name: 'store', close: () => store.close() });
    const identity = store.entities.ensureIdentity(namespace);

    const controller = await startController({
      schedulerUrl: scheduler.url,
      token: options.token,
      store,
      host,
      port: options.port ?? 3233,
      limits: options.limits ?? {},
      ...options.pool,
      log: log('controller'),
      metrics,
      ...(options.metricsToken === undefined ? {} : { metricsToken: options.metricsToken }),
    });
    closers.push({ name: 'controller', close: () => controller.close() });

    const agent = await startAgent({
      schedulerUrl: scheduler.url,
      token: options.token,
      host: '127.0.0.1',
      memoryMB: options.memoryMB,
      dataDir: join(options.dataDir, AGENT_DIR),
      apiHost: reachableUrl(controller.url),
      log: log('agent'),
      ...(options.metricsToken === undefined ? {} : { metricsToken: options.metricsToken }),
      ...(options.backendName === undefined ? {} : { backendName: options.backendName }),
      ...(options.backendOptions === undefined ? {} : { backendOptions: options.backendOptions }),
    });
    closers.push({ name: 'agent', close: () => agent.close() });

    return {
      apihost: reachableUrl(controller.url),
      namespace,
      auth: `${identity.uuid}:${identity.key}`,
      schedulerUrl: scheduler.url,
      metrics: {
        controller: `${reachableUrl(controller.url)}/metrics`,
        scheduler: `${reachableUrl(scheduler.url).replace(/^ws/, 'http')}/metrics`,
        agent: `${reachableUrl(agent.controlUrl).replace(/^ws/, 'http')}/metrics`,
      },
      agentId: agent.agentId,
      backend: agent.backend,
      controllerId: controller.controllerId,
      close: closeAll,
    };
  } catch (error) {
    await closeAll().catch(() => undefined);
    throw error;
  }
}

/** A URL clients can dial: a wildcard listen address (0.0.0.0, ::) becomes loopback. */
export function reachableUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.hostname === '0.0.0.0') parsed.hostname = '127.0.0.1';
  if (parsed.hostname === '[::]') parsed.hostname = '[::1]';
  return parsed.toString().replace(/\/$/, '');
}

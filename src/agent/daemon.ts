/**
 * The agent daemon: one per host. Creates containers through a backend when the scheduler asks,
 * pauses/resumes/destroys them when their owner controller asks, collects their logs per
 * activation, and reports deaths at once.
 *
 * Connections: a client to the scheduler (role `agent`; `agent.register` on every (re)connect with
 * the current containers, so a new scheduler leader rebuilds its pool), and a control server for
 * controllers (`pause`, `resume`, `destroy`, `logs.collect`).
 *
 * Container state the agent reports: `prewarm` for a container created as a stem cell until a
 * controller first sends it pause/resume/destroy/logs.collect, `assigned` from then on (and for
 * containers created for an action). The assignment itself is known only to the scheduler, so
 * this is a best effort that is exact once the owner has touched the container.
 *
 * Ordering: pause, resume and destroy of one container (and its creation) are serialised; resume of
 * a running container and pause of a paused one are no-ops.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { ContainerNotFoundError, isBriskError } from '../errors.js';
import { silentLog, type LogFn } from '../daemon/log.js';
import type { Address, AgentContainer, ErrorInfo, ExitReason, Message, MessageOf } from '../daemon/protocol.js';
import { connectWs, startWsServer, type Connection, type WsClient, type WsServer } from '../daemon/transport.js';
import type { BackendName, ContainerBackend } from './backend.js';
import { lockDataDir } from './data-dir-lock.js';
import { openBackend, type OpenBackendOptions } from './backends/select.js';
import { ContainerLogs, LogBudget, type ContainerLogsOptions } from './logs.js';
import { metricsHttpHandler } from '../daemon/metrics.js';
import { createAgentMetrics } from './metrics.js';

/** Log collection settings of an agent: the per-container options plus the agent-wide budget. */
export interface AgentLogsOptions extends ContainerLogsOptions {
  /**
   * Bytes of buffered log lines all containers of the agent together may keep (live ones and exited
   * ones within their retention); default 256 MiB. Ignored when `budget` is given.
   */
  maxAgentBytes?: number;
}

export interface AgentOptions {
  /** ws://host:port of the scheduler */
  schedulerUrl: string;
  /** cluster token */
  token: string;
  /** default: `<hostname>-<6 hex>` */
  agentId?: string;
  /** address controllers use to reach the control server (and that it listens on); default 127.0.0.1 */
  host?: string;
  /** control server port; default 0 (ephemeral) */
  port?: number;
  /** capacity offered to the scheduler */
  memoryMB: number;
  /** a backend made by the caller (not closed with the agent); else one is opened from `backendName` */
  backend?: ContainerBackend;
  /**
   * the backend the agent opens (and closes) when `backend` is not given; default `process`.
   * Resolve `auto` with selectBackend() first.
   */
  backendName?: BackendName;
  /** options of the opened backend (runc/docker image directory, container subnet, pause method) */
  backendOptions?: Omit<OpenBackendOptions, 'name' | 'dataDir' | 'host'>;
  /** pid files and the like */
  dataDir: string;
  /** `__OW_API_HOST` of the containers */
  apiHost?: string;
  /** daemon log; default silent */
  log?: LogFn;
  /**
   * log collection bounds, sentinel wait and exit retention of every container, and the agent-wide
   * byte budget they share (a LogBudget of maxAgentBytes unless `logs.budget` is given)
   */
  logs?: AgentLogsOptions;
  /** WS heartbeat of both connections; default the transport's */
  heartbeatMs?: number;
  /** scheduler reconnect backoff; default the transport's */
  backoff?: { initialMs: number; maxMs: number };
  /** bearer token `GET /metrics` on the control port requires; default none (open) */
  metricsToken?: string;
}

export interface RunningAgent {
  agentId: string;
  /** ws://host:port of the control server */
  controlUrl: string;
  /** the backend that runs its containers */
  backend: BackendName;
  /** Stops the control server, disconnects, destroys every container. */
  close(): Promise<void>;
}

/**
 * Exited containers remembered so a late logs.collect still gets their exit reason (and, within the
 * exit retention of ContainerLogs, their lines); the oldest is forgotten, its lines freed, beyond.
 */
const RECENT_EXITS = 64;

interface LiveContainer {
  containerId: string;
  kind: string;
  memoryMB: number;
  phase: 'starting' | 'ready';
  address: Address | undefined;
  state: 'prewarm' | 'assigned';
  paused: boolean;
  logs: ContainerLogs;
  /** tail of the serialised operations (create, pause, resume, destroy) */
  ops: Promise<void>;
  /** a destroy was requested; nothing else runs on it any more */
  doomed: boolean;
}

interface ExitedContainer {
  reason: ExitReason;
  detail: string | undefined;
  logs: ContainerLogs;
}

export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const agentId = options.agentId ?? `${os.hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 60)}-${randomBytes(3).toString('hex')}`;
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? silentLog;
  // Before anything else: the leftover cleanup below must never touch another live agent's containers.
  const lock = await lockDataDir(options.dataDir);
  const ownsBackend = options.backend === undefined;
  const metrics = createAgentMetrics({ memoryMB: options.memoryMB });
  let opened: ContainerBackend;
  try {
    opened = options.backend ?? (await openBackend({ ...options.backendOptions, name: options.backendName ?? 'process', dataDir: options.dataDir, host }));
  } catch (err) {
    await lock.release();
    throw err;
  }
  const backend = metrics.instrument(opened);
  const containers = new Map<string, LiveContainer>();
  const exited = new Map<string, ExitedContainer>();
  const { maxAgentBytes, ...containerLogs } = options.logs ?? {};
  // one budget for all containers, live and exited, so the agent's log memory has a single cap
  const budget = containerLogs.budget ?? new LogBudget(maxAgentBytes === undefined ? {} : { maxBytes: maxAgentBytes });
  const logsOptions: ContainerLogsOptions = { ...containerLogs, budget };
  let closing = false;
  /** set once the control server is up; used by handlers that only run after that */
  let scheduler: WsClient | undefined;

  // Leftovers of an earlier run: a process container cannot be re-attached, so all are removed.
  for (const leftover of await backend.list()) {
    try {
      await backend.destroy(leftover.containerId);
      log('info', 'removed container left by an earlier run', { containerId: leftover.containerId });
    } catch (err) {
      log('warn', 'could not remove leftover container', { containerId: leftover.containerId, error: String(err) });
    }
  }

  const unsubscribe = backend.subscribe({
    output: ({ containerId, stream, chunk }) => containers.get(containerId)?.logs.push(stream, chunk),
    exit: ({ containerId, reason, detail }) => {
      const container = containers.get(containerId);
      // an exit during start is reported by create's rejection; one during destroy was requested;
      // during shutdown every container goes, and none of it is news to the scheduler
      if (container === undefined || container.phase === 'starting' || container.doomed || closing) return;
      forget(container, reason, detail);
      log('warn', 'container exited', { containerId, reason, detail });
      scheduler?.send({ type: 'container.exited', containerId, reason, detail });
    },
  });

  /** Callers of logs.collect with awaitExitMs, woken when their container's exit is seen. */
  const exitWaiters = new Map<string, Set<() => void>>();

  function whenExited(containerId: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const waiters = exitWaiters.get(containerId) ?? new Set<() => void>();
      exitWaiters.set(containerId, waiters);
      const wake = () => {
        clearTimeout(timer);
        waiters.delete(wake);
        if (waiters.size === 0) exitWaiters.delete(containerId);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      waiters.add(wake);
    });
  }

  function forget(container: LiveContainer, reason: ExitReason, detail: string | undefined): void {
    for (const wake of exitWaiters.get(container.containerId) ?? []) wake();
    containers.delete(container.containerId);
    container.logs.markExited();
    exited.set(container.containerId, { reason, detail, logs: container.logs });
    if (exited.size > RECENT_EXITS) {
      const oldest = exited.entries().next().value;
      if (oldest !== undefined) {
        oldest[1].logs.dispose();
        exited.delete(oldest[0]);
      }
    }
  }

  /** Runs op after every earlier operation on the container; rejections reach only this caller. */
  function enqueue(container: LiveContainer, op: () => Promise<void>): Promise<void> {
    const run = container.ops.then(op);
    container.ops = run.catch(() => undefined);
    return run;
  }

  function registration(): MessageOf<'agent.register'> {
    const list: AgentContainer[] = [];
    for (const c of containers.values()) {
      if (c.phase !== 'ready' || c.doomed || c.address === undefined) continue;
      list.push({ containerId: c.containerId, kind: c.kind, memoryMB: c.memoryMB, address: c.address, state: c.state, paused: c.paused });
    }
    return { type: 'agent.register', agentId, controlUrl, memoryMB: options.memoryMB, backend: backend.name, containers: list };
  }

  // ------------------------------------------------------------------ scheduler → agent

  function create(message: MessageOf<'container.create'>): void {
    if (closing) return;
    const existing = containers.get(message.containerId);
    if (existing !== undefined) {
      // a repeated create (e.g. after a reconnect): answer again once it is ready
      if (existing.phase === 'ready' && existing.address !== undefined) {
        scheduler?.send({ type: 'container.ready', containerId: existing.containerId, address: existing.address });
      }
      return;
    }
    const container: LiveContainer = {
      containerId: message.containerId,
      kind: message.kind,
      memoryMB: message.memoryMB,
      phase: 'starting',
      address: undefined,
      state: message.prewarm ? 'prewarm' : 'assigned',
      paused: false,
      logs: new ContainerLogs(logsOptions),
      ops: Promise.resolve(),
      doomed: false,
    };
    containers.set(container.containerId, container);
    const env: Record<string, string> = options.apiHost === undefined ? {} : { __OW_API_HOST: options.apiHost };
    void enqueue(container, async () => {
      try {
        container.address = await backend.create({
          containerId: container.containerId,
          kind: container.kind,
          memoryMB: container.memoryMB,
          env,
          ...(message.image === undefined ? {} : { image: message.image }),
        });
      } catch (err) {
        containers.delete(container.containerId);
        container.logs.dispose();
        log('warn', 'container creation failed', { containerId: container.containerId, error: String(err) });
        if (!container.doomed) scheduler?.send({ type: 'container.failed', containerId: container.containerId, error: errorInfo(err) });
        return;
      }
      container.phase = 'ready';
      if (!container.doomed && !closing) {
        scheduler?.send({ type: 'container.ready', containerId: container.containerId, address: container.address });
      }
    });
  }

  /** Destroys a container (serialised); resolves once it is gone. */
  function destroy(container: LiveContainer, reason: ExitReason): Promise<void> {
    container.doomed = true;
    return enqueue(container, async () => {
      if (containers.get(container.containerId) !== container) return;
      await backend.destroy(container.containerId);
      forget(container, reason, undefined);
    });
  }

  function onSchedulerMessage(message: Message): void {
    switch (message.type) {
      case 'container.create':
        return create(message);
      case 'container.destroy': {
        const container = containers.get(message.containerId);
        if (container !== undefined) {
          void destroy(container, 'destroyed').catch((err: unknown) =>
            log('error', 'destroy failed', { containerId: message.containerId, error: String(err) }),
          );
        }
        return;
      }
      default:
        log('debug', 'ignored message from scheduler', { type: message.type });
    }
  }

  // ------------------------------------------------------------------ controller → agent

  function reply(conn: Connection, requestId: string, work: Promise<void>): void {
    work.then(
      () => conn.send({ type: 'result', requestId }),
      (err: unknown) => conn.send({ type: 'result', requestId, error: errorInfo(err) }),
    );
  }

  function live(containerId: string): LiveContainer {
    const container = containers.get(containerId);
    if (container === undefined || container.doomed) {
      const exit = exited.get(containerId);
      throw new ContainerNotFoundError(
        exit === undefined ? `container ${containerId} is not running on agent ${agentId}` : `container ${containerId} has exited (${exit.reason})`,
      );
    }
    return container;
  }

  function setPaused(containerId: string, paused: boolean): Promise<void> {
    let container: LiveContainer;
    try {
      container = live(containerId);
    } catch (err) {
      return Promise.reject(err);
    }
    container.state = 'assigned';
    return enqueue(container, async () => {
      live(containerId);
      if (container.phase !== 'ready') throw new ContainerNotFoundError(`container ${containerId} is not ready`);
      if (container.paused === paused) return;
      if (paused) await backend.pause(containerId);
      else await backend.resume(containerId);
      container.paused = paused;
    });
  }

  async function collect(conn: Connection, message: MessageOf<'logs.collect'>): Promise<void> {
    if (message.awaitExitMs !== undefined && message.awaitExitMs > 0 && containers.has(message.containerId)) {
      await whenExited(message.containerId, message.awaitExitMs);
    }
    const container = containers.get(message.containerId);
    const source = container?.logs ?? exited.get(message.containerId)?.logs;
    if (source === undefined) {
      const error = errorInfo(new ContainerNotFoundError(`container ${message.containerId} is not known to agent ${agentId}`));
      conn.send({ type: 'logs.result', requestId: message.requestId, logs: [], truncated: false, error });
      return;
    }
    if (container !== undefined) container.state = 'assigned';
    const { logs, truncated } = await source.collect({
      activationId: message.activationId,
      limitBytes: message.limitBytes,
      waitForSentinels: message.waitForSentinels,
    });
    const exit = exited.get(message.containerId);
    conn.send({
      type: 'logs.result',
      requestId: message.requestId,
      logs,
      truncated,
      ...(exit === undefined ? {} : { exit: exit.detail === undefined ? { reason: exit.reason } : { reason: exit.reason, detail: exit.detail } }),
    });
  }

  function onControllerMessage(conn: Connection, message: Message): void {
    switch (message.type) {
      case 'pause':
        return reply(conn, message.requestId, setPaused(message.containerId, true));
      case 'resume':
        return reply(conn, message.requestId, setPaused(message.containerId, false));
      case 'destroy': {
        const container = containers.get(message.containerId);
        if (container === undefined || container.doomed) {
          // destroy is idempotent: a container already gone is destroyed
          const known = container !== undefined || exited.has(message.containerId);
          return reply(
            conn,
            message.requestId,
            known ? Promise.resolve() : Promise.reject(new ContainerNotFoundError(`container ${message.containerId} is not known to agent ${agentId}`)),
          );
        }
        container.state = 'assigned';
        const work = destroy(container, message.reason).then(() => {
          // the scheduler did not ask for this one: tell it the container is gone
          scheduler?.send({ type: 'container.exited', containerId: message.containerId, reason: message.reason });
        });
        return reply(conn, message.requestId, work);
      }
      case 'logs.collect':
        void collect(conn, message);
        return;
      default:
        log('debug', 'ignored message from controller', { type: message.type, peer: conn.peerId });
    }
  }

  // ------------------------------------------------------------------ connections

  const control: WsServer = await startWsServer({
    host,
    port: options.port ?? 0,
    token: options.token,
    serverId: agentId,
    roles: ['controller'],
    ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
    onConnection: (conn) => ({
      onMessage: (message) => onControllerMessage(conn, message),
      onClose: () => undefined,
    }),
    onProtocolError: (peer, error) => log('warn', 'protocol error from controller', { peer, error: error.message }),
    httpHandler: metricsHttpHandler({ registry: metrics.registry, token: options.metricsToken }),
  });
  const controlUrl = `ws://${host.includes(':') ? `[${host}]` : host}:${control.port}`;

  scheduler = connectWs({
    url: options.schedulerUrl,
    token: options.token,
    role: 'agent',
    id: agentId,
    onConnected: (client) => {
      log('info', 'connected to scheduler', { url: options.schedulerUrl });
      client.send(registration());
    },
    onMessage: onSchedulerMessage,
    onDisconnected: ({ code, reason }) => log('warn', 'disconnected from scheduler', { code, reason }),
    onRefused: (error) => log('error', error.message, { code: error.code }),
    ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
    ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
  });

  let closed: Promise<void> | undefined;
  return {
    agentId,
    controlUrl,
    backend: backend.name,
    close: () =>
      (closed ??= (async () => {
        closing = true;
        await control.close();
        await scheduler?.close();
        await Promise.allSettled([...containers.values()].map((c) => destroy(c, 'destroyed')));
        unsubscribe();
        if (ownsBackend) await backend.close();
        for (const container of containers.values()) container.logs.dispose();
        for (const exit of exited.values()) exit.logs.dispose();
        await lock.release();
      })()),
  };
}

function errorInfo(err: unknown): ErrorInfo {
  if (isBriskError(err)) return { code: err.code, message: err.message.slice(0, 10_000) };
  return { code: 'INTERNAL', message: String(err).slice(0, 10_000) };
}

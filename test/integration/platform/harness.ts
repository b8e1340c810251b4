/**
 * The whole platform on loopback for integration tests: a real scheduler, a real agent with the
 * process backend (real runtime child processes) and a real controller with a SQLite store, all on
 * ephemeral ports. `close()` takes the same shutdown path as `brisk up`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import type { ContainerBackend } from '../../../src/agent/backend.js';
import { ProcessBackend, RUNTIME_ENTRY } from '../../../src/agent/backends/process.js';
import { startAgent, type RunningAgent } from '../../../src/agent/daemon.js';
import { startController, type RunningController } from '../../../src/controller/daemon.js';
import { silentLog } from '../../../src/daemon/log.js';
import { startScheduler, type RunningScheduler } from '../../../src/scheduler/daemon.js';
import { openSqliteStore, type Identity, type Store } from '../../../src/store/index.js';

export interface PlatformOptions<B extends ContainerBackend = ProcessBackend> {
  /** the agent's backend over its data dir; default a ProcessBackend */
  openBackend?: (dataDir: string) => Promise<B>;
  agentMemoryMB?: number;
  stemCells?: { kind: string; memoryMB: number; count: number }[];
  pauseGraceMs?: number;
  evictTimeoutMs?: number;
}

export interface Platform<B extends ContainerBackend = ProcessBackend> {
  /** replaced by restartScheduler() */
  scheduler: RunningScheduler;
  agent: RunningAgent;
  controller: RunningController;
  backend: B;
  store: Store;
  identity: Identity;
  /** `Authorization` header value of the guest identity */
  auth: string;
  dataDir: string;
  /** Stops the scheduler and starts a new one on the same port (its state is soft: it starts empty). */
  restartScheduler(): Promise<RunningScheduler>;
  close(): Promise<void>;
}

const TOKEN = 'platform-test-token';

export async function startPlatform<B extends ContainerBackend = ProcessBackend>(options: PlatformOptions<B> = {}): Promise<Platform<B>> {
  if (!existsSync(RUNTIME_ENTRY)) throw new Error(`${RUNTIME_ENTRY} is missing: run \`npm run build\` first (npm test does)`);
  const dataDir = await mkdtemp(join(tmpdir(), 'brisk-platform-'));
  const store = openSqliteStore({ file: join(dataDir, 'brisk.db') });
  const identity = store.entities.ensureIdentity('guest');
  const schedulerOptions = {
    token: TOKEN,
    stemCells: options.stemCells ?? [],
    evictTimeoutMs: options.evictTimeoutMs ?? 5_000,
    log: silentLog,
  };
  const scheduler = await startScheduler(schedulerOptions);
  const backend = options.openBackend === undefined ? (new ProcessBackend({ dataDir: join(dataDir, 'agent') }) as unknown as B) : await options.openBackend(join(dataDir, 'agent'));
  const agent = await startAgent({ schedulerUrl: scheduler.url, token: TOKEN, memoryMB: options.agentMemoryMB ?? 1024, dataDir: join(dataDir, 'agent'), backend });
  const controller = await startController({
    schedulerUrl: scheduler.url,
    token: TOKEN,
    store,
    pauseGraceMs: options.pauseGraceMs ?? 60_000,
    usageIntervalMs: 100,
    log: silentLog,
  });
  const platform: Platform<B> = {
    scheduler,
    agent,
    controller,
    backend,
    store,
    identity,
    auth: `Basic ${Buffer.from(`${identity.uuid}:${identity.key}`).toString('base64')}`,
    dataDir,
    async restartScheduler() {
      const port = platform.scheduler.port;
      await platform.scheduler.close();
      platform.scheduler = await startScheduler({ ...schedulerOptions, port });
      return platform.scheduler;
    },
    async close() {
      await controller.close();
      await agent.close();
      await backend.close();
      await platform.scheduler.close();
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return platform;
}

export interface ApiReply<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** One REST call against the platform's controller. */
export async function api<T = any>(platform: Platform<ContainerBackend>, method: string, path: string, body?: unknown): Promise<ApiReply<T>> {
  const res = await fetch(`${platform.controller.url}/api/v1${path}`, {
    method,
    headers: { authorization: platform.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T, headers: res.headers };
}

/** Creates (or replaces) an action in the guest namespace. */
export async function putAction(platform: Platform<ContainerBackend>, name: string, code: string, limits: Record<string, number> = {}): Promise<void> {
  const reply = await api(platform, 'PUT', `/namespaces/_/actions/${name}?overwrite=true`, { exec: { kind: 'nodejs:default', code }, limits });
  if (reply.status !== 200) throw new Error(`PUT ${name} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
}

export function annotation(record: { annotations: Array<{ key: string; value: unknown }> }, key: string): unknown {
  return record.annotations.find((a) => a.key === key)?.value;
}

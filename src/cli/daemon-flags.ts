/** Flags every daemon command shares: where to listen, the data dir, the cluster token, logging. */
import { Flags } from '@oclif/core';
import { createLogger, LOG_LEVELS, type LogFn, type LogLevel } from '../daemon/log.js';
import type { BackendName } from '../agent/backend.js';
import { BACKEND_CHOICES, PAUSE_CHOICES, probeHost, selectBackend, type BackendChoice, type PauseChoice, type BackendSelection, type OpenBackendOptions } from '../agent/backends/select.js';
import { DEFAULT_CONTAINER_SUBNET, parseSubnet } from '../agent/network/addressing.js';
import { DEFAULT_IMAGES_DIR } from '../image/rootfs.js';
import { durationFlag, portFlag, stemCellFlag, type StemCellSetting } from './flags.js';

export const daemonFlags = {
  host: Flags.string({ description: 'interface to listen on', default: '127.0.0.1' }),
  'data-dir': Flags.string({ description: 'data directory (default: ./.brisk-data; env BRISK_DATA_DIR)' }),
  token: Flags.string({ description: 'cluster token (default: env BRISK_CLUSTER_TOKEN, else the token file in the data dir)' }),
  'log-level': Flags.option({ options: LOG_LEVELS, description: 'lowest log level written to stderr', default: 'info' as LogLevel })(),
  'log-format': Flags.option({ options: ['text', 'json'] as const, description: 'log line format', default: 'text' as const })(),
  'metrics-token': Flags.string({
    description: 'bearer token that GET /metrics requires (default: none, /metrics is open)',
    env: 'BRISK_METRICS_TOKEN',
  }),
};

/** The `metricsToken` option of a daemon from `--metrics-token` (absent when not given). */
export function metricsTokenOption(flags: { 'metrics-token'?: string | undefined }): { metricsToken?: string } {
  return flags['metrics-token'] === undefined || flags['metrics-token'] === '' ? {} : { metricsToken: flags['metrics-token'] };
}

/** Per-namespace throttles of the REST API (`brisk up`, `brisk controller`); defaults in src/controller/api/throttle.ts. */
export const namespaceLimitFlags = {
  'invocations-per-minute': Flags.integer({ description: 'invokes a namespace may start per minute before 429 (default 60000)', min: 1 }),
  'concurrent-invocations': Flags.integer({ description: 'activations a namespace may have in flight before 429 (default 1000)', min: 1 }),
};

/** The `limits` option of startController from the namespace limit flags (only those given). */
export function namespaceLimits(flags: { 'invocations-per-minute'?: number; 'concurrent-invocations'?: number }): {
  invocationsPerMinute?: number;
  concurrentInvocations?: number;
} {
  return {
    ...(flags['invocations-per-minute'] === undefined ? {} : { invocationsPerMinute: flags['invocations-per-minute'] }),
    ...(flags['concurrent-invocations'] === undefined ? {} : { concurrentInvocations: flags['concurrent-invocations'] }),
  };
}

/** Scheduler settings (`brisk scheduler`, `brisk up`). */
export const schedulerPoolFlags = {
  'stem-cell': stemCellFlag({
    description: 'stem cells kept on every agent, as KIND,MEMORY[,COUNT] (repeatable; default nodejs:20,256,1; none for none)',
    multiple: true,
  }),
  'queue-size': Flags.integer({ description: 'acquires the scheduler queues when nothing fits, before it answers with limit schedulerQueue (default 1000)', min: 1 }),
  placement: Flags.option({
    options: ['pack', 'spread'] as const,
    description: 'where new containers go: pack = the agent with the least free memory that fits (keeps hosts free), spread = the most free memory (default pack)',
  })(),
  locality: Flags.boolean({ description: "prefer agents that already hold the action's code (--no-locality turns it off; default on)", allowNo: true }),
};

/** The startScheduler placement options from `--placement` and `--[no-]locality` (only those given). */
export function placementOptions(flags: { placement?: 'pack' | 'spread' | undefined; locality?: boolean | undefined }): { placement?: 'pack' | 'spread'; locality?: boolean } {
  return {
    ...(flags.placement === undefined ? {} : { placement: flags.placement }),
    ...(flags.locality === undefined ? {} : { locality: flags.locality }),
  };
}

/** The stem cells from `--stem-cell` values: the given ones, none for `none`, else the default. */
export function stemCellsOf(values: readonly (StemCellSetting | null)[] | undefined, fallback: readonly StemCellSetting[]): StemCellSetting[] {
  if (values === undefined || values.length === 0) return [...fallback];
  return values.filter((value): value is StemCellSetting => value !== null);
}

/** Controller pool settings (`brisk controller`, `brisk up`). */
export const controllerPoolFlags = {
  'pause-grace': durationFlag({ description: 'pause an idle container after this long (default 1s)' }),
  'idle-timeout': durationFlag({ description: 'release an idle container to the scheduler after this long (default 10m)' }),
  'overflow-limit': Flags.integer({ description: 'requests that may wait for a container, per action, before 429 (default 256)', min: 1 }),
};

/** The startController pool options from the flags given (defaults stay the daemon's). */
export function controllerPoolOptions(flags: { 'pause-grace'?: number; 'idle-timeout'?: number; 'overflow-limit'?: number }): {
  pauseGraceMs?: number;
  idleTimeoutMs?: number;
  overflowLimit?: number;
} {
  return {
    ...(flags['pause-grace'] === undefined ? {} : { pauseGraceMs: flags['pause-grace'] }),
    ...(flags['idle-timeout'] === undefined ? {} : { idleTimeoutMs: flags['idle-timeout'] }),
    ...(flags['overflow-limit'] === undefined ? {} : { overflowLimit: flags['overflow-limit'] }),
  };
}

export const schedulerUrlFlag = Flags.string({ description: 'the scheduler\'s URL, e.g. ws://127.0.0.1:3234', required: true });

export { portFlag };

export function loggerFor(flags: { 'log-level': LogLevel; 'log-format': 'text' | 'json' }, component: string): LogFn {
  return createLogger({ component, level: flags['log-level'], format: flags['log-format'] });
}

/** Flags of the daemons that run an agent (`brisk agent`, `brisk up`): which container backend and its settings. */
export const backendFlags = {
  backend: Flags.option({
    options: BACKEND_CHOICES,
    description: 'container backend: auto = runc when root and runc is installed, else process',
    default: 'auto' as BackendChoice,
    env: 'BRISK_BACKEND',
  })(),
  'images-dir': Flags.string({ description: `runc/docker: where the container image is built or found (default ${DEFAULT_IMAGES_DIR})` }),
  'container-subnet': Flags.string({ description: `runc/docker: IPv4 range cut into a /30 per container (default ${DEFAULT_CONTAINER_SUBNET})` }),
  'pause-method': Flags.option({
    options: PAUSE_CHOICES,
    description: 'how idle containers are paused: freezer (the cgroup freezer, written directly; runc default), runc (`runc pause`), docker (the Docker API; docker default)',
  })(),
};

/** Resolves `--backend` (auto → runc or process) and the backend options of the agent. */
export function agentBackend(flags: {
  backend: BackendChoice;
  'images-dir'?: string | undefined;
  'container-subnet'?: string | undefined;
  'pause-method'?: PauseChoice | undefined;
}): { selection: BackendSelection; backendName: BackendName; backendOptions: Omit<OpenBackendOptions, 'name' | 'dataDir' | 'host'> } {
  if (flags['container-subnet'] !== undefined) parseSubnet(flags['container-subnet']);
  const selection = selectBackend(flags.backend, probeHost());
  return {
    selection,
    backendName: selection.name,
    backendOptions: {
      ...(flags['images-dir'] === undefined ? {} : { imagesDir: flags['images-dir'] }),
      ...(flags['container-subnet'] === undefined ? {} : { subnet: flags['container-subnet'] }),
      ...(flags['pause-method'] === undefined ? {} : { pauseMethod: flags['pause-method'] }),
    },
  };
}

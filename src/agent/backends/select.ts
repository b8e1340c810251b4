/**
 * Which container backend an agent uses, and opening it.
 *
 * `auto` (the default of `brisk up` and `brisk agent`) picks `runc` when the agent runs as root and
 * runc is installed, else `process`; the reason is returned so the operator is told which and why.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../errors.js';
import type { BackendName, ContainerBackend } from '../backend.js';
import { ProcessBackend } from './process.js';
import type { DockerPauseMethod } from './docker.js';
import { RuncBackend, type PauseMethod } from './runc.js';

export type BackendChoice = BackendName | 'auto';
export type PauseChoice = PauseMethod | DockerPauseMethod;
export const PAUSE_CHOICES: readonly PauseChoice[] = ['freezer', 'runc', 'docker'];
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'process', 'runc', 'docker'];

export interface HostFacts {
  root: boolean;
  /** path of runc, when installed */
  runc: string | undefined;
  /** the tools the isolated backends wire containers' networks with (iproute2, nftables); default present */
  ip?: string | undefined;
  nft?: string | undefined;
}

export interface BackendSelection {
  name: BackendName;
  /** one sentence for the operator */
  reason: string;
}

/** Pure: the backend `choice` resolves to on a host with `facts`. */
export function selectBackend(choice: BackendChoice, facts: HostFacts): BackendSelection {
  if (choice !== 'auto') return { name: choice, reason: `--backend ${choice}` };
  const missingTools = [...('ip' in facts && facts.ip === undefined ? ['ip (iproute2)'] : []), ...('nft' in facts && facts.nft === undefined ? ['nft (nftables)'] : [])];
  if (facts.root && facts.runc !== undefined && missingTools.length === 0) return { name: 'runc', reason: `running as root and runc is installed at ${facts.runc}` };
  const why = !facts.root ? 'not running as root' : facts.runc === undefined ? 'runc is not installed' : `runc is installed but ${missingTools.join(' and ')} ${missingTools.length > 1 ? 'are' : 'is'} not`;
  return { name: 'process', reason: `${why}: actions run as plain processes, without isolation` };
}

/** The facts of this host (PATH lookup, uid). */
export function probeHost(env: NodeJS.ProcessEnv = process.env): HostFacts {
  return { root: process.getuid?.() === 0, runc: findExecutable('runc', env.PATH), ip: findExecutable('ip', env.PATH), nft: findExecutable('nft', env.PATH) };
}

export interface OpenBackendOptions {
  name: BackendName;
  /** the agent's data directory */
  dataDir: string;
  /** process backend: the address runtimes listen on */
  host?: string;
  /** runc/docker: where the image is built or found */
  imagesDir?: string;
  /** runc/docker: container address range */
  subnet?: string;
  /**
   * how containers are paused: `freezer` (the cgroup freezer written directly; runc's default), `runc`
   * (`runc pause`, runc only) or `docker` (the Docker API, docker's default); process ignores it
   */
  pauseMethod?: PauseChoice;
}

/** Opens the named backend (runc checks root and runc, builds the image, installs the firewall). */
export async function openBackend(options: OpenBackendOptions): Promise<ContainerBackend> {
  switch (options.name) {
    case 'process':
      return new ProcessBackend({ dataDir: options.dataDir, ...(options.host === undefined ? {} : { host: options.host }) });
    case 'runc':
      if (options.pauseMethod === 'docker') throw new ConfigError('--pause-method docker needs --backend docker', { hint: 'use --pause-method freezer or runc with the runc backend' });
      return RuncBackend.open({
        dataDir: options.dataDir,
        ...(options.imagesDir === undefined ? {} : { imagesDir: options.imagesDir }),
        ...(options.subnet === undefined ? {} : { subnet: options.subnet }),
        ...(options.pauseMethod === undefined ? {} : { pauseMethod: options.pauseMethod }),
      });
    case 'docker': {
      if (options.pauseMethod === 'runc') throw new ConfigError('--pause-method runc needs --backend runc', { hint: 'use --pause-method docker or freezer with the docker backend' });
      const pauseMethod = options.pauseMethod;
      // loaded only when asked for: dockerode is not needed by the other backends
      const { DockerBackend } = await import('./docker.js');
      return DockerBackend.open({
        dataDir: options.dataDir,
        ...(options.imagesDir === undefined ? {} : { imagesDir: options.imagesDir }),
        ...(options.subnet === undefined ? {} : { subnet: options.subnet }),
        ...(pauseMethod === undefined ? {} : { pauseMethod }),
      });
    }
    default:
      throw new ConfigError(`unknown backend '${String(options.name)}'`, { hint: `use one of ${BACKEND_CHOICES.join(', ')}` });
  }
}

function findExecutable(name: string, pathEnv: string | undefined): string | undefined {
  for (const dir of (pathEnv ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(path.delimiter)) {
    if (dir === '') continue;
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

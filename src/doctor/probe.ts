/**
 * The effects of `brisk doctor`: reads the host into HostFacts. Every probe is local and bounded
 * (a timeout per command and per socket request); none sends anything over a network: the Docker
 * check speaks to the unix socket, the clock check reads only what the local system reports
 * (`timedatectl show` over the local bus, systemd-timesyncd's flag file) and never contacts an NTP
 * server. The network namespace probe (root only) creates one namespace with a random name and
 * removes it at once.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import { LOCK_FILE } from '../agent/data-dir-lock.js';
import { AGENT_DIR } from '../cli/data-dir.js';
import { messageOf } from '../errors.js';
import { parseCgroupMounts, parseVersion, type CgroupFacts, type ClockFact, type DataDirFact, type DockerFact, type HostFacts, type NetnsFact, type PortFact, type ToolFact } from './facts.js';

export interface ProbeOptions {
  /** data directory to check (absolute or relative to the cwd) */
  dataDir: string;
  /** port that must be free; host default 127.0.0.1 */
  port: number;
  host?: string;
  /** default /var/run/docker.sock */
  dockerSocket?: string;
  /** per command and socket request; default 5000 ms */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5_000;

/** Runs every probe (concurrently) and returns the facts. Never throws for what it finds. */
export async function probeHost(options: ProbeOptions): Promise<HostFacts> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const [runc, cgroups, netns, docker, nft, dataDir, port, clock] = await Promise.all([
    probeTool('runc', ['--version'], timeoutMs),
    probeCgroups(),
    probeNetns(isRoot, timeoutMs),
    probeDocker(options.dockerSocket ?? '/var/run/docker.sock', timeoutMs),
    probeTool('nft', ['--version'], timeoutMs),
    probeDataDir(resolve(options.dataDir)),
    probePort(options.host ?? '127.0.0.1', options.port),
    probeClock(timeoutMs),
  ]);
  return { platform: process.platform, isRoot, nodeVersion: process.versions.node, runc, cgroups, netns, docker, nft, dataDir, port, clock };
}

export async function probeTool(command: string, args: readonly string[], timeoutMs: number): Promise<ToolFact> {
  try {
    const run = await execa(command, args, { timeout: timeoutMs, reject: false, stdin: 'ignore' });
    if (run.failed && (run as { code?: string }).code === 'ENOENT') return { found: false };
    const output = `${run.stdout}\n${run.stderr}`;
    const version = parseVersion(output);
    if (run.exitCode !== 0) return { found: true, version, error: (run.stderr || (run.shortMessage ?? 'failed')).slice(0, 300) };
    return { found: true, version };
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? { found: false } : { found: true, version: undefined, error: messageOf(error) };
  }
}

async function probeCgroups(): Promise<CgroupFacts> {
  const mounts = await readFile('/proc/mounts', 'utf8').catch(() => '');
  const { v1Controllers, v2Mount } = parseCgroupMounts(mounts);
  const words = async (file: string) => (await readFile(file, 'utf8').catch(() => '')).split(/\s+/).filter((w) => w !== '');
  return {
    v1Controllers,
    v2Mount,
    v2Controllers: v2Mount === undefined ? [] : await words(join(v2Mount, 'cgroup.controllers')),
    v2SubtreeControl: v2Mount === undefined ? [] : await words(join(v2Mount, 'cgroup.subtree_control')),
  };
}

async function probeNetns(isRoot: boolean, timeoutMs: number): Promise<NetnsFact> {
  if (!isRoot) return { tried: false, reason: 'not root' };
  const name = `brisk-doctor-${randomBytes(4).toString('hex')}`;
  try {
    const add = await execa('ip', ['netns', 'add', name], { timeout: timeoutMs, reject: false, stdin: 'ignore' });
    if (add.failed && (add as { code?: string }).code === 'ENOENT') return { tried: false, reason: 'no ip command' };
    if (add.exitCode !== 0) return { tried: true, ok: false, error: (add.stderr || (add.shortMessage ?? 'failed')).trim().slice(0, 300) };
    const del = await execa('ip', ['netns', 'delete', name], { timeout: timeoutMs, reject: false, stdin: 'ignore' });
    return del.exitCode === 0 ? { tried: true, ok: true } : { tried: true, ok: false, error: `created but could not remove ${name}: ${del.stderr.trim().slice(0, 300)}` };
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? { tried: false, reason: 'no ip command' } : { tried: true, ok: false, error: messageOf(error) };
  }
}

/** GET /_ping on the Docker unix socket: the daemon answers `OK`. Nothing is pulled or started. */
async function probeDocker(socket: string, timeoutMs: number): Promise<DockerFact> {
  const present = await stat(socket).then((s) => s.isSocket(), () => false);
  if (!present) return { socket, present: false, reachable: false };
  return new Promise<DockerFact>((done) => {
    const req = request({ socketPath: socket, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 1_000) body += chunk;
      });
      res.on('end', () => {
        const ok = res.statusCode === 200 && body.trim() === 'OK';
        done(ok ? { socket, present: true, reachable: true } : { socket, present: true, reachable: false, error: `HTTP ${res.statusCode}: ${body.trim().slice(0, 200)}` });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => done({ socket, present: true, reachable: false, error: messageOf(error) }));
    req.end();
  });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function probeDataDir(path: string): Promise<DataDirFact> {
  const exists = await stat(path).then((s) => s.isDirectory(), () => false);
  // Writable: create (and remove) a temporary directory in it, or, when it does not exist yet, check
  // that its nearest existing parent lets us create it.
  let writable = false;
  let error: string | undefined;
  if (exists) {
    try {
      await rm(await mkdtemp(join(path, '.brisk-doctor-')), { recursive: true, force: true });
      writable = true;
    } catch (e) {
      error = messageOf(e);
    }
  } else {
    let parent = dirname(path);
    while (parent !== dirname(parent) && !(await stat(parent).then(() => true, () => false))) parent = dirname(parent);
    try {
      await access(parent, constants.W_OK);
      writable = true;
    } catch (e) {
      error = `cannot create it in ${parent}: ${messageOf(e)}`;
    }
  }
  // The agent locks <data-dir>/agent/agent.lock (brisk agent, brisk up); a --data-dir that names an agent dir itself is covered too.
  for (const lockFile of [join(path, AGENT_DIR, LOCK_FILE), join(path, LOCK_FILE)]) {
    const pid = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
      return { path, exists, writable, ...(error === undefined ? {} : { error }), lockedBy: pid, lockFile };
    }
  }
  return { path, exists, writable, ...(error === undefined ? {} : { error }), lockedBy: undefined, lockFile: undefined };
}

/** Listens on host:port for a moment, then closes. */
export function probePort(host: string, port: number): Promise<PortFact> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', (error) => done({ host, port, free: false, error: messageOf(error) }));
    server.listen({ host, port, exclusive: true }, () => server.close(() => done({ host, port, free: true })));
  });
}

async function probeClock(timeoutMs: number): Promise<ClockFact> {
  const now = Date.now();
  const wallMinusMonotonicMs = now - (performance.timeOrigin + performance.now());
  const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  let synchronized: boolean | undefined;
  let syncSource: string | undefined;
  try {
    const run = await execa('timedatectl', ['show', '--property=NTPSynchronized', '--value'], { timeout: Math.min(timeoutMs, 3_000), reject: false, stdin: 'ignore' });
    const value = run.stdout.trim();
    if (run.exitCode === 0 && (value === 'yes' || value === 'no')) {
      synchronized = value === 'yes';
      syncSource = 'timedatectl';
    }
  } catch {
    // not available: try the flag file below
  }
  if (synchronized === undefined && (await access('/run/systemd/timesync/synchronized').then(() => true, () => false))) {
    synchronized = true;
    syncSource = 'systemd-timesyncd';
  }
  return { now, timezone, wallMinusMonotonicMs, synchronized, syncSource };
}

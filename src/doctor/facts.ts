/**
 * What `brisk doctor` finds out about a host, as plain data. `probe.ts` gathers it (the only module
 * with effects); `checks.ts` judges it (pure). Parsers of the raw texts the probes read live here,
 * pure, so they are tested with fixed inputs.
 */

/** A command's availability and the version it printed. */
export type ToolFact = { found: false } | { found: true; version: string | undefined; error?: string };

export interface CgroupFacts {
  /** controllers with a mounted v1 hierarchy (from /proc/mounts) */
  v1Controllers: string[];
  /** where cgroup2 is mounted, if anywhere */
  v2Mount: string | undefined;
  /** `cgroup.controllers` of the cgroup2 root (available controllers) */
  v2Controllers: string[];
  /** `cgroup.subtree_control` of the cgroup2 root (enabled for children) */
  v2SubtreeControl: string[];
}

export type NetnsFact =
  | { tried: false; reason: 'not root' | 'no ip command' }
  | { tried: true; ok: boolean; error?: string };

export interface DockerFact {
  socket: string;
  present: boolean;
  /** answered GET /_ping with OK */
  reachable: boolean;
  error?: string;
}

export interface DataDirFact {
  path: string;
  exists: boolean;
  /** a file could be created there (or, when it does not exist, in its nearest existing parent) */
  writable: boolean;
  error?: string;
  /** pid in an agent lock file there whose process is alive */
  lockedBy: number | undefined;
  /** the lock file that names it */
  lockFile: string | undefined;
}

export interface PortFact {
  host: string;
  port: number;
  free: boolean;
  error?: string;
}

export interface ClockFact {
  /** epoch ms at probe time */
  now: number;
  /** IANA zone, e.g. Europe/Berlin */
  timezone: string;
  /** wall clock minus (timeOrigin + monotonic): how far the wall clock moved apart from the monotonic one since the process started */
  wallMinusMonotonicMs: number;
  /** NTP synchronisation as the local system reports it (timedatectl or systemd-timesyncd's flag file); undefined when unknown */
  synchronized: boolean | undefined;
  /** where `synchronized` came from */
  syncSource: string | undefined;
}

export interface HostFacts {
  platform: string;
  isRoot: boolean;
  nodeVersion: string;
  runc: ToolFact;
  cgroups: CgroupFacts;
  netns: NetnsFact;
  docker: DockerFact;
  nft: ToolFact;
  dataDir: DataDirFact;
  port: PortFact;
  clock: ClockFact;
}

/** The cgroup v1 controllers mounted, from the text of /proc/mounts (named hierarchies such as name=systemd are left out). */
export function parseCgroupMounts(mounts: string): { v1Controllers: string[]; v2Mount: string | undefined } {
  const v1 = new Set<string>();
  let v2Mount: string | undefined;
  for (const line of mounts.split('\n')) {
    const [, mountPoint, fsType, options] = line.split(' ');
    if (mountPoint === undefined || options === undefined) continue;
    if (fsType === 'cgroup2') v2Mount ??= mountPoint;
    if (fsType !== 'cgroup') continue;
    for (const option of options.split(',')) {
      if (['rw', 'ro', 'relatime', 'nosuid', 'nodev', 'noexec', 'clone_children', 'noprefix', 'xattr'].includes(option) || option.includes('=')) continue;
      v1.add(option);
    }
  }
  return { v1Controllers: [...v1].sort(), v2Mount };
}

/** The version in `runc --version` / `nft --version` output: the first dotted number. */
export function parseVersion(output: string): string | undefined {
  return /(\d+\.\d+(?:\.\d+)?)/.exec(output)?.[1];
}

/** -1, 0 or 1 comparing dotted versions numerically (missing parts are 0). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

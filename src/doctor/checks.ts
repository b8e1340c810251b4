/**
 * The checks of `brisk doctor`: pure functions from HostFacts to results. Each says pass, warn or
 * fail, what it found, and (unless it passed) how to fix it. What a check demands depends on the
 * backend the host will run: a missing runc is a failure for `--backend runc` and only a warning
 * otherwise (the `process` backend needs none of it).
 */
import { compareVersions, type HostFacts } from './facts.js';

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface CheckResult {
  /** stable id, e.g. `node`, `runc`, `cgroups` */
  id: string;
  title: string;
  status: CheckStatus;
  message: string;
  /** what to do; present unless the check passed */
  fix?: string;
}

export type DoctorBackend = 'process' | 'runc' | 'docker';

export interface CheckOptions {
  /** the backend the agent will use; default `process` */
  backend?: DoctorBackend;
}

/** Node.js versions brisk supports (package.json engines). */
export const MIN_NODE = '20.18.0';
/** The oldest runc the runc backend is tested with. */
export const MIN_RUNC = '1.1.0';
/** Wall clock and monotonic clock apart by more than this: the clock was stepped. */
const MAX_CLOCK_STEP_MS = 1_000;
/** Earliest plausible wall clock (2024-01-01): before it the clock is unset. */
const EARLIEST_PLAUSIBLE_MS = Date.UTC(2024, 0, 1);

const REQUIRED_CONTROLLERS = ['memory', 'pids', 'freezer'] as const;

function result(id: string, title: string, status: CheckStatus, message: string, fix?: string): CheckResult {
  return status === 'pass' || fix === undefined ? { id, title, status, message } : { id, title, status, message, fix };
}

export function checkNode(facts: HostFacts): CheckResult {
  const version = facts.nodeVersion.replace(/^v/, '');
  return compareVersions(version, MIN_NODE) >= 0
    ? result('node', 'Node.js version', 'pass', `Node.js ${version}`)
    : result('node', 'Node.js version', 'fail', `Node.js ${version} is older than ${MIN_NODE}`, `Install Node.js ${MIN_NODE} or later (20.x LTS), e.g. from your distribution or nodejs.org packages.`);
}

export function checkPlatform(facts: HostFacts): CheckResult {
  return facts.platform === 'linux'
    ? result('platform', 'Operating system', 'pass', 'Linux')
    : result('platform', 'Operating system', 'fail', `${facts.platform} is not supported`, 'Run brisk daemons on Linux.');
}

export function checkRunc(facts: HostFacts, options: CheckOptions = {}): CheckResult {
  const miss = options.backend === 'runc' ? 'fail' : 'warn';
  const title = 'runc';
  if (!facts.runc.found) return result('runc', title, miss, 'runc is not installed (needed by the runc backend)', 'Install runc: `apt-get install runc` (Debian/Ubuntu) or `dnf install runc`.');
  if (facts.runc.version === undefined) return result('runc', title, miss, `runc did not report its version${facts.runc.error === undefined ? '' : `: ${facts.runc.error}`}`, 'Check that `runc --version` works; reinstall runc.');
  if (compareVersions(facts.runc.version, MIN_RUNC) < 0) return result('runc', title, miss, `runc ${facts.runc.version} is older than ${MIN_RUNC}`, `Upgrade runc to ${MIN_RUNC} or later.`);
  return result('runc', title, 'pass', `runc ${facts.runc.version}`);
}

export function checkCgroups(facts: HostFacts, options: CheckOptions = {}): CheckResult {
  const miss = options.backend === 'runc' ? 'fail' : 'warn';
  const title = 'cgroups (memory, pids, freezer)';
  const { v1Controllers, v2Mount, v2Controllers, v2SubtreeControl } = facts.cgroups;
  const v1Missing = REQUIRED_CONTROLLERS.filter((c) => !v1Controllers.includes(c));
  if (v1Missing.length === 0) {
    return result('cgroups', title, 'pass', `cgroup v1 hierarchies for ${REQUIRED_CONTROLLERS.join(', ')}${v2Mount === undefined ? '' : ` (cgroup2 also mounted at ${v2Mount})`}`);
  }
  if (v2Mount !== undefined) {
    // cgroup v2 has no freezer controller: freezing is built into every cgroup (cgroup.freeze).
    const needed = ['memory', 'pids'];
    const unavailable = needed.filter((c) => !v2Controllers.includes(c));
    if (unavailable.length > 0) {
      return result('cgroups', title, miss, `cgroup v2 at ${v2Mount} lacks the ${unavailable.join(', ')} controller(s)`, 'Boot a kernel with the memory and pids controllers (e.g. add `cgroup_enable=memory` to the kernel command line) and reboot.');
    }
    const disabled = needed.filter((c) => !v2SubtreeControl.includes(c));
    if (disabled.length > 0) {
      return result('cgroups', title, miss, `cgroup v2 controllers ${disabled.join(', ')} are available but not enabled for child cgroups`, `Enable them: \`echo "+${disabled.join(' +')}" > ${v2Mount}/cgroup.subtree_control\` (as root; systemd hosts usually do this by themselves).`);
    }
    return result('cgroups', title, 'pass', `cgroup v2 at ${v2Mount} with memory and pids enabled (freezer built in)`);
  }
  if (v1Controllers.length === 0) return result('cgroups', title, miss, 'no cgroup hierarchy is mounted', 'Mount cgroups (systemd does this at boot), e.g. `mount -t cgroup2 none /sys/fs/cgroup`.');
  return result('cgroups', title, miss, `cgroup v1 is mounted without the ${v1Missing.join(', ')} controller(s)`, `Mount the missing hierarchies, e.g. \`mkdir -p /sys/fs/cgroup/${v1Missing[0]} && mount -t cgroup -o ${v1Missing[0]} cgroup /sys/fs/cgroup/${v1Missing[0]}\`.`);
}

export function checkNetns(facts: HostFacts, options: CheckOptions = {}): CheckResult {
  const miss = options.backend === 'runc' ? 'fail' : 'warn';
  const title = 'network namespaces';
  const { netns } = facts;
  if (!netns.tried) {
    if (netns.reason === 'no ip command') return result('netns', title, miss, 'the `ip` command is missing', 'Install iproute2: `apt-get install iproute2`.');
    return result('netns', title, options.backend === 'runc' ? 'fail' : 'warn', 'not checked: needs root', 'Run `brisk doctor` as root to check that network namespaces can be created (the runc backend runs as root).');
  }
  if (netns.ok) return result('netns', title, 'pass', 'a network namespace was created and removed');
  return result('netns', title, miss, `cannot create a network namespace${netns.error === undefined ? '' : `: ${netns.error}`}`, 'Check that the kernel has network namespaces (CONFIG_NET_NS) and that /run/netns is writable; in a container, run it privileged.');
}

export function checkDocker(facts: HostFacts, options: CheckOptions = {}): CheckResult {
  const miss = options.backend === 'docker' ? 'fail' : 'warn';
  const title = 'Docker daemon';
  const { docker } = facts;
  if (!docker.present) return result('docker', title, miss, `no Docker socket at ${docker.socket} (needed by the docker backend)`, 'Install and start Docker (`apt-get install docker.io && systemctl start docker`), or use another backend.');
  if (!docker.reachable) {
    return result('docker', title, miss, `the Docker daemon does not answer on ${docker.socket}${docker.error === undefined ? '' : `: ${docker.error}`}`, 'Start it (`systemctl start docker`) and make sure this user may use the socket (root, or the docker group).');
  }
  return result('docker', title, 'pass', `the Docker daemon answers on ${docker.socket}`);
}

export function checkNft(facts: HostFacts, options: CheckOptions = {}): CheckResult {
  const miss = options.backend === 'runc' ? 'fail' : 'warn';
  if (!facts.nft.found) return result('nftables', 'nftables', miss, 'nft is not installed (the runc backend isolates containers with it)', 'Install nftables: `apt-get install nftables`.');
  return result('nftables', 'nftables', 'pass', `nft ${facts.nft.version ?? '(version unknown)'}`);
}

export function checkDataDir(facts: HostFacts): CheckResult {
  const { dataDir } = facts;
  const title = 'data directory';
  if (!dataDir.writable) {
    return result('data-dir', title, 'fail', `${dataDir.path} is not writable${dataDir.error === undefined ? '' : `: ${dataDir.error}`}`, `Make it writable by this user (\`chown\`/\`chmod\`), or pick another with --data-dir.`);
  }
  if (dataDir.lockedBy !== undefined) {
    return result('data-dir', title, 'fail', `${dataDir.path} is in use by a running agent (pid ${dataDir.lockedBy}, ${dataDir.lockFile})`, 'Stop that agent first, or give this host\'s agent its own --data-dir.');
  }
  return result('data-dir', title, 'pass', `${dataDir.path} is writable${dataDir.exists ? '' : ' (will be created)'} and not locked by an agent`);
}

export function checkPort(facts: HostFacts): CheckResult {
  const { port } = facts;
  const title = `port ${port.port}`;
  if (port.free) return result('port', title, 'pass', `${port.host}:${port.port} is free`);
  return result('port', title, 'fail', `${port.host}:${port.port} cannot be listened on${port.error === undefined ? '' : `: ${port.error}`}`, `Stop what listens there (\`ss -ltnp 'sport = :${port.port}'\` shows it), or choose another --port.`);
}

export function checkClock(facts: HostFacts): CheckResult {
  const { clock } = facts;
  const title = 'clock';
  const when = `${new Date(clock.now).toISOString()} (${clock.timezone})`;
  if (clock.now < EARLIEST_PLAUSIBLE_MS) return result('clock', title, 'fail', `the system time ${when} is implausible`, 'Set the clock (`timedatectl set-time` or enable NTP with `timedatectl set-ntp true`).');
  if (Math.abs(clock.wallMinusMonotonicMs) > MAX_CLOCK_STEP_MS) {
    return result('clock', title, 'warn', `the wall clock moved ${Math.round(clock.wallMinusMonotonicMs)} ms apart from the monotonic clock: it was stepped`, 'Let NTP slew the clock instead of stepping it (chrony or systemd-timesyncd), and check again.');
  }
  if (clock.synchronized === false) return result('clock', title, 'warn', `${when}; not synchronised (${clock.syncSource ?? 'local report'})`, 'Enable time synchronisation: `timedatectl set-ntp true` (or run chrony); activation times across hosts depend on it.');
  const sync = clock.synchronized === true ? `synchronised (${clock.syncSource ?? 'local report'})` : 'synchronisation unknown';
  return result('clock', title, 'pass', `${when}; ${sync}`);
}

/** Every check, in the order they are shown. */
export function runChecks(facts: HostFacts, options: CheckOptions = {}): CheckResult[] {
  return [
    checkPlatform(facts),
    checkNode(facts),
    checkRunc(facts, options),
    checkCgroups(facts, options),
    checkNetns(facts, options),
    checkNft(facts, options),
    checkDocker(facts, options),
    checkDataDir(facts),
    checkPort(facts),
    checkClock(facts),
  ];
}

export interface DoctorSummary {
  pass: number;
  warn: number;
  fail: number;
  /** true when nothing failed */
  ok: boolean;
}

export function summarize(results: readonly CheckResult[]): DoctorSummary {
  const count = (status: CheckStatus) => results.filter((r) => r.status === status).length;
  return { pass: count('pass'), warn: count('warn'), fail: count('fail'), ok: count('fail') === 0 };
}

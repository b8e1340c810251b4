import { describe, expect, it } from 'vitest';
import { checkCgroups, checkClock, checkDataDir, checkDocker, checkNetns, checkNode, checkPort, checkRunc, runChecks, summarize } from '../../../src/doctor/checks.js';
import { compareVersions, parseCgroupMounts, parseVersion, type HostFacts } from '../../../src/doctor/facts.js';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

function healthy(): HostFacts {
  return {
    platform: 'linux',
    isRoot: true,
    nodeVersion: '20.20.2',
    runc: { found: true, version: '1.1.5' },
    cgroups: { v1Controllers: ['blkio', 'cpu', 'freezer', 'memory', 'pids'], v2Mount: '/sys/fs/cgroup/unified', v2Controllers: [], v2SubtreeControl: [] },
    netns: { tried: true, ok: true },
    docker: { socket: '/var/run/docker.sock', present: true, reachable: true },
    nft: { found: true, version: '1.0.6' },
    dataDir: { path: '/srv/brisk', exists: true, writable: true, lockedBy: undefined, lockFile: undefined },
    port: { host: '127.0.0.1', port: 3233, free: true },
    clock: { now: NOW, timezone: 'UTC', wallMinusMonotonicMs: 3, synchronized: true, syncSource: 'timedatectl' },
  };
}

describe('doctor fact parsers', () => {
  it('reads cgroup v1 controllers and the cgroup2 mount from /proc/mounts', () => {
    const mounts = [
      'tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0',
      'cgroup2 /sys/fs/cgroup/unified cgroup2 rw,nosuid,nodev,noexec,relatime 0 0',
      'cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,xattr,name=systemd 0 0',
      'cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0',
      'cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,relatime,cpu,cpuacct 0 0',
      'cgroup /sys/fs/cgroup/freezer cgroup rw,relatime,freezer 0 0',
    ].join('\n');
    expect(parseCgroupMounts(mounts)).toEqual({ v1Controllers: ['cpu', 'cpuacct', 'freezer', 'memory'], v2Mount: '/sys/fs/cgroup/unified' });
  });

  it('reads versions and compares them', () => {
    expect(parseVersion('runc version 1.1.5\ncommit: v1.1.5-0\nspec: 1.0.2-dev')).toBe('1.1.5');
    expect(parseVersion('nftables v1.0.6 (Lester Gooch #5)')).toBe('1.0.6');
    expect(parseVersion('nothing')).toBeUndefined();
    expect([compareVersions('20.18.0', '20.18'), compareVersions('20.9.0', '20.18.0'), compareVersions('22.1', '20.18.0')]).toEqual([0, -1, 1]);
  });
});

describe('doctor checks', () => {
  it('passes a healthy host with no fixes', () => {
    const results = runChecks(healthy(), { backend: 'runc' });
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ['platform', 'pass'], ['node', 'pass'], ['runc', 'pass'], ['cgroups', 'pass'], ['netns', 'pass'], ['nftables', 'pass'], ['docker', 'pass'], ['data-dir', 'pass'], ['port', 'pass'], ['clock', 'pass'],
    ]);
    expect(results.every((r) => r.fix === undefined)).toBe(true);
    expect(summarize(results)).toEqual({ pass: 10, warn: 0, fail: 0, ok: true });
    expect(checkCgroups(healthy()).message).toBe('cgroup v1 hierarchies for memory, pids, freezer (cgroup2 also mounted at /sys/fs/cgroup/unified)');
    expect(checkClock(healthy()).message).toBe('2025-06-01T12:00:00.000Z (UTC); synchronised (timedatectl)');
  });

  it('fails an old Node.js', () => {
    expect(checkNode({ ...healthy(), nodeVersion: '18.19.0' })).toMatchObject({ status: 'fail', message: 'Node.js 18.19.0 is older than 20.18.0' });
  });

  it('warns about a missing runc, and fails it when the host will run the runc backend', () => {
    const facts = { ...healthy(), runc: { found: false as const } };
    expect(checkRunc(facts)).toEqual({ id: 'runc', title: 'runc', status: 'warn', message: 'runc is not installed (needed by the runc backend)', fix: 'Install runc: `apt-get install runc` (Debian/Ubuntu) or `dnf install runc`.' });
    expect(checkRunc(facts, { backend: 'runc' }).status).toBe('fail');
    expect(checkRunc({ ...healthy(), runc: { found: true, version: '1.0.2' } }, { backend: 'runc' })).toMatchObject({ status: 'fail', message: 'runc 1.0.2 is older than 1.1.0' });
  });

  it('judges cgroup v2: available, enabled, or neither', () => {
    const v2 = (controllers: string[], subtree: string[]) => ({ ...healthy(), cgroups: { v1Controllers: [], v2Mount: '/sys/fs/cgroup', v2Controllers: controllers, v2SubtreeControl: subtree } });
    expect(checkCgroups(v2(['cpu', 'memory', 'pids'], ['memory', 'pids']))).toMatchObject({ status: 'pass', message: 'cgroup v2 at /sys/fs/cgroup with memory and pids enabled (freezer built in)' });
    expect(checkCgroups(v2(['memory', 'pids'], ['memory']), { backend: 'runc' })).toMatchObject({
      status: 'fail',
      message: 'cgroup v2 controllers pids are available but not enabled for child cgroups',
      fix: 'Enable them: `echo "+pids" > /sys/fs/cgroup/cgroup.subtree_control` (as root; systemd hosts usually do this by themselves).',
    });
    expect(checkCgroups(v2(['cpu'], []))).toMatchObject({ status: 'warn', message: 'cgroup v2 at /sys/fs/cgroup lacks the memory, pids controller(s)' });
    expect(checkCgroups({ ...healthy(), cgroups: { v1Controllers: ['memory'], v2Mount: undefined, v2Controllers: [], v2SubtreeControl: [] } })).toMatchObject({ status: 'warn', message: 'cgroup v1 is mounted without the pids, freezer controller(s)' });
  });

  it('network namespaces: not root, failing, missing ip', () => {
    expect(checkNetns({ ...healthy(), netns: { tried: false, reason: 'not root' } })).toMatchObject({ status: 'warn', message: 'not checked: needs root' });
    expect(checkNetns({ ...healthy(), netns: { tried: true, ok: false, error: 'Operation not permitted' } }, { backend: 'runc' })).toMatchObject({ status: 'fail', message: 'cannot create a network namespace: Operation not permitted' });
    expect(checkNetns({ ...healthy(), netns: { tried: false, reason: 'no ip command' } })).toMatchObject({ status: 'warn', fix: 'Install iproute2: `apt-get install iproute2`.' });
  });

  it('Docker: no socket, no answer', () => {
    expect(checkDocker({ ...healthy(), docker: { socket: '/s', present: false, reachable: false } })).toMatchObject({ status: 'warn', message: 'no Docker socket at /s (needed by the docker backend)' });
    expect(checkDocker({ ...healthy(), docker: { socket: '/s', present: true, reachable: false, error: 'EACCES' } }, { backend: 'docker' })).toMatchObject({ status: 'fail', message: 'the Docker daemon does not answer on /s: EACCES' });
  });

  it('data directory: not writable, locked by an agent', () => {
    const base = healthy().dataDir;
    expect(checkDataDir({ ...healthy(), dataDir: { ...base, writable: false, error: 'EACCES' } })).toMatchObject({ status: 'fail', message: '/srv/brisk is not writable: EACCES' });
    expect(checkDataDir({ ...healthy(), dataDir: { ...base, lockedBy: 4242, lockFile: '/srv/brisk/agent/agent.lock' } })).toMatchObject({
      status: 'fail',
      message: '/srv/brisk is in use by a running agent (pid 4242, /srv/brisk/agent/agent.lock)',
    });
    expect(checkDataDir({ ...healthy(), dataDir: { ...base, exists: false } }).message).toBe('/srv/brisk is writable (will be created) and not locked by an agent');
  });

  it('port in use fails with how to find the holder', () => {
    expect(checkPort({ ...healthy(), port: { host: '127.0.0.1', port: 3233, free: false, error: 'listen EADDRINUSE' } })).toEqual({
      id: 'port',
      title: 'port 3233',
      status: 'fail',
      message: '127.0.0.1:3233 cannot be listened on: listen EADDRINUSE',
      fix: "Stop what listens there (`ss -ltnp 'sport = :3233'` shows it), or choose another --port.",
    });
  });

  it('clock: implausible, stepped, unsynchronised, unknown', () => {
    const clock = healthy().clock;
    expect(checkClock({ ...healthy(), clock: { ...clock, now: Date.UTC(2001, 0, 1) } }).status).toBe('fail');
    expect(checkClock({ ...healthy(), clock: { ...clock, wallMinusMonotonicMs: -5_000 } })).toMatchObject({ status: 'warn', message: 'the wall clock moved -5000 ms apart from the monotonic clock: it was stepped' });
    expect(checkClock({ ...healthy(), clock: { ...clock, synchronized: false } })).toMatchObject({ status: 'warn', message: '2025-06-01T12:00:00.000Z (UTC); not synchronised (timedatectl)' });
    expect(checkClock({ ...healthy(), clock: { ...clock, synchronized: undefined, syncSource: undefined } })).toMatchObject({ status: 'pass', message: '2025-06-01T12:00:00.000Z (UTC); synchronisation unknown' });
  });

  it('summarises: any failure makes it not ok', () => {
    const results = runChecks({ ...healthy(), nodeVersion: '18.0.0', runc: { found: false } });
    expect(summarize(results)).toEqual({ pass: 8, warn: 1, fail: 1, ok: false });
  });
});

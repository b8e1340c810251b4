import { describe, expect, it } from 'vitest';
import { containerSpec, MASKED_PATHS, RUNTIME_PORT } from '../../../src/agent/backends/runc/spec.js';
import { DENIED_CLONE_FLAGS, DENIED_SYSCALLS, seccompProfile } from '../../../src/agent/backends/runc/seccomp.js';

const spec = (over: Partial<Parameters<typeof containerSpec>[0]> = {}) =>
  containerSpec({
    containerId: 'c-1',
    rootfs: '/var/lib/brisk/images/brisk-x/rootfs',
    memoryMB: 256,
    pidsLimit: 256,
    tmpfsMB: 64,
    netnsPath: '/var/run/netns/brisk7',
    cgroupsPath: '/brisk/abc/c-1',
    env: { __OW_API_HOST: 'http://127.0.0.1:3233' },
    swapAccounting: true,
    ...over,
  }) as any;

describe('containerSpec', () => {
  it('runs the runtime as nobody on a read-only root with no capabilities and no new privileges', () => {
    const s = spec();
    expect(s.root).toEqual({ path: '/var/lib/brisk/images/brisk-x/rootfs', readonly: true });
    expect(s.process.user).toEqual({ uid: 65534, gid: 65534 });
    expect(s.process.noNewPrivileges).toBe(true);
    expect(s.process.capabilities).toEqual({ bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] });
    expect(s.process.terminal).toBe(false);
    expect(s.process.args).toEqual(['/usr/bin/node', '--max-old-space-size=256', '/opt/brisk/src/runtime/main.js', '--brisk-container=c-1']);
    expect(s.process.env).toEqual(
      expect.arrayContaining(['__OW_API_HOST=http://127.0.0.1:3233', `__OW_PORT=${RUNTIME_PORT}`, '__OW_HOST=0.0.0.0', 'TMPDIR=/tmp', 'PATH=/usr/bin']),
    );
  });

  it('limits memory (no swap beyond it) and pids, joins the prepared network namespace, mounts no host directory', () => {
    const s = spec();
    expect(s.linux.resources.memory).toEqual({ limit: 256 * 1024 * 1024, swap: 256 * 1024 * 1024 });
    expect(s.linux.resources.pids).toEqual({ limit: 256 });
    expect(s.linux.namespaces).toEqual([{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network', path: '/var/run/netns/brisk7' }]);
    expect(s.linux.cgroupsPath).toBe('/brisk/abc/c-1');
    expect(s.linux.maskedPaths).toEqual([...MASKED_PATHS]);
    expect(s.mounts.filter((m: { type: string }) => m.type === 'bind')).toEqual([]);
    expect(s.mounts.find((m: { destination: string }) => m.destination === '/tmp')).toEqual({
      destination: '/tmp',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'nodev', 'noexec', 'mode=1777', 'size=64m'],
    });
    expect(spec({ swapAccounting: false }).linux.resources.memory).toEqual({ limit: 256 * 1024 * 1024 });
  });
});

describe('seccompProfile', () => {
  it('refuses the denied system calls with EPERM and clone3 with ENOSYS', () => {
    const p = seccompProfile() as any;
    expect(p.defaultAction).toBe('SCMP_ACT_ALLOW');
    expect(p.syscalls[0]).toEqual({ names: [...DENIED_SYSCALLS], action: 'SCMP_ACT_ERRNO', errnoRet: 1 });
    expect(DENIED_SYSCALLS).toEqual(expect.arrayContaining(['mount', 'unshare', 'setns', 'ptrace', 'bpf', 'keyctl', 'init_module', 'reboot']));
    expect(p.syscalls.at(-1)).toEqual({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 });
  });

  it('refuses clone with any namespace flag, one rule per flag, covering all of them', () => {
    const rules = (seccompProfile() as any).syscalls.filter((r: { names: string[] }) => r.names[0] === 'clone');
    let covered = 0;
    for (const rule of rules) {
      expect(rule).toMatchObject({ action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 0, op: 'SCMP_CMP_MASKED_EQ' }] });
      expect(rule.args[0].value).toBe(rule.args[0].valueTwo);
      covered |= rule.args[0].value;
    }
    expect(covered).toBe(DENIED_CLONE_FLAGS);
  });
});

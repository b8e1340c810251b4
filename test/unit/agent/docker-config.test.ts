import { describe, expect, it } from 'vitest';
import { agentLabel } from '../../../src/agent/backends/docker.js';
import { dockerContainerConfig } from '../../../src/agent/backends/docker/config.js';
import { dockerImageRef } from '../../../src/image/docker-image.js';

const base = {
  containerId: 'c-1',
  name: 'brisk-0123abcd-c-1',
  agentLabel: '0123abcd4567',
  image: 'brisk-runtime:brisk-0000',
  memoryMB: 256,
  pidsLimit: 256,
  tmpfsMB: 64,
  env: { __OW_API_HOST: 'http://api' },
};

describe('dockerContainerConfig', () => {
  it('runs brisk\'s runtime with the limits of the runc spec', () => {
    expect(dockerContainerConfig({ ...base, briskRuntime: true })).toEqual({
      name: 'brisk-0123abcd-c-1',
      Image: 'brisk-runtime:brisk-0000',
      Cmd: ['/usr/bin/node', '--max-old-space-size=256', '/opt/brisk/src/runtime/main.js', '--brisk-container=c-1'],
      Entrypoint: [],
      Env: ['__OW_API_HOST=http://api', 'PATH=/usr/bin', 'HOME=/tmp', 'TMPDIR=/tmp', '__OW_PORT=8080', '__OW_HOST=0.0.0.0', '__OW_ALLOW_CONCURRENT=true'],
      User: '65534:65534',
      WorkingDir: '/',
      Hostname: 'action',
      Labels: { 'brisk.agent': '0123abcd4567', 'brisk.container': 'c-1' },
      AttachStdin: false,
      AttachStdout: true,
      AttachStderr: true,
      OpenStdin: false,
      Tty: false,
      NetworkDisabled: false,
      HostConfig: {
        NetworkMode: 'none',
        Memory: 256 * 1024 * 1024,
        MemorySwap: 256 * 1024 * 1024,
        PidsLimit: 256,
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        ReadonlyRootfs: true,
        Tmpfs: { '/tmp': 'rw,noexec,nosuid,nodev,mode=1777,size=64m' },
        ShmSize: 1024 * 1024,
        Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 1024 }],
        IpcMode: 'private',
        MaskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/fs/cgroup'],
        LogConfig: { Type: 'none', Config: {} },
        RestartPolicy: { Name: 'no' },
        AutoRemove: false,
        Init: false,
      },
    });
  });

  it('keeps a blackbox image\'s command and environment, adding only the action\'s env, under the same limits', () => {
    const config = dockerContainerConfig({ ...base, image: 'example/action:1', briskRuntime: false });
    expect(config.Cmd).toBeUndefined();
    expect(config.Entrypoint).toBeUndefined();
    expect(config.Env).toEqual(['__OW_API_HOST=http://api']);
    expect(config.User).toBe('65534:65534');
    expect(config.HostConfig).toEqual(dockerContainerConfig({ ...base, briskRuntime: true }).HostConfig);
  });
});

describe('names', () => {
  it('labels an agent by a hash of its absolute data directory', () => {
    expect(agentLabel('/var/lib/brisk/agent')).toMatch(/^[0-9a-f]{12}$/);
    expect(agentLabel('/var/lib/brisk/agent')).toBe(agentLabel('/var/lib/brisk/agent/'));
    expect(agentLabel('/var/lib/brisk/agent')).not.toBe(agentLabel('/var/lib/brisk/other'));
  });

  it('tags the imported image by the rootfs image id', () => {
    expect(dockerImageRef({ manifest: { id: 'brisk-0011', nodeVersion: 'v20', createdAt: '', sizeBytes: 0, libraries: [] } })).toBe('brisk-runtime:brisk-0011');
  });
});

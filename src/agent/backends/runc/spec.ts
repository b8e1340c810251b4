/**
 * The OCI runtime configuration (config.json) of one action container. Pure.
 *
 * What it guarantees, whatever the action does:
 * - the brisk image as a READ-ONLY root; a small tmpfs on /tmp (noexec) is the only writable place;
 *   no host directory is mounted;
 * - the action runs as `nobody` (65534), with every capability dropped and no new privileges, under
 *   brisk's seccomp profile (seccomp.ts);
 * - memory limit = the action's memory, no swap beyond it; a pids limit (no fork bomb); the kernel's
 *   own /proc and /sys views are masked or read-only as runc's defaults do;
 * - its own pid, ipc, uts, mount namespaces, and the network namespace the agent prepared (`netnsPath`).
 */
import { ACTION_USER, NODE_IN_IMAGE, RUNTIME_ENTRY_IN_IMAGE } from '../../../image/rootfs.js';
import { seccompProfile } from './seccomp.js';

/** Kernel files an action must not read (or, for /sys/fs/cgroup, see): hidden in every isolated container. */
export const MASKED_PATHS: readonly string[] = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/fs/cgroup',
];

/** The port the runtime listens on inside its network namespace. */
export const RUNTIME_PORT = 8080;

export interface ContainerSpecInput {
  containerId: string;
  /** absolute path of the image's rootfs (shared, read-only, by every container) */
  rootfs: string;
  memoryMB: number;
  /** most processes/threads in the container (node itself needs ~12 threads) */
  pidsLimit: number;
  /** size of the writable /tmp, counted in the memory limit */
  tmpfsMB: number;
  /** the network namespace the agent made for this container */
  netnsPath: string;
  /** cgroup path, e.g. `/brisk/<agent>/<containerId>` */
  cgroupsPath: string;
  /** extra environment (`__OW_API_HOST`, …) */
  env: Readonly<Record<string, string>>;
  /** false when the kernel has no memsw accounting (swap limit must then be left out) */
  swapAccounting: boolean;
}

const MiB = 1024 * 1024;

/**
 * The environment of brisk's runtime in an isolated container (runc and docker): the action's
 * variables, then what the runtime needs (these win): where it listens, /tmp as home and TMPDIR.
 */
export function runtimeEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  return {
    ...env,
    PATH: '/usr/bin',
    HOME: '/tmp',
    TMPDIR: '/tmp',
    __OW_PORT: String(RUNTIME_PORT),
    __OW_HOST: '0.0.0.0',
    __OW_ALLOW_CONCURRENT: 'true',
  };
}

/** The config.json object for `runc create`. */
export function containerSpec(input: ContainerSpecInput): Record<string, unknown> {
  const memoryBytes = input.memoryMB * MiB;
  const env = runtimeEnv(input.env);
  const noCapabilities = { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] };
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: ACTION_USER.uid, gid: ACTION_USER.gid },
      // the container id on the command line lets an operator tell containers apart in `ps`
      args: [NODE_IN_IMAGE, `--max-old-space-size=${input.memoryMB}`, RUNTIME_ENTRY_IN_IMAGE, `--brisk-container=${input.containerId}`],
      env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      cwd: '/',
      capabilities: noCapabilities,
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: input.rootfs, readonly: true },
    hostname: 'action',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=1m'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'mode=1777', `size=${input.tmpfsMB}m`] },
    ],
    linux: {
      cgroupsPath: input.cgroupsPath,
      resources: {
        devices: [{ allow: false, access: 'rwm' }],
        memory: input.swapAccounting ? { limit: memoryBytes, swap: memoryBytes } : { limit: memoryBytes },
        pids: { limit: input.pidsLimit },
      },
      namespaces: [
        { type: 'pid' },
        { type: 'ipc' },
        { type: 'uts' },
        { type: 'mount' },
        { type: 'network', path: input.netnsPath },
      ],
      seccomp: seccompProfile(),
      maskedPaths: [...MASKED_PATHS],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

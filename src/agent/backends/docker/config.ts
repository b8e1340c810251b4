/**
 * The Docker create options of one action container. Pure.
 *
 * The same guarantees as the runc spec (runc/spec.ts), expressed through the Docker API:
 * - read-only root; a small tmpfs on /tmp (noexec, nosuid) is the only writable place; no host
 *   directory is mounted; /dev/shm is 1 MB;
 * - runs as `nobody` (65534:65534), every capability dropped, no new privileges, Docker's default
 *   seccomp profile (applied when none is given), its masked/read-only /proc paths, and the cgroup
 *   tree masked too (as in the runc spec);
 * - memory limit = the action's memory, swap included (Docker drops the swap part by itself, with a
 *   warning, on a kernel without swap accounting); a pids limit; 1024 open files;
 * - network mode `none`: Docker makes an empty network namespace (loopback only); the backend then
 *   moves the container's veth end into it (network/container-network.ts), so it gets exactly the
 *   addressing and firewall of runc containers;
 * - no log driver: output is read through the attach stream only, so Docker keeps no unbounded log file.
 *
 * A blackbox container (an OpenWhisk-compatible image of the user's choice) keeps its image's own
 * command and environment; only the action's env is added, and every limit above still applies.
 */
import type Dockerode from 'dockerode';
import { ACTION_USER, NODE_IN_IMAGE, RUNTIME_ENTRY_IN_IMAGE } from '../../../image/rootfs.js';
import { MASKED_PATHS, runtimeEnv } from '../runc/spec.js';

/** Labels every container of the docker backend carries. */
export const LABEL_AGENT = 'brisk.agent';
export const LABEL_CONTAINER = 'brisk.container';

export interface DockerContainerInput {
  containerId: string;
  /** Docker container name (unique on the daemon) */
  name: string;
  /** the owning agent's label value (a hash of its data directory) */
  agentLabel: string;
  /** image reference, local */
  image: string;
  /** true for brisk's own runtime image: the backend sets command and runtime env */
  briskRuntime: boolean;
  memoryMB: number;
  pidsLimit: number;
  /** size of the writable /tmp, counted in the memory limit */
  tmpfsMB: number;
  /** extra environment (`__OW_API_HOST`, …) */
  env: Readonly<Record<string, string>>;
}

const MiB = 1024 * 1024;


/** The options of `POST /containers/create` for one action container. */
export function dockerContainerConfig(input: DockerContainerInput): Dockerode.ContainerCreateOptions {
  const memoryBytes = input.memoryMB * MiB;
  const env: Record<string, string> = input.briskRuntime ? runtimeEnv(input.env) : { ...input.env };
  return {
    name: input.name,
    Image: input.image,
    // the container id on the command line lets an operator tell containers apart in `ps`
    ...(input.briskRuntime
      ? { Cmd: [NODE_IN_IMAGE, `--max-old-space-size=${input.memoryMB}`, RUNTIME_ENTRY_IN_IMAGE, `--brisk-container=${input.containerId}`], Entrypoint: [] }
      : {}),
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    User: `${ACTION_USER.uid}:${ACTION_USER.gid}`,
    WorkingDir: '/',
    Hostname: 'action',
    Labels: { [LABEL_AGENT]: input.agentLabel, [LABEL_CONTAINER]: input.containerId },
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: false,
    Tty: false,
    NetworkDisabled: false,
    HostConfig: {
      NetworkMode: 'none',
      Memory: memoryBytes,
      MemorySwap: memoryBytes,
      PidsLimit: input.pidsLimit,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': `rw,noexec,nosuid,nodev,mode=1777,size=${input.tmpfsMB}m` },
      ShmSize: MiB,
      Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 1024 }],
      IpcMode: 'private',
      // Docker's default list (it is replaced, not extended) plus the host's cgroup tree, as runc/spec.ts
      MaskedPaths: [...MASKED_PATHS],
      LogConfig: { Type: 'none', Config: {} },
      RestartPolicy: { Name: 'no' },
      AutoRemove: false,
      Init: false,
    },
  };
}

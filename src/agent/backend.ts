/**
 * The port between the agent and whatever runs action containers (process, runc, docker).
 *
 * Contract every backend keeps (and the shared contract tests check):
 * - `create` resolves only once the runtime's port accepts TCP connections, with the address the
 *   controllers use; it rejects with ContainerOperationError (and leaves nothing behind) when the
 *   container cannot be started within the backend's start timeout.
 * - pause, resume and destroy of one container are serialised by the caller (the agent); a backend
 *   may assume no two of them overlap for the same container, but must allow them for different ones.
 * - `destroy` is idempotent, and also removes containers returned by `list` (left by an earlier run).
 * - Output of a container is delivered in order, per stream, through `subscribe`, from its start
 *   until its exit; an exit that `destroy` did not request is reported once, after its last output,
 *   with a reason (`oom` when the runtime ran out of memory, `crash` otherwise).
 * - `close` destroys every container this backend instance started and stops its watchers.
 */
import type { Address } from '../daemon/protocol.js';

export type BackendName = 'process' | 'runc' | 'docker';

/** What node prints when its heap limit is reached: the runtime ran out of memory. */
export const OOM_MARKER = 'JavaScript heap out of memory';

export interface CreateContainerRequest {
  /** unique id, chosen by the scheduler */
  containerId: string;
  kind: string;
  memoryMB: number;
  /** extra environment of the runtime (e.g. `__OW_API_HOST`) */
  env: Readonly<Record<string, string>>;
  /**
   * An OpenWhisk-compatible runtime image to run instead of brisk's own (blackbox actions): it keeps
   * its own command and listens on 8080 for /init and /run. Only the docker backend supports it.
   */
  image?: string;
}

/** A container found by `list`, left by an earlier agent on this host. */
export interface LeftoverContainer {
  containerId: string;
  /** whether this backend could re-attach to it; the agent removes leftovers either way for now */
  adoptable: boolean;
}

export interface OutputEvent {
  containerId: string;
  stream: 'stdout' | 'stderr';
  chunk: Buffer;
}

export interface ExitEvent {
  containerId: string;
  reason: 'crash' | 'oom';
  /** exit code or signal and the like, for operators */
  detail: string;
}

export interface BackendListener {
  output(event: OutputEvent): void;
  exit(event: ExitEvent): void;
}

export interface ContainerBackend {
  readonly name: BackendName;
  /** Starts a container and resolves with the runtime's address once its port answers. */
  create(request: CreateContainerRequest): Promise<Address>;
  /** Freezes every process of the container. */
  pause(containerId: string): Promise<void>;
  /** Thaws the container. */
  resume(containerId: string): Promise<void>;
  /** Stops and removes the container and everything it owns; resolves once it is gone. Idempotent. */
  destroy(containerId: string): Promise<void>;
  /** Containers left by an earlier run of an agent with the same data dir. */
  list(): Promise<LeftoverContainer[]>;
  /** Registers for output and unrequested exits of every container; returns the unsubscribe function. */
  subscribe(listener: BackendListener): () => void;
  /** Destroys every container this instance started. */
  close(): Promise<void>;
}

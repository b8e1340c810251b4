/**
 * An in-memory ContainerBackend for unit tests of the agent: no processes, every call recorded,
 * output and crashes injected by the test.
 */
import { ContainerOperationError } from '../errors.js';
import type { Address } from '../daemon/protocol.js';
import type { BackendListener, ContainerBackend, CreateContainerRequest, ExitEvent, LeftoverContainer } from './backend.js';

export interface FakeContainer {
  request: CreateContainerRequest;
  address: Address;
  paused: boolean;
}

export interface FakeBackendOptions {
  /** containers reported by list(); default none */
  leftovers?: LeftoverContainer[];
  /** makes create fail for these container ids */
  failCreate?: (request: CreateContainerRequest) => Error | undefined;
}

export class FakeBackend implements ContainerBackend {
  readonly name = 'process' as const;
  readonly containers = new Map<string, FakeContainer>();
  readonly calls: string[] = [];
  readonly leftovers: LeftoverContainer[];
  #listeners = new Set<BackendListener>();
  #nextPort = 20000;
  #failCreate: FakeBackendOptions['failCreate'];
  /** create of these container ids waits for the promise (tests of destroy-during-create) */
  readonly createGates = new Map<string, Promise<void>>();

  constructor(options: FakeBackendOptions = {}) {
    this.leftovers = [...(options.leftovers ?? [])];
    this.#failCreate = options.failCreate;
  }

  async create(request: CreateContainerRequest): Promise<Address> {
    this.calls.push(`create ${request.containerId}`);
    await this.createGates.get(request.containerId);
    const failure = this.#failCreate?.(request);
    if (failure !== undefined) throw failure;
    const address = { host: '127.0.0.1', port: this.#nextPort++ };
    this.containers.set(request.containerId, { request, address, paused: false });
    return address;
  }

  async pause(containerId: string): Promise<void> {
    this.calls.push(`pause ${containerId}`);
    this.#get(containerId).paused = true;
  }

  async resume(containerId: string): Promise<void> {
    this.calls.push(`resume ${containerId}`);
    this.#get(containerId).paused = false;
  }

  async destroy(containerId: string): Promise<void> {
    this.calls.push(`destroy ${containerId}`);
    this.containers.delete(containerId);
    const index = this.leftovers.findIndex((l) => l.containerId === containerId);
    if (index >= 0) this.leftovers.splice(index, 1);
  }

  async list(): Promise<LeftoverContainer[]> {
    return [...this.leftovers];
  }

  subscribe(listener: BackendListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.calls.push('close');
    this.containers.clear();
  }

  /** Test hook: the container writes output. */
  emitOutput(containerId: string, stream: 'stdout' | 'stderr', text: string): void {
    for (const l of this.#listeners) l.output({ containerId, stream, chunk: Buffer.from(text) });
  }

  /** Test hook: the container dies on its own. */
  crash(containerId: string, reason: ExitEvent['reason'], detail = 'test'): void {
    this.containers.delete(containerId);
    for (const l of this.#listeners) l.exit({ containerId, reason, detail });
  }

  #get(containerId: string): FakeContainer {
    const container = this.containers.get(containerId);
    if (container === undefined) throw new ContainerOperationError(`no container ${containerId}`);
    return container;
  }
}

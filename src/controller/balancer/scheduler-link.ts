/**
 * The controller's connection to the scheduler: registration on every (re)connect, acquire as a
 * request/reply with the caller's deadline, and fire-and-forget release and usage batches.
 */
import type { ActionRef } from '../../model/action.js';
import type { GrantedContainer, Message, OwnedContainer } from '../../daemon/protocol.js';
import { connectWs, type WsClient, type WsClientOptions } from '../../daemon/transport.js';
import { SchedulerUnavailableError } from '../../errors.js';

export type AcquireAnswer =
  | { kind: 'granted'; container: GrantedContainer }
  /** `limit` names what was hit: the scheduler's own (schedulerQueue, noAgents, ...) or `schedulerUnavailable` */
  | { kind: 'rejected'; limit: string; message: string };

export type ReleaseReason = 'idle' | 'evicted' | 'failed' | 'shutdown';

export interface SchedulerLinkOptions {
  url: string;
  token: string;
  controllerId: string;
  /** the containers to report in controller.register, called on every (re)connect */
  owned(): OwnedContainer[];
  /** messages that are not replies: evict, container.gone, late acquire.granted */
  onMessage(message: Message): void;
  onDisconnected?(): void;
  /** the scheduler refused this controller (wrong cluster token, other protocol version) */
  onRefused?: WsClientOptions['onRefused'];
  /** injectable for tests; default connectWs */
  connect?: (options: WsClientOptions) => WsClient;
}

/** How long past an acquire's deadline the controller still waits for the scheduler's answer. */
export const ACQUIRE_REPLY_GRACE_MS = 2_000;

export class SchedulerLink {
  private readonly client: WsClient;
  private sequence = 0;

  constructor(private readonly options: SchedulerLinkOptions) {
    const connect = options.connect ?? connectWs;
    this.client = connect({
      url: options.url,
      token: options.token,
      role: 'controller',
      id: options.controllerId,
      onConnected: (client) => {
        client.send({ type: 'controller.register', controllerId: options.controllerId, containers: options.owned() });
      },
      onMessage: (message) => options.onMessage(message),
      onDisconnected: () => options.onDisconnected?.(),
      ...(options.onRefused === undefined ? {} : { onRefused: options.onRefused }),
    });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  whenConnected(timeoutMs?: number): Promise<void> {
    return this.client.whenConnected(timeoutMs);
  }

  /**
   * Asks for a container for the action, waiting at most until `deadline` (epoch ms). Never
   * rejects: no reply in time or a lost connection is a rejection with limit
   * `schedulerUnavailable` (or `acquireWait` when the deadline passed while connected).
   */
  async acquire(action: ActionRef, deadline: number, now: number): Promise<AcquireAnswer> {
    const requestId = this.nextId();
    // The scheduler rejects at the deadline with the precise reason (queueDeadline); wait a little
    // longer than that so its answer, not this timeout, decides.
    const timeoutMs = Math.max(1, deadline - now) + ACQUIRE_REPLY_GRACE_MS;
    if (!this.client.connected) return { kind: 'rejected', limit: 'schedulerUnavailable', message: new SchedulerUnavailableError().message };
    try {
      const reply = await this.client.request({ type: 'acquire', requestId, action, deadline }, timeoutMs);
      if (reply.type === 'acquire.granted') return { kind: 'granted', container: reply.container };
      if (reply.type === 'acquire.rejected') return { kind: 'rejected', limit: reply.limit, message: reply.message };
      return { kind: 'rejected', limit: 'schedulerProtocol', message: `The scheduler answered acquire with ${reply.type}.` };
    } catch {
      if (this.client.connected) {
        return { kind: 'rejected', limit: 'acquireWait', message: `The scheduler did not provide a container within ${timeoutMs} ms.` };
      }
      return { kind: 'rejected', limit: 'schedulerUnavailable', message: new SchedulerUnavailableError().message };
    }
  }

  /** Returns containers to the scheduler; false when not connected (the next register reconciles). */
  release(containerIds: string[], reason: ReleaseReason): boolean {
    if (containerIds.length === 0) return true;
    let sent = true;
    // the schema caps one release at 10 000 ids
    for (let i = 0; i < containerIds.length; i += 10_000) {
      sent = this.client.send({ type: 'release', containerIds: containerIds.slice(i, i + 10_000), reason }) && sent;
    }
    return sent;
  }

  /** Sends a usage batch; false when not connected (the next register carries the state anyway). */
  usage(containers: OwnedContainer[]): boolean {
    if (containers.length === 0) return true;
    return this.client.send({ type: 'usage', containers });
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private nextId(): string {
    this.sequence = (this.sequence + 1) % Number.MAX_SAFE_INTEGER;
    return `q${this.sequence}`;
  }
}
